// Drift benchmark: the drift report of every stack of the default tenant with 500 subscriptions
// and 5,000 resources changed behind Nexus's back (half real drift, half service noise), read
// through the real clients from the ARM sandbox (its own process, so its CPU is not counted) and
// stored in Azurite. Nexus's own time is this process's CPU time during the reports (waiting on
// the sandbox and Azurite is not Nexus's); memory is the peak heap and RSS seen.
//   node --import tsx scripts/bench/drift.ts   (NEXUS_BENCH_SUBSCRIPTIONS, NEXUS_BENCH_CHANGED, NEXUS_BENCH_ROUNDS)
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAzurite } from '../lib/azurite.ts';
import { startSandbox } from '../sandbox/server.ts';
import { compileTenant, defaultLibraries, DEFAULT_ARCHITECTURE } from '../../stacks/compile/index.ts';
import type { DesiredResource, DesiredState } from '../../stacks/compile/model.ts';
import { loadConfig } from '../../functions/runtime/config.ts';
import { armConfig } from '../../functions/platform/arm.ts';
import { storageConfig } from '../../functions/platform/storage-config.ts';
import { openDrift } from '../../functions/runtime/drift.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = join(ROOT, '.nexus', 'bench', 'drift');
const N = Number(process.env.NEXUS_BENCH_SUBSCRIPTIONS ?? 500);
const CHANGED = Number(process.env.NEXUS_BENCH_CHANGED ?? 5000);
const ROUNDS = Number(process.env.NEXUS_BENCH_ROUNDS ?? 5);
const log = (msg: string) => process.stderr.write(`[bench:drift] ${msg}\n`);
const SA_API = '2023-05-01';

const LANDING = ['corp', 'online', 'sandbox', 'corp', 'online', 'local'];
const subscriptions = Array.from({ length: N }, (_, i) => ({
  id: `5ab${String(i).padStart(5, '0')}-0000-4000-8000-000000000000`,
  managementGroup: LANDING[i % LANDING.length]!,
}));

const storageBody = (i: number) => ({
  location: 'westeurope', kind: 'StorageV2', sku: { name: 'Standard_LRS' }, tags: { owner: `team-${i % 40}` },
  properties: { minimumTlsVersion: 'TLS1_2', allowBlobPublicAccess: false, supportsHttpsTrafficOnly: true },
});

/** The default tenant plus CHANGED storage accounts, each in the stack of its subscription's group. */
async function desiredState(tenantId: string): Promise<DesiredState> {
  const state = await compileTenant({
    libraries: defaultLibraries(process.env), architecture: DEFAULT_ARCHITECTURE, subscriptions, tenantRootId: tenantId, rootMg: tenantId,
  });
  const stackOf = new Map(state.stacks.map((s) => [s.managementGroupId, s]));
  for (let i = 0; i < CHANGED; i++) {
    const sub = subscriptions[i % N]!;
    const name = `stbench${String(i).padStart(5, '0')}`;
    const scope = `/subscriptions/${sub.id}/resourceGroups/rg-bench`;
    const stack = stackOf.get(sub.managementGroup) ?? state.stacks[0]!;
    const r: DesiredResource = {
      id: `${scope}/providers/Microsoft.Storage/storageAccounts/${name}`, kind: 'resource', type: 'Microsoft.Storage/storageAccounts',
      apiVersion: SA_API, name, scope, stack: stack.name, body: storageBody(i) as DesiredResource['body'], dependsOn: [], source: { file: 'bench' },
    };
    state.resources.push(r);
    stack.resourceIds.push(r.id);
  }
  return state;
}

