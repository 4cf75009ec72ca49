// Reconcile benchmark: one no-change reconcile of every stack of the default tenant with 500
// subscriptions, through the whole loop (lease, compile, drift signals and report, preview, gates, run and
// audit records) with the real engine, Azurite and the ARM sandbox. Prints one JSON line with
// Nexus's own time beside the engine's. The applied tenant is kept in .nexus/bench/reconcile so
// later runs skip applying it.
//   node --import tsx scripts/bench/reconcile.ts   (NEXUS_BENCH_SUBSCRIPTIONS to change the 500)
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAzurite } from '../lib/azurite.ts';
import { startSandbox } from '../sandbox/server.ts';
import { compileTenant, defaultLibraries, DEFAULT_ARCHITECTURE } from '../../stacks/compile/index.ts';
import { loadConfig } from '../../functions/runtime/config.ts';
import { armConfig } from '../../functions/platform/arm.ts';
import { createLogger } from '../../functions/platform/logger.ts';
import { storageConfig } from '../../functions/platform/storage-config.ts';
import { defaultDeps } from '../../functions/reconcile/deps.ts';
import { parseGuardrails } from '../../functions/reconcile/guardrails.ts';
import { Reconciler, type ReconcileResult } from '../../functions/reconcile/loop.ts';
import { openStores } from '../../functions/reconcile/store/index.ts';
import { openDrift } from '../../functions/runtime/drift.ts';
import type { RunRecord } from '../../functions/reconcile/model.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = join(ROOT, '.nexus', 'bench', 'reconcile');
const N = Number(process.env.NEXUS_BENCH_SUBSCRIPTIONS ?? 500);
const log = (msg: string) => process.stderr.write(`[bench:reconcile] ${msg}\n`);

// Subscriptions spread over the landing-zone groups, as a tenant's would be.
const LANDING = ['corp', 'online', 'sandbox', 'corp', 'online', 'local'];
const subscriptions = Array.from({ length: N }, (_, i) => ({
  id: `5ab${String(i).padStart(5, '0')}-0000-4000-8000-000000000000`,
  managementGroup: LANDING[i % LANDING.length]!,
}));

mkdirSync(DIR, { recursive: true });
const [az, sb] = await Promise.all([
  startAzurite({ location: join(DIR, 'azurite') }),
  startSandbox({ dataFile: join(DIR, 'sandbox.json'), subscriptions: subscriptions.map((s) => ({ subscriptionId: s.id })) }),
]);
try {
  // The provider process trusts the sandbox through NODE_EXTRA_CA_CERTS inherited from here.
  process.env.NODE_EXTRA_CA_CERTS = sb.caFile;
  const env: NodeJS.ProcessEnv = { ...process.env, ...az.env, ...sb.env, NEXUS_HOME: DIR, NEXUS_RESOURCE_BACKEND: 'arm-rest' };
  delete env.NEXUS_PULUMI_BACKEND_URL;
  delete env.NEXUS_KILL_SWITCH;
  const tc = performance.now();
  const state = await compileTenant({ libraries: defaultLibraries(env), architecture: DEFAULT_ARCHITECTURE, subscriptions, tenantRootId: sb.tenantId, rootMg: sb.tenantId });
  const compileMs = performance.now() - tc;
  const config = loadConfig(env);
  const storage = storageConfig(config.storage);
  const stores = await openStores(storage);
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  // The drift path as the runtime wires it (signals read while the engine previews, report stored).
  const drift = await openDrift({ config, storage, arm: armConfig(config.arm) });
  const make = async (guardrails?: ReturnType<typeof parseGuardrails>) =>
    new Reconciler(await defaultDeps({ config, storage, arm: armConfig(config.arm), logger }, { stores, logger, drift, compile: async () => state, ...(guardrails ? { guardrails: async () => guardrails } : {}) }));

  // Setup: apply the tenant once, parents first, with no per-run limits (a first deployment).
  const setup = await make(parseGuardrails({ previewReliability: { maxIssues: 1_000_000 } }));
  const runs = (rs: ReconcileResult[]) => rs.filter((r): r is { status: 'done'; run: RunRecord } => r.status === 'done').map((r) => r.run);
  const probe = runs(await setup.reconcileAll({ trigger: 'manual', dryRun: true, concurrency: 2, state }));
  if (probe.some((r) => r.decision !== 'no-change')) {
    log(`applying the default tenant with ${N} subscriptions (${state.resources.length} resources, ${state.stacks.length} stacks) into the sandbox`);
    for (const s of state.stacks) {
      const r = await setup.reconcile({ stack: s.name, trigger: 'manual', state });
      const run = r.status === 'done' ? r.run : undefined;
      log(`  ${s.name}: ${run?.decision} ${run?.reasons.join(',') ?? ''} (${run?.timings.totalMs} ms)${run?.error ? ` ${run.error.split('\n')[0]}` : ''}`);
      if (run?.decision !== 'applied' && run?.decision !== 'no-change') throw new Error(`setup of ${s.name} ended ${run?.decision}`);
    }
  }

  // Measured: one no-change reconcile of every stack with the shipped guardrails.
  const bench = await make();
  const t0 = performance.now();
  const results = runs(await bench.reconcileAll({ trigger: 'timer', state, concurrency: Number(process.env.NEXUS_RECONCILE_CONCURRENCY ?? 2) }));
  const wallMs = performance.now() - t0;
  const changed = results.filter((r) => r.decision !== 'no-change');
  if (results.length !== state.stacks.length || changed.length > 0) {
    throw new Error(`expected ${state.stacks.length} no-change runs, got ${results.map((r) => `${r.stack}=${r.decision}`).join(', ')}`);
  }
  const sum = (f: (r: RunRecord) => number | undefined) => results.reduce((n, r) => n + (f(r) ?? 0), 0);
  const runMs = sum((r) => r.timings.totalMs);
  const engineMs = sum((r) => r.timings.engineMs);
  const round = (x: number) => Math.round(x);
  process.stdout.write(JSON.stringify({
    bench: 'reconcile',
    subscriptions: N,
    stacks: results.length,
    resources: sum((r) => r.counts.same),
    wallMs: round(wallMs),
    concurrency: Number(process.env.NEXUS_RECONCILE_CONCURRENCY ?? 2),
    // Summed over the stacks' runs: Nexus's own time is everything but the engine's.
    runMs: round(runMs),
    engineMs: round(engineMs),
    nexusMs: round(runMs - engineMs),
    nexusShare: Number(((runMs - engineMs) / runMs).toFixed(3)),
    gatesMs: round(sum((r) => r.timings.gatesMs)),
    compileMs: round(compileMs),
    slowestStack: results.reduce((a, b) => ((b.timings.totalMs ?? 0) > (a.timings.totalMs ?? 0) ? b : a)).stack,
  }) + '\n');
} finally {
  await sb.stop();
  void az.stop();
}
