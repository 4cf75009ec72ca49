// Fitting the preview into a size limit. The comment shrinks in steps rather than splitting:
// first the diffs of the largest stacks go (their property names stay), then every <details>,
// then findings beyond the first N, and last (for thousands of stacks) table rows and folded
// names beyond the first N. Marker, headline, commit line, table header and links always stay.
import type { Finding } from '../../../stacks/compile/model.ts';
import type { StackPreview } from '../types.ts';
import { clip, plural } from './escape.ts';
import { findingsSection } from './details.ts';
import { noChangeLine, table } from './table.ts';

export interface Block { full: string; names: string }
type Mode = 'full' | 'names' | 'none';

/** Everything the comment can hold, each part already rendered or renderable by a count. */
export interface Model {
  marker: string;
  headline: string;
  commit: string;
  stacks: StackPreview[];
  folded: string[];
  /** Sorted, errors first. */
  findings: Finding[];
  /** Per shown stack, in table order. */
  stackBlocks: Block[];
  /** Per folded stack with drift. */
  driftBlocks: Block[];
  footer: string;
}

interface Layout { modes: Mode[]; findings: number; rows: number; folded: number; note: string }

function pick(b: Block, m: Mode): string {
  return m === 'full' ? b.full : m === 'names' ? b.names : '';
}

export function assemble(model: Model, l: Layout, withMarker: boolean): string {
  const blocks = [...model.stackBlocks, ...model.driftBlocks].map((b, i) => pick(b, l.modes[i] ?? 'none'));
  const stackPart = blocks.slice(0, model.stackBlocks.length);
  const driftPart = blocks.slice(model.stackBlocks.length);
  return [
    withMarker ? model.marker : '',
    model.headline,
    model.commit,
    table(model.stacks, l.rows),
    noChangeLine(model.folded, l.folded),
    l.note,
    ...stackPart,
    findingsSection(model.findings, l.findings),
    ...driftPart,
    model.footer,
  ].filter(Boolean).join('\n\n');
}

/** The largest n in [0, max] with ok(n), given ok is monotone (true up to some point); -1 when none. */
function largest(max: number, ok: (n: number) => boolean): number {
  if (ok(max)) return max;
  let lo = -1; // ok(lo) holds (or lo = -1)
  let hi = max; // ok(hi) fails
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (ok(mid)) lo = mid; else hi = mid;
  }
  return lo;
}

function movedNote(limit: number, what: string): string {
  return `*${what} in the nexus/preview check: the whole preview would exceed this comment's ${limit.toLocaleString('en-US')} characters.*`;
}

/**
 * The text within `limit`, shrunk as little as needed. `withMarker` false renders the check's
 * summary: no marker and no <details> (those go to the check's text).
 */
export function fit(model: Model, limit: number, withMarker: boolean): string {
  const nBlocks = model.stackBlocks.length + model.driftBlocks.length;
  const all = (m: Mode): Mode[] => new Array<Mode>(nBlocks).fill(m);
  const base: Layout = {
    modes: all(withMarker ? 'full' : 'none'), findings: model.findings.length,
    rows: model.stacks.length, folded: model.folded.length, note: '',
  };
  const text = (l: Layout) => assemble(model, l, withMarker);
  let out = text(base);
  if (out.length <= limit) return out;

  if (withMarker && nBlocks) {
    // Step 1: the largest stacks lose their diffs (property names stay), largest first.
    const note = movedNote(limit, 'Full diffs are');
    const blocks = [...model.stackBlocks, ...model.driftBlocks];
    const order = blocks.map((b, i) => i).sort((a, b) => blocks[b].full.length - blocks[a].full.length);
    const modes = all('full');
    let size = out.length + note.length + 2;
    for (const i of order) {
      if (size <= limit) break;
      size -= blocks[i].full.length - blocks[i].names.length;
      modes[i] = 'names';
    }
    out = text({ ...base, modes, note });
    if (out.length <= limit) return out;
  }

  // Step 2: no <details> at all; step 3: findings beyond the first N.
  const note = withMarker && nBlocks ? movedNote(limit, 'Details and full diffs are') : '';
  const bare: Layout = { ...base, modes: all('none'), note };
  const findings = largest(model.findings.length, (n) => text({ ...bare, findings: n }).length <= limit);
  if (findings >= 0) return text({ ...bare, findings });

  // Step 4: folded names beyond the first N, then table rows beyond the first N.
  const lean: Layout = { ...bare, findings: 0 };
  const folded = largest(model.folded.length, (n) => text({ ...lean, folded: n }).length <= limit);
  if (folded >= 0) return text({ ...lean, folded });
  const rows = largest(model.stacks.length, (n) => text({ ...lean, folded: 0, rows: n }).length <= limit);
  if (rows >= 0) return text({ ...lean, folded: 0, rows });

  // Unreachable for limits ≥ MIN_LIMIT (every remaining part is bounded); a last guard all the same.
  return clip(text({ ...lean, folded: 0, rows: 0 }), limit);
}

/**
 * The check's text: every stack's block in full while it fits, else its names-only form, else
 * left out; a note says what is missing. undefined when there is nothing to detail.
 */
export function fitDetails(blocks: Block[], limit: number): string | undefined {
  if (!blocks.length) return undefined;
  const reserve = 300;
  const out: string[] = [];
  let size = 0;
  let reduced = 0;
  let dropped = 0;
  for (const b of blocks) {
    const room = limit - reserve - size;
    const one = b.full.length + 2 <= room ? b.full : b.names.length + 2 <= room ? b.names : '';
    if (!one) { dropped += 1; continue; }
    if (one !== b.full) reduced += 1;
    out.push(one);
    size += one.length + 2;
  }
  const notes: string[] = [];
  if (reduced) notes.push(`${plural(reduced, 'stack')} shown without diffs`);
  if (dropped) notes.push(`${plural(dropped, 'stack')} left out`);
  if (notes.length) out.push(`*Truncated to ${limit.toLocaleString('en-US')} characters: ${notes.join(', ')}; the run in the portal has everything.*`);
  return clip(out.join('\n\n'), limit);
}
