// Who made a change: Nexus itself, a person, a pipeline, or a policy (placeholder until merge).
import type { ChangeAttribution } from './model.ts';

export interface AttributionContext {
  selfIdentities: string[];
  selfCorrelationIds?: Set<string>;
  policyPrincipals: Set<string>;
}

export function attribute(c: { changedBy: string; changedByType?: string; clientType?: string; operation?: string; correlationId?: string; at?: string; timestamp?: string; source?: 'resource-graph' | 'activity-log' }, who: AttributionContext): ChangeAttribution {
  const by = (c.changedBy ?? '').toLowerCase();
  const op = (c.operation ?? '').toLowerCase();
  const actor: ChangeAttribution['actor'] =
    who.selfIdentities.some((s) => s.toLowerCase() === by) || (c.correlationId && who.selfCorrelationIds?.has(c.correlationId)) ? 'nexus'
      : who.policyPrincipals.has(by) || /^microsoft\.authorization\/policies\/(deployifnotexists|modify|append)\/action$/.test(op) || /policy/i.test(c.clientType ?? '') ? 'policy'
        : c.changedByType === 'Application' ? 'pipeline'
          : c.changedByType === 'User' ? 'person' : 'unknown';
  return { changedBy: c.changedBy, actor, clientType: c.clientType, operation: c.operation, correlationId: c.correlationId, at: c.at ?? c.timestamp ?? '', source: c.source ?? 'resource-graph' };
}
