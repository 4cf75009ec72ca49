// The gates, declared once, in their fixed order. Everything else derives from this list: the
// gate names (`GateName`), the order of the verdicts in a run record, and the checks run again
// right before an apply. Every gate runs, so the run record shows each verdict.
import type { ChangeSet } from '../../../stacks/engine/changeset.ts';
import type { GateResult } from '../model.ts';
import { approvalsGate } from './approvals.ts';
import { blastRadiusGate } from './blast-radius.ts';
import { commitOrderGate } from './commit-order.ts';
import { killSwitchGate } from './kill-switch.ts';
import { previewReliabilityGate } from './preview-reliability.ts';
import { rateLimitsGate } from './rate-limits.ts';
import { scopeGuardrailsGate } from './scope-guardrails.ts';
import { signedCommitsGate } from './signed-commits.ts';
import type { Gate, GateContext } from './types.ts';

export const GATES = [
  { name: 'kill-switch', check: killSwitchGate },
  { name: 'commit-order', check: commitOrderGate },
  { name: 'signed-commits', check: signedCommitsGate },
  { name: 'scope-guardrails', check: scopeGuardrailsGate },
  { name: 'blast-radius', check: blastRadiusGate },
  { name: 'rate-limits', check: rateLimitsGate },
  { name: 'preview-reliability', check: previewReliabilityGate },
  { name: 'approvals', check: approvalsGate },
] as const satisfies ReadonlyArray<{ name: string; check: Gate }>;

export type GateName = (typeof GATES)[number]['name'];

/** The gate names in their order. */
export const GATE_NAMES: readonly GateName[] = GATES.map((g) => g.name);

/**
 * Every gate, in order, against one context and change set. The verdict carries the name it is
 * declared under here, so the record can never list a gate under another's name.
 */
export function runGates(ctx: GateContext, cs: ChangeSet): GateResult[] {
  return GATES.map(({ name, check }) => ({ ...check(ctx, cs), gate: name }));
}

/** The verdicts that refuse (or hold) the apply, in gate order. */
export function refusals(verdicts: GateResult[]): GateResult[] {
  return verdicts.filter((g) => !g.pass);
}

export type { GateContext } from './types.ts';
