// The reconciler's drift step (functions/drift does the judging): before the preview, wait out a
// deployment running on the stack's scopes and start reading the signals; after it, build the
// drift report and take out of the preview every resource whose drift is not to be put back
// (reported, proposed as a pull request, a policy's remediation, flapping). The gates then judge,
// and the apply targets, exactly what is left.
import type { DesiredState } from '../../stacks/compile/model.ts';
import type { ChangeSet } from '../../stacks/engine/changeset.ts';
import type { DriftReport } from '../drift/model.ts';
import { heldBack } from '../drift/report.ts';
import type { DriftService, StackSignals } from '../drift/service.ts';
import type { Logger } from '../platform/logger.ts';
import { changeSetHash } from './hash.ts';
import { driftMode, type Guardrails } from './guardrails.ts';
import type { RunRecord } from './model.ts';
import { counts, RunFailure } from './run-record.ts';
import { isMutating } from './scope.ts';
import type { RunDetail } from './store/runs.ts';

/** Reason of a run that found a deployment still running on its scopes after waiting. */
export const DEPLOYMENT_IN_PROGRESS = 'DEPLOYMENT_IN_PROGRESS';
/** Reason of a run that left drifted resources as they are (reported, pull request, policy). */
export const DRIFT_HELD = 'DRIFT_HELD';

export interface DriftStart {
  /** A deployment is still running: the run reports and stops (the report is stored). */
  stop?: DriftReport;
  signals?: Promise<StackSignals>;
  scopes: string[];
}

/** Waits out running deployments, then starts reading the signals (they are read while the engine previews). */
export async function startDrift(drift: DriftService, run: RunRecord, state: DesiredState, g: Guardrails, log: Logger): Promise<DriftStart> {
  const scopes = drift.scopes(state, run.stack);
  const running = await drift.awaitDeployments(drift.deploymentScopes(state, run.stack), g.drift.deployments).catch((err: Error) => {
    // Not knowing whether a deployment runs is not knowing that the run would not race it.
    throw new RunFailure('DEPLOYMENTS_UNKNOWN', `cannot tell whether a deployment is running on ${scopes.join(', ')}: ${err.message}`, err);
  });
  if (running.length) {
    log.warn({ deployments: running.map((d) => d.id) }, 'deployment in progress on the stack scopes; not racing it');
    const stop = await drift.report({
      stack: run.stack, runId: run.id, state, mode: driftMode(g, run.stack), deployments: running,
      signals: { changes: [], nonCompliant: [], remediations: [], unavailable: [] },
    });
    return { stop, scopes };
  }
  const signals = drift.since(run.stack, g.drift.historyDays).then((since) => drift.readSignals(scopes, since));
  // Read concurrently with the preview; an unhandled rejection must not escape before it is awaited.
  signals.catch(() => undefined);
  return { signals, scopes };
}

/** The run's drift summary, for lists and the portal. */
export function driftSummary(report: DriftReport, held: number): NonNullable<RunRecord['drift']> {
  return { mode: report.mode, counts: report.counts, heldBack: held, unavailable: report.unavailable.map((u) => u.signal) };
}

/**
 * Builds the report and returns the preview without the held-back resources (the run's counts
 * and change-set hash follow it, so approvals pin what will really be applied).
 */
export async function finishDrift(
  drift: DriftService, started: DriftStart, a: { run: RunRecord; detail: RunDetail; state: DesiredState; guardrails: Guardrails; refreshPreview?: ChangeSet; preview: ChangeSet; policyPrincipals?: Set<string> }, log: Logger,
): Promise<{ report: DriftReport; preview: ChangeSet }> {
  const { run, detail } = a;
  const report = await drift.report({
    stack: run.stack, runId: run.id, state: a.state, mode: driftMode(a.guardrails, run.stack),
    refreshPreview: a.refreshPreview, preview: a.preview, signals: await started.signals!, policyPrincipals: a.policyPrincipals,
    // A dry run proposes nothing (it writes nothing another run could act on).
    ...(run.dryRun ? { dryRun: true } : { commit: run.commit, guardrails: a.guardrails }),
  });
  const held = heldBack(report);
  if (report.unavailable.length > 0) {
    // Without every signal Nexus cannot tell a remediation or someone's change from nothing: what the
    // engine saw drift on is left as it is this time (when in doubt, refuse), and the run says why.
    for (const c of a.refreshPreview?.changes ?? []) if (isMutating(c.op) && c.armId) held.add(c.armId.toLowerCase());
    log.warn({ unavailable: report.unavailable.map((u) => u.signal) }, 'drift signals unavailable; drifted resources are left as they are');
  }
  const kept = a.preview.changes.filter((c) => !(isMutating(c.op) && c.armId && held.has(c.armId.toLowerCase())));
  const removed = a.preview.changes.length - kept.length;
  run.drift = driftSummary(report, held.size);
  if (removed === 0) return { report, preview: a.preview };
  log.info({ heldBack: removed }, 'drifted resources left as they are; not in this apply');
  // The engine's own summary counted the held-back steps too: taken out the same way, so the
  // preview-reliability gate compares like with like.
  const engineSummary = a.preview.engineSummary && { ...a.preview.engineSummary };
  if (engineSummary) for (const c of a.preview.changes) if (!kept.includes(c) && (engineSummary[c.op] ?? 0) > 0) engineSummary[c.op]!--;
  const preview: ChangeSet = { ...a.preview, changes: kept, engineSummary, summary: { ...a.preview.summary, ...counts({ ...a.preview, changes: kept }) } };
  detail.heldBack = a.preview.changes.filter((c) => !kept.includes(c));
  run.counts = counts(preview);
  run.changeSetHash = changeSetHash(preview);
  return { report, preview };
}
