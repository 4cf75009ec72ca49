// Builders for change sets and gate contexts used by the reconcile tests.
import type { ChangeSet, ResourceChange } from '../../../stacks/engine/changeset.ts';
import type { GateContext } from '../../../functions/reconcile/gates/types.ts';
import { parseGuardrails, type GuardrailsInput } from '../../../functions/reconcile/guardrails.ts';

export const TENANT = '00000000-0000-0000-0000-0000000000aa';
export const mgId = (mg: string) => `/providers/Microsoft.Management/managementGroups/${mg}`;

export function change(p: Partial<ResourceChange> & { armId?: string }): ResourceChange {
  const name = p.armId?.split('/').pop() ?? 'r';
  return {
    op: 'create', urn: `urn:pulumi:s::p::${p.type ?? 'nexus:arm:Resource'}::${p.armId ?? name}`,
    type: 'nexus:arm:Resource', changedKeys: [], diffs: [], ...p,
  };
}

export function policyAssignment(mg: string, name: string, op: ResourceChange['op'] = 'create'): ResourceChange {
  return change({
    op, armType: 'Microsoft.Authorization/policyAssignments', scope: mgId(mg),
    armId: `${mgId(mg)}/providers/Microsoft.Authorization/policyAssignments/${name}`,
  });
}

export function roleAssignment(scope: string, name: string, op: ResourceChange['op'] = 'create'): ResourceChange {
  return change({
    op, armType: 'Microsoft.Authorization/roleAssignments', scope,
    armId: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
  });
}

export function managementGroup(mg: string, op: ResourceChange['op'] = 'create'): ResourceChange {
  return change({ op, armType: 'Microsoft.Management/managementGroups', scope: '/', armId: mgId(mg) });
}

export function changeSet(changes: ResourceChange[], extra: Partial<ChangeSet> = {}): ChangeSet {
  const summary = { create: 0, update: 0, replace: 0, delete: 0, same: 0 } as ChangeSet['summary'];
  for (const c of changes) summary[c.op] = (summary[c.op] ?? 0) + 1;
  return { stack: 'alz', kind: 'preview', summary, changes, diagnostics: [], policyEvents: [], unknowns: [], ...extra };
}

export function context(p: Partial<Omit<GateContext, 'guardrails'>> & { guardrails?: GuardrailsInput } = {}): GateContext {
  const { guardrails, ...rest } = p;
  return {
    stack: 'alz', runId: 'run-1', now: new Date('2026-01-01T12:00:00Z'), tenantRootId: TENANT,
    guardrails: parseGuardrails(guardrails ?? {}), killSwitch: { on: false },
    rateLimits: { counters: {} },
    changeSetHash: 'cs', desiredStateHash: 'ds', liveFingerprint: 'live',
    ...rest,
  };
}
