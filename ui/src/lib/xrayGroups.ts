// X-Ray groups as the Traces page and the service map use them: a group is a named X-Ray filter
// expression; `group=NAME` in a page's URL stands for its expression, resolved when the page loads
// (so an edited group applies at once). Read through the X-Ray API (POST /api/v1/xray/Groups).
import { xray } from "../api";

export interface XrayGroup {
  GroupName: string;
  GroupARN?: string;
  FilterExpression?: string;
}

export async function listGroups(): Promise<XrayGroup[]> {
  const out: XrayGroup[] = [];
  let token: string | undefined;
  for (let page = 0; page < 50; page++) {
    const r = await xray<{ Groups?: XrayGroup[]; NextToken?: string }>("Groups", token ? { NextToken: token } : {});
    out.push(...(r.Groups ?? []));
    token = r.NextToken;
    if (!token) break;
  }
  return out;
}

// The filter expression a page applies: the group's (when `group` names one) or the typed one.
export interface XrayScope {
  group?: string;
  expression: string; // "" = no X-Ray filter
  unknownGroup?: boolean;
}

export async function resolveScope(group: string | null, expression: string | null, groups: Promise<XrayGroup[]>): Promise<XrayScope> {
  if (group) {
    const g = (await groups.catch(() => [] as XrayGroup[])).find((x) => x.GroupName === group);
    if (!g) return { group, expression: "", unknownGroup: true };
    return { group, expression: g.FilterExpression ?? "" };
  }
  return { expression: (expression ?? "").trim() };
}
