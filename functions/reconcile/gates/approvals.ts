// Gate 6: the two-person rule. Rules name the scopes and change kinds that need approval and
// from whom; a run waits in `pending-approval` with its ChangeSet pinned. An approval counts only
// for the exact preview it was given for (ChangeSet, desired state and live fingerprint) and
// only until it expires.
import type { ChangeSet } from '../../../stacks/engine/changeset.ts';
import type { Guardrails } from '../guardrails.ts';
import { changeKind, globMatch, isMutating } from '../scope.ts';
import { protectedDeletes } from './blast-radius.ts';
import type { ApprovalRecord, ApprovalRequirement, Gate, GateContext } from './types.ts';

const baseOp = (op: string) => (op === 'create-replacement' || op === 'delete-replaced' ? 'replace' : op);

/** Which approvals the change set needs: matching rules plus protected deletes. */
export function approvalRequirements(cs: ChangeSet, g: Guardrails): ApprovalRequirement[] {
  const out: ApprovalRequirement[] = [];
  const mutating = cs.changes.filter((c) => isMutating(c.op));
  for (const rule of g.approvals.rules) {
    const hit = mutating.some((c) =>
      (!rule.kinds || rule.kinds.includes(changeKind(c))) &&
      (!rule.ops || (rule.ops as string[]).includes(baseOp(c.op))) &&
      (!rule.scopes || rule.scopes.some((p) => [c.scope, c.armId].some((s) => s !== undefined && globMatch(p, s)))));
    if (hit) out.push({ rule: rule.name, group: rule.group, approvers: rule.approvers });
  }
  if (protectedDeletes(cs.changes).length > 0) {
    out.push({ rule: 'protected-delete', ...g.approvals.protectedDeletes });
  }
  return out;
}

/** True when every requirement has enough distinct approvers from its group, none the author. */
export function requirementsMet(rec: Pick<ApprovalRecord, 'requirements' | 'votes' | 'author'>): boolean {
  const author = rec.author?.toLowerCase();
  return rec.requirements.every((r) => {
    const voters = new Set(rec.votes
      .filter((v) => v.groups.includes(r.group) && v.by.toLowerCase() !== author)
      .map((v) => v.by.toLowerCase()));
    return voters.size >= r.approvers;
  });
}

export type ApprovalStateCode =
  | 'APPROVED' | 'APPROVAL_REQUIRED' | 'APPROVAL_PENDING' | 'APPROVAL_STALE' | 'APPROVAL_EXPIRED' | 'APPROVAL_REJECTED';

/** How the stack's latest approval request relates to the preview at hand. */
export function approvalState(ctx: GateContext): { valid: boolean; code: ApprovalStateCode; stale?: string[] } {
  const a = ctx.approval;
  if (!a || a.status === 'superseded' || a.status === 'applied' || a.status === 'expired') {
    return { valid: false, code: 'APPROVAL_REQUIRED' };
  }
  const stale: string[] = [];
  if (a.changeSetHash !== ctx.changeSetHash) stale.push('changeSet');
  if (a.desiredStateHash !== ctx.desiredStateHash) stale.push('desiredState');
  if (a.liveFingerprint !== ctx.liveFingerprint) stale.push('liveState');
  if (stale.length > 0) {
    // A new preview is needed; a rejection of another change set does not hold this one.
    return { valid: false, code: a.status === 'pending' || a.status === 'approved' ? 'APPROVAL_STALE' : 'APPROVAL_REQUIRED', stale };
  }
  if (a.status === 'rejected') return { valid: false, code: 'APPROVAL_REJECTED' };
  if (Date.parse(a.expiresAt) <= ctx.now.getTime()) return { valid: false, code: 'APPROVAL_EXPIRED' };
  if (a.status === 'approved' && requirementsMet(a)) return { valid: true, code: 'APPROVED' };
  return { valid: false, code: 'APPROVAL_PENDING' };
}

export const approvalsGate: Gate = (ctx, cs) => {
  const reqs = approvalRequirements(cs, ctx.guardrails);
  if (reqs.length === 0) {
    return { gate: 'approvals', pass: true, reason: 'NOT_REQUIRED', details: { message: 'no approval rule applies' } };
  }
  const state = approvalState(ctx);
  const need = reqs.map((r) => `${r.approvers} from ${r.group} (${r.rule})`).join(', ');
  if (state.valid) {
    const a = ctx.approval!;
    return {
      gate: 'approvals', pass: true, reason: 'APPROVED',
      details: { message: `approved by ${a.votes.map((v) => v.by).join(', ')}`, approvalId: a.id, requirements: reqs },
    };
  }
  const messages: Record<ApprovalStateCode, string> = {
    APPROVED: '',
    APPROVAL_REQUIRED: `needs approval: ${need}`,
    APPROVAL_PENDING: `waiting for approval: ${need}`,
    APPROVAL_STALE: `the approved preview is stale (${state.stale?.join(', ')} moved); a new approval is needed: ${need}`,
    APPROVAL_EXPIRED: `the approval expired at ${ctx.approval?.expiresAt}; a new approval is needed: ${need}`,
    APPROVAL_REJECTED: `rejected by ${ctx.approval?.rejectedBy}${ctx.approval?.reason ? `: ${ctx.approval.reason}` : ''}`,
  };
  return {
    gate: 'approvals', pass: false, hold: state.code !== 'APPROVAL_REJECTED', reason: state.code,
    details: { message: messages[state.code], requirements: reqs, approvalId: ctx.approval?.id, stale: state.stale },
  };
};
