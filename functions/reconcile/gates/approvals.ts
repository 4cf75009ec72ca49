// Gate 6: the two-person rule. Rules name the scopes and change kinds that need approval and
// from whom; a run waits in `pending-approval` with its ChangeSet pinned. An approval counts only
// for the exact preview it was given for (ChangeSet, desired state and live fingerprint) and
// only until it expires.
import type { ChangeSet } from '../../../stacks/engine/changeset.ts';
import type { Guardrails } from '../guardrails.ts';
import { changeKind, globMatch, isMutating } from '../scope.ts';
import { protectedDeletes } from './protected-deletes.ts';
import type { ApprovalRecord, ApprovalRequirement, Gate, GateContext } from './types.ts';

const baseOp = (op: string) => (op === 'create-replacement' || op === 'delete-replaced' ? 'replace' : op);

/** At least this many distinct approvers when the author is unknown: one of them may be the author. */
export const MIN_APPROVERS_AUTHOR_UNKNOWN = 2;

/**
 * Which approvals the change set needs: matching rules plus protected deletes. With
 * `authorUnknown` each needs at least two approvers, as the author cannot be excluded.
 */
export function approvalRequirements(cs: ChangeSet, g: Guardrails, opts: { authorUnknown?: boolean } = {}): ApprovalRequirement[] {
  const out = ruleRequirements(cs, g);
  if (!opts.authorUnknown) return out;
  return out.map((r) => (r.approvers >= MIN_APPROVERS_AUTHOR_UNKNOWN ? r
    : { ...r, approvers: MIN_APPROVERS_AUTHOR_UNKNOWN, raisedBy: 'AUTHOR_UNKNOWN' as const }));
}

function ruleRequirements(cs: ChangeSet, g: Guardrails): ApprovalRequirement[] {
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

/**
 * The lower-cased names and emails that identify a person, from values such as
 * `Carol Smith <carol@contoso.com>`, `carol@contoso.com` or `carol`. An email also yields its
 * local part, so `carol` and `carol@contoso.com` are one person here: matching too much only
 * refuses an approver, matching too little would let an author approve their own change.
 */
export function identities(...values: (string | undefined)[]): string[] {
  const out = new Set<string>();
  for (const raw of values) {
    const v = raw?.trim().toLowerCase();
    if (!v) continue;
    const m = /^(.*?)\s*<([^>]*)>$/.exec(v);
    for (const part of m ? [m[1], m[2]] : [v]) {
      const p = part.trim();
      if (!p) continue;
      out.add(p);
      const at = p.indexOf('@');
      if (at > 0) out.add(p.slice(0, at));
    }
  }
  return [...out];
}

/** Who may not approve a request: the commit's author(s) and whoever asked for the run. */
export function excludedApprovers(rec: Pick<ApprovalRecord, 'author' | 'excluded' | 'requestedBy'>): string[] {
  return [...new Set([...(rec.excluded ?? identities(rec.author)), ...identities(rec.requestedBy)])];
}

export function isExcluded(who: (string | undefined)[], excluded: string[]): boolean {
  const set = new Set(excluded);
  return identities(...who).some((i) => set.has(i));
}

/** True when every requirement has enough distinct approvers from its group, none excluded. */
export function requirementsMet(rec: Pick<ApprovalRecord, 'requirements' | 'votes' | 'author' | 'excluded' | 'requestedBy'>): boolean {
  const excluded = excludedApprovers(rec);
  return rec.requirements.every((r) => {
    const voters = new Set(rec.votes
      .filter((v) => v.groups.includes(r.group) && !isExcluded([v.by, v.name], excluded))
      .map((v) => v.by.toLowerCase()));
    return voters.size >= r.approvers;
  });
}

/** Whether two requirement lists ask for the same approvals (same groups, same counts). */
export function sameRequirements(a: ApprovalRequirement[], b: ApprovalRequirement[]): boolean {
  const key = (l: ApprovalRequirement[]) => l.map((r) => `${r.rule}\u0000${r.group.toLowerCase()}\u0000${r.approvers}`).sort().join('\n');
  return key(a) === key(b);
}

export type ApprovalStateCode =
  | 'APPROVED' | 'APPROVAL_REQUIRED' | 'APPROVAL_PENDING' | 'APPROVAL_STALE' | 'APPROVAL_EXPIRED' | 'APPROVAL_REJECTED';

/**
 * How the stack's latest approval request relates to the preview at hand and to the approvals it
 * needs now (`requirements`, computed from this preview and the current rules): a request asked
 * under other rules (fewer approvers, another group) is stale, never a pass.
 */
export function approvalState(ctx: GateContext, requirements: ApprovalRequirement[]): { valid: boolean; code: ApprovalStateCode; stale?: string[] } {
  const a = ctx.approval;
  if (!a || a.status === 'superseded' || a.status === 'applied') {
    return { valid: false, code: 'APPROVAL_REQUIRED' };
  }
  const stale: string[] = [];
  if (a.changeSetHash !== ctx.changeSetHash) stale.push('changeSet');
  if (a.desiredStateHash !== ctx.desiredStateHash) stale.push('desiredState');
  if (a.liveFingerprint !== ctx.liveFingerprint) stale.push('liveState');
  const open = a.status === 'pending' || a.status === 'approved';
  if (stale.length > 0) {
    // A new preview is needed; a rejection of another change set does not hold this one.
    return { valid: false, code: open ? 'APPROVAL_STALE' : 'APPROVAL_REQUIRED', stale };
  }
  // A rejection of this very preview stands, whatever the rules say now.
  if (a.status === 'rejected') return { valid: false, code: 'APPROVAL_REJECTED' };
  if (!sameRequirements(a.requirements, requirements)) {
    return { valid: false, code: open ? 'APPROVAL_STALE' : 'APPROVAL_REQUIRED', stale: ['requirements'] };
  }
  if (a.status === 'expired' || Date.parse(a.expiresAt) <= ctx.now.getTime()) return { valid: false, code: 'APPROVAL_EXPIRED' };
  // The votes are checked against the requirements of now, not only the stored ones.
  if (a.status === 'approved' && requirementsMet({ ...a, requirements })) return { valid: true, code: 'APPROVED' };
  return { valid: false, code: 'APPROVAL_PENDING' };
}

export const approvalsGate: Gate = (ctx, cs) => {
  const reqs = approvalRequirements(cs, ctx.guardrails, { authorUnknown: ctx.authorUnknown });
  if (reqs.length === 0) {
    return { gate: 'approvals', pass: true, reason: 'NOT_REQUIRED', details: { message: 'no approval rule applies' } };
  }
  const state = approvalState(ctx, reqs);
  const need = reqs.map((r) => `${r.approvers} from ${r.group} (${r.rule}${r.raisedBy ? `; ${r.raisedBy}: the commit's author is not known` : ''})`).join(', ');
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
