// The approvals a drift pull request's change will need: the tenant's approval rules (guardrails)
// over a ChangeSet shaped like what merging it implies — each drifted resource updated (to the
// adopted live value, or back to the desired one), or deleted when no archetype declares it.
import type { ChangeSet, ResourceChange } from '../../../stacks/engine/changeset.ts';
import type { DesiredResource } from '../../../stacks/compile/model.ts';
import { approvalRequirements } from '../../reconcile/gates/approvals.ts';
import type { ApprovalRequirement } from '../../reconcile/gates/types.ts';
import type { Guardrails } from '../../reconcile/guardrails.ts';
import type { DriftItem } from '../model.ts';

function scopeOf(id: string): string {
  const i = id.toLowerCase().lastIndexOf('/providers/');
  return i > 0 ? id.slice(0, i) : '/';
}

export function impliedChangeSet(stack: string, items: DriftItem[], desired: ReadonlyMap<string, DesiredResource>): ChangeSet {
  const changes: ResourceChange[] = items.map((item) => {
    const d = desired.get(item.resourceId.toLowerCase());
    return {
      op: d ? 'update' : 'delete',
      urn: item.resourceId,
      type: item.resourceType,
      armType: item.resourceType,
      armId: item.resourceId,
      scope: d?.scope ?? scopeOf(item.resourceId),
      changedKeys: item.properties.map((p) => p.path),
      diffs: item.properties.map((p) => ({ path: p.path, kind: 'update' as const, old: p.desired, new: p.live })),
    };
  });
  const update = changes.filter((c) => c.op === 'update').length;
  return {
    stack, kind: 'preview', changes, diagnostics: [], policyEvents: [], unknowns: [],
    summary: { create: 0, update, replace: 0, delete: changes.length - update, same: 0 },
  };
}

export function driftApprovals(stack: string, items: DriftItem[], desired: ReadonlyMap<string, DesiredResource>, guardrails: Guardrails): ApprovalRequirement[] {
  return approvalRequirements(impliedChangeSet(stack, items, desired), guardrails);
}
