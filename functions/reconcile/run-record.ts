// A run's record from start to finish: the new record, taking the stack over from a holder that
// stopped, and the final save with its audit row and metrics.
import type { ChangeSet } from '../../stacks/engine/changeset.ts';
import type { Logger } from '../platform/logger.ts';
import type { ReconcileDeps } from './deps.ts';
import type { Decision, RunCounts, RunRecord, Trigger } from './model.ts';
import type { AuditAction } from './store/audit.ts';
import { newRunId, type RunDetail } from './store/runs.ts';
import type { NewestFirstKeys } from '../platform/tables.ts';

/** Reason codes for runs that could not get to a decision. */
export class RunFailure extends Error {
  constructor(readonly code: string, message: string, readonly cause?: unknown) {
    super(message);
  }
}

const AUDITED: Partial<Record<Decision, AuditAction>> = {
  applied: 'apply', failed: 'apply-failed', blocked: 'block', 'pending-approval': 'hold', 'report-only': 'report-only', interrupted: 'run-interrupted',
};

export function counts(cs: ChangeSet | undefined): RunCounts {
  const out: RunCounts = { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
  for (const c of cs?.changes ?? []) if (c.op in out) out[c.op as keyof RunCounts]++;
  return out;
}

export interface NewRun {
  stack: string;
  trigger: Trigger;
  dryRun?: boolean;
  commit?: string;
  author?: string;
  authorSource?: 'git' | 'hint';
  requestedBy?: string;
  compileMs: number;
}

/** A run that has just started: no decision, no gate verdicts yet. */
export function newRunRecord(deps: Pick<ReconcileDeps, 'holderId'>, started: Date, ids: NewestFirstKeys, r: NewRun): RunRecord {
  return {
    id: newRunId(started.getTime(), ids), stack: r.stack, commit: r.commit, author: r.author, authorSource: r.authorSource, trigger: r.trigger,
    requestedBy: r.requestedBy, dryRun: !!r.dryRun, status: 'running', reasons: [], gates: [],
    counts: counts(undefined), timings: { startedAt: started.toISOString(), compileMs: Math.round(r.compileMs) }, holderId: deps.holderId,
  };
}

/** Records a run left `running` by a holder that died or lost the lease, and takes the stack. */
export async function takeOver(deps: ReconcileDeps, run: RunRecord, log: Logger): Promise<void> {
  const { stores, holderId } = deps;
  const before = await stores.runs.stack(run.stack);
  if (before?.currentRunId && before.currentRunId !== run.id) {
    const why = `holder ${before.lastHolderId ?? '?'} stopped before finishing; taken over by ${holderId}`;
    const marked = await stores.runs.markInterrupted(before.currentRunId, why, deps.now()).catch(() => undefined);
    if (marked) {
      log.warn({ interruptedRun: marked.id, previousHolder: marked.holderId }, 'previous run was interrupted; recorded');
      deps.metrics.runsTotal.inc({ decision: 'interrupted', trigger: marked.trigger });
      await stores.audit.record({
        actor: `nexus:${holderId}`, action: 'run-interrupted', target: run.stack, runId: marked.id, why,
      });
    }
  }
  if (before?.lastHolderId && before.lastHolderId !== holderId) deps.metrics.leaseHolderChangesTotal.inc({ stack: run.stack });
  await stores.runs.updateStack(run.stack, (s) => ({ ...s, currentRunId: run.id, lastHolderId: holderId }));
}

/**
 * Saves the finished run and its detail, frees the stack, audits the decision and counts it.
 * `lockFree`: a pull request preview, which never held the stack: the stack's summary (its last
 * and current run) and the audit log are left to the runs that act on the stack.
 */
export async function finishRun(deps: ReconcileDeps, run: RunRecord, detail: RunDetail, engineMs: number, t0: number, log: Logger, opts: { lockFree?: boolean } = {}): Promise<void> {
  const d = deps;
  run.status = 'done';
  run.timings.finishedAt = d.now().toISOString();
  run.timings.totalMs = Math.round(performance.now() - t0);
  run.timings.engineMs = Math.round(engineMs);
  detail.run = run;
  await d.stores.runs.putDetail(detail);
  await d.stores.runs.save(run);
  if (!opts.lockFree) await recordOnStack(d, run);
  d.metrics.runsTotal.inc({ decision: run.decision!, trigger: run.trigger });
  d.metrics.runDurationSeconds.observe({ decision: run.decision! }, (run.timings.totalMs ?? 0) / 1000);
  for (const g of run.gates) if (!g.pass) d.metrics.gateBlocksTotal.inc({ gate: g.gate, reason: g.reason });
  log.info({ decision: run.decision, reasons: run.reasons, timings: run.timings }, 'run recorded');
}

/** The stack's summary and the audit row of a run that held the stack. */
async function recordOnStack(d: ReconcileDeps, run: RunRecord): Promise<void> {
  // Live equals the desired state after an apply, or when a real run found nothing to change.
  // A refused commit (out of order, unsigned) never becomes the base later commits are judged against.
  // Drift left as it is (reported, a pull request, a policy's) means live is not the desired state.
  const inSync = !run.drift?.heldBack && (run.decision === 'applied' || (run.decision === 'no-change' && !run.dryRun && run.gates.length > 0 && run.gates.every((g) => g.pass)));
  await d.stores.runs.updateStack(run.stack, (s) => ({
    ...s, lastRunId: run.id, lastDecision: run.decision, lastRunAt: run.timings.finishedAt,
    currentRunId: s.currentRunId === run.id ? undefined : s.currentRunId,
    ...(inSync && run.desiredStateHash
      ? { lastAppliedCommit: run.commit, lastAppliedSource: run.source, lastAppliedHash: run.desiredStateHash, lastAppliedRunId: run.id, lastAppliedAt: run.timings.finishedAt }
      : {}),
  }));
  const action = AUDITED[run.decision!];
  if (action) {
    await d.stores.audit.record({
      actor: `nexus:${d.holderId}`, action, target: run.stack, runId: run.id,
      why: run.reasons.join(', ') || (run.decision === 'applied' ? 'every gate passed' : undefined),
      details: { requestedBy: run.requestedBy, trigger: run.trigger, commit: run.commit, counts: run.counts, approvalId: run.approvalId, changeSetHash: run.changeSetHash },
    });
  }
}
