// Preview benchmark: a no-change preview of every stack of the default tenant, applied into the
// ARM sandbox through the real engine (Pulumi CLI, state in Azurite). Wall time split into the
// engine's (the CLI process: version check, stack selection, config, preview) and Nexus's own
// (the inline program registering resources, event mapping, the state container check, building
// the ChangeSet, everything else in this process). Prints one JSON line, and on stderr whether
// Nexus's share is under the 10% target. The applied tenant (Azurite data, sandbox file, passphrase) is kept in
// .nexus/bench/preview so later runs skip applying it.
//   node --import tsx scripts/bench/preview.ts
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAzurite } from '../lib/azurite.ts';
import { startSandbox } from '../sandbox/server.ts';
import { compileDefaultTenant } from '../../stacks/compile/index.ts';
import { previewTenant, upTenant, type StackResult } from '../../stacks/engine/tenant.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = join(ROOT, '.nexus', 'bench', 'preview');
const log = (msg: string) => process.stderr.write(`[bench:preview] ${msg}\n`);

mkdirSync(DIR, { recursive: true });
const [az, sb] = await Promise.all([
  startAzurite({ location: join(DIR, 'azurite') }),
  startSandbox({ dataFile: join(DIR, 'sandbox.json') }),
]);
try {
  const env: NodeJS.ProcessEnv = {
    ...process.env, ...az.env, ...sb.env, NEXUS_HOME: DIR, NEXUS_RESOURCE_BACKEND: 'arm-rest',
  };
  delete env.NEXUS_PULUMI_BACKEND_URL;
  const state = await compileDefaultTenant(env);
  const opts = { env, resourceBackend: 'arm-rest' as const };
  const changes = (rs: StackResult[]) =>
    rs.reduce((n, r) => n + r.changeSet.changes.filter((c) => c.op !== 'same').length, 0);

  let t = performance.now();
  const first = await previewTenant(state, opts);
  if (changes(first) > 0) {
    log(`applying the default tenant (${state.resources.length} resources, ${state.stacks.length} stacks) into the sandbox`);
    t = performance.now();
    await upTenant(state, {
      ...opts,
      onStack: (r) => log(`  ${r.name}: ${Object.entries(r.changeSet.summary).filter(([, n]) => n).map(([op, n]) => `${n} ${op}`).join(', ')} (${Math.round(r.timings.totalMs)} ms)`),
    });
    log(`applied in ${Math.round(performance.now() - t)} ms`);
  }

  const t0 = performance.now();
  const results = await previewTenant(state, opts);
  const wallMs = performance.now() - t0;
  const left = changes(results);
  if (left > 0) throw new Error(`the no-change preview found ${left} changes`);

  // The engine's time: the CLI while opening the stack (version check, select, config) and the
  // Automation API call, less what ran in this process inside that call (our inline program and
  // event handler). Everything else is Nexus's: compiling is done before the clock starts, but
  // preparing the program, the state container check and building the ChangeSet count as ours.
  const sum = (f: (r: StackResult) => number) => results.reduce((n, r) => n + f(r), 0);
  const engineMs = sum((r) => r.timings.setupMs + r.timings.engineMs - r.timings.programMs - r.timings.mappingMs);
  const nexusMs = wallMs - engineMs;
  const nexusShare = nexusMs / wallMs;
  const TARGET = 0.1;
  const round = (x: number) => Math.round(x);
  log(`Nexus's own share ${(nexusShare * 100).toFixed(1)}% of ${round(wallMs)} ms: ${nexusShare < TARGET ? 'under' : 'NOT under'} the ${TARGET * 100}% target`);
  process.stdout.write(JSON.stringify({
    bench: 'preview',
    stacks: results.length,
    resources: sum((r) => r.changeSet.changes.length),
    wallMs: round(wallMs),
    engineMs: round(engineMs),
    nexusMs: round(nexusMs),
    nexusShare: Number(nexusShare.toFixed(3)),
    nexusTarget: TARGET,
    underTarget: nexusShare < TARGET,
    programMs: round(sum((r) => r.timings.programMs)),
    mappingMs: round(sum((r) => r.timings.mappingMs)),
    buildMs: round(sum((r) => r.timings.buildMs)),
    storageMs: round(sum((r) => r.timings.storageMs)),
    slowestStack: results.reduce((a, b) => (b.timings.totalMs > a.timings.totalMs ? b : a)).name,
  }) + '\n');
} finally {
  await sb.stop();
  // Azurite is a detached child that does not hold this process open: ask it to stop, do not wait.
  void az.stop();
}
