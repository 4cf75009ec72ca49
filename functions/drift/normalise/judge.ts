// The judge: walks the desired and the live ARM body together (and the baseline, when there is
// one), applies the rules where their paths match, and reports what is left at leaf paths.
//
// Without a baseline, a live property the desired body leaves out is drift unless a rule covers it
// (read-only, server-set, a known default, empty or null): the judge cannot tell a service default
// from a person's change, and a missed change is worse than a rule a tenant has to add. With a
// baseline, such a property is noise while it equals the baseline and drift once it differs.
import type { Difference, JudgeInput, Judgement, Suppression } from './types.ts';
import type { Entry, RuleSet } from './rules.ts';
import { activeFor, type Active, type Ranked } from './active.ts';
import { advance, compileStarts, formatPath, matchedHere, parsePattern, type Seg, type Starts, type Step } from './paths.ts';
import { canonicalLocation } from './regions.ts';
import { deepEqual, getProp, isEmptyContainer, isObj, parseJsonish, scalarStringEqual, unwrapValue, type Obj } from './values.ts';

/** The rules that match at one node, by kind (the first of each kind in rule order wins). */
interface Here {
  suppress?: Entry;
  serverSet?: Entry;
  listSingle?: Entry;
  writeOnly?: Entry;
  ci?: Entry;
  relId?: Entry;
  resId?: Entry;
  location?: Entry;
  defaults?: Entry[];
  empty?: Entry;
  nullAbsent?: Entry;
  nullEmpty?: Entry;
  unordered?: Entry;
  wrapper?: Entry;
  json?: Entry;
  scalar?: Entry;
}

interface Ctx {
  act: Active;
  /** The NFA patterns: the type's, plus the input's owned and child paths. */
  pats: Step[][];
  entries: Ranked[];
  starts: Starts;
  /** What `everywhere` alone makes of a node (shared, never written); undefined when it depends on the node. */
  baseHere: Here | null | undefined;
  /** The lower-cased segment that led to the current node. */
  seg: Seg | undefined;
  /** The baseline rule's name when a baseline was given and the rule is on. */
  baselineRule: string | null;
  /** The current path, with keys as the bodies spell them. */
  segs: Seg[];
  /** The live object or array holding the current property (for `when` conditions). */
  lParent: unknown;
  differences: Difference[];
  suppressed: Suppression[];
  /** How many suppressions read-only rules made (see the one-sided container check in walk). */
  readOnly: number;
}

export const CHILD_RULE = 'child-resource';

export function judge(input: JudgeInput, rules: RuleSet): Judgement {
  const { desired, live } = input;
  if (desired == null || live == null) {
    // A resource Nexus does not manage, or one that was deleted: drift whatever the rules say.
    if (desired == null && live == null) return { verdict: 'noise', differences: [], suppressed: [], suppressedBy: [] };
    return { verdict: 'drift', differences: [{ path: '', desired: desired ?? null, live: live ?? null }], suppressed: [], suppressedBy: [] };
  }
  const act = activeFor(rules, input.resourceType);
  const owned = [...(input.ownedPaths ?? []).map((o) => [o.path, o.owner] as const), ...(input.childPaths ?? []).map((c) => [c, CHILD_RULE] as const)];
  let pats = act.pats, entries = act.entries;
  if (owned.length > 0) {
    pats = [...pats];
    entries = [...entries];
    for (const [path, rule] of owned) {
      const steps = parsePattern(path);
      if (typeof steps === 'string') continue; // an unparseable path owns nothing: its differences stay visible
      pats.push(steps);
      entries.push({ e: { rule, kind: 'owned' }, order: Number.MAX_SAFE_INTEGER });
    }
  }
  const hasBaseline = input.baseline !== undefined && input.baseline !== null;
  const ctx: Ctx = {
    act, pats, entries, starts: owned.length > 0 ? compileStarts(pats) : act.starts, baseHere: act.everywhere.length === 0 ? null : act.everywhere.some((r) => r.e.when) ? undefined : toHere(act.everywhere, undefined), seg: undefined,
    baselineRule: hasBaseline ? act.baselineRule : null, segs: [], lParent: undefined, differences: [], suppressed: [], readOnly: 0,
  };
  walk(ctx, desired, live, hasBaseline ? input.baseline : undefined, ctx.starts.root, false, false);
  const suppressedBy = [...new Set(ctx.suppressed.map((s) => s.rule))].sort();
  return { verdict: ctx.differences.length > 0 ? 'drift' : 'noise', differences: ctx.differences, suppressed: ctx.suppressed, suppressedBy };
}

