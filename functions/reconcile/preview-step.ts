// From the compiled desired state to the preview the gates judge: open the engine's stack,
// refresh the state first when there is drift, preview, and pin what was previewed (hashes and
// the live fingerprint) on the run.
import type { DesiredState } from '../../stacks/compile/model.ts';
import type { ChangeSet } from '../../stacks/engine/changeset.ts';
import type { BlobLease } from '../platform/leases.ts';
import type { Logger } from '../platform/logger.ts';
import { compileErrors } from './compile-step.ts';
import { hasChanges } from './decide.ts';
import type { EngineStack, ReconcileDeps } from './deps.ts';
import { canonicalJson, changeSetHash, desiredStateHash, sha256 } from './hash.ts';
import type { RunRecord } from './model.ts';
import { counts, RunFailure } from './run-record.ts';
import { isMutating } from './scope.ts';
import type { RunControl } from './stack-lease.ts';
import type { RunDetail } from './store/runs.ts';

/** Marks a secret value in Pulumi's state (encrypted in the state file, decrypted by the export). */
const SECRET_SIG = '4dabf18193072939515e22adb298388d';

function liveResources(dep: unknown): string {
  const rs = ((dep ?? {}) as { resources?: { urn: string; type: string; id?: string; inputs?: unknown; outputs?: unknown }[] }).resources ?? [];
  const resources = rs
    .filter((r) => r.type !== 'pulumi:pulumi:Stack')
    .map((r) => ({ urn: r.urn, id: r.id, inputs: r.inputs, outputs: r.outputs }))
    .sort((a, b) => (a.urn < b.urn ? -1 : 1));
  return canonicalJson(resources);
}

/**
 * What the engine's state says is live: resources' inputs and outputs, without timestamps. Read
 * from the backend's state file when the engine can (the same resources as its export, without
 * starting the CLI); from the export when it cannot, or when the state holds secrets (the file
 * has them encrypted, the export decrypted).
 */
export async function liveFingerprint(engine: Pick<EngineStack, 'exportState' | 'storedState'>): Promise<string> {
  const stored = await engine.storedState?.();
  const text = stored ? liveResources(stored) : undefined;
  return sha256(text !== undefined && !text.includes(SECRET_SIG) ? text : liveResources(await engine.exportState()));
}

/** Runs an engine operation and adds the engine's own time (not our program's or mapping's). */
export async function engineCall<T>(ctl: Pick<RunControl, 'engineMs' | 'engine'>, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } finally {
    const t = ctl.engine?.lastTimings;
    if (t) ctl.engineMs += Math.max(0, t.engineMs - (t.programMs ?? 0) - (t.mappingMs ?? 0));
  }
}

/** The run's preview; sets its counts, hashes and live fingerprint. Refuses an invalid desired state. */
export async function previewStep(
  d: ReconcileDeps, run: RunRecord, detail: RunDetail, state: DesiredState, lease: BlobLease, ctl: RunControl, log: Logger,
): Promise<{ engine: EngineStack; preview: ChangeSet; refreshPreview?: ChangeSet }> {
  const errors = compileErrors(state);
  if (errors) throw new RunFailure('COMPILE_FAILED', errors);
  run.desiredStateHash = desiredStateHash(state, run.stack);

  const tp = performance.now();
  const engine = await d.openStack({ state, stack: run.stack, lease }).catch((err) => {
    throw new RunFailure('ENGINE_UNAVAILABLE', `cannot open the stack: ${(err as Error).message}`, err);
  });
  ctl.engine = engine;
  let preview: ChangeSet;
  let drift: ChangeSet | undefined;
  try {
    if (d.refreshFirst) {
      drift = await engineCall(ctl, () => engine.previewRefresh());
      if (hasChanges(drift)) {
        // Refresh writes only Pulumi's state, never Azure: the preview then shows what an apply
        // would put back, and the gates judge exactly that.
        log.info({ drifted: drift.changes.filter((c) => isMutating(c.op)).length }, 'drift found; refreshing state before preview');
        detail.engineOutput!.push(`drift: ${drift.changes.filter((c) => isMutating(c.op)).map((c) => c.urn).join(', ')}`);
        await engineCall(ctl, () => engine.refresh());
      }
      detail.drift = drift;
    }
    preview = await engineCall(ctl, () => engine.preview());
  } catch (err) {
    throw new RunFailure((err as Error).name === 'StackBusyError' ? 'STACK_BUSY' : 'PREVIEW_FAILED', (err as Error).message, err);
  }
  run.timings.previewMs = Math.round(performance.now() - tp);
  detail.preview = preview;
  run.counts = counts(preview);
  run.changeSetHash = changeSetHash(preview);
  run.liveFingerprint = await liveFingerprint(engine);
  return { engine, preview, refreshPreview: drift };
}
