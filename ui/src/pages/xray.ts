// X-Ray groups and sampling rules, through the same X-Ray API the aws CLI uses (/CreateGroup,
// /Groups, /UpdateGroup, /DeleteGroup, /GetSamplingRules, /CreateSamplingRule, /UpdateSamplingRule,
// /DeleteSamplingRule, /SamplingStatisticSummaries), which the server exposes to the UI's origin
// under /api/v1/xray/<operation path>. Group filter expressions are checked as you type.
import { ApiError, listServices, xray } from "../api";
import { copyBlock, debounce, fill, formatNumber, formatTime, h, link } from "../dom";
import type { PageContext } from "../main";
import { navigate } from "../nav";
import { canAdmin } from "../session";

// The tooltip of a control a read key may not use.
const adminTitle = () => (canAdmin() ? undefined : "changing X-Ray settings needs an admin key");

interface Group {
  GroupName: string;
  GroupARN?: string;
  FilterExpression?: string;
}
interface SamplingRule {
  RuleName: string;
  RuleARN?: string;
  ResourceARN: string;
  Priority: number;
  FixedRate: number;
  ReservoirSize: number;
  ServiceName: string;
  ServiceType: string;
  Host: string;
  HTTPMethod: string;
  URLPath: string;
  Version: number;
  Attributes?: Record<string, string>;
}
interface RuleRecord {
  SamplingRule: SamplingRule;
  CreatedAt?: number;
  ModifiedAt?: number;
}
interface StatSummary {
  RuleName: string;
  Timestamp?: number;
  RequestCount: number;
  BorrowCount: number;
  SampledCount: number;
}

function tabs(active: "groups" | "rules"): HTMLElement {
  return h(
    "div",
    { class: "tabs" },
    h("a", { href: "/xray/groups", "data-link": true, class: active === "groups" ? "active" : "" }, "Groups"),
    h("a", { href: "/xray/sampling-rules", "data-link": true, class: active === "rules" ? "active" : "" }, "Sampling rules"),
  );
}

function unavailable(e: unknown): HTMLElement {
  const err = e as ApiError;
  const missing = err instanceof ApiError && (err.status === 404 || err.status === 0 || err.status === 502 || err.status === 503);
  const host = location.hostname || "127.0.0.1";
  return h(
    "div",
    { class: "error-box", "data-testid": "xray-unavailable" },
    h("h3", null, missing ? "X-Ray API not available" : "The X-Ray API returned an error"),
    h("p", null, missing
      ? "This server does not expose the X-Ray API to the web UI (expected under /api/v1/xray/). Groups and sampling rules are managed through the X-Ray API on the X-Ray port; with the aws CLI:"
      : err.message),
    missing ? copyBlock(`aws xray get-groups --endpoint-url http://${host}:2000\naws xray get-sampling-rules --endpoint-url http://${host}:2000`) : null,
    missing ? h("p", { class: "muted small" }, `(${err.message})`) : null,
  );
}

async function loadAll<T>(op: string, field: string): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  for (let page = 0; page < 50; page++) {
    const r = await xray<Record<string, unknown>>(op, token ? { NextToken: token } : {});
    out.push(...((r[field] as T[]) ?? []));
    token = r.NextToken as string | undefined;
    if (!token) break;
  }
  return out;
}

// Service names a filter expression mentions: service("x"), service(id(name: "x")).
export function referencedServices(expr: string): string[] {
  const out = new Set<string>();
  const re = /service\s*\(\s*(?:id\s*\(\s*name\s*:\s*)?"([^"]*)"/g;
  for (let m = re.exec(expr); m; m = re.exec(expr)) out.add(m[1]);
  return [...out];
}

// Validates an expression with the server's own parser: a GetTraceSummaries call over an empty
// one-second window parses the expression and finds nothing.
async function validateFilter(expr: string): Promise<{ ok: boolean; message?: string; column?: number }> {
  try {
    await xray("TraceSummaries", { StartTime: 1, EndTime: 2, FilterExpression: expr });
    return { ok: true };
  } catch (e) {
    const err = e as ApiError;
    if (err.status !== 400) return { ok: true };
    const msg = err.message.replace(/^FilterExpression:\s*/, "");
    const m = /column (\d+)/.exec(msg);
    return { ok: false, message: msg, column: m ? Number(m[1]) : undefined };
  }
}

