// The folded parts of the preview: per stack, each changed resource with its property diffs
// (json-diff), the gates that stopped it, the drift already on it; and the compiler's findings.
import { diffString } from 'json-diff';
import type { Finding } from '../../../stacks/compile/model.ts';
import type { ChangeSet, PropertyDiff, ResourceChange } from '../../../stacks/engine/changeset.ts';
import type { StackPreview } from '../types.ts';
import { clip, code, fenced, plural, str, text } from './escape.ts';
import { countsOf, gatesText } from './table.ts';

/** `full`: property names and their diffs; `names`: property names only. */
export type DetailMode = 'full' | 'names';

/** No single stack's block grows past this, so each fits a check output on its own. */
export const BLOCK_MAX = 60_000;
const VALUE_MAX = 40_000; // serialised old+new beyond this are not diffed (json-diff is quadratic on arrays)
const DIFF_MAX = 8_000; // one property's rendered diff
const RESOURCE_MAX = 20_000; // one resource's diff block
const NAMES_MAX = 50;
const QUIET: ReadonlySet<ResourceChange['op']> = new Set<ResourceChange['op']>(['same', 'read', 'refresh']);

function json(v: unknown): string {
  try { return JSON.stringify(v) ?? 'undefined'; } catch { return str(v); }
}

/** One property's diff as json-diff prints it (no colour), bounded. */
export function propertyDiff(d: PropertyDiff): string {
  const size = json(d.old).length + json(d.new).length;
  let out: string;
  if (size > VALUE_MAX) {
    out = `  (values too large to show: ${size} characters)\n`;
  } else {
    try {
      out = diffString(d.old, d.new, { color: false, maxElisions: 3 });
    } catch {
      out = `-${json(d.old)}\n+${json(d.new)}\n`;
    }
    if (!out.trim()) out = d.kind === 'update' ? '  (no visible difference: the new value is known only after apply)\n' : `${d.kind === 'add' ? '+' : '-'}${json(d.kind === 'add' ? d.new : d.old)}\n`;
  }
  if (out.length > DIFF_MAX) {
    const cut = out.lastIndexOf('\n', DIFF_MAX);
    out = `${out.slice(0, cut > 0 ? cut + 1 : DIFF_MAX)}  … (${out.length - DIFF_MAX} more characters)\n`;
  }
  return `@@ ${clip(str(d.path).replace(/[\r\n]+/g, ' '), 300)} (${str(d.kind)}) @@\n${out}`;
}

function propertyNames(c: ResourceChange): string[] {
  const paths = c.diffs.length ? c.diffs.map((d) => str(d.path)) : c.changedKeys.map(str);
  return [...new Set(paths)];
}

function namesLine(names: string[]): string {
  if (!names.length) return '';
  const shown = names.slice(0, NAMES_MAX).map((p) => code(p, 200)).join(', ');
  const more = names.length > NAMES_MAX ? ` … and ${names.length - NAMES_MAX} more` : '';
  return `Changed: ${shown}${more}`;
}

/** One resource: op, ARM id (or URN), type, then its changed properties. */
export function resourceSection(c: ResourceChange, mode: DetailMode): string {
  const id = c.armId ? str(c.armId) : str(c.urn);
  const head = `**${text(c.op, 40)}** ${code(id, 500)} · ${text(c.armType ?? c.type, 200)}`;
  const names = propertyNames(c);
  if (mode === 'names' || !c.diffs.length) return [head, namesLine(names)].filter(Boolean).join('\n\n');
  let body = '';
  let used = 0;
  for (const d of c.diffs) {
    const one = propertyDiff(d);
    if (body && body.length + one.length > RESOURCE_MAX) break;
    body += one;
    used += 1;
  }
  const rest = c.diffs.length - used;
  const tail = rest > 0 ? `\n\n… and ${plural(rest, 'more changed property', 'more changed properties')}: ${namesLine([...new Set(c.diffs.slice(used).map((d) => str(d.path)))]).replace(/^Changed: /, '')}` : '';
  return `${head}\n\n${fenced(body, 'diff')}${tail}`;
}

/** The resources of a change set, stopping (with a count) before `max` characters. */
function resources(cs: ChangeSet, mode: DetailMode, max: number): string {
  const changes = cs.changes.filter((c) => !QUIET.has(c.op));
  const out: string[] = [];
  let size = 0;
  for (const c of changes) {
    const one = resourceSection(c, mode);
    if (size + one.length > max) break;
    out.push(one);
    size += one.length + 2;
  }
  const rest = changes.length - out.length;
  if (rest > 0) out.push(`… and ${plural(rest, 'more resource')} (too many to show here)`);
  return out.join('\n\n');
}

function gatesSection(s: StackPreview): string {
  const lines = s.gates.filter((g) => !g.pass).map((g) => {
    const mark = g.hold ? '⏸' : g.reportOnly ? 'ℹ️' : '⛔';
    const msg = g.details?.message ? ` — ${text(g.details.message, 1000)}` : '';
    return `- ${mark} ${text(g.gate, 80)}: ${text(g.reason, 200)}${msg}`;
  });
  return lines.length ? `**Gates (dry run)**\n\n${firstLines(lines, 20).join('\n')}` : '';
}

