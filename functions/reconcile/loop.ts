// One reconcile of a stack: take the stack's lease, compile, preview, run the gates, then apply,
// hold or report, and record the run. Runs are queued per stack in this process; across
// processes the blob lease `leases/<stack>` admits one holder at a time.
import type { DesiredState } from '../../stacks/compile/model.ts';
import type { ChangeSet } from '../../stacks/engine/changeset.ts';
import { BlobLease } from '../platform/leases.ts';
import { maskSecrets, runLogger, type Logger } from '../platform/logger.ts';
import {
  applyDurationSeconds, gateBlocksTotal, leaseHolderChangesTotal, runDurationSeconds, runsTotal, setGaugeReaders,
} from '../platform/metrics.ts';
import { decide, hasChanges } from './decide.ts';
import type { EngineStack, ReconcileDeps } from './deps.ts';
import type { CommitAuthor } from './tracked-commit.ts';
import { approvalRequirements, approvalState, identities } from './gates/approvals.ts';
import { countByKind } from './gates/blast-radius.ts';
import { runGates } from './gates/index.ts';
import { policyIdentityPrincipals } from './gates/preview-reliability.ts';
import type { ApprovalRecord, ApprovalRequirement, GateContext } from './gates/types.ts';
import { canonicalJson, changeSetHash, desiredStateHash, sha256 } from './hash.ts';
import type { Decision, GateResult, RunCounts, RunRecord, Trigger } from './model.ts';
import { StackQueue } from './queue.ts';
import { isMutating, scopeHierarchy } from './scope.ts';
import type { AuditAction } from './store/audit.ts';
import { RateLimitExceeded } from './store/ratelimits.ts';
import { newRunId, type RunDetail } from './store/runs.ts';
import { mapLimit } from '../platform/map-limit.ts';

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

/** Reason codes for runs that could not get to a decision. */
class RunFailure extends Error {
  constructor(readonly code: string, message: string, readonly cause?: unknown) {
    super(message);
  }
}

const AUDITED: Partial<Record<Decision, AuditAction>> = {
  applied: 'apply', failed: 'apply-failed', blocked: 'block', 'pending-approval': 'hold', 'report-only': 'report-only', interrupted: 'run-interrupted',
};

