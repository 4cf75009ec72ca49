// The one pull request comment (GitHub Markdown, which Azure DevOps threads also render) and the
// nexus/preview check output, from a PreviewReport. Pure: no I/O, same input, same text.
import type { PreviewReport } from '../types.ts';
import { COMMENT_MARKER, safeUrl, str, text } from './escape.ts';
import { driftBlock, sortFindings, stackBlock } from './details.ts';
import { fit, fitDetails, type Model } from './shrink.ts';
import { checkTitle, commitLine, foldedStacks, headline, shownStacks } from './table.ts';

export { COMMENT_MARKER };

/** GitHub rejects comment bodies longer than this. */
export const COMMENT_LIMIT = 65_536;
/** A check run's output summary and text are each limited to this. */
export const CHECK_LIMIT = 65_535;
/** Below this the parts that always stay (headline, commit, table header, links) may not fit. */
export const MIN_LIMIT = 4_096;

export interface RenderedPreview {
  comment: string;
  check: { title: string; summary: string; text?: string };
}

function footer(report: PreviewReport): string {
  const lines: string[] = [];
  const href = safeUrl(report.portalUrl, 800);
  if (href) lines.push(`[Open this preview in the Nexus portal](<${href}>)`);
  else if (report.portalUrl) lines.push(`Run in the Nexus portal: ${text(report.portalUrl, 120)}`);
  if (report.closedNote) lines.push(`> ⚠️ ${text(report.closedNote, 150)}`);
  return lines.join('\n\n');
}

function model(report: PreviewReport): Model {
  const stacks = shownStacks(report);
  const folded = foldedStacks(report);
  const foldedSet = new Set(folded);
  const drifting = report.stacks.filter((s) => s.verdict === 'no-change' && foldedSet.has(str(s.stack)) && s.drift);
  return {
    marker: COMMENT_MARKER,
    headline: headline(report),
    commit: commitLine(report),
    stacks,
    folded,
    findings: sortFindings(report.findings),
    stackBlocks: stacks.map((s) => ({ full: stackBlock(s, 'full'), names: stackBlock(s, 'names') })),
    driftBlocks: drifting
      .map((s) => ({ full: driftBlock(s, 'full'), names: driftBlock(s, 'names') }))
      .filter((b) => b.full),
    footer: footer(report),
  };
}

/**
 * Renders the preview. `comment` starts with COMMENT_MARKER and is at most `limit` characters
 * (UTF-16 units, which is never fewer than GitHub's count); when the whole preview is longer it
 * shrinks (see shrink.ts) and the details move to `check.text`.
 */
export function renderPreview(report: PreviewReport, opts: { limit?: number } = {}): RenderedPreview {
  const limit = opts.limit ?? COMMENT_LIMIT;
  if (!Number.isInteger(limit) || limit < MIN_LIMIT) throw new RangeError(`limit must be an integer ≥ ${MIN_LIMIT}, got ${limit}`);
  const m = model(report);
  const details = fitDetails([...m.stackBlocks, ...m.driftBlocks], CHECK_LIMIT);
  return {
    comment: fit(m, limit, true),
    check: {
      title: checkTitle(report),
      summary: fit(m, CHECK_LIMIT, false),
      ...(details ? { text: details } : {}),
    },
  };
}