/** Seeds the sandbox's data file: the groups, subscriptions, the accounts as Nexus made them, then everyone's changes. */
async function seed(dataFile: string): Promise<{ tenantId: string; state: DesiredState }> {
  const sb = await startSandbox({ dataFile });
  try {
    const state = await desiredState(sb.tenantId);
    for (const r of state.resources.filter((x) => x.kind === 'managementGroup')) sb.state.put(r.id, r.body as never, 'nexus@sandbox');
    for (const s of subscriptions) sb.state.addSubscription({ subscriptionId: s.id, managementGroupId: s.managementGroup }, 'nexus@sandbox');
    for (const s of subscriptions) sb.state.put(`/subscriptions/${s.id}/resourceGroups/rg-bench`, { location: 'westeurope' } as never, 'nexus@sandbox');
    const accounts = state.resources.filter((x) => x.type === 'Microsoft.Storage/storageAccounts');
    for (const r of accounts) sb.state.put(r.id, r.body as never, 'nexus@sandbox');
    accounts.forEach((r, i) => {
      // Half real drift by a person; half a service-filled default the program never set.
      const patch = i % 2 === 0 ? { properties: { allowBlobPublicAccess: true } } : { properties: { accessTier: 'Hot' } };
      sb.state.update(r.id, patch as never, i % 4 === 0 ? 'pipeline-sp' : `user${i % 97}@contoso.com`);
    });
    sb.state.tenant.save();
    return { tenantId: sb.tenantId, state };
  } finally {
    await sb.stop();
  }
}

/** The sandbox in a child process, from the seeded data file; resolves with its environment. */
function sandboxChild(dataFile: string): Promise<{ env: Record<string, string>; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/sandbox/main.ts'), '--data', dataFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => { err += d; if (err.includes('Ctrl-C stops it')) done(); });
    child.stdout!.on('data', (d) => (out += d));
    child.on('exit', (code) => reject(new Error(`sandbox exited (${code}): ${err}`)));
    const done = () => {
      const env: Record<string, string> = {};
      for (const m of out.matchAll(/^export (\w+)='([^']*)'$/gm)) env[m[1]!] = m[2]!;
      resolve({ env, stop: () => child.kill('SIGTERM') });
    };
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

rmSync(DIR, { recursive: true, force: true });
mkdirSync(DIR, { recursive: true });
const dataFile = join(DIR, 'sandbox.json');
log(`seeding ${N} subscriptions and ${CHANGED} changed storage accounts`);
const { state } = await seed(dataFile);
const [az, sb] = await Promise.all([startAzurite({ inMemory: true }), sandboxChild(dataFile)]);
try {
  process.env.NODE_EXTRA_CA_CERTS = sb.env.NODE_EXTRA_CA_CERTS;
  const env = { ...process.env, ...az.env, ...sb.env };
  const config = loadConfig(env);
  const parts = { config, storage: storageConfig(config.storage), arm: armConfig(config.arm) };
  const drift = (await openDrift(parts))!;
  const rounds: { wallMs: number; cpuMs: number; items: number; suppressed: number; changes: number }[] = [];
  let peakHeap = 0;
  let peakRss = 0;
  const sample = setInterval(() => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  }, 100);
  for (let round = 0; round < ROUNDS; round++) {
    globalThis.gc?.();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let items = 0;
    let suppressed = 0;
    let changes = 0;
    for (const s of state.stacks) {
      const scopes = drift.scopes(state, s.name);
      const signals = await drift.readSignals(scopes, new Date(Date.now() - 86_400_000).toISOString());
      if (signals.unavailable.length) throw new Error(`${s.name}: ${JSON.stringify(signals.unavailable)}`);
      changes += signals.changes.length;
      const report = await drift.report({ stack: s.name, runId: undefined, state, mode: 'report', signals });
      items += report.items.length;
      suppressed += report.suppressed.reduce((n, x) => n + x.count, 0);
    }
    const cpu = process.cpuUsage(c0);
    rounds.push({ wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, items, suppressed, changes });
    log(`round ${round + 1}: ${Math.round(rounds.at(-1)!.wallMs)} ms wall, ${Math.round(rounds.at(-1)!.cpuMs)} ms Nexus CPU, ${items} items`);
  }
  clearInterval(sample);
  const last = rounds.at(-1)!;
  process.stdout.write(JSON.stringify({
    bench: 'drift', subscriptions: N, changedResources: CHANGED, stacks: state.stacks.length, rounds: ROUNDS,
    changesRead: last.changes, items: last.items, suppressedDifferences: last.suppressed,
    // Nexus's own time: this process's CPU during the reports (the sandbox and Azurite run elsewhere).
    nexusMs: Math.round(median(rounds.map((r) => r.cpuMs))),
    wallMs: Math.round(median(rounds.map((r) => r.wallMs))),
    peakHeapMB: Math.round(peakHeap / 1048576), peakRssMB: Math.round(peakRss / 1048576),
  }) + '\n');
} finally {
  sb.stop();
  void az.stop();
}