function filterEditor(initial: string, knownServices: Promise<string[]>): { el: HTMLElement; input: HTMLTextAreaElement } {
  const input = h("textarea", { rows: 2, name: "FilterExpression", placeholder: 'service("cart") AND responsetime > 0.5', spellcheck: "false" }, initial);
  const feedback = h("div", { class: "filter-feedback" });
  const check = debounce(async () => {
    const expr = input.value.trim();
    if (!expr) {
      fill(feedback, h("span", { class: "muted small" }, "Empty: the group matches every trace."));
      return;
    }
    const [result, services] = await Promise.all([validateFilter(expr), knownServices]);
    if (expr !== input.value.trim()) return;
    if (!result.ok) {
      const col = result.column ?? 0;
      fill(feedback, 
        h("div", { class: "bad small", "data-testid": "filter-error" }, result.message ?? "invalid expression"),
        col > 0 ? h("pre", { class: "caret" }, expr + "\n" + " ".repeat(Math.max(0, col - 1)) + "^") : null,
      );
      return;
    }
    const unknown = referencedServices(expr).filter((s) => !services.includes(s));
    fill(feedback, 
      h("span", { class: "good small" }, "✓ valid expression"),
      unknown.length
        ? h("div", { class: "warn small", "data-testid": "filter-nomatch" }, `No service named ${unknown.map((s) => `"${s}"`).join(", ")} has ever sent data, so this group matches nothing yet.`)
        : null,
    );
  }, 350);
  input.addEventListener("input", check);
  check();
  return { el: h("div", null, input, feedback), input };
}

export async function renderGroups(ctx: PageContext): Promise<void> {
  const list = h("div", null, h("p", { class: "muted loading" }, "Loading groups…"));
  const formBox = h("div", { class: "form-box" });
  ctx.root.append(h("div", { class: "page-head" }, h("h1", null, "X-Ray")), tabs("groups"), formBox, list);
  const services = listServices()
    .then((r) => r.services.map((s) => s.name))
    .catch(() => [] as string[]);

  let groups: Group[];
  try {
    groups = await loadAll<Group>("Groups", "Groups");
  } catch (e) {
    list.replaceChildren(unavailable(e));
    return;
  }

  const known = await services;
  const showForm = (existing?: Group) => {
    const name = h("input", { type: "text", name: "GroupName", value: existing?.GroupName ?? "", placeholder: "slow-checkout", disabled: !!existing });
    const editor = filterEditor(existing?.FilterExpression ?? "", services);
    const error = h("div", { class: "bad small" });
    const save = h("button", { type: "submit", class: "primary" }, existing ? "Save group" : "Create group");
    const form = h(
      "form",
      { class: "xray-form", "data-testid": "group-form" },
      h("h3", null, existing ? `Edit group ${existing.GroupName}` : "New group"),
      h("label", null, "Name", name),
      h("label", { class: "wide" }, "Filter expression", editor.el),
      h("div", { class: "form-actions" }, save, h("button", { type: "button", onclick: () => formBox.replaceChildren() }, "Cancel")),
      error,
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body: Record<string, string> = { GroupName: name.value.trim(), FilterExpression: editor.input.value.trim() };
      if (existing?.GroupARN) body.GroupARN = existing.GroupARN;
      try {
        await xray(existing ? "UpdateGroup" : "CreateGroup", body);
        navigate("/xray/groups", true);
      } catch (err) {
        error.textContent = (err as Error).message;
      }
    });
    formBox.replaceChildren(form);
    name.focus();
  };

  list.replaceChildren(
    h("div", { class: "list-head" }, h("button", { type: "button", class: "primary", disabled: !canAdmin(), title: adminTitle(), onclick: () => showForm() }, "New group")),
    groups.length === 0
      ? h("p", { class: "empty-note" }, "No groups yet. A group is a named filter expression over traces, e.g. ", h("code", null, 'service("cart") AND responsetime > 1'), ".")
      : h(
          "table",
          { class: "grid", "data-testid": "groups" },
          h("thead", null, h("tr", null, h("th", null, "Name"), h("th", null, "Filter expression"), h("th", null, ""))),
          h(
            "tbody",
            null,
            groups.map((g) =>
              h(
                "tr",
                { "data-group": g.GroupName },
                h(
                  "td",
                  null,
                  h("b", null, link(`/traces?group=${encodeURIComponent(g.GroupName)}`, g.GroupName)),
                  h(
                    "div",
                    { class: "small" },
                    link(`/traces?group=${encodeURIComponent(g.GroupName)}`, "traces"),
                    " · ",
                    link(`/service-map?group=${encodeURIComponent(g.GroupName)}`, "service map"),
                  ),
                ),
                h(
                  "td",
                  { class: "mono" },
                  g.FilterExpression || h("span", { class: "muted" }, "(all traces)"),
                  (() => {
                    const unknown = referencedServices(g.FilterExpression ?? "").filter((x) => !known.includes(x));
                    return unknown.length
                      ? h("div", { class: "warn small", "data-testid": "group-nomatch" }, `matches nothing yet: no service named ${unknown.map((x) => `"${x}"`).join(", ")} has sent data`)
                      : null;
                  })(),
                ),
                h(
                  "td",
                  { class: "actions" },
                  g.GroupName === "Default"
                    ? h("span", { class: "muted small" }, "built in")
                    : [
                        h("button", { type: "button", disabled: !canAdmin(), title: adminTitle(), onclick: () => showForm(g) }, "Edit"),
                        h("button", {
                          type: "button",
                          class: "danger",
                          disabled: !canAdmin(),
                          title: adminTitle(),
                          onclick: async () => {
                            if (!confirm(`Delete group ${g.GroupName}?`)) return;
                            try {
                              await xray("DeleteGroup", g.GroupARN ? { GroupARN: g.GroupARN } : { GroupName: g.GroupName });
                              navigate("/xray/groups", true);
                            } catch (err) {
                              alert((err as Error).message);
                            }
                          },
                        }, "Delete"),
                      ],
                ),
              ),
            ),
          ),
        ),
  );
}

