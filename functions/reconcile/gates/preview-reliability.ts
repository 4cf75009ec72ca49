// Gate 5: how far the preview can be trusted, the Pulumi counterpart of what-if's `Ignore`:
// unknown values in properties that matter, `read` steps for managed resources, provider errors
// or warnings, and an engine summary that disagrees with the per-resource events.
import { isOutputRef, type DesiredState } from '../../../stacks/compile/model.ts';
import type { ChangeSet } from '../../../stacks/engine/changeset.ts';
import type { Guardrails } from '../guardrails.ts';
import { changeKind, globMatch, isMutating } from '../scope.ts';
import type { Gate } from './types.ts';

/**
 * Role assignments whose `properties.principalId` is the managed identity of a policy assignment
 * of the desired state: role assignment id → policy assignment id (both lower-cased).
 */
export function policyIdentityPrincipals(state: Pick<DesiredState, 'resources'>): Map<string, string> {
  const kinds = new Map(state.resources.map((r) => [r.id.toLowerCase(), r.kind]));
  const out = new Map<string, string>();
  for (const r of state.resources) {
    if (r.kind !== 'roleAssignment') continue;
    const p = (r.body.properties as { principalId?: unknown }).principalId;
    if (isOutputRef(p) && p.output === 'identity.principalId' && kinds.get(p.$ref.toLowerCase()) === 'policyAssignment') {
      out.set(r.id.toLowerCase(), p.$ref.toLowerCase());
    }
  }
  return out;
}

/**
 * Whether an unknown is the one legitimate case: `properties.principalId` of a role assignment
 * whose principal is the identity of a policy assignment that this very ChangeSet creates or
 * changes (so the identity, and its id, exist only after the apply).
 */
function newPolicyIdentityPrincipal(u: { urn: string; path: string }, cs: ChangeSet, refs: Map<string, string> | undefined): boolean {
  if (!refs || u.path !== 'properties.principalId') return false;
  const ra = cs.changes.find((c) => c.urn === u.urn);
  if (!ra?.armId || changeKind(ra) !== 'roleAssignments') return false;
  const pa = refs.get(ra.armId.toLowerCase());
  return !!pa && cs.changes.some((c) => c.armId?.toLowerCase() === pa && changeKind(c) === 'policyAssignments' && isMutating(c.op));
}

export interface ReliabilityIssue {
  kind: 'unknown' | 'read' | 'diagnostic' | 'summary-mismatch';
  urn?: string;
  message: string;
}

/**
 * The engine's summary counts the stack resource itself (one step, in some op), which the
 * ChangeSet leaves out as bookkeeping; so the summary may exceed the events by exactly one in
 * total. Anything else (fewer reported than seen, or more than one extra) is a disagreement.
 */
export function summaryMismatches(cs: ChangeSet): string[] {
  if (!cs.engineSummary) return [];
  const events: Record<string, number> = {};
  for (const c of cs.changes) events[c.op] = (events[c.op] ?? 0) + 1;
  const ops = [...new Set([...Object.keys(cs.engineSummary), ...Object.keys(events)])].sort();
  const out: string[] = [];
  let extra = 0;
  for (const op of ops) {
    const reported = cs.engineSummary[op] ?? 0;
    const seen = events[op] ?? 0;
    if (reported < seen) out.push(`engine summary says ${reported} ${op}, events show ${seen}`);
    else extra += reported - seen;
  }
  if (extra > 1) out.push(`engine summary reports ${extra} more steps than the events show (at most 1, the stack itself)`);
  return out;
}

/** `refs`: policyIdentityPrincipals() of the desired state (without it nothing is tolerated). */
export function reliabilityIssues(cs: ChangeSet, cfg: Guardrails['previewReliability'], refs?: Map<string, string>): ReliabilityIssue[] {
  const out: ReliabilityIssue[] = [];
  for (const u of cs.unknowns) {
    if (cfg.ignoreUnknownPaths.some((p) => globMatch(p, u.path))) continue;
    if (cfg.newPolicyIdentityPrincipals === 'tolerate' && newPolicyIdentityPrincipal(u, cs, refs)) continue;
    out.push({ kind: 'unknown', urn: u.urn, message: `unknown value at ${u.path}` });
  }
  for (const c of cs.changes) {
    if (c.op === 'read') out.push({ kind: 'read', urn: c.urn, message: `read step for ${c.armId ?? c.urn}` });
  }
  for (const d of cs.diagnostics) {
    if (d.severity === 'error' || d.severity === 'warning') {
      out.push({ kind: 'diagnostic', urn: d.urn, message: `${d.severity}: ${d.message.trim().split('\n')[0].slice(0, 300)}` });
    }
  }
  for (const message of summaryMismatches(cs)) out.push({ kind: 'summary-mismatch', message });
  return out;
}

export const previewReliabilityGate: Gate = (ctx, cs) => {
  const cfg = ctx.guardrails.previewReliability;
  const issues = reliabilityIssues(cs, cfg, ctx.policyIdentityPrincipals);
  if (issues.length <= cfg.maxIssues) {
    return {
      gate: 'preview-reliability', pass: true, reason: 'OK',
      details: { message: `${issues.length} reliability issue(s), threshold ${cfg.maxIssues}`, issues },
    };
  }
  const reportOnly = cfg.onExceed === 'report-only';
  return {
    gate: 'preview-reliability', pass: false, reportOnly,
    reason: reportOnly ? 'PREVIEW_UNRELIABLE_REPORT_ONLY' : 'PREVIEW_UNRELIABLE',
    details: {
      message: `${issues.length} reliability issue(s) > threshold ${cfg.maxIssues} (${cfg.onExceed}), e.g. ${issues[0].message}`,
      issues: issues.slice(0, 50), total: issues.length,
    },
  };
};
