// What an ARM id or scope touches, in the terms guardrails speak: management groups,
// subscriptions, resource groups, the tenant; and which kind of change it is.
import type { DesiredState } from '../../stacks/compile/model.ts';
import type { ResourceChange } from '../../stacks/engine/changeset.ts';

export interface ScopeTarget {
  level: 'tenant' | 'managementGroup' | 'subscription' | 'resourceGroup';
  managementGroup?: string;
  subscription?: string;
  resourceGroup?: string;
}

const MG = /^\/providers\/microsoft\.management\/managementgroups\/([^/]+)(\/.*)?$/i;
const SUB = /^\/subscriptions\/([^/]+)(\/.*)?$/i;
const RG = /^\/resourcegroups\/([^/]+)(\/.*)?$/i;
const MG_SUBSCRIPTION = /^\/subscriptions\/([^/]+)$/i;

/**
 * The targets an ARM id or scope string touches. A subscription placement
 * (`/providers/Microsoft.Management/managementGroups/x/subscriptions/s`) touches both the group
 * and the subscription. Returns `undefined` for strings that are not ARM scopes at all.
 */
export function scopeTargets(idOrScope: string): ScopeTarget[] | undefined {
  const s = idOrScope.trim().replace(/\/+$/, '');
  if (s === '' || /^\/providers\/[^/]+\/[^/]+(\/.*)?$/i.test(s) && !MG.test(s)) {
    // `/` (or a tenant-level extension resource) is the tenant itself.
    return [{ level: 'tenant' }];
  }
  const mg = MG.exec(s);
  if (mg) {
    const out: ScopeTarget[] = [{ level: 'managementGroup', managementGroup: mg[1] }];
    const sub = mg[2] ? MG_SUBSCRIPTION.exec(mg[2]) : null;
    if (sub) out.push({ level: 'subscription', subscription: sub[1] });
    return out;
  }
  const sub = SUB.exec(s);
  if (sub) {
    const rg = sub[2] ? RG.exec(sub[2]) : null;
    if (rg) return [{ level: 'resourceGroup', subscription: sub[1], resourceGroup: rg[1] }];
    return [{ level: 'subscription', subscription: sub[1] }];
  }
  return undefined;
}

export function isManagementGroupId(id: string | undefined): boolean {
  return !!id && /^\/providers\/microsoft\.management\/managementgroups\/[^/]+$/i.test(id.replace(/\/+$/, ''));
}

/**
 * Everything a change touches: its ARM id and its deployment scope. A management group's own
 * deployment scope is the tenant (`/`), but creating one touches the group, not the tenant root,
 * so for groups only the id counts. `undefined` when the change names nothing we can check.
 */
export function changeTargets(change: Pick<ResourceChange, 'armId' | 'scope'>): ScopeTarget[] | undefined {
  const out: ScopeTarget[] = [];
  let known = false;
  if (change.armId) {
    const t = scopeTargets(change.armId);
    if (t) { out.push(...t); known = true; }
  }
  const scopeIsTenant = change.scope !== undefined && change.scope.replace(/\/+$/, '') === '';
  if (change.scope !== undefined && !(scopeIsTenant && isManagementGroupId(change.armId))) {
    const t = scopeTargets(change.scope);
    if (t) { out.push(...t); known = true; }
  }
  return known ? out : undefined;
}

