// The timer trigger: each stack is reconciled when its interval (schedule.ts: a default, per
// stack or per domain) has passed since its last run; a stack whose lease another instance holds
// is skipped. The local server starts it; Azure Functions calls `reconcileTick` from its own
// timer trigger. Intervals come from the configuration (config.reconcile), passed in.
import type { Logger } from '../platform/logger.ts';
import type { ReconcileResult, Reconciler } from './loop.ts';
import { dueStacks, stackIntervals, type ScheduleEntry } from './schedule.ts';

/** How often stacks are reconciled (config.reconcile). */
export interface Intervals {
  /** Default minutes between reconciles of a stack (NEXUS_RECONCILE_INTERVAL_MINUTES, 10). */
  intervalMinutes: number;
  /** Per stack or domain intervals (NEXUS_RECONCILE_SCHEDULE, parsed). */
  schedule: ScheduleEntry[];
}

export interface TimerOptions extends Intervals {
  /** Run one pass right away (default true). */
  runAtStart?: boolean;
  logger?: Logger;
}

export interface ReconcileTimer {
  /** One pass now over the stacks that are due (waits for a pass in flight instead of starting a second). */
  tick(): Promise<ReconcileResult[]>;
  stop(): Promise<void>;
  /** Minutes between passes: the shortest interval of any stack. */
  readonly periodMinutes: number;
}

/** The Azure Functions timer trigger's period by default (NEXUS_RECONCILE_TICK_CRON: every minute). */
export const DEFAULT_TICK_SECONDS = 60;

/**
 * How early a stack counts as due: half a tick, so one whose last run ended just after a tick
 * does not wait a whole extra tick, and never more than half its own shortest interval. (Half the
 * interval alone would run a 10-minute stack every ~5 minutes under a 1-minute tick.)
 */
export function slackMs(tickMs: number, shortestIntervalMinutes: number): number {
  return Math.min(tickMs, shortestIntervalMinutes * 60_000) / 2;
}

/** The stacks due now, each reconciled once (stack leases keep other instances out). */
export async function duePass(reconciler: Reconciler, opts: { defaultMinutes: number; schedule: ScheduleEntry[]; slackMs: number }): Promise<ReconcileResult[]> {
  const { deps } = reconciler;
  // The tracked commit once for the pass, compiled at exactly that commit.
  const commit = deps.commits ? await deps.trackedCommit?.() : await deps.trackedCommit?.().catch(() => undefined);
  const state = await deps.compile(commit);
  const intervals = stackIntervals(state, opts.schedule, opts.defaultMinutes);
  const last = new Map<string, string | undefined>();
  await Promise.all([...intervals.keys()].map(async (s) => last.set(s, (await deps.stores.runs.stack(s))?.lastRunAt)));
  const due = dueStacks(intervals, last, deps.now(), opts.slackMs);
  if (due.length === 0) return [];
  return reconciler.reconcileAll({ trigger: 'timer', state, commit, stacks: due });
}

/** Minutes between passes: the shortest interval of any stack. */
export function shortestMinutes(i: Intervals): number {
  return Math.min(i.intervalMinutes, ...i.schedule.map((e) => e.minutes));
}

export function startReconcileTimer(reconciler: Reconciler, opts: TimerOptions): ReconcileTimer {
  const defaultMinutes = opts.intervalMinutes;
  const schedule = opts.schedule;
  const periodMinutes = shortestMinutes(opts);
  const log = opts.logger ?? reconciler.deps.logger;
  let inFlight: Promise<ReconcileResult[]> | undefined;
  let stopped = false;
  const tick = () => {
    // This timer ticks once a period: the slack is half of it.
    inFlight ??= duePass(reconciler, { defaultMinutes, schedule, slackMs: slackMs(periodMinutes * 60_000, periodMinutes) })
      .catch((err) => {
        log.error({ err: (err as Error).message }, 'timer reconcile pass failed');
        return [] as ReconcileResult[];
      })
      .finally(() => { inFlight = undefined; });
    return inFlight;
  };
  const timer = setInterval(() => { if (!stopped) void tick(); }, periodMinutes * 60_000);
  timer.unref();
  if (opts.runAtStart ?? true) void tick();
  return {
    tick,
    periodMinutes,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await inFlight;
    },
  };
}

/**
 * One timer pass (for an Azure Functions timer trigger that fires every minute or so): the stacks
 * whose interval has passed are reconciled, the others wait. `tickSeconds` is how often the
 * trigger fires (default 60, the default NEXUS_RECONCILE_TICK_CRON).
 */
export async function reconcileTick(reconciler: Reconciler, opts: Intervals & { tickSeconds?: number }): Promise<ReconcileResult[]> {
  const tickSeconds = opts.tickSeconds ?? DEFAULT_TICK_SECONDS;
  return duePass(reconciler, { defaultMinutes: opts.intervalMinutes, schedule: opts.schedule, slackMs: slackMs(tickSeconds * 1000, shortestMinutes(opts)) });
}
