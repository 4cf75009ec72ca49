// Gate 2: every change must fall inside the allowed scopes and outside the denied ones; the
// tenant root is denied unless explicitly allowed. Checked per resource, never by stack name.
// A deny covers everything below it: child groups, their subscriptions and resource groups, as
// far as the desired state's hierarchy places them. With a management-group deny list, a scope
// whose chain of groups cannot be followed to the tenant root (a group the desired state does
// not hold, e.g. one being deleted or created elsewhere) is refused: it may sit inside a denied
// group. A group moved by the change is checked under its old parent too.
import type { ResourceChange } from '../../../stacks/engine/changeset.ts';
import type { Guardrails } from '../guardrails.ts';
import {
  changeKind, changeTargets, enclosingGroups, globMatch, isMutating, oldParentOf, unresolvedAncestor, unresolvedFrom,
  type ScopeHierarchy, type ScopeTarget,
} from '../scope.ts';
import type { Gate } from './types.ts';

export interface ScopeViolation {
  urn: string;
  armId?: string;
  scope?: string;
  code: 'TENANT_ROOT' | 'SCOPE_DENIED' | 'SCOPE_NOT_ALLOWED' | 'SCOPE_UNKNOWN';
  target?: string;
  /** Why, when the target alone does not say it (an unknown ancestry, an old parent). */
  why?: string;
}

const any = (list: string[] | undefined, value: string | undefined) =>
  !!value && !!list && list.some((p) => globMatch(p, value));

function describe(t: ScopeTarget): string {
  if (t.level === 'tenant') return 'tenant /';
  if (t.level === 'managementGroup') return `management group ${t.managementGroup}`;
  if (t.level === 'subscription') return `subscription ${t.subscription}`;
  return `resource group ${t.subscription}/${t.resourceGroup}`;
}

/** The first rule a target breaks, or undefined. `hierarchy` places it below its groups. */
export function checkTarget(t: ScopeTarget, g: Guardrails, tenantRootId: string, hierarchy?: ScopeHierarchy): ScopeViolation['code'] | undefined {
  const { allow, deny, allowTenantRoot } = g.scopes;
  // Inside a denied group (at any depth): denied, whatever the allow lists say.
  if (enclosingGroups(t, hierarchy).some((mg) => any(deny.managementGroups, mg))) return 'SCOPE_DENIED';
  const isRoot = t.level === 'tenant' || (t.level === 'managementGroup' && !!tenantRootId &&
    t.managementGroup!.toLowerCase() === tenantRootId.toLowerCase());
  if (isRoot) {
    if (!allowTenantRoot) return 'TENANT_ROOT';
    if (t.level === 'tenant') return undefined;
  }
  const rgPath = t.resourceGroup ? `${t.subscription}/${t.resourceGroup}` : undefined;
  if (t.level === 'managementGroup') {
    if (any(deny.managementGroups, t.managementGroup)) return 'SCOPE_DENIED';
    if (allow.managementGroups && !any(allow.managementGroups, t.managementGroup)) return 'SCOPE_NOT_ALLOWED';
    return undefined;
  }
  // Subscriptions and resource groups: a denied subscription denies everything in it.
  if (any(deny.subscriptions, t.subscription)) return 'SCOPE_DENIED';
  if (t.level === 'resourceGroup' && (any(deny.resourceGroups, t.resourceGroup) || any(deny.resourceGroups, rgPath))) return 'SCOPE_DENIED';
  const subAllowed = !allow.subscriptions || any(allow.subscriptions, t.subscription);
  if (t.level === 'subscription') return subAllowed ? undefined : 'SCOPE_NOT_ALLOWED';
  // A resource group is allowed by its own entry or by its subscription's, when lists exist.
  const rgListed = any(allow.resourceGroups, t.resourceGroup) || any(allow.resourceGroups, rgPath);
  if (!allow.subscriptions && !allow.resourceGroups) return undefined;
  if (rgListed) return undefined;
  if (allow.subscriptions && any(allow.subscriptions, t.subscription)) return undefined;
  return 'SCOPE_NOT_ALLOWED';
}

/**
 * What the hierarchy cannot vouch for when groups are denied: a target below a group whose parent
 * is unknown, or a group moved away from a parent that is (inside) a denied group or unknown.
 */
function inheritedDeny(c: ResourceChange, t: ScopeTarget, g: Guardrails, tenantRootId: string, h: ScopeHierarchy): Pick<ScopeViolation, 'code' | 'why'> | undefined {
  const denied = g.scopes.deny.managementGroups;
  if (!denied?.length) return undefined;
  const lost = unresolvedAncestor(t, h, tenantRootId);
  if (lost) return { code: 'SCOPE_UNKNOWN', why: `management group ${lost} is not in the desired hierarchy, so whether it sits inside a denied group (${denied.join(', ')}) is unknown` };
  if (t.level !== 'managementGroup' || changeKind(c) !== 'managementGroups') return undefined;
  const old = oldParentOf(c);
  if (!old || old === tenantRootId.toLowerCase()) return undefined;
  if ([old, ...enclosingGroups({ level: 'managementGroup', managementGroup: old }, h)].some((mg) => any(denied, mg))) {
    return { code: 'SCOPE_DENIED', why: `it is moved out of ${old}, inside a denied group` };
  }
  const oldLost = unresolvedFrom(old, h, tenantRootId);
  if (oldLost) return { code: 'SCOPE_UNKNOWN', why: `it is moved out of ${old}, whose place under the denied groups (${denied.join(', ')}) is unknown` };
  return undefined;
}

export function scopeViolations(changes: ResourceChange[], g: Guardrails, tenantRootId: string, hierarchy?: ScopeHierarchy): ScopeViolation[] {
  const out: ScopeViolation[] = [];
  for (const c of changes) {
    if (!isMutating(c.op)) continue;
    const targets = changeTargets(c);
    if (!targets) {
      // Fail closed: a change we cannot place cannot be shown to be inside the guardrails.
      out.push({ urn: c.urn, armId: c.armId, scope: c.scope, code: 'SCOPE_UNKNOWN' });
      continue;
    }
    for (const t of targets) {
      const code = checkTarget(t, g, tenantRootId, hierarchy);
      const inherited = code ? undefined : hierarchy && inheritedDeny(c, t, g, tenantRootId, hierarchy);
      if (code || inherited) {
        out.push({ urn: c.urn, armId: c.armId, scope: c.scope, code: code ?? inherited!.code, target: describe(t), ...(inherited ? { why: inherited.why } : {}) });
        break;
      }
    }
  }
  return out;
}

const PRIORITY: ScopeViolation['code'][] = ['TENANT_ROOT', 'SCOPE_DENIED', 'SCOPE_NOT_ALLOWED', 'SCOPE_UNKNOWN'];

export const scopeGuardrailsGate: Gate = (ctx, cs) => {
  const violations = scopeViolations(cs.changes, ctx.guardrails, ctx.tenantRootId, ctx.hierarchy);
  if (violations.length === 0) {
    return { gate: 'scope-guardrails', pass: true, reason: 'OK', details: { message: 'every change is inside the allowed scopes' } };
  }
  const reason = PRIORITY.find((p) => violations.some((v) => v.code === p))!;
  const first = violations.find((v) => v.code === reason)!;
  return {
    gate: 'scope-guardrails', pass: false, reason,
    details: {
      message: `${violations.length} change(s) outside the guardrails, e.g. ${first.armId ?? first.urn}` +
        (first.target ? ` touches ${first.target}` : ' has no ARM id or scope') + (first.why ? `: ${first.why}` : ''),
      violations: violations.slice(0, 50),
      total: violations.length,
    },
  };
};
