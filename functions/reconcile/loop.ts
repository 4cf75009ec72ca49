// One reconcile of a stack: take the stack's lease, compile, preview, run the gates, then apply,
// hold or report, and record the run. Runs are queued per stack in this process; across
// processes the blob lease `leases/<stack>` admits one holder at a time. The steps live in their
// own modules: preview-step (preview), judge (gates and decision), apply (the only `up`),
// run-record (the record's lifecycle), stack-lease (the lease).
import type { DesiredState } from '../../stacks/compile/model.ts';
import { BlobLease } from '../platform/leases.ts';
import { maskSecrets, runLogger, type Logger } from '../platform/logger.ts';
import { mapLimit } from '../platform/map-limit.ts';
import { applyStep } from './apply.ts';
import { CommitAuthors } from './commit-authors.ts';
import { commitFacts } from './commit-facts.ts';
import { compileAt } from './compile-step.ts';
import type { ReconcileDeps } from './deps.ts';
import { readKillSwitch } from './gate-inputs.ts';
import { judge } from './judge.ts';
import type { RunRecord, Trigger } from './model.ts';
import { previewStep } from './preview-step.ts';
import { DEPLOYMENT_IN_PROGRESS, driftSummary, finishDrift, startDrift } from './drift-step.ts';
import { previewOnly, type PreviewOnlyRequest, type PreviewOnlyResult } from './preview-only.ts';
import { StackQueue } from './queue.ts';
import { finishRun, newRunRecord, RunFailure, takeOver } from './run-record.ts';
import { acquireLease, keepLease, type RunControl } from './stack-lease.ts';
import type { RunDetail } from './store/runs.ts';
import { NewestFirstKeys } from '../platform/tables.ts';

export { AUTHOR_UNKNOWN } from './judge.ts';
export { liveFingerprint } from './preview-step.ts';

export interface ReconcileRequest {
  stack: string;
  trigger: Trigger;
  /** Preview and gates only; never apply. */
  dryRun?: boolean;
  commit?: string;
  /**
   * A hint of the commit's author, used only when Git does not know the commit (the author is
   * read from Git, never taken from the caller when Git has it). Never allowed to approve it.
   */
  author?: string;
  /** Who asked (a principal for manual runs). */
  requestedBy?: string;
  /** How long to wait when another instance holds the stack's lease; default 0 (skip). */
  leaseWaitMs?: number;
  /** An already compiled state (a timer pass compiles once for every stack). */
  state?: DesiredState;
}

export type ReconcileResult =
  | { status: 'done'; run: RunRecord }
  | { status: 'skipped'; stack: string; reason: 'LEASE_HELD'; holder?: string };

export class UnknownStackError extends Error {
  readonly status = 404;
  constructor(readonly stack: string, readonly known: string[]) {
    super(`no stack '${stack}' in the desired state; stacks: ${known.join(', ') || '(none)'}`);
    this.name = 'UnknownStackError';
  }
}

export class Reconciler {
  readonly queue = new StackQueue();
  private readonly authors: CommitAuthors;
  /** Run ids of this reconciler: each sorts before every earlier one, even within a millisecond. */
  private readonly runIds = new NewestFirstKeys();

  constructor(readonly deps: ReconcileDeps) {
    this.authors = new CommitAuthors(deps);
    deps.metrics.setGaugeReaders({
      killSwitch: async () => ((await readKillSwitch(deps)).on ? 1 : 0),
      pendingApprovals: async () => (await deps.stores.approvals.list({ status: 'pending' })).length,
    });
  }

  /** Queues one reconcile of the stack behind any other of the same stack in this process. */
  reconcile(req: ReconcileRequest): Promise<ReconcileResult> {
    return this.queue.run(req.stack, () => this.runOnce(req));
  }

