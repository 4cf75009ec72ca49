// Gate 3: at most N changes per kind in one run, and no delete of a management group or of a
// role assignment at management-group scope without an approval.
import type { ResourceChange } from '../../../stacks/engine/changeset.ts';
import { changeKind, isMutating, type ChangeKind } from '../scope.ts';
import { approvalRequirements, approvalState } from './approvals.ts';
import { protectedDeletes } from './protected-deletes.ts';
import type { Gate } from './types.ts';

export function countByKind(changes: ResourceChange[]): Partial<Record<ChangeKind, number>> {
  const out: Partial<Record<ChangeKind, number>> = {};
  for (const c of changes) {
    if (!isMutating(c.op) || c.op === 'delete-replaced' || c.op === 'create-replacement') continue;
    const k = changeKind(c);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

export const blastRadiusGate: Gate = (ctx, cs) => {
  const counts = countByKind(cs.changes);
  const limits = ctx.guardrails.blastRadius.maxChangesPerRun;
  const over = Object.entries(counts)
    .filter(([k, n]) => limits[k as ChangeKind] !== undefined && n! > limits[k as ChangeKind]!)
    .map(([kind, n]) => ({ kind, count: n!, max: limits[kind as ChangeKind]! }));
  if (over.length > 0) {
    return {
      gate: 'blast-radius', pass: false, reason: 'BLAST_RADIUS_EXCEEDED',
      details: { message: over.map((o) => `${o.count} ${o.kind} changes (max ${o.max} per run)`).join(', '), over, counts },
    };
  }
  const protectedOnes = protectedDeletes(cs.changes);
  if (protectedOnes.length > 0) {
    const state = approvalState(ctx, approvalRequirements(cs, ctx.guardrails, { authorUnknown: ctx.authorUnknown }));
    if (state.valid) {
      return {
        gate: 'blast-radius', pass: true, reason: 'PROTECTED_DELETE_APPROVED',
        details: { message: `${protectedOnes.length} protected delete(s) approved`, approvalId: ctx.approval!.id, counts },
      };
    }
    return {
      gate: 'blast-radius', pass: false, hold: true, reason: 'PROTECTED_DELETE',
      details: {
        message: `${protectedOnes.length} delete(s) of management groups or group-scope role assignments need approval, e.g. ${protectedOnes[0].armId ?? protectedOnes[0].urn}`,
        deletes: protectedOnes.slice(0, 50).map((c) => c.armId ?? c.urn), counts,
      },
    };
  }
  return { gate: 'blast-radius', pass: true, reason: 'OK', details: { message: 'within per-run limits', counts } };
};
