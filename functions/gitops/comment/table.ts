// The part of the preview that is always shown: the headline, the commit line, the summary table
// (riskiest stacks first) and the one line that folds the stacks without change.
import type { PreviewReport, StackPreview } from '../types.ts';
import { clip, code, count, plural, str, text } from './escape.ts';

export interface Counts { create: number; update: number; replace: number; delete: number }

const CELL = 400;
const VERDICT_RANK: ReadonlyMap<StackPreview['verdict'], number> = new Map<StackPreview['verdict'], number>([
  ['error', 0], ['blocked', 1], ['needs-approval', 2], ['apply', 3], ['no-change', 4],
]);

/** The counts `nexus preview` shows (the change set's summary); undefined when the preview failed. */
export function countsOf(s: StackPreview): Counts | undefined {
  const sum = s.changeSet?.summary;
  if (!sum) return undefined;
  return { create: count(sum.create), update: count(sum.update), replace: count(sum.replace), delete: count(sum.delete) };
}

function destructive(s: StackPreview): boolean {
  const c = countsOf(s);
  return !!c && c.replace + c.delete > 0;
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Stacks shown in the table: replaces/deletes first, then by verdict (errors, blocked, ...), then name. */
export function shownStacks(report: PreviewReport): StackPreview[] {
  return report.stacks
    .filter((s) => s.verdict !== 'no-change')
    .sort((a, b) => Number(destructive(b)) - Number(destructive(a))
      || (VERDICT_RANK.get(a.verdict) ?? 5) - (VERDICT_RANK.get(b.verdict) ?? 5)
      || byName(str(a.stack), str(b.stack)));
}

/** Stacks without change: those the pull request does not touch and those whose preview is empty. */
export function foldedStacks(report: PreviewReport): string[] {
  const names = new Set<string>(report.unchanged.map(str));
  for (const s of report.stacks) if (s.verdict === 'no-change') names.add(str(s.stack));
  return [...names];
}

function gateMessage(s: StackPreview, reason: string): string {
  const gate = s.gates.find((g) => !g.pass && g.reason === reason);
  const message = gate?.details?.message;
  return message ? `${reason} — ${str(message)}` : reason;
}

/** Plain text (unescaped) of what the gates would do. */
export function gatesText(s: StackPreview): string {
  switch (s.verdict) {
    case 'apply': return '✅ apply';
    case 'no-change': return 'no change';
    case 'needs-approval': {
      const who = (s.approvals ?? []).map((a) => `by ${str(a.group)} ×${count(a.approvers) || 1}`);
      return who.length ? `⏸ needs approval ${who.join('; ')}` : `⏸ needs approval${s.reasons.length ? `: ${s.reasons.map(str).join('; ')}` : ''}`;
    }
    case 'blocked': {
      const reasons = s.reasons.length ? s.reasons.map(str) : s.gates.filter((g) => !g.pass).map((g) => str(g.reason));
      return `⛔ blocked: ${reasons.map((r) => gateMessage(s, r)).join('; ') || 'no reason given'}`;
    }
    case 'error': return `❌ error: ${str(s.error ?? (s.reasons.map(str).join('; ') || 'preview failed'))}`;
    default: return str(s.verdict);
  }
}

function countCell(c: Counts | undefined, k: keyof Counts): string {
  if (!c) return '—';
  return k === 'replace' || k === 'delete' ? (c[k] ? `**${c[k]}**` : '0') : String(c[k]);
}

export function tableRow(s: StackPreview): string {
  const c = countsOf(s);
  return `| ${text(s.stack, 200)} | ${countCell(c, 'create')} | ${countCell(c, 'update')} | ${countCell(c, 'replace')} | ${countCell(c, 'delete')} | ${text(gatesText(s), CELL)} |`;
}

/** The table of the first `rows` stacks, and a last row saying how many more there are. */
export function table(stacks: StackPreview[], rows = stacks.length): string {
  if (!stacks.length) return '';
  const head = '| Stack | Create | Update | Replace | Delete | Gates |\n|---|--:|--:|--:|--:|---|';
  const lines = stacks.slice(0, rows).map(tableRow);
  const more = stacks.length - Math.min(rows, stacks.length);
  if (more > 0) lines.push(`| … and ${plural(more, 'more stack')} (see the nexus/preview check) | | | | | |`);
  return [head, ...lines].join('\n');
}

/** "No change: a, b, c", the first `shown` names then how many more. */
export function noChangeLine(names: string[], shown = names.length): string {
  if (!names.length) return '';
  const list = names.slice(0, shown).map((x) => text(x, 200)).join(', ');
  const more = names.length - Math.min(shown, names.length);
  const tail = more > 0 ? `${list ? ', ' : ''}… and ${more} more` : '';
  return `**No change** (${names.length}): ${list}${tail}`;
}

function verdictCounts(report: PreviewReport): Map<StackPreview['verdict'], number> {
  const m = new Map<StackPreview['verdict'], number>();
  for (const s of report.stacks) m.set(s.verdict, (m.get(s.verdict) ?? 0) + 1);
  return m;
}

function errorFindings(report: PreviewReport): number {
  return report.findings.filter((f) => f.severity === 'error').length;
}

/** "3 to apply, 1 needs approval, 1 blocked": the parts of the verdict, most serious first. */
function parts(report: PreviewReport): string[] {
  const v = verdictCounts(report);
  const out: string[] = [];
  const add = (k: StackPreview['verdict'], one: string, many: string) => {
    const x = v.get(k) ?? 0;
    if (x) out.push(`${x} ${x === 1 ? one : many}`);
  };
  add('error', 'failed to preview', 'failed to preview');
  add('blocked', 'blocked', 'blocked');
  add('needs-approval', 'needs approval', 'need approval');
  add('apply', 'to apply', 'to apply');
  const unchanged = foldedStacks(report).length;
  if (unchanged) out.push(`${unchanged} unchanged`);
  return out;
}

/** The one-line verdict at the top of the comment (Markdown). */
export function headline(report: PreviewReport): string {
  const v = verdictCounts(report);
  const detail = parts(report).join(', ');
  if (report.compileFailed) {
    const errs = errorFindings(report);
    return `### ❌ Nexus preview: does not compile${errs ? ` (${plural(errs, 'error')})` : ''}`;
  }
  if (v.get('blocked')) return `### ⛔ Nexus preview: blocked — ${detail}`;
  if (v.get('error')) return `### ❌ Nexus preview: failed — ${detail}`;
  if (v.get('needs-approval')) return `### ⏸ Nexus preview: needs approval — ${detail}`;
  const apply = v.get('apply') ?? 0;
  if (apply) return `### ✅ Nexus would apply ${plural(apply, 'stack')}${detail.includes('unchanged') ? ` — ${detail}` : ''}`;
  return `### ✅ Nexus preview: no change${detail ? ` — ${detail}` : ''}`;
}

/** The check run's title (≤ 255 characters). */
export function checkTitle(report: PreviewReport): string {
  if (report.compileFailed) return `Does not compile: ${plural(errorFindings(report), 'error')}`;
  const p = parts(report);
  return clip(p.length ? p.join(', ') : 'No change', 255);
}

function when(at: unknown): string {
  const d = new Date(str(at));
  if (typeof at !== 'string' || Number.isNaN(d.getTime())) return text(at, 40);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Which commit of which pull request the preview describes, and when. */
export function commitLine(report: PreviewReport): string {
  const sha = str(report.commit);
  const short = /^[0-9a-f]{7,64}$/i.test(sha) ? sha.slice(0, 7) : clip(sha, 12);
  return `Commit **${text(short, 12)}** (${code(sha, 64)}) of ${text(report.repo, 100)} #${count(report.pr)}, previewed ${when(report.at)}.`;
}