  /** Every stack of the desired state (or those named), compiled once; `concurrency` stacks at a time. */
  async reconcileAll(opts: { trigger: Trigger; dryRun?: boolean; concurrency?: number; state?: DesiredState; commit?: string; stacks?: string[] } = { trigger: 'timer' }): Promise<ReconcileResult[]> {
    // One look at the checkout (or the tracked branch) for the whole pass, compiled at that commit.
    // From a repository the head must be known (the state is compiled at exactly it); a checkout may have none.
    const commit = opts.commit ?? (this.deps.commits ? await this.deps.trackedCommit?.() : await this.deps.trackedCommit?.().catch(() => undefined));
    const state = opts.state ?? (await this.deps.compile(commit));
    // In the desired state's order (parents first); `stacks` narrows it.
    const names = state.stacks.map((s) => s.name).filter((n) => !opts.stacks || opts.stacks.includes(n));
    // Results in the desired state's order, whichever finished first.
    const n = opts.concurrency ?? this.deps.concurrency;
    return mapLimit(names, n, (stack) => this.reconcile({ stack, trigger: opts.trigger, dryRun: opts.dryRun, state, commit }));
  }

  /** A pull request's preview of one stack: no lease, not queued behind its runs, never applied (preview-only.ts). */
  previewOnly(req: PreviewOnlyRequest): Promise<PreviewOnlyResult> {
    return previewOnly(this.deps, req, this.runIds);
  }

  private async runOnce(req: ReconcileRequest): Promise<ReconcileResult> {
    const d = this.deps;
    const t0 = performance.now();
    // From a repository the commit is fixed first and compiled exactly (the branch may move meanwhile).
    const pinned = req.commit ?? (d.commits ? await d.trackedCommit?.() : undefined);
    // Compiling is pure: done before taking the lease, so an unknown stack records nothing.
    const compileStart = performance.now();
    const compiled = req.state ? { state: req.state } : await compileAt(d, pinned, req.trigger);
    const compileMs = req.state ? 0 : performance.now() - compileStart;
    if ('failure' in compiled) return this.recordWithoutState(req, pinned, compiled.failure, compileMs, t0);
    const state = compiled.state;
    const known = state.stacks.map((s) => s.name);
    if (!known.includes(req.stack)) throw new UnknownStackError(req.stack, known);

    const lease = new BlobLease({ container: 'leases', blob: req.stack, holderId: d.holderId, durationSeconds: d.leaseSeconds, cfg: d.stores.cfg });
    if (!(await acquireLease(lease, req.leaseWaitMs ?? 0))) {
      const h = await lease.holder();
      d.logger.info({ stack: req.stack, holder: h.holderId }, 'stack lease held by another instance; skipped');
      return { status: 'skipped', stack: req.stack, reason: 'LEASE_HELD', holder: h.holderId };
    }

    const started = d.now();
    const tracked = pinned ?? (await d.trackedCommit?.().catch(() => undefined));
    const commit = req.commit ?? tracked;
    const run = newRunRecord(d, started, this.runIds, {
      stack: req.stack, trigger: req.trigger, dryRun: req.dryRun, commit, requestedBy: req.requestedBy, compileMs,
    });
    if (d.commits && commit) run.source = d.commits.repoId;
    const log = runLogger(run.id, run.stack, d.logger);
    const detail: RunDetail = { run, engineOutput: [] };
    const ctl: RunControl = { applying: false, engineMs: 0, authors: [] };
    const keep = keepLease(lease, ctl, log);
    try {
      await takeOver(d, run, log);
      await d.stores.runs.save(run);
      log.info({ trigger: run.trigger, dryRun: run.dryRun, commit: run.commit }, 'run started');
      try {
        await this.whoWrote(run, ctl, [tracked, commit], req.author);
        await this.execute(run, detail, state, lease, ctl, log);
      } catch (err) {
        const code = err instanceof RunFailure ? err.code : 'RUN_FAILED';
        const message = maskSecrets(err instanceof Error ? err.message : String(err));
        run.decision = ctl.lost ? 'interrupted' : 'failed';
        run.reasons = ctl.lost ? ['LEASE_LOST', code] : [code];
        run.error = message;
        detail.engineOutput!.push(message);
        log.error({ code, err: message }, 'run failed');
      }
      if (ctl.lost && run.decision !== 'interrupted' && run.decision !== 'applied') {
        run.reasons = [...run.reasons, 'LEASE_LOST'];
      }
      await finishRun(d, run, detail, ctl.engineMs, t0, log);
      return { status: 'done', run };
    } finally {
      await keep.stop();
      if (!keep.lost) await lease.release().catch(() => false);
      ctl.engine?.close?.();
    }
  }