function collect(ctx: Ctx, states: readonly number[]): Here | null {
  const m = matchedHere(ctx.pats, states);
  if (m.length === 0 && ctx.baseHere !== undefined) return ctx.baseHere;
  const found: Ranked[] = [...ctx.act.everywhere];
  for (const pi of m) found.push(ctx.entries[pi]);
  found.sort((a, b) => a.order - b.order);
  return toHere(found, ctx.lParent);
}

function toHere(found: readonly Ranked[], lParent: unknown): Here {
  const h: Here = {};
  for (const { e } of found) {
    switch (e.kind) {
      case 'read-only': if (!e.when || whenHolds(lParent, e.when)) h.suppress ??= e; break;
      case 'owned': h.suppress ??= e; break;
      case 'server-set': h.serverSet ??= e; break;
      case 'list-or-single': h.listSingle ??= e; break;
      case 'write-only': h.writeOnly ??= e; break;
      case 'case-insensitive': h.ci ??= e; break;
      case 'provider-relative-id': h.relId ??= e; break;
      case 'resource-id': h.resId ??= e; break;
      case 'location': h.location ??= e; break;
      case 'default': (h.defaults ??= []).push(e); break;
      case 'empty-equals-absent': h.empty ??= e; break;
      case 'null-equals-absent': h.nullAbsent ??= e; break;
      case 'null-equals-empty': h.nullEmpty ??= e; break;
      case 'unordered': h.unordered ??= e; break;
      case 'value-wrapper': h.wrapper ??= e; break;
      case 'json-string': h.json ??= e; break;
      case 'scalar-string': h.scalar ??= e; break;
    }
  }
  return h;
}

function listToSingle(v: unknown, e: Entry): unknown {
  if (!isObj(v)) return v;
  const list = e.list!, single = e.single!;
  const items = getProp(v, list, list.toLowerCase());
  if (!Array.isArray(items) || items.length !== 1 || getProp(v, single, single.toLowerCase()) !== undefined) return v;
  const lower = list.toLowerCase();
  // Object.fromEntries defines properties; no key from the body is assigned through the prototype.
  return Object.fromEntries([...Object.entries(v).filter(([k]) => k.toLowerCase() !== lower), [single, items[0]]]);
}

function whenHolds(parent: unknown, when: NonNullable<Entry['when']>): boolean {
  const v = getProp(parent, when.sibling, when.lower);
  return when.in.some((x) => deepEqual(x, v));
}

/** The part of an id from its last `/providers/` on, lower-cased. */
function providerRelative(id: string): string {
  const lower = id.toLowerCase();
  const at = lower.lastIndexOf('/providers/');
  return at < 0 ? lower : lower.slice(at);
}

function sup(ctx: Ctx, rule: string): void {
  ctx.suppressed.push({ path: formatPath(ctx.segs), rule });
}

/**
 * `inBaseline`: the desired body never set this subtree and `d` is the baseline's value of it;
 * differences then report `desired: undefined`. `parentInDesired`: the desired body describes
 * the object holding this property (for server-set rules).
 */
