// The rules that apply to one ARM type, arranged for the walker: patterns that match everywhere
// (`**`) are kept apart, and `**.name...` patterns start only where a property is `name`, so the
// NFA carries no state through properties no rule is about. Built once per type and kept on the RuleSet.
import { compileStarts, type Starts, type Step } from './paths.ts';
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
  starts: Starts;
  /** `**` patterns. */
  everywhere: Ranked[];
  baselineRule: string | null;
}

const MAX_CACHED_TYPES = 1000;

function build(rules: RuleSet, type: string): Active {
  const a: Active = { pats: [], entries: [], starts: { root: [], byName: new Map() }, everywhere: [], baselineRule: null };
  let order = 0;
  for (const r of rules.rules) {
    if (r.types && !r.types.some((re) => re.test(type))) continue;
    if (r.kind === 'baseline') { a.baselineRule ??= r.name; continue; }
    for (let i = 0; i < r.patterns.length; i++) {
      const steps = r.patterns[i];
      const ranked = { e: r.entries[i], order: order++ };
      if (steps.length === 1 && steps[0].t === 'deep') a.everywhere.push(ranked);
      else {
        a.pats.push(steps);
        a.entries.push(ranked);
      }
    }
  }
  a.starts = compileStarts(a.pats);
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