  /**
   * Who wrote what the run applies: from the landing-zone repository, every commit since the
   * stack's last applied one (their order and signatures are gates); else the checkout's author.
   */
  private async whoWrote(run: RunRecord, ctl: RunControl, commits: (string | undefined)[], hint: string | undefined): Promise<void> {
    const found = run.source ? await commitFacts(this.deps, run.stack, run.commit, [run.requestedBy]) : undefined;
    if (found) {
      ctl.facts = found.facts;
      ctl.authors = found.identities;
      run.author = found.authors.join('; ') || undefined;
      run.authorSource = 'git';
      run.appliedCommit = found.facts.applied;
      run.commits = found.facts.commits.map((c) => c.sha.slice(0, 12));
      return;
    }
    const who = await this.authors.of(commits, hint);
    ctl.authors = who.identities;
    run.author = who.author;
    run.authorSource = who.source;
  }

  /** A commit that did not compile (or could not be read) applies nothing: the run says so. */
  private async recordWithoutState(req: ReconcileRequest, commit: string | undefined, failure: RunFailure, compileMs: number, t0: number): Promise<ReconcileResult> {
    const d = this.deps;
    const run = newRunRecord(d, d.now(), this.runIds, { stack: req.stack, trigger: req.trigger, dryRun: req.dryRun, commit, requestedBy: req.requestedBy, compileMs });
    if (d.commits && commit) run.source = d.commits.repoId;
    run.decision = 'failed';
    run.reasons = [failure.code];
    run.error = maskSecrets(failure.message);
    const log = runLogger(run.id, run.stack, d.logger);
    log.error({ code: failure.code, commit, err: run.error }, 'nothing to apply: the commit does not compile');
    await finishRun(d, run, { run, engineOutput: [run.error] }, 0, t0, log);
    return { status: 'done', run };
  }

  /** Preview, gates, then apply (the one path to `up`), hold or report. */
  private async execute(run: RunRecord, detail: RunDetail, state: DesiredState, lease: BlobLease, ctl: RunControl, log: Logger): Promise<void> {
    const d = this.deps;
    // Read before the preview: a switch turned on later is caught again right before the apply.
    const killSwitch = await readKillSwitch(d);
    const guardrails = d.drift ? await d.guardrails() : undefined;
    const drift = d.drift && guardrails ? await startDrift(d.drift, run, state, guardrails, log) : undefined;
    if (drift?.stop) {
      run.decision = 'report-only';
      run.reasons = [DEPLOYMENT_IN_PROGRESS];
      run.drift = driftSummary(drift.stop, 0);
      return;
    }
    const previewed = await previewStep(d, run, detail, state, lease, ctl, log);
    const { engine, refreshPreview } = previewed;
    const preview = d.drift && drift && guardrails
      ? (await finishDrift(d.drift, drift, { run, detail, state, guardrails, refreshPreview, preview: previewed.preview }, log)).preview
      : previewed.preview;
    const judged = await judge(d, run, state, preview, { killSwitch, authors: ctl.authors, commits: ctl.facts }, log);
    if (!judged.apply) return;
    await applyStep({ deps: d, run, detail, preview, ctx: judged.ctx, engine, lease, ctl, log });
    if (run.decision === 'applied' && d.drift) await this.keepBaseline(run, state, detail, log);
  }

  /** The live body of each applied resource, kept as its drift baseline; a failure is logged, never undoes the apply. */
  private async keepBaseline(run: RunRecord, state: DesiredState, detail: RunDetail, log: Logger): Promise<void> {
    const ids = (detail.apply?.changes ?? []).filter((c) => c.op !== 'same' && c.armId).map((c) => c.armId!);
    try {
      await this.deps.drift!.captureBaseline(run.stack, state, ids);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'drift baseline not kept; the next drift report judges these resources by the rules alone');
    }
  }
}