function walk(ctx: Ctx, d: unknown, l: unknown, b: unknown, states: readonly number[], inBaseline: boolean, parentInDesired: boolean): void {
  if (d === undefined && l === undefined) return;
  const h = collect(ctx, states);
  if (h?.suppress) {
    if (!deepEqual(d, l)) {
      sup(ctx, h.suppress.rule);
      if (h.suppress.kind === 'read-only') ctx.readOnly++;
    }
    return;
  }
  if (h && (h.json || h.wrapper || h.listSingle)) {
    // Rewrites that make two spellings of one value the same; named when they mattered.
    const d0 = d, l0 = l;
    const named: string[] = [];
    const apply = (e: Entry | undefined, f: (v: unknown) => unknown) => {
      if (!e) return;
      const d1 = f(d), l1 = f(l);
      if (d1 !== d || l1 !== l) named.push(e.rule);
      d = d1; l = l1; b = f(b);
    };
    apply(h.json, parseJsonish);
    apply(h.wrapper, unwrapValue);
    apply(h.listSingle, (v) => listToSingle(v, h.listSingle!));
    if (named.length > 0 && d0 !== undefined && l0 !== undefined && !deepEqual(d0, l0)) for (const r of named) sup(ctx, r);
  }
  const unset = h?.serverSet?.unset;
  if (unset && !inBaseline && parentInDesired && d !== undefined && unset.some((u) => deepEqual(u, d))) {
    // "The service chooses": with a baseline, what it chose is the baseline's value, judged below.
    if (ctx.baselineRule !== null) d = undefined;
    else {
      if (!deepEqual(d, l)) sup(ctx, h!.serverSet!.rule);
      return;
    }
  }
  if (!inBaseline && d === undefined && ctx.baselineRule !== null) {
    if (b !== undefined && deepEqual(b, l)) { sup(ctx, ctx.baselineRule); return; }
    inBaseline = true;
    d = b;
    b = undefined;
  }
  if (!inBaseline && d !== undefined && l == null && h?.writeOnly) { sup(ctx, h.writeOnly.rule); return; }
  if (d === undefined) {
    if (!inBaseline && parentInDesired && h?.serverSet) { sup(ctx, h.serverSet.rule); return; }
    if (h?.defaults) for (const e of h.defaults) if (deepEqual(e.value, l)) { sup(ctx, e.rule); return; }
  } else if (l === undefined && !inBaseline && h?.defaults) {
    for (const e of h.defaults) if (deepEqual(e.value, d)) { sup(ctx, e.rule); return; }
  }
  if (isObj(d) && isObj(l)) return walkObject(ctx, d, l, b, states, inBaseline);
  if (Array.isArray(d) && Array.isArray(l)) return walkArray(ctx, d, l, b, states, h, inBaseline);
  // One side a non-empty container, the other absent or null: report its leaves.
  if (l == null && !isEmptyContainer(d)) {
    if (isObj(d)) return walkObject(ctx, d, undefined, b, states, inBaseline);
    if (Array.isArray(d)) return walkArray(ctx, d, [], b, states, h, inBaseline);
  }
  if (d == null && !isEmptyContainer(l) && (isObj(l) || Array.isArray(l))) {
    const diffs = ctx.differences.length, sups = ctx.suppressed.length, ro = ctx.readOnly;
    if (isObj(l)) walkObject(ctx, undefined, l, b, states, inBaseline);
    else walkArray(ctx, [], l as unknown[], b, states, h, inBaseline);
    // Read-only rules explain an object's contents, not why it is there: an added object of
    // nothing but read-only properties (a second user-assigned identity) is still an addition.
    const added = ctx.suppressed.length - sups;
    if (ctx.differences.length === diffs && added > 0 && ctx.readOnly - ro === added) {
      ctx.differences.push({ path: formatPath(ctx.segs), desired: inBaseline ? undefined : d, live: l });
    }
    return;
  }
  leaf(ctx, d, l, h, inBaseline, parentInDesired);
}

function child(ctx: Ctx, seg: string | number, lower: Seg, d: unknown, l: unknown, b: unknown, states: readonly number[], inBaseline: boolean, parentInDesired: boolean, lParent: unknown): void {
  ctx.segs.push(seg);
  ctx.lParent = lParent;
  ctx.seg = lower;
  walk(ctx, d, l, b, advance(ctx.pats, states, lower, ctx.starts), inBaseline, parentInDesired);
  ctx.segs.pop();
}

function walkObject(ctx: Ctx, d: Obj | undefined, l: Obj | undefined, b: unknown, states: readonly number[], inBaseline: boolean): void {
  // Property names pair case-insensitively: ARM does not keep their case.
  let pairedOtherCase: Set<string> | null = null;
  const parentInDesired = d !== undefined && !inBaseline;
  if (d) {
    for (const k in d) {
      if (!Object.hasOwn(d, k)) continue;
      const lower = k.toLowerCase();
      let lk: string | undefined;
      if (l) {
        if (Object.hasOwn(l, k)) lk = k;
        else {
          for (const k2 in l) if (Object.hasOwn(l, k2) && k2.toLowerCase() === lower) { lk = k2; break; }
          if (lk !== undefined) (pairedOtherCase ??= new Set()).add(lk);
        }
      }
      child(ctx, k, lower, d[k], lk === undefined ? undefined : l![lk], getProp(b, k, lower), states, inBaseline, parentInDesired, l);
    }
  }
  if (l) {
    for (const k in l) {
      if (!Object.hasOwn(l, k) || (d && Object.hasOwn(d, k)) || pairedOtherCase?.has(k)) continue;
      const lower = k.toLowerCase();
      child(ctx, k, lower, undefined, l[k], getProp(b, k, lower), states, inBaseline, parentInDesired, l);
    }
  }
}

function keyOf(x: unknown, key: string, lower: string): string | undefined {
  const v = getProp(x, key, lower);
  return typeof v === 'string' ? v.toLowerCase() : typeof v === 'number' ? String(v) : undefined;
}

/** Run a subtree into a scratch collector: its suppressions when it has no differences, else null. */
function probe(ctx: Ctx, i: number, d: unknown, l: unknown, b: unknown, states: readonly number[], inBaseline: boolean, arr: unknown[]): Suppression[] | null {
  const saved = [ctx.differences, ctx.suppressed, ctx.readOnly] as const;
  ctx.differences = [];
  ctx.suppressed = [];
  child(ctx, i, i, d, l, b, states, inBaseline, true, arr);
  const ok = ctx.differences.length === 0 ? ctx.suppressed : null;
  [ctx.differences, ctx.suppressed] = [saved[0], saved[1]];
  if (!ok) ctx.readOnly = saved[2];
  return ok;
}

