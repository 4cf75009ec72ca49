// The apply step, the only place Nexus calls the engine's `up`. Whatever started the run (timer,
// push, manual, approval, bootstrap), it gets here only through the gates, and here every gate
// runs again on what may have moved since the preview: the lease, then every gate, then the rate
// counters are consumed, then every gate once more, then the lease again, then `up`.
import type { ChangeSet } from '../../stacks/engine/changeset.ts';
import type { BlobLease } from '../platform/leases.ts';
import { maskSecrets, type Logger } from '../platform/logger.ts';
import type { EngineStack, ReconcileDeps } from './deps.ts';
import { readAgain, withVerdictsAtApply } from './gate-inputs.ts';
import { countByKind } from './gates/blast-radius.ts';
import { refusals, runGates } from './gates/index.ts';
import type { ApprovalRecord, GateContext } from './gates/types.ts';
import { coolDownIfLimitHit } from './judge.ts';
import type { GateResult, RunRecord } from './model.ts';
import { engineCall } from './preview-step.ts';
import { isMutating } from './scope.ts';
import { leaseStillHeld, type RunControl } from './stack-lease.ts';
import { RateLimitExceeded } from './store/ratelimits.ts';
import type { RunDetail } from './store/runs.ts';

export interface ApplyStep {
  deps: ReconcileDeps;
  run: RunRecord;
  detail: RunDetail;
  preview: ChangeSet;
  /** The context the gates passed the preview under. */
  ctx: GateContext;
  engine: EngineStack;
  lease: BlobLease;
  ctl: RunControl;
  log: Logger;
}

/**
 * Records the verdicts of a check at apply on the run; true when a gate refuses, the run then
 * being blocked with the refusing gates' own reasons. A hold counts as a refusal here: no
 * approval request is opened at apply time (the next run asks for one).
 */
function refusedAtApply(run: RunRecord, verdicts: GateResult[]): boolean {
  run.gates = withVerdictsAtApply(run.gates, verdicts);
  const no = refusals(verdicts);
  if (no.length === 0) return false;
  run.decision = 'blocked';
  run.reasons = no.map((g) => g.reason);
  const approvalId = no.map((g) => g.details.approvalId).find((id): id is string => typeof id === 'string');
  if (approvalId) run.approvalId = approvalId;
  return true;
}

/** The counted changes, judged by the rate-limits gate on the counters a refused consumption saw. */
function rateVerdicts(ctx: GateContext, preview: ChangeSet, err: RateLimitExceeded): GateResult[] {
  const verdicts = runGates({ ...ctx, rateLimits: { ...ctx.rateLimits, counters: err.counters } }, preview);
  // The store refused: the apply does not go ahead even if the gate would see room (fail closed).
  return verdicts.map((g) => (g.gate === 'rate-limits' && g.pass
    ? { ...g, pass: false, reason: 'RATE_LIMIT', details: { message: err.message, checks: g.details.checks } }
    : g));
}

/** Checks once more, consumes the rate counters, and applies exactly the previewed change set. */
export async function applyStep(s: ApplyStep): Promise<void> {
  const { deps: d, run, preview, lease, ctl, log } = s;
  const interrupted = () => {
    run.decision = 'interrupted';
    run.reasons = ['LEASE_LOST'];
  };
  const who = { stack: run.stack, holderId: d.holderId };
  if (!(await leaseStillHeld(lease, ctl, who, log))) return interrupted();

  // Every gate again: the kill switch, the counters and the approval may have moved since.
  const before = await readAgain(d, s.ctx);
  const first = runGates(before, preview);
  if (refusedAtApply(run, first)) return coolDownIfLimitHit(d, run, first, before.guardrails, before.now);

  const overridden = first.find((g) => g.gate === 'rate-limits')?.reason === 'RATE_LIMIT_OVERRIDDEN';
  try {
    await d.stores.rateLimits.consume(countByKind(preview.changes), before.guardrails.rateLimits, d.now(), overridden);
  } catch (err) {
    if (!(err instanceof RateLimitExceeded)) throw err;
    // The store has started the cooldown itself.
    refusedAtApply(run, rateVerdicts(before, preview, err));
    return;
  }

  // Consuming may retry for long under contention: every gate once more right before the apply,
  // on the counters the consumption was admitted under (the counted changes stay counted, which
  // only errs on the side of fewer applies).
  const last = await readAgain(d, before, { rateLimits: before.rateLimits });
  const verdicts = runGates(last, preview);
  if (refusedAtApply(run, verdicts)) return;
  if (!(await leaseStillHeld(lease, ctl, who, log))) return interrupted();

  const approved = verdicts.find((g) => g.gate === 'approvals')?.reason === 'APPROVED' ? last.approval : undefined;
  await up(s, approved);
}

async function up(s: ApplyStep, used: ApprovalRecord | undefined): Promise<void> {
  const { deps: d, run, detail, preview, engine, ctl, log } = s;
  // Only what the gates saw: the previewed resources, against the state the preview used.
  const targets = [...new Set(preview.changes.filter((c) => isMutating(c.op)).map((c) => c.urn))];
  const ta = performance.now();
  ctl.applying = true;
  let outcomeLabel = 'applied';
  try {
    log.info({ targets: targets.length }, 'applying');
    detail.apply = await engineCall(ctl, () => engine.up({ targets, refresh: false }));
    run.decision = 'applied';
    if (used) {
      run.approvalId = used.id;
      // Conditional on `approved`: a rejection that landed during the apply is kept, and said.
      await d.stores.approvals.markApplied(used).catch((err: Error) => {
        log.warn({ approvalId: used.id, err: err.message }, 'approval changed during the apply; not marked applied');
        detail.engineOutput!.push(`approval ${used.id}: ${err.message}`);
      });
    }
  } catch (err) {
    outcomeLabel = 'failed';
    const message = maskSecrets((err as Error).message);
    run.decision = ctl.lost ? 'interrupted' : 'failed';
    run.reasons = ctl.lost ? ['LEASE_LOST_DURING_APPLY'] : [(err as Error).name === 'StackBusyError' ? 'STACK_BUSY' : 'APPLY_FAILED'];
    run.error = message;
    detail.engineOutput!.push(message);
  } finally {
    ctl.applying = false;
    run.timings.applyMs = Math.round(performance.now() - ta);
    d.metrics.applyDurationSeconds.observe({ stack: run.stack, outcome: outcomeLabel }, run.timings.applyMs / 1000);
  }
}