function counts(cs: ChangeSet | undefined): RunCounts {
  const out: RunCounts = { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
  for (const c of cs?.changes ?? []) if (c.op in out) out[c.op as keyof RunCounts]++;
  return out;
}

/** What the engine's state says is live: resources' inputs and outputs, without timestamps. */
export async function liveFingerprint(engine: Pick<EngineStack, 'exportState'>): Promise<string> {
  const dep = (await engine.exportState()) as { resources?: { urn: string; type: string; id?: string; inputs?: unknown; outputs?: unknown }[] } | undefined;
  const resources = (dep?.resources ?? [])
    .filter((r) => r.type !== 'pulumi:pulumi:Stack')
    .map((r) => ({ urn: r.urn, id: r.id, inputs: r.inputs, outputs: r.outputs }))
    .sort((a, b) => (a.urn < b.urn ? -1 : 1));
  return sha256(canonicalJson(resources));
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

interface RunControl {
  lost?: Error;
  applying: boolean;
  engine?: EngineStack;
  engineMs: number;
  /** Identities that may not approve this run's changes: its commit's author(s). */
  authors: string[];
}

/** Run and request reason: nobody is known to exclude as the author, so two approvers are needed. */
export const AUTHOR_UNKNOWN = 'AUTHOR_UNKNOWN';

export class Reconciler {
  readonly queue = new StackQueue();
  /**
   * Commits do not change: their authors are read from Git once. Only found authors are kept: a
   * lookup that failed (error, timeout, commit not fetched yet) is tried again by the next run.
   */
  private readonly authorCache = new Map<string, Promise<CommitAuthor | undefined>>();

  constructor(readonly deps: ReconcileDeps) {
    setGaugeReaders({
      killSwitch: async () => ((await deps.stores.settings.killSwitch()).on ? 1 : 0),
      pendingApprovals: async () => (await deps.stores.approvals.list({ status: 'pending' })).length,
    });
  }

  /** Queues one reconcile of the stack behind any other of the same stack in this process. */
  reconcile(req: ReconcileRequest): Promise<ReconcileResult> {
    return this.queue.run(req.stack, () => this.runOnce(req));
  }

  /** Every stack of the desired state (or those named), compiled once; `concurrency` stacks at a time. */
  async reconcileAll(opts: { trigger: Trigger; dryRun?: boolean; concurrency?: number; state?: DesiredState; stacks?: string[] } = { trigger: 'timer' }): Promise<ReconcileResult[]> {
    const state = opts.state ?? (await this.deps.compile());
    // In the desired state's order (parents first); `stacks` narrows it.
    const names = state.stacks.map((s) => s.name).filter((n) => !opts.stacks || opts.stacks.includes(n));
    // One look at the checkout for the whole pass.
    const commit = await this.deps.trackedCommit?.().catch(() => undefined);
    // Results in the desired state's order, whichever finished first.
    const n = opts.concurrency ?? this.deps.concurrency;
    return mapLimit(names, n, (stack) => this.reconcile({ stack, trigger: opts.trigger, dryRun: opts.dryRun, state, commit }));
  }

  /**
   * The author(s) of the commit the desired state comes from (the checkout's) and of the commit
   * the trigger named, from Git. The caller's hint counts only when Git knows neither.
   */
  private async authorsOf(commits: (string | undefined)[], hint: string | undefined): Promise<{ author?: string; source?: 'git' | 'hint'; identities: string[] }> {
    const found: CommitAuthor[] = [];
    const lookup = this.deps.commitAuthor;
    for (const c of new Set(commits.filter((x): x is string => !!x).map((x) => x.replace(/\+dirty$/, '')))) {
      if (!lookup) break;
      let p = this.authorCache.get(c);
      if (!p) {
        p = lookup(c).catch(() => undefined);
        this.authorCache.set(c, p);
        // Dropped again once it turns out empty (runs already waiting on it share the result).
        void p.then((a) => { if (!a && this.authorCache.get(c) === p) this.authorCache.delete(c); });
      }
      const a = await p;
      if (a && !found.some((f) => f.name === a.name && f.email.toLowerCase() === a.email.toLowerCase())) found.push(a);
    }
    if (found.length > 0) {
      return {
        author: found.map((a) => (a.email ? `${a.name} <${a.email}>` : a.name)).join('; '), source: 'git',
        identities: identities(...found.flatMap((a) => [a.name, a.email])),
      };
    }
    if (hint?.trim()) return { author: hint.trim(), source: 'hint', identities: identities(hint) };
    return { identities: [] };
  }

  private async acquire(lease: BlobLease, waitMs: number): Promise<boolean> {
    const until = Date.now() + waitMs;
    for (;;) {
      if (await lease.acquire()) return true;
      if (Date.now() >= until) return false;
      await sleep(Math.min(2000, Math.max(200, until - Date.now())));
    }
  }

  private async runOnce(req: ReconcileRequest): Promise<ReconcileResult> {
    const d = this.deps;
    const t0 = performance.now();
    // Compiling is pure: done before taking the lease, so an unknown stack records nothing.
    const compileStart = performance.now();
    const state = req.state ?? (await d.compile());
    const compileMs = req.state ? 0 : performance.now() - compileStart;
    const known = state.stacks.map((s) => s.name);
    if (!known.includes(req.stack)) throw new UnknownStackError(req.stack, known);

    const lease = new BlobLease({ container: 'leases', blob: req.stack, holderId: d.holderId, durationSeconds: d.leaseSeconds, cfg: d.stores.cfg });
    if (!(await this.acquire(lease, req.leaseWaitMs ?? 0))) {
      const h = await lease.holder();
      d.logger.info({ stack: req.stack, holder: h.holderId }, 'stack lease held by another instance; skipped');
      return { status: 'skipped', stack: req.stack, reason: 'LEASE_HELD', holder: h.holderId };
    }

    const started = d.now();
    const tracked = await d.trackedCommit?.().catch(() => undefined);
    const commit = req.commit ?? tracked;
    const who = await this.authorsOf([tracked, commit], req.author);
    const run: RunRecord = {
      id: newRunId(started.getTime()), stack: req.stack, commit, author: who.author, authorSource: who.source, trigger: req.trigger,
      requestedBy: req.requestedBy, dryRun: !!req.dryRun, status: 'running', reasons: [], gates: [],
      counts: counts(undefined), timings: { startedAt: started.toISOString(), compileMs: Math.round(compileMs) }, holderId: d.holderId,
    };
    const log = runLogger(run.id, run.stack, d.logger);
    const detail: RunDetail = { run, engineOutput: [] };
    const ctl: RunControl = { applying: false, engineMs: 0, authors: who.identities };
    const keep = lease.keepAlive({
      onLost: (err) => {
        ctl.lost = err;
        log.warn({ err: maskSecrets(err.message) }, 'stack lease lost');
        // An apply in flight is stopped cleanly; the run is recorded as interrupted.
        if (ctl.applying) void ctl.engine?.cancel().catch(() => undefined);
      },
    });
    try {
      await this.takeOver(run, log);
      await d.stores.runs.save(run);
      log.info({ trigger: run.trigger, dryRun: run.dryRun, commit: run.commit }, 'run started');
      try {
        await this.execute(run, detail, req, state, lease, ctl, log);
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
      await this.finish(run, detail, ctl.engineMs, t0, log);
      return { status: 'done', run };
    } finally {
      await keep.stop();
      if (!keep.lost) await lease.release().catch(() => false);
      ctl.engine?.close?.();
    }
  }

  /** Records a run left `running` by a holder that died or lost the lease, and takes the stack. */
  private async takeOver(run: RunRecord, log: Logger): Promise<void> {
    const { stores, holderId } = this.deps;
    const before = await stores.runs.stack(run.stack);
    if (before?.currentRunId && before.currentRunId !== run.id) {
      const why = `holder ${before.lastHolderId ?? '?'} stopped before finishing; taken over by ${holderId}`;
      const marked = await stores.runs.markInterrupted(before.currentRunId, why, this.deps.now()).catch(() => undefined);
      if (marked) {
        log.warn({ interruptedRun: marked.id, previousHolder: marked.holderId }, 'previous run was interrupted; recorded');
        runsTotal.inc({ decision: 'interrupted', trigger: marked.trigger });
        await stores.audit.record({
          actor: `nexus:${holderId}`, action: 'run-interrupted', target: run.stack, runId: marked.id, why,
        });
      }
    }
    if (before?.lastHolderId && before.lastHolderId !== holderId) leaseHolderChangesTotal.inc({ stack: run.stack });
    await stores.runs.updateStack(run.stack, (s) => ({ ...s, currentRunId: run.id, lastHolderId: holderId }));
  }

  /** Runs an engine operation and adds the engine's own time (not our program's or mapping's). */
  private async engineCall<T>(ctl: { engineMs: number; engine?: EngineStack }, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } finally {
      const t = ctl.engine?.lastTimings;
      if (t) ctl.engineMs += Math.max(0, t.engineMs - (t.programMs ?? 0) - (t.mappingMs ?? 0));
    }
  }

  private async execute(
    run: RunRecord, detail: RunDetail, req: ReconcileRequest, state: DesiredState, lease: BlobLease,
    ctl: RunControl, log: Logger,
  ): Promise<void> {
    const d = this.deps;
    const stores = d.stores;
    const killAtStart = await stores.settings.killSwitch();

    const errors = state.findings.filter((f) => f.severity === 'error');
    if (errors.length > 0) {
      throw new RunFailure('DESIRED_STATE_INVALID',
        `the desired state has ${errors.length} error finding(s), e.g. ${errors[0].file}: ${errors[0].path}: ${errors[0].message}`);
    }
    run.desiredStateHash = desiredStateHash(state, run.stack);

    const tp = performance.now();
    const engine = await d.openStack({ state, stack: run.stack, lease }).catch((err) => {
      throw new RunFailure('ENGINE_UNAVAILABLE', `cannot open the stack: ${(err as Error).message}`, err);
    });
    ctl.engine = engine;
    let preview: ChangeSet;
    try {
      if (d.refreshFirst) {
        const drift = await this.engineCall(ctl, () => engine.previewRefresh());
        if (hasChanges(drift)) {
          // Refresh writes only Pulumi's state, never Azure: the preview then shows what an apply
          // would put back, and the gates judge exactly that.
          log.info({ drifted: drift.changes.filter((c) => isMutating(c.op)).length }, 'drift found; refreshing state before preview');
          detail.engineOutput!.push(`drift: ${drift.changes.filter((c) => isMutating(c.op)).map((c) => c.urn).join(', ')}`);
          await this.engineCall(ctl, () => engine.refresh());
        }
      }
      preview = await this.engineCall(ctl, () => engine.preview());
    } catch (err) {
      throw new RunFailure((err as Error).name === 'StackBusyError' ? 'STACK_BUSY' : 'PREVIEW_FAILED', (err as Error).message, err);
    }
    run.timings.previewMs = Math.round(performance.now() - tp);
    detail.preview = preview;
    run.counts = counts(preview);
    run.changeSetHash = changeSetHash(preview);
    run.liveFingerprint = await liveFingerprint(engine);

    const tg = performance.now();
    const guardrails = await d.guardrails();
    const [rates, latest] = await Promise.all([stores.rateLimits.snapshot(), stores.approvals.latest(run.stack, d.now())]);
    // A dry run writes nothing another run could act on, not even votes gathered from elsewhere.
    const approval = latest?.status === 'pending' && !run.dryRun ? await stores.approvals.collect(latest, d.approvalSources) : latest;
    const ctx: GateContext = {
      stack: run.stack, runId: run.id, now: d.now(), commit: run.commit, author: run.author, tenantRootId: state.tenantRootId, hierarchy: scopeHierarchy(state),
      // Outside a Git checkout (a deployed package) with no hint, the author could approve alone.
      authorUnknown: ctl.authors.length === 0,
      policyIdentityPrincipals: policyIdentityPrincipals(state),
      guardrails, killSwitch: killAtStart, rateLimits: rates, approval,
      changeSetHash: run.changeSetHash, desiredStateHash: run.desiredStateHash, liveFingerprint: run.liveFingerprint,
    };
    run.gates = runGates(ctx, preview);
    const requirements = approvalRequirements(preview, guardrails, { authorUnknown: ctx.authorUnknown });
    const outcome = decide(preview, run.gates, { dryRun: run.dryRun });
    // Said where approval is what the run waits for or went through, not on runs blocked anyway.
    const raised = requirements.some((r) => r.raisedBy === AUTHOR_UNKNOWN) && outcome.verdict !== 'blocked' && outcome.verdict !== 'no-change';
    run.reasons = raised ? [...outcome.reasons, AUTHOR_UNKNOWN] : outcome.reasons;
    run.timings.gatesMs = Math.round(performance.now() - tg);
    log.info({ verdict: outcome.verdict, reasons: outcome.reasons, counts: run.counts }, 'gates decided');

    if (outcome.verdict === 'pending-approval') {
      run.decision = 'pending-approval';
      run.approvalId = await this.holdForApproval(run, ctx, requirements, approval, ctl.authors, raised ? [AUTHOR_UNKNOWN] : []);
      return;
    }
    if (outcome.verdict !== 'apply') {
      run.decision = outcome.verdict;
      const rate = run.gates.find((g) => g.gate === 'rate-limits');
      // A dry run reports the limit it would hit; only a real run starts the shared cooldown.
      if (outcome.verdict === 'blocked' && rate?.reason === 'RATE_LIMIT' && !run.dryRun) {
        const kinds = ((rate.details.checks as { kind: string; code?: string }[]) ?? []).filter((c) => c.code === 'RATE_LIMIT').map((c) => c.kind);
        const until = await stores.rateLimits.startCooldown(kinds as never, guardrails.rateLimits, ctx.now);
        await stores.audit.record({ actor: `nexus:${d.holderId}`, action: 'ratelimit-cooldown', target: run.stack, runId: run.id, why: rate.details.message, details: { kinds, until } });
      }
      return;
    }

    // Last checks right before the apply: the lease, then the kill switch, then the counters.
    // The lease is renewed here rather than trusted from the background renewal, which may not
    // have noticed yet that another instance took the stack.
    const leaseLost = async (): Promise<boolean> => {
      if (!ctl.lost && !(await lease.renew().catch(() => false))) {
        ctl.lost = new Error(`the lease of stack ${run.stack} is no longer held by ${d.holderId}`);
        log.warn('stack lease lost before apply; not applying');
      }
      return !!ctl.lost;
    };
    if (await leaseLost()) {
      run.decision = 'interrupted';
      run.reasons = ['LEASE_LOST'];
      return;
    }
    const killed = async (): Promise<boolean> => {
      const killNow = await stores.settings.killSwitch();
      if (!killNow.on) return false;
      const g: GateResult = {
        gate: 'kill-switch', pass: false, reason: 'KILL_SWITCH',
        details: { message: `kill switch turned on during the run by ${killNow.by ?? killNow.source}${killNow.reason ? ` (${killNow.reason})` : ''}`, atApply: true },
      };
      run.gates = [g, ...run.gates.filter((x) => x.gate !== 'kill-switch')];
      run.decision = 'blocked';
      run.reasons = ['KILL_SWITCH'];
      return true;
    };
    if (await killed()) return;
    const rateGate = run.gates.find((g) => g.gate === 'rate-limits');
    try {
      await stores.rateLimits.consume(countByKind(preview.changes), guardrails.rateLimits, d.now(), rateGate?.reason === 'RATE_LIMIT_OVERRIDDEN');
    } catch (err) {
      if (!(err instanceof RateLimitExceeded)) throw err;
      run.gates = run.gates.map((g) => (g.gate === 'rate-limits' ? { ...g, pass: false, reason: 'RATE_LIMIT', details: { message: `at apply: ${err.message}`, atApply: true } } : g));
      run.decision = 'blocked';
      run.reasons = ['RATE_LIMIT'];
      return;
    }
    // Consuming may retry for long under contention: the switch and the approval are read once
    // more right before the apply (the counted changes stay counted, which only errs on the side
    // of fewer applies).
    if (await killed()) return;
    const used = requirements.length > 0 ? await this.approvalAtApply(run, ctx, requirements) : undefined;
    if (used === false) return;
    if (await leaseLost()) {
      run.decision = 'interrupted';
      run.reasons = ['LEASE_LOST'];
      return;
    }

    // Only what the gates saw: the previewed resources, against the state the preview used.
    const targets = [...new Set(preview.changes.filter((c) => isMutating(c.op)).map((c) => c.urn))];
    const ta = performance.now();
    ctl.applying = true;
    let outcomeLabel = 'applied';
    try {
      log.info({ targets: targets.length }, 'applying');
      detail.apply = await this.engineCall(ctl, () => engine.up({ targets, refresh: false }));
      run.decision = 'applied';
      if (used) {
        run.approvalId = used.id;
        // Conditional on `approved`: a rejection that landed during the apply is kept, and said.
        await stores.approvals.markApplied(used).catch((err: Error) => {
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
      applyDurationSeconds.observe({ stack: run.stack, outcome: outcomeLabel }, run.timings.applyMs / 1000);
    }
  }

  /**
   * The approval the gates saw, read again right before the apply: a rejection or expiry that
   * landed meanwhile (e.g. while the rate counters were consumed) stops the apply. `false` when
   * it no longer holds (the run is then recorded as blocked).
   */
  private async approvalAtApply(run: RunRecord, ctx: GateContext, reqs: ApprovalRequirement[]): Promise<ApprovalRecord | false> {
    const now = this.deps.now();
    const fresh = ctx.approval ? await this.deps.stores.approvals.get(ctx.approval.id, now) : undefined;
    const state = approvalState({ ...ctx, approval: fresh, now }, reqs);
    if (fresh && state.valid) return fresh;
    const g: GateResult = {
      gate: 'approvals', pass: false, reason: state.code,
      details: {
        message: `the approval no longer holds at apply (${fresh?.status ?? 'gone'}${fresh?.rejectedBy ? ` by ${fresh.rejectedBy}` : ''}${fresh?.reason ? `: ${fresh.reason}` : ''})`,
        approvalId: ctx.approval?.id, atApply: true,
      },
    };
    run.gates = run.gates.map((x) => (x.gate === 'approvals' ? g : x));
    run.decision = 'blocked';
    run.reasons = [state.code];
    run.approvalId = ctx.approval?.id;
    return false;
  }

  /**
   * Keeps the open request when it is for this very preview (adding this run's requester and
   * commit authors to those who may not approve it); otherwise asks anew.
   */
  private async holdForApproval(
    run: RunRecord, ctx: GateContext, reqs: ApprovalRequirement[], current: ApprovalRecord | undefined, authors: string[], reasons: string[],
  ): Promise<string> {
    const { stores } = this.deps;
    const state = approvalState(ctx, reqs);
    if (current && state.code === 'APPROVAL_PENDING') {
      const more = [...authors, ...identities(run.requestedBy)];
      const known = new Set(current.excluded ?? []);
      if (more.some((i) => !known.has(i))) await stores.approvals.exclude(current.id, more);
      return current.id;
    }
    const rec = await stores.approvals.request({
      stack: run.stack, runId: run.id, changeSetHash: ctx.changeSetHash, desiredStateHash: ctx.desiredStateHash,
      liveFingerprint: ctx.liveFingerprint, requirements: reqs, commit: run.commit, author: run.author,
      requestedBy: run.requestedBy, excluded: authors, now: ctx.now, expiresAfterMinutes: ctx.guardrails.approvals.expiresAfterMinutes,
      reasons,
    });
    await stores.audit.record({
      actor: `nexus:${this.deps.holderId}`, action: 'approval-requested', target: run.stack, runId: run.id,
      why: run.gates.filter((g) => g.hold && !g.pass).map((g) => g.details.message).join('; '),
      details: { requirements: reqs, changeSetHash: ctx.changeSetHash, replaces: current?.id, staleReason: state.stale },
    });
    return rec.id;
  }

  private async finish(run: RunRecord, detail: RunDetail, engineMs: number, t0: number, log: Logger): Promise<void> {
    const d = this.deps;
    run.status = 'done';
    run.timings.finishedAt = d.now().toISOString();
    run.timings.totalMs = Math.round(performance.now() - t0);
    run.timings.engineMs = Math.round(engineMs);
    detail.run = run;
    await d.stores.runs.putDetail(detail);
    await d.stores.runs.save(run);
    await d.stores.runs.updateStack(run.stack, (s) => ({
      ...s, lastRunId: run.id, lastDecision: run.decision, lastRunAt: run.timings.finishedAt,
      currentRunId: s.currentRunId === run.id ? undefined : s.currentRunId,
    }));
    const action = AUDITED[run.decision!];
    if (action) {
      await d.stores.audit.record({
        actor: `nexus:${d.holderId}`, action, target: run.stack, runId: run.id,
        why: run.reasons.join(', ') || (run.decision === 'applied' ? 'every gate passed' : undefined),
        details: { requestedBy: run.requestedBy, trigger: run.trigger, commit: run.commit, counts: run.counts, approvalId: run.approvalId, changeSetHash: run.changeSetHash },
      });
    }
    runsTotal.inc({ decision: run.decision!, trigger: run.trigger });
    runDurationSeconds.observe({ decision: run.decision! }, (run.timings.totalMs ?? 0) / 1000);
    for (const g of run.gates) if (!g.pass) gateBlocksTotal.inc({ gate: g.gate, reason: g.reason });
    log.info({ decision: run.decision, reasons: run.reasons, timings: run.timings }, 'run recorded');
  }
}