function walkArray(ctx: Ctx, d: unknown[], l: unknown[], b: unknown, states: readonly number[], h: Here | null, inBaseline: boolean): void {
  const bArr = Array.isArray(b) ? b : undefined;
  if (!h?.unordered) {
    const n = Math.max(d.length, l.length);
    for (let i = 0; i < n; i++) child(ctx, i, i, d[i], l[i], bArr?.[i], states, inBaseline, true, l);
    return;
  }
  const usedLive = new Uint8Array(l.length);
  const pendingD: number[] = [];
  const key = h.unordered.key;
  if (key !== undefined) {
    const lowerKey = key.toLowerCase();
    const liveBy = new Map<string, number>();
    l.forEach((x, j) => { const kv = keyOf(x, key, lowerKey); if (kv !== undefined && !liveBy.has(kv)) liveBy.set(kv, j); });
    d.forEach((x, i) => {
      const kv = keyOf(x, key, lowerKey);
      const j = kv === undefined ? undefined : liveBy.get(kv);
      if (j === undefined || usedLive[j]) { pendingD.push(i); return; }
      usedLive[j] = 1;
      const bx = bArr?.find((y) => keyOf(y, key, lowerKey) === kv);
      child(ctx, i, i, x, l[j], bx, states, inBaseline, true, l);
    });
  } else {
    d.forEach((x, i) => {
      for (let j = 0; j < l.length; j++) if (!usedLive[j] && deepEqual(x, l[j])) { usedLive[j] = 1; return; }
      for (let j = 0; j < l.length; j++) {
        if (usedLive[j]) continue;
        const s = probe(ctx, i, x, l[j], bArr?.find((y) => deepEqual(y, l[j])), states, inBaseline, l);
        if (s) { usedLive[j] = 1; ctx.suppressed.push(...s); return; }
      }
      pendingD.push(i);
    });
  }
  // What did not pair: pair the rest in order, so a changed element shows at its leaves.
  let j = 0;
  for (const i of pendingD) {
    while (j < l.length && usedLive[j]) j++;
    if (j < l.length) { usedLive[j] = 1; child(ctx, i, i, d[i], l[j], undefined, states, inBaseline, true, l); j++; }
    else child(ctx, i, i, d[i], undefined, undefined, states, inBaseline, true, l);
  }
  for (let k = 0; k < l.length; k++) if (!usedLive[k]) child(ctx, k, k, undefined, l[k], bArr?.find((y) => deepEqual(y, l[k])), states, inBaseline, true, l);
}

function emptyish(v: unknown, of: ReadonlySet<string> | undefined): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0 && (!of || of.has('array'));
  if (isObj(v)) return isEmptyContainer(v) && (!of || of.has('object'));
  return v === '' && !!of && of.has('string');
}

function leaf(ctx: Ctx, d: unknown, l: unknown, h: Here | null, inBaseline: boolean, parentInDesired: boolean): void {
  if (d === l) { if (inBaseline && ctx.baselineRule !== null) sup(ctx, ctx.baselineRule); return; }
  if (h) {
    if (typeof d === 'string' && typeof l === 'string') {
      if (h.location && canonicalLocation(d) === canonicalLocation(l)) return sup(ctx, h.location.rule);
      if (h.resId && d[0] === '/' && l[0] === '/') {
        const a = d.toLowerCase();
        if (a === l.toLowerCase() && h.resId.prefixes!.some((p) => a.startsWith(p))) return sup(ctx, h.resId.rule);
      }
      if (h.ci && d.toLowerCase() === l.toLowerCase()) return sup(ctx, h.ci.rule);
      if (h.relId && providerRelative(d) === providerRelative(l)) return sup(ctx, h.relId.rule);
    }
    if (h.scalar && scalarStringEqual(d, l)) return sup(ctx, h.scalar.rule);
    if (h.nullEmpty && emptyish(d, undefined) && emptyish(l, undefined)) return sup(ctx, h.nullEmpty.rule);
    if (h.nullAbsent && d == null && l == null) return sup(ctx, h.nullAbsent.rule);
    if (h.empty && (isEmptyContainer(d) || isEmptyContainer(l) || d === '' || l === '') && emptyish(d, h.empty.of) && emptyish(l, h.empty.of)) return sup(ctx, h.empty.rule);
    if (d === undefined) {
      if (!inBaseline && parentInDesired && h.serverSet) return sup(ctx, h.serverSet.rule);
    }
  }
  ctx.differences.push({ path: formatPath(ctx.segs), desired: inBaseline ? undefined : d, live: l });
}
