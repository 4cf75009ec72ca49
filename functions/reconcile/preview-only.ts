// A pull request's preview of one stack: what the head commit would change against the live
// tenant and what the gates would do, recorded as a dry run with trigger `pull-request`. It takes
// no stack lease (a reconcile of the same stack may run meanwhile), never marks the stack as held,
// and calls only the engine's preview and refresh preview: nothing is applied, no state is
// written, no approval is requested and no rate-limit cooldown starts (judge's dry-run paths).
import type { DesiredState } from '../../stacks/compile/model.ts';
import type { ChangeSet } from '../../stacks/engine/changeset.ts';
import { maskSecrets, runLogger } from '../platform/logger.ts';
import { NewestFirstKeys } from '../platform/tables.ts';
import { hasChanges } from './decide.ts';
import { isLockedMessage, locksFromMessage, StackBusyError } from '../../stacks/engine/busy.ts';
import type { ReconcileDeps } from './deps.ts';
import { readKillSwitch } from './gate-inputs.ts';
import { identities } from './gates/approvals.ts';
import { changeSetHash, desiredStateHash } from './hash.ts';
import { judge } from './judge.ts';
import type { RunRecord } from './model.ts';
import { engineCall, liveFingerprint } from './preview-step.ts';
import { counts, finishRun, newRunRecord, RunFailure } from './run-record.ts';
import type { RunControl } from './stack-lease.ts';
import type { RunDetail } from './store/runs.ts';
import { commitFacts } from './commit-facts.ts';
import { compileErrors } from './compile-step.ts';

/** Reason code of a preview stopped because a newer one of the same pull request replaced it. */
export const SUPERSEDED = 'SUPERSEDED';

export interface PreviewOnlyRequest {
  stack: string;
  /** The head's compiled desired state. */
  state: DesiredState;
  commit?: string;
  trigger: 'pull-request';
  requestedBy?: string;
  /** The pull request's commit authors (names, e-mails, logins): who could not approve it. */
  authors?: string[];
  /** Aborted: the engine's operation is cancelled and the run recorded `interrupted`, SUPERSEDED. */
  signal?: AbortSignal;
  /** How long to wait before the one retry when the engine finds the stack locked (default 2 s). */
  busyRetryMs?: number;
}

export interface PreviewOnlyResult {
  run: RunRecord;
  /** The preview against the live tenant; undefined when it failed or was cancelled. */
  preview?: ChangeSet;
  /** Drift already present: the refresh preview's changes. */
  drift?: ChangeSet;
}

class Superseded extends Error {}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve) => {
  const t = setTimeout(done, ms);
  function done() { clearTimeout(t); signal?.removeEventListener('abort', done); resolve(); }
  signal?.addEventListener('abort', done, { once: true });
});

