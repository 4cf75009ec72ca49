// The timer trigger: every N minutes (NEXUS_RECONCILE_INTERVAL_MINUTES, default 10) every stack of
// the desired state is reconciled; a stack whose lease another instance holds is skipped. The
// local server starts it; Azure Functions calls `reconcileTick` from its own timer trigger.
import type { Logger } from '../platform/logger.ts';
import type { ReconcileResult, Reconciler } from './loop.ts';
import { reconcileService } from './service.ts';

export interface TimerOptions {
  intervalMinutes?: number;
  /** Run one pass right away (default true). */
  runAtStart?: boolean;
  logger?: Logger;
}

export interface ReconcileTimer {
  /** One pass now (waits for a pass in flight instead of starting a second). */
  tick(): Promise<ReconcileResult[]>;
  stop(): Promise<void>;
}

export function intervalMinutes(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.NEXUS_RECONCILE_INTERVAL_MINUTES ?? 10);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`NEXUS_RECONCILE_INTERVAL_MINUTES must be a positive number of minutes, got '${env.NEXUS_RECONCILE_INTERVAL_MINUTES}'`);
  return n;
}

export function startReconcileTimer(reconciler: Reconciler, opts: TimerOptions = {}): ReconcileTimer {
  const minutes = opts.intervalMinutes ?? intervalMinutes(reconciler.deps.env);
  const log = opts.logger ?? reconciler.deps.logger;
  let inFlight: Promise<ReconcileResult[]> | undefined;
  let stopped = false;
  const tick = () => {
    inFlight ??= reconciler.reconcileAll({ trigger: 'timer' })
      .catch((err) => {
        log.error({ err: (err as Error).message }, 'timer reconcile pass failed');
        return [] as ReconcileResult[];
      })
      .finally(() => { inFlight = undefined; });
    return inFlight;
  };
  const timer = setInterval(() => { if (!stopped) void tick(); }, minutes * 60_000);
  timer.unref();
  if (opts.runAtStart ?? true) void tick();
  return {
    tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await inFlight;
    },
  };
}

/** One timer pass with the process's shared reconciler (for an Azure Functions timer trigger). */
export async function reconcileTick(env: NodeJS.ProcessEnv = process.env): Promise<ReconcileResult[]> {
  const svc = await reconcileService(env);
  return svc.reconciler.reconcileAll({ trigger: 'timer' });
}
