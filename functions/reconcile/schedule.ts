// How often each stack is reconciled by the timer: NEXUS_RECONCILE_INTERVAL_MINUTES for all
// (default 10), refined per stack or per domain by NEXUS_RECONCILE_SCHEDULE, a comma list of
// `stack:<name or glob>=<minutes>` and `domain:<management group>=<minutes>` entries (a domain is
// a management group with every group below it). The first matching entry wins.
// Example: `stack:corp=5,domain:platform=30` reconciles corp every 5 minutes, the platform
// stacks every 30, and the rest at the default.
import type { DesiredState } from '../../stacks/compile/model.ts';
import { globMatch } from './scope.ts';

export interface ScheduleEntry {
  match: 'stack' | 'domain';
  pattern: string;
  minutes: number;
}

export class ScheduleConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleConfigError';
  }
}

function minutesFrom(name: string, raw: string): number {
  const n = Number(raw);
  if (!raw.trim() || !Number.isFinite(n) || n <= 0) throw new ScheduleConfigError(`${name} must be a positive number of minutes, got '${raw}'`);
  return n;
}

export function parseSchedule(text: string | undefined): ScheduleEntry[] {
  if (!text?.trim()) return [];
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((entry) => {
    const m = /^(stack|domain):([^=]+)=(.*)$/.exec(entry);
    if (!m) throw new ScheduleConfigError(`NEXUS_RECONCILE_SCHEDULE: '${entry}' is not stack:<name>=<minutes> or domain:<management group>=<minutes>`);
    return { match: m[1] as ScheduleEntry['match'], pattern: m[2].trim(), minutes: minutesFrom(`NEXUS_RECONCILE_SCHEDULE: ${m[1]}:${m[2]}`, m[3]) };
  });
}

/** The management group of each stack and every group above it (from the desired state's groups). */
function ancestry(state: DesiredState, mgId: string): string[] {
  const parentOf = new Map<string, string | undefined>();
  for (const r of state.resources) {
    if (r.kind !== 'managementGroup') continue;
    const parent = (r.body.properties as { details?: { parent?: { id?: string } } } | undefined)?.details?.parent?.id;
    parentOf.set(r.name.toLowerCase(), parent?.split('/').pop()?.toLowerCase());
  }
  const out: string[] = [];
  for (let g: string | undefined = mgId.toLowerCase(); g && !out.includes(g); g = parentOf.get(g)) out.push(g);
  return out;
}

/** Minutes between timer reconciles, per stack of the desired state. */
export function stackIntervals(state: DesiredState, entries: ScheduleEntry[], defaultMinutes: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of state.stacks) {
    const groups = ancestry(state, s.managementGroupId);
    const hit = entries.find((e) => (e.match === 'stack'
      ? globMatch(e.pattern, s.name)
      : groups.includes(e.pattern.toLowerCase())));
    out.set(s.name, hit?.minutes ?? defaultMinutes);
  }
  return out;
}

/**
 * Stacks due at `now`: never run, or last run at least their interval ago. `slackMs` (half a
 * timer period) keeps a stack whose last run ended just after a tick from waiting a whole
 * extra period.
 */
export function dueStacks(intervals: Map<string, number>, lastRunAt: Map<string, string | undefined>, now: Date, slackMs = 0): string[] {
  return [...intervals].filter(([stack, minutes]) => {
    const last = lastRunAt.get(stack);
    if (!last) return true;
    return now.getTime() - Date.parse(last) >= minutes * 60_000 - slackMs;
  }).map(([stack]) => stack);
}
