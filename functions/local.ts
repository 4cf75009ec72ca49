// The local runtime behind `npm run up`: the API server, a first-run bootstrap of the default
// tenant, the reconcile timer and the catalog jobs, in one process. Storage, the tenant and the
// Pulumi backend come from the environment scripts/up.ts prepared (Azurite and the ARM sandbox).
import { existsSync, writeFileSync } from 'node:fs';
import { startServer, type RunningServer } from './server.ts';
import type { ReconcileService } from './reconcile/service.ts';
import { startReconcileTimer, type ReconcileTimer } from './reconcile/scheduler.ts';
import type { ReconcileResult } from './reconcile/loop.ts';
import { startJobs, type RunningJobs } from './jobs.ts';
import type { NexusConfig } from './runtime/config.ts';
import { openNexus, type Nexus, type NexusOverrides } from './runtime/nexus.ts';

export interface LocalRuntimeOptions {
  port: number;
  /** Written once the default tenant has been applied; while missing, each start bootstraps. */
  bootstrapMarker: string;
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

export interface BootstrapOutcome {
  ran: boolean;
  ok: boolean;
  /** One line per stack: `name: decision (reasons)`. */
  stacks: string[];
}

const SETTLED = new Set(['applied', 'no-change']);

function describe(r: ReconcileResult): { line: string; ok: boolean } {
  if (r.status === 'skipped') return { line: `${r.stack}: skipped (${r.reason}${r.holder ? ` by ${r.holder}` : ''})`, ok: false };
  const run = r.run;
  const why = [...run.gates.filter((g) => !g.pass).map((g) => `${g.reason}: ${g.details.message}`), ...(run.error ? [run.error] : [])];
  const decision = run.decision ?? run.status;
  return { line: `${run.stack}: ${decision}${why.length ? ` (${why.join('; ')})` : ''}`, ok: SETTLED.has(decision) };
}

/**
 * The first start applies the default tenant into the sandbox: every stack, one at a time in
 * dependency order (a child group needs its parent), through the same reconcile path and gates as
 * any other apply. A stack a gate stops is reported with its reason and retried on the next start.
 */
async function bootstrap(svc: ReconcileService, marker: string, log: (msg: string) => void): Promise<BootstrapOutcome> {
  if (existsSync(marker)) return { ran: false, ok: true, stacks: [] };
  log('first run: applying the default tenant to the ARM sandbox through the reconcile gates (a few minutes)');
  const results = await svc.reconciler.reconcileAll({ trigger: 'manual', concurrency: 1 });
  const lines = results.map(describe);
  for (const l of lines) log(`  ${l.line}`);
  const ok = lines.every((l) => l.ok);
  if (ok) writeFileSync(marker, `${new Date().toISOString()}\n`);
  else log('bootstrap incomplete: see the stacks above (`npx nexus runs` has the details); the next start tries again');
  return { ran: true, ok, stacks: lines.map((l) => l.line) };
}

export async function startLocalRuntime(opts: LocalRuntimeOptions): Promise<LocalRuntime> {
  const { log } = opts;
  const nexus = await openNexus(opts.config, opts.overrides);
  const { reconcile } = nexus;
  const server = await startServer({ port: opts.port, nexus });
  const jobs = startJobs(await nexus.jobs(), log, { runAtStart: false });

  let timer: ReconcileTimer | undefined;
  let stopped = false;
  const bootstrapped = bootstrap(reconcile, opts.bootstrapMarker, log)
    .catch((err: Error): BootstrapOutcome => {
      log(`bootstrap failed: ${err.message}`);
      return { ran: true, ok: false, stacks: [] };
    })
    .then(async (outcome) => {
      if (stopped) return outcome;
      // The reconcile timer starts once the bootstrap is over, so it never races it; the catalog
      // jobs only read (their intervals may already have fired) and run once more now.
      timer = startReconcileTimer(reconcile.reconciler, { ...opts.config.reconcile, runAtStart: !outcome.ran });
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
      await Promise.all([timer?.stop(), jobs.stop()]);
      await server.close();
      await nexus.close();
    },
  };
}
