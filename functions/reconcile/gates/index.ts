// The gates in their fixed order. Every gate runs, so the run record shows each verdict.
import type { ChangeSet } from '../../../stacks/engine/changeset.ts';
import type { GateName, GateResult } from '../model.ts';
import { approvalsGate } from './approvals.ts';
import { blastRadiusGate } from './blast-radius.ts';
import { killSwitchGate } from './kill-switch.ts';
import { previewReliabilityGate } from './preview-reliability.ts';
import { rateLimitsGate } from './rate-limits.ts';
import { scopeGuardrailsGate } from './scope-guardrails.ts';
import type { Gate, GateContext } from './types.ts';

export const GATES: ReadonlyArray<[GateName, Gate]> = [
  ['kill-switch', killSwitchGate],
  ['scope-guardrails', scopeGuardrailsGate],
  ['blast-radius', blastRadiusGate],
  ['rate-limits', rateLimitsGate],
  ['preview-reliability', previewReliabilityGate],
  ['approvals', approvalsGate],
];

export function runGates(ctx: GateContext, cs: ChangeSet): GateResult[] {
  return GATES.map(([, gate]) => gate(ctx, cs));
}

export type { GateContext } from './types.ts';
