// The decision: from the preview and the gate verdicts to apply, hold, block or report.
// Pure, so the safety properties can be checked over generated change sets.
import type { ChangeSet } from '../../stacks/engine/changeset.ts';
import type { Decision, GateResult } from './model.ts';
import { isMutating } from './scope.ts';

export type Verdict = Extract<Decision, 'no-change' | 'blocked' | 'pending-approval' | 'report-only' | 'dry-run'> | 'apply';

export interface DecisionOutcome {
  verdict: Verdict;
  reasons: string[];
}

export function hasChanges(cs: ChangeSet): boolean {
  return cs.changes.some((c) => isMutating(c.op));
}

/**
 * A hard block wins over report-only, report-only over a hold. With nothing to change the run is
 * `no-change` (gates are still recorded). `apply` only when every gate passed. A dry run that
 * would wait for approval is `dry-run` with the approval reasons.
 */
export function decide(cs: ChangeSet, gates: GateResult[], opts: { dryRun: boolean; heldBack?: number }): DecisionOutcome {
  const failed = gates.filter((g) => !g.pass);
  const reasons = failed.map((g) => g.reason);
  // Nothing left to apply but drift left as it is: the stack is not in sync, and the run says why.
  if (!hasChanges(cs)) return opts.heldBack ? { verdict: 'report-only', reasons: ['DRIFT_HELD'] } : { verdict: 'no-change', reasons: [] };
  if (failed.some((g) => !g.hold && !g.reportOnly)) return { verdict: 'blocked', reasons };
  // An untrusted preview is not put in front of approvers.
  if (failed.some((g) => g.reportOnly)) return { verdict: 'report-only', reasons };
  // A dry run opens no approval request (one could later be approved into a real apply): it
  // reports the approvals a real run would wait for.
  if (failed.some((g) => g.hold)) return opts.dryRun ? { verdict: 'dry-run', reasons } : { verdict: 'pending-approval', reasons };
  if (opts.dryRun) return { verdict: 'dry-run', reasons: [] };
  return { verdict: 'apply', reasons: [] };
}