const RULE_FIELDS: [keyof SamplingRule, string, string][] = [
  ["RuleName", "Name", "text"],
  ["Priority", "Priority (1–9999, lower first)", "number"],
  ["FixedRate", "Fixed rate (0–1)", "number"],
  ["ReservoirSize", "Reservoir (traces/s)", "number"],
  ["ServiceName", "Service name", "text"],
  ["ServiceType", "Service type", "text"],
  ["Host", "Host", "text"],
  ["HTTPMethod", "HTTP method", "text"],
  ["URLPath", "URL path", "text"],
  ["ResourceARN", "Resource ARN", "text"],
];

export async function renderSamplingRules(ctx: PageContext): Promise<void> {
  const list = h("div", null, h("p", { class: "muted loading" }, "Loading sampling rules…"));
  const formBox = h("div", { class: "form-box" });
  ctx.root.append(h("div", { class: "page-head" }, h("h1", null, "X-Ray")), tabs("rules"), formBox, list);
  let records: RuleRecord[];
  try {
    records = await loadAll<RuleRecord>("GetSamplingRules", "SamplingRuleRecords");
  } catch (e) {
    list.replaceChildren(unavailable(e));
    return;
  }
  let stats: StatSummary[] = [];
  try {
    stats = await loadAll<StatSummary>("SamplingStatisticSummaries", "SamplingStatisticSummaries");
  } catch {
    /* statistics are optional */
  }
  const statsByRule = new Map<string, StatSummary>();
  for (const s of stats) {
    const cur = statsByRule.get(s.RuleName);
    if (!cur) statsByRule.set(s.RuleName, { ...s });
    else {
      cur.RequestCount += s.RequestCount;
      cur.SampledCount += s.SampledCount;
      cur.BorrowCount += s.BorrowCount;
    }
  }

  const showForm = (existing?: SamplingRule) => {
    const defaults: Partial<SamplingRule> = { Priority: 1000, FixedRate: 0.05, ReservoirSize: 1, ServiceName: "*", ServiceType: "*", Host: "*", HTTPMethod: "*", URLPath: "*", ResourceARN: "*" };
    const src = existing ?? defaults;
    const inputs = new Map<string, HTMLInputElement>();
    const error = h("div", { class: "bad small" });
    const form = h(
      "form",
      { class: "xray-form rule-form", "data-testid": "rule-form" },
      h("h3", null, existing ? `Edit rule ${existing.RuleName}` : "New sampling rule"),
      RULE_FIELDS.map(([key, label, type]) => {
        const input = h("input", {
          type,
          name: key,
          value: src[key] === undefined ? "" : String(src[key]),
          step: key === "FixedRate" ? "0.01" : undefined,
          min: type === "number" ? 0 : undefined,
          disabled: key === "RuleName" && !!existing,
          required: key === "RuleName",
        });
        inputs.set(key, input);
        return h("label", null, label, input);
      }),
      h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary" }, existing ? "Save rule" : "Create rule"), h("button", { type: "button", onclick: () => formBox.replaceChildren() }, "Cancel")),
      error,
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const rule: Record<string, unknown> = {};
      for (const [key, , type] of RULE_FIELDS) {
        const v = inputs.get(key)!.value.trim();
        rule[key] = type === "number" ? Number(v) : v;
      }
      try {
        if (existing) {
          const { ResourceARN: _r, ...update } = rule;
          void _r;
          await xray("UpdateSamplingRule", { SamplingRuleUpdate: { ...update, RuleName: existing.RuleName } });
        } else {
          await xray("CreateSamplingRule", { SamplingRule: { ...rule, Version: 1 } });
        }
        navigate("/xray/sampling-rules", true);
      } catch (err) {
        error.textContent = (err as Error).message;
      }
    });
    formBox.replaceChildren(form);
  };

  const sorted = [...records].sort((a, b) => a.SamplingRule.Priority - b.SamplingRule.Priority || a.SamplingRule.RuleName.localeCompare(b.SamplingRule.RuleName));
  list.replaceChildren(
    h("div", { class: "list-head" }, h("button", { type: "button", class: "primary", disabled: !canAdmin(), title: adminTitle(), onclick: () => showForm() }, "New rule")),
    h(
      "table",
      { class: "grid", "data-testid": "rules" },
      h("thead", null, h("tr", null, h("th", null, "Name"), h("th", { class: "num" }, "Priority"), h("th", null, "Matches"), h("th", { class: "num" }, "Reservoir"), h("th", { class: "num" }, "Rate"), h("th", { class: "num" }, "Requests"), h("th", { class: "num" }, "Sampled"), h("th", { class: "num" }, "Borrowed"), h("th", null, "Modified"), h("th", null, ""))),
      h(
        "tbody",
        null,
        sorted.map(({ SamplingRule: r, ModifiedAt }) => {
          const st = statsByRule.get(r.RuleName);
          const matches = [["service", r.ServiceName], ["type", r.ServiceType], ["host", r.Host], ["method", r.HTTPMethod], ["path", r.URLPath]].filter(([, v]) => v && v !== "*");
          return h(
            "tr",
            { "data-rule": r.RuleName },
            h("td", null, h("b", null, r.RuleName)),
            h("td", { class: "num" }, r.Priority),
            h("td", null, matches.length ? matches.map(([k, v]) => h("span", { class: "tag" }, `${k}: ${v}`)) : h("span", { class: "muted" }, "everything")),
            h("td", { class: "num" }, `${r.ReservoirSize}/s`),
            h("td", { class: "num" }, `${(r.FixedRate * 100).toFixed(r.FixedRate < 0.01 ? 2 : 0)}%`),
            h("td", { class: "num" }, st ? formatNumber(st.RequestCount) : "–"),
            h("td", { class: "num" }, st ? formatNumber(st.SampledCount) : "–"),
            h("td", { class: "num" }, st ? formatNumber(st.BorrowCount) : "–"),
            h("td", { class: "small" }, ModifiedAt ? formatTime(ModifiedAt * 1000) : "–"),
            h(
              "td",
              { class: "actions" },
              h("button", { type: "button", disabled: !canAdmin(), title: adminTitle(), onclick: () => showForm(r) }, "Edit"),
              r.RuleName === "Default"
                ? null
                : h("button", {
                    type: "button",
                    class: "danger",
                    disabled: !canAdmin(),
                    title: adminTitle(),
                    onclick: async () => {
                      if (!confirm(`Delete rule ${r.RuleName}?`)) return;
                      try {
                        await xray("DeleteSamplingRule", { RuleName: r.RuleName });
                        navigate("/xray/sampling-rules", true);
                      } catch (err) {
                        alert((err as Error).message);
                      }
                    },
                  }, "Delete"),
            ),
          );
        }),
      ),
    ),
    h("p", { class: "muted small" }, "Statistics are what X-Ray SDKs reported through /SamplingTargets, summed over the recent windows."),
  );
}
