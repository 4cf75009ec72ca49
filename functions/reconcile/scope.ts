// What an ARM id or scope touches, in the terms guardrails speak: management groups,
// subscriptions, resource groups, the tenant; and which kind of change it is.
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

/** Glob match (`*`, `?`), case-insensitive, as ARM names are. */
export function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(
    '^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i');
  return re.test(value);
}
