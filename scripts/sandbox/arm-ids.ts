// Parses ARM request paths into the resource (or collection) they address.
// ARM ids nest: a scope (tenant, subscription, resource group, or any resource) followed by
// `providers/{namespace}/{type}/{name}[/{childType}/{childName}...]`; a trailing type without a
// name addresses the collection of that type directly under the scope.

export const MG_TYPE = 'Microsoft.Management/managementGroups';
export const MG_SUB_TYPE = 'Microsoft.Management/managementGroups/subscriptions';
export const SUB_TYPE = 'Microsoft.Resources/subscriptions';
export const RG_TYPE = 'Microsoft.Resources/resourceGroups';

export interface ArmRef {
  id: string;
  type: string;
  name: string;
  /** The id of the scope or parent resource this one lives in; '' for the tenant. */
  parent: string;
}

export type ParsedPath =
  | { kind: 'item'; ref: ArmRef }
  | { kind: 'list'; scope: string; type: string }
  | { kind: 'invalid'; reason: string };

export function key(id: string): string {
  return id.toLowerCase().replace(/\/+$/, '');
}

export function parseArmPath(path: string): ParsedPath {
  const s = path.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  let cur: ArmRef | undefined;
  let i = 0;
  while (i < s.length) {
    const k = s[i].toLowerCase();
    if (k === 'subscriptions' && !cur) {
      if (i + 1 >= s.length) return { kind: 'list', scope: '', type: SUB_TYPE };
      cur = { id: `/subscriptions/${s[i + 1]}`, type: SUB_TYPE, name: s[i + 1], parent: '' };
      i += 2;
      continue;
    }
    if (k === 'resourcegroups' && cur?.type === SUB_TYPE) {
      if (i + 1 >= s.length) return { kind: 'list', scope: cur.id, type: RG_TYPE };
      cur = { id: `${cur.id}/resourceGroups/${s[i + 1]}`, type: RG_TYPE, name: s[i + 1], parent: cur.id };
      i += 2;
      continue;
    }
    if (k === 'providers') {
      const ns = s[i + 1];
      if (!ns) return { kind: 'invalid', reason: `path '${path}' ends after 'providers'` };
      i += 2;
      if (i >= s.length) return { kind: 'invalid', reason: `path '${path}' names a provider but no resource type` };
      const base = cur?.id ?? '';
      let type = ns;
      let id = `${base}/providers/${ns}`;
      let parent = base;
      while (i < s.length && s[i].toLowerCase() !== 'providers') {
        type += `/${s[i]}`;
        if (i + 1 >= s.length) return { kind: 'list', scope: parent, type };
        id += `/${s[i]}/${s[i + 1]}`;
        cur = { id, type, name: s[i + 1], parent };
        parent = id;
        i += 2;
      }
      continue;
    }
    return { kind: 'invalid', reason: `path segment '${s[i]}' is not a valid ARM path element` };
  }
  if (!cur) return { kind: 'invalid', reason: `path '${path}' addresses no resource` };
  return { kind: 'item', ref: cur };
}

/** Subscription id and resource group name contained in an id, if any. */
export function idParts(id: string): { subscriptionId?: string; resourceGroup?: string; managementGroup?: string } {
  const sub = /^\/subscriptions\/([^/]+)/i.exec(id)?.[1];
  const rg = /^\/subscriptions\/[^/]+\/resourceGroups\/([^/]+)/i.exec(id)?.[1];
  const mg = /^\/providers\/Microsoft\.Management\/managementGroups\/([^/]+)/i.exec(id)?.[1];
  return { subscriptionId: sub, resourceGroup: rg, managementGroup: mg };
}

export function sameType(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
