// What the gates judge, read from storage into one plain context: once after the preview, and
// again right before an apply for what may have moved meanwhile (the kill switch, the rate
// counters and override, the approval, the time). The gates themselves stay pure.
import type { CommitFacts } from './commit-facts.ts';
import type { DesiredState } from '../../stacks/compile/model.ts';
import type { ReconcileDeps } from './deps.ts';
import type { Guardrails } from './guardrails.ts';
import { GATE_NAMES } from './gates/index.ts';
import { policyIdentityPrincipals } from './gates/preview-reliability.ts';
import type { GateContext } from './gates/types.ts';
import type { GateResult, KillSwitchState, RunRecord } from './model.ts';
import { scopeHierarchy } from './scope.ts';
import { REVIEW_SOURCE } from './store/approvals.ts';

/** The kill switch as it stands (the environment's forces it on). The one place it is read. */
export function readKillSwitch(d: ReconcileDeps): Promise<KillSwitchState> {
  return d.stores.settings.killSwitch();
}

/** Everything the gates need about a previewed run. */
export async function gateContext(
  d: ReconcileDeps, run: RunRecord, state: DesiredState,
  facts: { guardrails: Guardrails; killSwitch: KillSwitchState; authors: string[]; commits?: CommitFacts },
): Promise<GateContext> {
  const [rates, latest] = await Promise.all([d.stores.rateLimits.snapshot(), d.stores.approvals.latest(run.stack, d.now())]);
  // A dry run writes nothing another run could act on, not even votes gathered from elsewhere.
  // Only the sources the guardrails allow are asked (a review is an approval only where they say so).
  const sources = d.approvalSources.filter((s) => s.name !== REVIEW_SOURCE || facts.guardrails.approvals.pullRequestReviews);
  const approval = latest?.status === 'pending' && !run.dryRun ? await d.stores.approvals.collect(latest, sources) : latest;
  return {
    stack: run.stack, runId: run.id, now: d.now(), commit: run.commit, author: run.author, tenantRootId: state.tenantRootId, hierarchy: scopeHierarchy(state),
    // Outside a Git checkout (a deployed package) with no hint, the author could approve alone.
    // A cut-short commit list (a very old applied commit) hides some authors: two approvers then.
    authorUnknown: facts.authors.length === 0 || !!facts.commits?.truncated,
    policyIdentityPrincipals: policyIdentityPrincipals(state),
    guardrails: facts.guardrails, killSwitch: facts.killSwitch, rateLimits: rates, approval,
    changeSetHash: run.changeSetHash!, desiredStateHash: run.desiredStateHash!, liveFingerprint: run.liveFingerprint!,
    commits: facts.commits,
  };
}

/**
 * The same context with what may have moved read again. `rateLimits` keeps the counters a
 * successful consumption was admitted under (read anew they would count this run's own changes).
 * The approval is the one the gates saw, re-read by id (a rejection or expiry since stands).
 */
export async function readAgain(d: ReconcileDeps, ctx: GateContext, keep: { rateLimits?: GateContext['rateLimits'] } = {}): Promise<GateContext> {
  const now = d.now();
  const [killSwitch, rateLimits, approval] = await Promise.all([
    readKillSwitch(d),
    keep.rateLimits ?? d.stores.rateLimits.snapshot(),
    ctx.approval ? d.stores.approvals.get(ctx.approval.id, now) : undefined,
  ]);
  return { ...ctx, now, killSwitch, rateLimits, approval };
}

/**
 * The record's verdicts after a check at apply: in gate order, a verdict that changed since the
 * preview replaces the earlier one and is marked `atApply`; the others stay as they were.
 */
export function withVerdictsAtApply(before: GateResult[], now: GateResult[]): GateResult[] {
  const earlier = new Map(before.map((g) => [g.gate, g]));
  return GATE_NAMES.flatMap((name) => {
    const b = earlier.get(name);
    const n = now.find((g) => g.gate === name);
    if (!n) return b ? [b] : [];
    if (b && b.pass === n.pass && b.reason === n.reason) return [b];
    return [{ ...n, details: { ...n.details, atApply: true } }];
  });
}
