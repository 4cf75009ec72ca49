// The rules that apply to one ARM type, arranged for the walker: patterns that match everywhere
// (`**`) and at any depth by name (`**.etag`) are looked up directly instead of stepping an NFA at
// every property; the rest go through the NFA. Built once per type and kept on the RuleSet.
import type { Step } from './paths.ts';
import type { Entry, RuleSet } from './rules.ts';

export interface Ranked {
  e: Entry;
  /** Rule order: where two rules of a kind match, the earlier wins. */
  order: number;
}

export interface Active {
  /** NFA patterns and their entries (same index). */
  pats: Step[][];
  entries: Ranked[];
  /** `**.name` patterns by lower-cased name. */
  deepKey: Map<string, Ranked[]>;
  /** `**` patterns. */
  everywhere: Ranked[];
  baselineRule: string | null;
}

const MAX_CACHED_TYPES = 1000;

function build(rules: RuleSet, type: string): Active {
  const a: Active = { pats: [], entries: [], deepKey: new Map(), everywhere: [], baselineRule: null };
  let order = 0;
  for (const r of rules.rules) {
    if (r.types && !r.types.some((re) => re.test(type))) continue;
    if (r.kind === 'baseline') { a.baselineRule ??= r.name; continue; }
    for (let i = 0; i < r.patterns.length; i++) {
      const steps = r.patterns[i];
      const ranked = { e: r.entries[i], order: order++ };
      if (steps.length === 1 && steps[0].t === 'deep') a.everywhere.push(ranked);
      else if (steps.length === 2 && steps[0].t === 'deep' && steps[1].t === 'key') {
        const list = a.deepKey.get(steps[1].k);
        if (list) list.push(ranked); else a.deepKey.set(steps[1].k, [ranked]);
      } else {
        a.pats.push(steps);
        a.entries.push(ranked);
      }
    }
  }
  return a;
}

/** The rules for an ARM type (case-insensitive), built on first use. */
export function activeFor(rules: RuleSet, type: string): Active {
  const key = type.toLowerCase();
  const hit = rules.byType.get(key);
  if (hit) return hit;
  const a = build(rules, type);
  if (rules.byType.size < MAX_CACHED_TYPES) rules.byType.set(key, a);
  return a;
}
