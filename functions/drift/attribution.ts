// Who made a change: Nexus itself, a policy (remediation under the assignment's identity, or a
// Modify/Append/DINE action), a pipeline (another service principal) or a person. Pure: the caller
// passes the identities that count as Nexus's and the principals of the tenant's policy assignments.
import type { ChangeAttribution } from './model.ts';
import type { ChangeRecord } from '../platform/change-history.ts';
import type { ActivityEvent } from '../platform/activity-log.ts';
import type { HistoryChange } from './signals.ts';

export interface Who {
  /** Nexus's own principals as the change history names them (config `drift.selfIdentities`). */
  selfIdentities: string[];
  /** Correlation ids of Nexus's own applies. */
  selfCorrelationIds?: Set<string>;
  /** Managed identity principal ids of policy assignments (DINE/Modify remediations run as them). */
  policyPrincipals: Set<string>;
}

/** The actions Azure Policy writes under: a remediation or an inline modification of a request. */
const POLICY_OPERATION = /^microsoft\.authorization\/policies\/(deployifnotexists|modify|append|audit|auditifnotexists)\/action$/i;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const lowerSet = (xs: Iterable<string>) => new Set([...xs].map((x) => x.toLowerCase()));

/** The Activity Log names no principal type: a UPN is a person, a GUID a service principal or managed identity. */
function callerType(caller: string): string {
  if (GUID.test(caller)) return 'Application';
  if (caller.includes('@')) return 'User';
  return '';
}

type Change = ChangeRecord | ActivityEvent | HistoryChange;

function fields(c: Change) {
  if ('paths' in c) {
    return {
      changedBy: c.changedBy, changedByType: c.changedByType ?? '', clientType: c.clientType, operation: c.operation,
      correlationId: c.correlationId, at: c.at, source: c.source, policyCategory: false,
    };
  }
  if ('caller' in c) {
    return {
      changedBy: c.caller, changedByType: callerType(c.caller), clientType: undefined, operation: c.operation,
      correlationId: c.correlationId, at: c.at, source: 'activity-log' as const, policyCategory: c.category === 'Policy',
    };
  }
  return {
    changedBy: c.changedBy, changedByType: c.changedByType, clientType: c.clientType, operation: c.operation,
    correlationId: c.correlationId, at: c.timestamp, source: 'resource-graph' as const, policyCategory: false,
  };
}

/**
 * Policy first: a Modify runs on the correlation id of the request it modifies (Nexus's own PUT among
 * them), so the action, not the correlation id, says whose change it is. Then Nexus (its identity or
 * one of its runs' correlation ids), then another application (a pipeline), then a person.
 * `attributor` prepares the identity sets once, for attributing many changes.
 */
export function attributor(who: Who): (change: Change) => ChangeAttribution {
  const policyPrincipals = lowerSet(who.policyPrincipals);
  const selfIds = lowerSet(who.selfIdentities);
  const selfRuns = lowerSet(who.selfCorrelationIds ?? []);
  return (change) => {
    const f = fields(change);
    const by = f.changedBy.toLowerCase();
    const policy = policyPrincipals.has(by) || POLICY_OPERATION.test(f.operation ?? '') || /policy/i.test(f.clientType ?? '') || f.policyCategory;
    const self = selfIds.has(by) || (f.correlationId ? selfRuns.has(f.correlationId.toLowerCase()) : false);
    const actor: ChangeAttribution['actor'] = policy ? 'policy'
      : self ? 'nexus'
        : /^application$/i.test(f.changedByType) ? 'pipeline'
          : /^user$/i.test(f.changedByType) ? 'person'
            : 'unknown';
    return {
      changedBy: f.changedBy,
      actor,
      ...(f.clientType ? { clientType: f.clientType } : {}),
      ...(f.operation ? { operation: f.operation } : {}),
      ...(f.correlationId ? { correlationId: f.correlationId } : {}),
      at: f.at,
      source: f.source,
    };
  };
}

export function attribute(change: Change, who: Who): ChangeAttribution {
  return attributor(who)(change);
}
