// The gates' verdicts on a preview and what the run does with them: hold for approval, block
// (starting the shared rate-limit cooldown when a limit was hit), report, or go on to the apply.
import type { CommitFacts } from './commit-facts.ts';
import type { DesiredState } from '../../stacks/compile/model.ts';
import type { ChangeSet } from '../../stacks/engine/changeset.ts';
import type { Logger } from '../platform/logger.ts';
import { decide } from './decide.ts';
import type { ReconcileDeps } from './deps.ts';
import { gateContext } from './gate-inputs.ts';
import { approvalRequirements, approvalState, identities } from './gates/approvals.ts';
import { runGates } from './gates/index.ts';
import type { ApprovalRecord, ApprovalRequirement, GateContext } from './gates/types.ts';
import type { Guardrails } from './guardrails.ts';
import type { GateResult, KillSwitchState, RunRecord } from './model.ts';

/** Run and request reason: nobody is known to exclude as the author, so two approvers are needed. */
export const AUTHOR_UNKNOWN = 'AUTHOR_UNKNOWN';

export interface Judged {
  /** Whether every gate passed and the run is no dry run: the apply step comes next. */
  apply: boolean;
  ctx: GateContext;
}

/**
 * Runs the gates on the preview and records their verdicts and the decision. A run that is not
 * to apply is decided here; one that is gets its decision from the apply step.
 */
export async function judge(
  d: ReconcileDeps, run: RunRecord, state: DesiredState, preview: ChangeSet,
  facts: { killSwitch: KillSwitchState; authors: string[]; commits?: CommitFacts }, log: Logger,
): Promise<Judged> {
  const tg = performance.now();
  const guardrails = await d.guardrails();
  const ctx = await gateContext(d, run, state, { guardrails, killSwitch: facts.killSwitch, authors: facts.authors, commits: facts.commits });
  run.gates = runGates(ctx, preview);
  const requirements = approvalRequirements(preview, guardrails, { authorUnknown: ctx.authorUnknown });
  const outcome = decide(preview, run.gates, { dryRun: run.dryRun, heldBack: run.drift?.heldBack });
  // Said where approval is what the run waits for or went through, not on runs blocked anyway.
  const raised = requirements.some((r) => r.raisedBy === AUTHOR_UNKNOWN) && outcome.verdict !== 'blocked' && outcome.verdict !== 'no-change';
  run.reasons = raised ? [...outcome.reasons, AUTHOR_UNKNOWN] : outcome.reasons;
  run.timings.gatesMs = Math.round(performance.now() - tg);
  log.info({ verdict: outcome.verdict, reasons: outcome.reasons, counts: run.counts }, 'gates decided');

  if (outcome.verdict === 'pending-approval') {
    run.decision = 'pending-approval';
    run.approvalId = await holdForApproval(d, run, ctx, requirements, facts.authors, raised ? [AUTHOR_UNKNOWN] : []);
  } else if (outcome.verdict !== 'apply') {
    run.decision = outcome.verdict;
    if (outcome.verdict === 'blocked') await coolDownIfLimitHit(d, run, run.gates, guardrails, ctx.now);
  }
  return { apply: outcome.verdict === 'apply', ctx };
}

/**
 * A run refused by a rate limit it hit (not one already cooling down) starts the shared
 * cooldown. A dry run reports the limit it would hit; only a real run starts it.
 */
export async function coolDownIfLimitHit(d: ReconcileDeps, run: RunRecord, verdicts: GateResult[], guardrails: Guardrails, now: Date): Promise<void> {
  const rate = verdicts.find((g) => g.gate === 'rate-limits');
  if (rate?.pass !== false || rate.reason !== 'RATE_LIMIT' || run.dryRun) return;
  const kinds = ((rate.details.checks as { kind: string; code?: string }[]) ?? []).filter((c) => c.code === 'RATE_LIMIT').map((c) => c.kind);
  const until = await d.stores.rateLimits.startCooldown(kinds as never, guardrails.rateLimits, now);
  await d.stores.audit.record({ actor: `nexus:${d.holderId}`, action: 'ratelimit-cooldown', target: run.stack, runId: run.id, why: rate.details.message, details: { kinds, until } });
}

/**
 * Keeps the open request when it is for this very preview (adding this run's requester and
 * commit authors to those who may not approve it); otherwise asks anew.
 */
async function holdForApproval(
  d: ReconcileDeps, run: RunRecord, ctx: GateContext, reqs: ApprovalRequirement[], authors: string[], reasons: string[],
): Promise<string> {
  const { stores } = d;
  const current: ApprovalRecord | undefined = ctx.approval;
  const state = approvalState(ctx, reqs);
  if (current && state.code === 'APPROVAL_PENDING') {
    const more = [...authors, ...identities(run.requestedBy)];
    const known = new Set(current.excluded ?? []);
    if (more.some((i) => !known.has(i))) await stores.approvals.exclude(current.id, more);
    return current.id;
  }
  const rec = await stores.approvals.request({
    stack: run.stack, runId: run.id, changeSetHash: ctx.changeSetHash, desiredStateHash: ctx.desiredStateHash,
    liveFingerprint: ctx.liveFingerprint, requirements: reqs, commit: run.commit, appliedCommit: run.appliedCommit, author: run.author,
    requestedBy: run.requestedBy, excluded: authors, now: ctx.now, expiresAfterMinutes: ctx.guardrails.approvals.expiresAfterMinutes,
    reasons,
  });
  await stores.audit.record({
    actor: `nexus:${d.holderId}`, action: 'approval-requested', target: run.stack, runId: run.id,
    why: run.gates.filter((g) => g.hold && !g.pass).map((g) => g.details.message).join('; '),
    details: { requirements: reqs, changeSetHash: ctx.changeSetHash, replaces: current?.id, staleReason: state.stale },
  });
  return rec.id;
}