/** Change kinds that blast radius, rate limits and approval rules count separately. */
export const CHANGE_KINDS = [
  'managementGroups', 'roleAssignments', 'roleDefinitions',
  'policyAssignments', 'policyDefinitions', 'resources',
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** The kind of a change, from its ARM type, else guessed from the Pulumi type token. */
export function changeKind(change: Pick<ResourceChange, 'armType' | 'type' | 'armId'>): ChangeKind {
  const t = (change.armType ?? change.type ?? '').toLowerCase();
  if (isManagementGroupId(change.armId) || /managementgroups?$|management:managementgroup$/.test(t)) return 'managementGroups';
  if (/roleassignments?$/.test(t)) return 'roleAssignments';
  if (/roledefinitions?$/.test(t)) return 'roleDefinitions';
  if (/policyassignments?$|policyexemptions?$/.test(t)) return 'policyAssignments';
  if (/policy(set)?definitions?$/.test(t)) return 'policyDefinitions';
  return 'resources';
}

/** Ops that change something in Azure; `same`, `read` and `refresh` do not. */
export function isMutating(op: ResourceChange['op']): boolean {
  return op !== 'same' && op !== 'read' && op !== 'refresh';
}

export function isDeleteOp(op: ResourceChange['op']): boolean {
  return op === 'delete' || op === 'delete-replaced' || op === 'replace';
}

/** Glob match (`*` any run, `?` one character but '/'), case-insensitive, as ARM names are. */
export { globMatch } from '../platform/glob.ts';

/**
 * Where scopes sit in the management group tree, as far as the desired state knows it: each
 * group's parent and each subscription's group (all ids lower-cased). Groups Nexus does not
 * create (they already exist) have no known parent; their chain ends there.
 */
export interface ScopeHierarchy {
  parentOf: Map<string, string>;
  groupOfSubscription: Map<string, string>;
}

const lastSegment = (id: string | undefined) => id?.replace(/\/+$/, '').split('/').pop()?.toLowerCase() || undefined;

export function scopeHierarchy(state: Pick<DesiredState, 'resources'>): ScopeHierarchy {
  const parentOf = new Map<string, string>();
  const groupOfSubscription = new Map<string, string>();
  for (const r of state.resources) {
    if (r.kind === 'managementGroup') {
      const parent = lastSegment((r.body.properties as { details?: { parent?: { id?: string } } } | undefined)?.details?.parent?.id);
      if (parent) parentOf.set(r.name.toLowerCase(), parent);
    } else if (r.kind === 'subscriptionPlacement') {
      const t = scopeTargets(r.id);
      const mg = t?.find((x) => x.level === 'managementGroup')?.managementGroup;
      if (mg) groupOfSubscription.set(r.name.toLowerCase(), mg.toLowerCase());
    }
  }
  return { parentOf, groupOfSubscription };
}

/**
 * The management groups a target sits in, nearest first: for a group its parents (not itself),
 * for a subscription or resource group the subscription's group and that group's parents.
 */
export function enclosingGroups(t: ScopeTarget, h: ScopeHierarchy | undefined): string[] {
  if (!h || t.level === 'tenant') return [];
  let g = t.level === 'managementGroup'
    ? h.parentOf.get(t.managementGroup!.toLowerCase())
    : h.groupOfSubscription.get(t.subscription!.toLowerCase());
  const out: string[] = [];
  while (g && !out.includes(g)) {
    out.push(g);
    g = h.parentOf.get(g);
  }
  return out;
}

/**
 * Where a target's chain of groups stops short of the tenant root: the first group on it (the
 * target's own group included) whose parent the hierarchy does not know, or undefined when the
 * chain reaches the root. A subscription the hierarchy does not place has no chain to check.
 */
export function unresolvedAncestor(t: ScopeTarget, h: ScopeHierarchy, tenantRootId: string): string | undefined {
  if (t.level === 'tenant') return undefined;
  const start = t.level === 'managementGroup' ? t.managementGroup!.toLowerCase() : h.groupOfSubscription.get(t.subscription!.toLowerCase());
  return start === undefined ? undefined : unresolvedFrom(start, h, tenantRootId);
}

/** The same, from a group by name: the first group on its chain without a known parent. */
export function unresolvedFrom(group: string, h: ScopeHierarchy, tenantRootId: string): string | undefined {
  const root = tenantRootId.toLowerCase();
  const seen = new Set<string>();
  let g: string | undefined = group.toLowerCase();
  while (g !== undefined && g !== root) {
    // A cycle never reaches the root: its place in the tree is unknown.
    if (seen.has(g)) return g;
    seen.add(g);
    const parent = h.parentOf.get(g);
    if (parent === undefined) return g;
    g = parent;
  }
  return undefined;
}

const PARENT_PATH = 'properties.details.parent.id';

/**
 * The parent a management group had before this change, when the ChangeSet carries it: the old
 * value of `properties.details.parent.id` (or of an enclosing path) in the change's diffs, as a
 * lower-cased group name. Only updates and replaces carry diffs; deletes carry none.
 */
export function oldParentOf(change: Pick<ResourceChange, 'diffs'>): string | undefined {
  for (const d of change.diffs ?? []) {
    if (d.kind === 'add' || !(PARENT_PATH === d.path || PARENT_PATH.startsWith(`${d.path}.`))) continue;
    let v: unknown = d.old;
    for (const key of PARENT_PATH.slice(d.path.length).split('.').filter(Boolean)) {
      v = v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
    }
    if (typeof v === 'string' && v.trim()) return lastSegment(v);
  }
  return undefined;
}
