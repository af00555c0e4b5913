// The X-Ray group / filter expression control of the Traces page and the service map: pick a
// group (its expression applies) or type an X-Ray filter expression; Enter or Apply sets it.
import { h } from "../dom";
import type { XrayGroup, XrayScope } from "../lib/xrayGroups";

export function xrayScopeControl(
  scope: XrayScope,
  groups: Promise<XrayGroup[]>,
  onChange: (s: { group?: string; expression?: string }) => void,
): HTMLElement {
  const select = h("select", { name: "group", "aria-label": "X-Ray group", "data-testid": "group-select" }, h("option", { value: "" }, "No X-Ray group"));
  if (scope.group) select.appendChild(h("option", { value: scope.group, selected: true }, scope.group));
  groups
    .then((list) => {
      for (const g of list) {
        if (g.GroupName === scope.group) continue;
        select.appendChild(h("option", { value: g.GroupName, title: g.FilterExpression }, g.GroupName));
      }
    })
    .catch(() => {});
  const input = h("input", {
    type: "text",
    name: "xray_filter",
    class: "xray-filter",
    placeholder: 'X-Ray filter, e.g. service("cart") AND responsetime > 0.5',
    "aria-label": "X-Ray filter expression",
    "data-testid": "xray-filter",
    spellcheck: "false",
    value: scope.expression,
    disabled: !!scope.group,
    title: scope.group ? `The expression of group ${scope.group}` : undefined,
  });
  const apply = () => onChange(select.value ? { group: select.value } : { expression: input.value.trim() || undefined });
  select.addEventListener("change", () => {
    if (!select.value) input.value = "";
    apply();
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      e.stopPropagation();
      apply();
    }
  });
  return h(
    "div",
    { class: "xray-scope" },
    h("label", null, "Group ", select),
    h("label", null, "X-Ray filter ", input),
    h("button", { type: "button", onclick: apply, "data-testid": "xray-apply" }, "Apply"),
    scope.unknownGroup ? h("span", { class: "bad small" }, `There is no X-Ray group named "${scope.group}".`) : null,
  );
}