/** Previews one stack of `state` without its lease; the record is saved like any other run. */
export async function previewOnly(d: ReconcileDeps, req: PreviewOnlyRequest, ids: NewestFirstKeys = new NewestFirstKeys()): Promise<PreviewOnlyResult> {
  const t0 = performance.now();
  const authors = identities(...(req.authors ?? []));
  const run = newRunRecord(d, d.now(), ids, {
    stack: req.stack, trigger: req.trigger, dryRun: true, commit: req.commit, author: req.authors?.join(', ') || undefined,
    authorSource: req.authors?.length ? 'hint' : undefined, requestedBy: req.requestedBy, compileMs: 0,
  });
  const log = runLogger(run.id, run.stack, d.logger);
  const detail: RunDetail = { run, engineOutput: [] };
  const ctl: RunControl = { applying: false, engineMs: 0, authors };
  const out: PreviewOnlyResult = { run };
  const onAbort = () => { void ctl.engine?.cancel().catch(() => undefined); };
  req.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await d.stores.runs.save(run);
    log.info({ trigger: run.trigger, commit: run.commit }, 'pull request preview started');
    const stopped = () => { if (req.signal?.aborted) throw new Superseded(); };
    stopped();
    if (compileErrors(req.state)) {
      throw new RunFailure('COMPILE_FAILED', compileErrors(req.state)!);
    }
    run.desiredStateHash = desiredStateHash(req.state, run.stack);
    const killSwitch = await readKillSwitch(d);
    const tp = performance.now();
    const { preview, drift } = await withOneRetry(() => previewStack(d, req, ctl), req, log);
    stopped();
    run.timings.previewMs = Math.round(performance.now() - tp);
    Object.assign(out, { preview, drift });
    Object.assign(detail, { preview, drift });
    run.counts = counts(preview);
    run.changeSetHash = changeSetHash(preview);
    run.liveFingerprint = await liveFingerprint(ctl.engine!);
    // The commit gates judge the pull request as if merged: the signatures of its commits not yet
    // applied. Its place in history is not held against it: off the branch and beside the applied
    // commit is what a pull request is (the merge will descend from both).
    const found = await commitFacts(d, run.stack, run.commit, [run.requestedBy]);
    const commits = found ? { ...found.facts, onBranch: true, ancestry: 'ahead' as const } : undefined;
    // Dry run: judge records the verdicts and a decision, and neither holds nor cools down.
    await judge(d, run, req.state, preview, { killSwitch, authors: found ? [...new Set([...authors, ...found.identities])] : authors, commits }, log);
  } catch (err) {
    if (err instanceof Superseded || req.signal?.aborted) {
      run.decision = 'interrupted';
      run.reasons = [SUPERSEDED];
      run.error = 'a newer preview of the same pull request replaced this one';
      delete out.preview;
    } else {
      const code = err instanceof RunFailure ? err.code : 'RUN_FAILED';
      const message = maskSecrets(err instanceof Error ? err.message : String(err));
      run.decision = 'failed';
      run.reasons = [code];
      run.error = message;
      detail.engineOutput!.push(message);
      log.error({ code, err: message }, 'pull request preview failed');
    }
  } finally {
    req.signal?.removeEventListener('abort', onAbort);
  }
  try {
    await finishRun(d, run, detail, ctl.engineMs, t0, log, { lockFree: true });
  } finally {
    ctl.engine?.close?.();
  }
  return out;
}

/**
 * Opens the stack, then the drift (refresh preview), then the preview against the live tenant:
 * refreshed in memory when there is drift, so it shows what an apply would put back, as
 * `nexus preview` does. Neither operation takes Pulumi's lock; creating a stack that does not
 * exist yet (`pulumi stack init`) does check it.
 */
async function previewStack(d: ReconcileDeps, req: PreviewOnlyRequest, ctl: RunControl): Promise<{ preview: ChangeSet; drift: ChangeSet }> {
  ctl.engine?.close?.();
  ctl.engine = undefined;
  const engine = await d.openStack({ state: req.state, stack: req.stack }).catch((err) => {
    throw isBusy(err) ? new StackBusyError(req.stack, locksFromMessage(String(err?.message ?? '')), err)
      : new RunFailure('ENGINE_UNAVAILABLE', `cannot open the stack: ${(err as Error).message}`, err);
  });
  ctl.engine = engine;
  if (req.signal?.aborted) throw new Superseded();
  const drift = await engineCall(ctl, () => engine.previewRefresh());
  if (req.signal?.aborted) throw new Superseded();
  const preview = await engineCall(ctl, () => engine.preview({ refresh: hasChanges(drift) }));
  return { preview, drift };
}

function isBusy(err: unknown): boolean {
  return (err as Error)?.name === 'StackBusyError' || isLockedMessage(String((err as Error)?.message ?? ''));
}

/** A stack found locked by an update is tried once more after a short wait, then reported STACK_BUSY. */
async function withOneRetry<T>(f: () => Promise<T>, req: PreviewOnlyRequest, log: ReturnType<typeof runLogger>): Promise<T> {
  const failure = (err: unknown, last: boolean) => {
    if (req.signal?.aborted || err instanceof Superseded) return new Superseded();
    if (err instanceof RunFailure) return err;
    if (isBusy(err)) return last ? new RunFailure('STACK_BUSY', (err as Error).message, err) : undefined;
    return new RunFailure('PREVIEW_FAILED', (err as Error).message, err);
  };
  try {
    return await f();
  } catch (err) {
    const fail = failure(err, false);
    if (fail) throw fail;
    log.info({ err: (err as Error).message }, 'stack locked by an update; previewing again shortly');
    await sleep(req.busyRetryMs ?? 2000, req.signal);
    if (req.signal?.aborted) throw new Superseded();
    try {
      return await f();
    } catch (again) {
      throw failure(again, true)!;
    }
  }
}
