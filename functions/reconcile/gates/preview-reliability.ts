// Gate 5: how far the preview can be trusted, the Pulumi counterpart of what-if's `Ignore`:
// unknown values in properties that matter, `read` steps for managed resources, provider errors
// or warnings, and an engine summary that disagrees with the per-resource events.
import type { ChangeSet } from '../../../stacks/engine/changeset.ts';
import type { Guardrails } from '../guardrails.ts';
import { globMatch } from '../scope.ts';
import type { Gate } from './types.ts';

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

export function reliabilityIssues(cs: ChangeSet, cfg: Guardrails['previewReliability']): ReliabilityIssue[] {
  const out: ReliabilityIssue[] = [];
  for (const u of cs.unknowns) {
    if (cfg.ignoreUnknownPaths.some((p) => globMatch(p, u.path))) continue;
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
  const issues = reliabilityIssues(cs, cfg);
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
