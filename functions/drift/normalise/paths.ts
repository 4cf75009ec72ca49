// Path patterns over ARM bodies, matched as the judge walks a body: one small NFA step per property,
// so no path string is built or regex run for properties nobody asked about.
//
// Syntax: dotted segments. `name` (case-insensitive), `*` (any one property or array index), `**`
// (zero or more segments), `name[]` (any element of the array `name`), `name[2]` (element 2).

export type Step =
  | { t: 'key'; k: string }
  | { t: 'any' }
  | { t: 'deep' }
  | { t: 'index'; i: number }
  | { t: 'anyIndex' };

/** A path segment as the walker sees it: a lower-cased property name or an array index. */
export type Seg = string | number;

const SEGMENT = /^([^[\]]*)((?:\[\d*\])*)$/;
const BRACKET = /\[(\d*)\]/g;

/** Parse a pattern; a string result is the reason it is invalid. */
export function parsePattern(src: string): Step[] | string {
  if (src.length === 0) return 'empty path';
  const steps: Step[] = [];
  for (const part of src.split('.')) {
    const m = SEGMENT.exec(part);
    if (!m) return `"${part}" is not a path segment (name, *, **, name[] or name[N])`;
    const [, name, brackets] = m;
    if (name === '' && brackets === '') return `empty segment in "${src}"`;
    if (name === '**') steps.push({ t: 'deep' });
    else if (name === '*') steps.push({ t: 'any' });
    else if (name.includes('*')) return `"${part}": * stands alone as a segment`;
    else if (name !== '') steps.push({ t: 'key', k: name.toLowerCase() });
    for (const b of brackets.matchAll(BRACKET)) steps.push(b[1] === '' ? { t: 'anyIndex' } : { t: 'index', i: Number(b[1]) });
  }
  return steps;
}

/** Parse a concrete dotted path (as reported in differences) into segments; indices become numbers. */
export function parsePath(path: string): Seg[] {
  const out: Seg[] = [];
  if (path === '') return out;
  for (const part of path.split('.')) {
    const m = SEGMENT.exec(part);
    if (!m) { out.push(part); continue; }
    if (m[1] !== '') out.push(m[1]);
    for (const b of m[2].matchAll(BRACKET)) out.push(Number(b[1]));
  }
  return out;
}

/** Format walker segments as the dotted path differences carry (`properties.ipRules[0].value`). */
export function formatPath(segs: readonly Seg[]): string {
  let s = '';
  for (const seg of segs) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else s += s === '' ? seg : `.${seg}`;
  }
  return s;
}

// A state is (pattern index, position) packed into one number.
const POS = 1024;

function add(pats: readonly Step[][], out: number[], pi: number, pos: number): void {
  const s = pi * POS + pos;
  if (out.includes(s)) return;
  out.push(s);
  // `**` may match nothing: the position after it is live too.
  if (pos < pats[pi].length && pats[pi][pos].t === 'deep') add(pats, out, pi, pos + 1);
}

const NONE: readonly number[] = Object.freeze([]) as readonly number[];

/**
 * Patterns that start `**.name` are not carried at every depth: they start wherever a segment is
 * `name` (`starts`: name -> states just past it). Everything else starts at the root.
 */
export interface Starts {
  root: readonly number[];
  byName: ReadonlyMap<string, readonly number[]>;
}

export function compileStarts(pats: readonly Step[][]): Starts {
  const root: number[] = [];
  const byName = new Map<string, number[]>();
  for (let pi = 0; pi < pats.length; pi++) {
    const steps = pats[pi];
    if (steps.length >= 2 && steps[0].t === 'deep' && steps[1].t === 'key') {
      const list = byName.get(steps[1].k) ?? [];
      add(pats, list, pi, 2);
      byName.set(steps[1].k, list);
    } else add(pats, root, pi, 0);
  }
  return { root, byName };
}

/** The states after descending into `seg`. */
export function advance(pats: readonly Step[][], states: readonly number[], seg: Seg, starts: Starts): readonly number[] {
  const started = typeof seg === 'string' ? starts.byName.get(seg) : undefined;
  if (states.length === 0 && !started) return NONE;
  const out: number[] = started ? [...started] : [];
  for (const s of states) {
    const pi = Math.floor(s / POS);
    const pos = s % POS;
    const steps = pats[pi];
    if (pos >= steps.length) continue;
    const step = steps[pos];
    switch (step.t) {
      case 'deep': add(pats, out, pi, pos); break;
      case 'any': add(pats, out, pi, pos + 1); break;
      case 'key': if (seg === step.k) add(pats, out, pi, pos + 1); break;
      case 'index': if (seg === step.i) add(pats, out, pi, pos + 1); break;
      case 'anyIndex': if (typeof seg === 'number') add(pats, out, pi, pos + 1); break;
    }
  }
  return out.length === 0 ? NONE : out;
}

/** Indices of the patterns that match exactly here. */
export function matchedHere(pats: readonly Step[][], states: readonly number[]): readonly number[] {
  if (states.length === 0) return NONE;
  const out: number[] = [];
  for (const s of states) {
    const pi = Math.floor(s / POS);
    if (s % POS === pats[pi].length) out.push(pi);
  }
  return out.length === 0 ? NONE : out;
}