function engineNotes(cs: ChangeSet): string {
  const lines = [
    ...cs.policyEvents.map((p) => `- policy ${text(p.policyName, 200)} (${text(p.enforcementLevel, 40)}): ${text(p.message, 1000)}`),
    ...cs.diagnostics.filter((d) => d.severity === 'error' || d.severity === 'warning')
      .map((d) => `- ${text(d.severity, 20)}: ${text(d.message, 1000)}`),
  ];
  return lines.length ? `**Engine messages**\n\n${firstLines(lines, 20).join('\n')}` : '';
}

function firstLines(lines: string[], n: number): string[] {
  return lines.length > n ? [...lines.slice(0, n), `- … and ${lines.length - n} more`] : lines;
}

/** The section when it is at most `max` characters, else a short note in its place. */
function within(section: string, max: number, what: string): string {
  return section.length <= max ? section : `*(${what} too long to show here; see the run in the portal)*`;
}

function countsText(s: StackPreview): string {
  const c = countsOf(s);
  if (!c) return '';
  return (['create', 'update', 'replace', 'delete'] as const).filter((k) => c[k]).map((k) => `${c[k]} ${k}`).join(', ');
}

function driftSection(drift: ChangeSet | undefined, mode: DetailMode, max: number): string {
  if (!drift) return '';
  const n = drift.changes.filter((c) => !QUIET.has(c.op)).length;
  if (!n) return '';
  return `**Drift already present** (${plural(n, 'resource')} ${n === 1 ? 'differs' : 'differ'} from the last applied state)\n\n${resources(drift, mode, max)}`;
}

function details(summary: string, sections: string[]): string {
  return `<details><summary>${summary}</summary>\n\n${sections.filter(Boolean).join('\n\n')}\n\n</details>`;
}

/**
 * A stack's `<details>` block, at most BLOCK_MAX characters: each section has a budget and is
 * replaced by a note when it exceeds it; the resources take what the others left.
 */
export function stackBlock(s: StackPreview, mode: DetailMode): string {
  const counts = countsText(s);
  const summary = `<b>${text(s.stack, 200)}</b>${counts ? ` · ${counts}` : ''} · ${text(gatesText(s), 120)}`;
  const error = s.verdict === 'error'
    ? within(`**Preview failed**\n\n${fenced(clip(str(s.error ?? s.reasons.join('\n')), 10_000), 'text')}`, 12_000, 'The error')
    : '';
  const gates = within(gatesSection(s), 8_000, 'The gates\' messages');
  const notes = s.changeSet ? within(engineNotes(s.changeSet), 8_000, 'The engine\'s messages') : '';
  const drift = within(driftSection(s.drift, mode, 12_000), 12_500, 'The drift');
  const used = summary.length + error.length + gates.length + notes.length + drift.length + 200;
  const changes = s.changeSet ? resources(s.changeSet, mode, BLOCK_MAX - used) : '';
  return details(summary, [error, gates, changes, notes, drift]);
}

/** For a stack folded as unchanged: only the drift already present on it ('' when none). */
export function driftBlock(s: StackPreview, mode: DetailMode): string {
  const drift = driftSection(s.drift, mode, BLOCK_MAX - 5_000);
  return drift ? details(`<b>${text(s.stack, 200)}</b> · no change · drift present`, [drift]) : '';
}

const SEVERITY_RANK: ReadonlyMap<string, number> = new Map([['error', 0], ['warning', 1], ['info', 2]]);

/** Findings errors first (stable otherwise). */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => (SEVERITY_RANK.get(a.f.severity) ?? 3) - (SEVERITY_RANK.get(b.f.severity) ?? 3) || a.i - b.i)
    .map((x) => x.f);
}

function findingLine(f: Finding): string {
  const where = [f.file ? code(f.file, 300) : '', f.path ? code(f.path, 300) : ''].filter(Boolean).join(' › ');
  const rule = f.code ? ` (${text(f.code, 100)})` : '';
  return `- **${text(f.severity, 20)}** ${where ? `${where}: ` : ''}${text(f.message, 1000)}${rule}`;
}

/** The compiler's findings, the first `shown` of them (already sorted), then how many more. */
export function findingsSection(sorted: Finding[], shown = sorted.length): string {
  if (!sorted.length) return '';
  const errors = sorted.filter((f) => f.severity === 'error').length;
  const warnings = sorted.filter((f) => f.severity === 'warning').length;
  const head = `#### Compiler findings (${plural(errors, 'error')}, ${plural(warnings, 'warning')}, ${sorted.length - errors - warnings} other)`;
  const lines = sorted.slice(0, shown).map(findingLine);
  const more = sorted.length - Math.min(shown, sorted.length);
  if (more > 0) lines.push(`- … and ${more} more (see the nexus/preview check)`);
  return `${head}\n\n${lines.join('\n')}`;
}
