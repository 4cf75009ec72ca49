// The local runtime behind `npm run up`: the API server, a first-run bootstrap of the default
// tenant, the reconcile timer and the catalog jobs, in one process. Storage, the tenant and the
// Pulumi backend come from the environment scripts/up.ts prepared (Azurite and the ARM sandbox).
import { startServer, type RunningServer } from './server.ts';
import type { ReconcileService } from './reconcile/service.ts';
import { startReconcileTimer, type ReconcileTimer } from './reconcile/scheduler.ts';
import { startJobs, type RunningJobs } from './jobs.ts';
import type { NexusConfig } from './runtime/config.ts';
import { openNexus, type Nexus, type NexusOverrides } from './runtime/nexus.ts';
import { firstApply, firstApplyFiles, type BootstrapOutcome, type FirstApplyFiles, type FirstApplyPort } from './runtime/first-apply.ts';

export type { BootstrapOutcome } from './runtime/first-apply.ts';

export interface LocalRuntimeOptions {
  port: number;
  /** The first apply's marker and progress file; default in NEXUS_HOME (runtime/first-apply.ts). */
  firstApply?: FirstApplyFiles;
  log: (msg: string) => void;
  config: NexusConfig;
  /** Single parts to replace (tests). */
  overrides?: NexusOverrides;
}

export interface LocalRuntime {
  nexus: Nexus;
  server: RunningServer;
  reconcile: ReconcileService;
  jobs: RunningJobs;
  /** Settles when the first-run bootstrap (or its skip) is over. */
  bootstrapped: Promise<BootstrapOutcome>;
  stop(): Promise<void>;
}

export async function startLocalRuntime(opts: LocalRuntimeOptions): Promise<LocalRuntime> {
  const { log } = opts;
  const nexus = await openNexus(opts.config, opts.overrides);
  const { reconcile } = nexus;
  const server = await startServer({ port: opts.port, nexus });
  const jobs = startJobs(await nexus.jobs(), log, { runAtStart: false });

  let timer: ReconcileTimer | undefined;
  let gitopsTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  // The first start applies the default tenant, one stack at a time in the desired state's order
  // (a child group needs its parent), through the same reconcile path and gates as any apply.
  const port: FirstApplyPort = {
    compile: () => reconcile.deps.compile(),
    reconcile: async (stack, state) => (await reconcile.reconciler.reconcileAll({ trigger: 'manual', concurrency: 1, state, stacks: [stack] }))[0],
  };
  const bootstrapped = firstApply(port, opts.firstApply ?? firstApplyFiles(opts.config.identity.home), log)
    .catch((err: Error): BootstrapOutcome => {
      log(`bootstrap failed: ${err.message}`);
      return { ran: true, ok: false, stacks: [] };
    })
    .then(async (outcome) => {
      if (stopped) return outcome;
      // The reconcile timer starts once the bootstrap is over, so it never races it; the catalog
      // jobs only read (their intervals may already have fired) and run once more now.
      timer = startReconcileTimer(reconcile.reconciler, { ...opts.config.reconcile, runAtStart: !outcome.ran });
      // Stacks a push queued before a stop (or while the bootstrap ran) are driven now and every minute.
      if (nexus.gitops) {
        const kick = () => void nexus.gitops!.kick().catch((err) => log(`gitops: driving queued pushes failed: ${(err as Error).message}`));
        kick();
        gitopsTimer = setInterval(kick, 60_000);
        gitopsTimer.unref();
      }
      await Promise.all([jobs.runNow('pulumi-state-ingestion').catch(() => undefined), jobs.runNow('resource-graph-poll')]);
      return outcome;
    });

  return {
    nexus,
    server,
    reconcile,
    jobs,
    bootstrapped,
    async stop() {
      stopped = true;
      clearInterval(gitopsTimer);
      await Promise.all([timer?.stop(), jobs.stop()]);
      await server.close();
      await nexus.close();
    },
  };
}
