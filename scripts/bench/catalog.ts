// Catalog API benchmark: 100,000 entities, the API server in a child process (its own core),
// autocannon with 200 connections on loopback: GET by name, then search. Prints one JSON line.
//
// The entities are validated by the catalog (CatalogService.validate) and put straight into its
// in-memory index, which is what GET and search answer from; writing 100,000 entities through
// Azurite first would take the emulator most of an hour (its store slows down as tables grow),
// and would not change the path measured here. Storage (Azurite) is still what the server opens.
//   node --import tsx scripts/bench/catalog.ts      (NEXUS_BENCH_ENTITIES, NEXUS_BENCH_SECONDS to change)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { freePort, startAzurite } from '../lib/azurite.ts';
import { storageConfig } from '../../functions/platform/storage-config.ts';
import { CatalogService } from '../../functions/catalog/service.ts';
import { identityConfig, signDevToken } from '../../functions/platform/identity.ts';
import { Inbox } from '../../functions/catalog/inbox.ts';
import { entityRefOf } from '../../functions/catalog/refs.ts';
import { startServer } from '../../functions/server.ts';

// autocannon ships no types; the part used here, typed.
interface CannonResult {
  latency: { p50: number; p99: number; average: number };
  requests: { average: number; total: number };
  errors: number;
  non2xx: number;
}
type Cannon = (opts: Record<string, unknown>) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const N = Number(process.env.NEXUS_BENCH_ENTITIES ?? 100_000);
const SECONDS = Number(process.env.NEXUS_BENCH_SECONDS ?? 15);
const CONNECTIONS = 200;
const TEAMS = 200;
const log = (msg: string) => process.stderr.write(`[bench:catalog] ${msg}\n`);

// ---- data --------------------------------------------------------------------------------------
const WORDS = ('billing payments checkout ledger fraud search catalog identity gateway inventory orders shipping ' +
  'pricing invoices accounts notifications analytics reporting storage queue events stream cache profile ' +
  'session audit compliance scheduler metrics logging tracing config secrets vault portal mobile web api').split(' ');
const KINDS = ['Service', 'Repository', 'AzureResource', 'API', 'Package'] as const;

function rand(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

export function entityAt(i: number): Record<string, unknown> {
  const r = rand(i + 1);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const w1 = pick(WORDS), w2 = pick(WORDS);
  if (i < TEAMS) {
    return { apiVersion: 'nexus/v1', kind: 'Team', metadata: { name: `team-${i}`, title: `Team ${w1} ${w2}` }, spec: { type: 'team' } };
  }
  const kind = KINDS[i % KINDS.length];
  const name = `${w1}-${w2}-${i}`;
  const owner = `team-${i % TEAMS}`;
  const base = { apiVersion: 'nexus/v1', kind, metadata: { name, description: `${w1} ${w2} ${pick(WORDS)} component number ${i}`, tags: [w1, pick(['java', 'go', 'dotnet', 'python', 'node'])] } };
  switch (kind) {
    case 'Service': return { ...base, spec: { owner, lifecycle: pick(['production', 'experimental', 'deprecated']), tier: pick(['gold', 'silver']) } };
    case 'Repository': return { ...base, spec: { owner, url: `https://github.com/contoso/${name}`, provider: 'github' } };
    case 'AzureResource': return { ...base, spec: { owner, type: pick(['Microsoft.Web/sites', 'Microsoft.Sql/servers', 'Microsoft.Storage/storageAccounts']), region: pick(['westeurope', 'northeurope', 'eastus']), sku: pick(['S1', 'P1v3', 'Standard_LRS']) } };
    case 'API': return { ...base, spec: { owner, type: 'openapi', version: `v${1 + (i % 3)}` } };
    default: return { ...base, spec: { owner, version: `1.${i % 20}.0`, license: pick(['MIT', 'Apache-2.0']) } };
  }
}

/** Child process: a catalog holding N entities, served by the real server. */
async function serve(): Promise<void> {
  const storage = storageConfig(process.env);
  const suffix = Date.now().toString(36);
  const catalog = await CatalogService.open({ storage, tables: { entities: `benchcat${suffix}`, relations: `benchrel${suffix}` } });
  const started = Date.now();
  for (let i = 0; i < N; i++) {
    const e = catalog.validate(entityAt(i), { name: 'bench', scope: 'bench' });
    catalog.index.put({
      key: entityRefOf(e), entity: { ...e, relations: [] }, etag: `W/"bench-${i}"`,
      declared: e.relations.map((r) => ({ type: r.type, target: r.targetRef })),
    });
  }
  log(`indexed ${catalog.index.size} entities in ${Date.now() - started} ms`);
  const inbox = await Inbox.open({ storage, table: `benchdlv${suffix}` });
  const server = await startServer({ port: Number(process.env.PORT), wiring: { catalog, inbox, handlers: {}, close: async () => undefined } });
  process.stdout.write(`Nexus API on ${server.url}\n`);
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
}

// ---- server ------------------------------------------------------------------------------------
async function startServerChild(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve'], {
    env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT,
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => { out += d; if (out.includes('Nexus API on')) resolve(); });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

interface Figures { p50: number; p99: number; mean: number; rps: number; requests: number; errors: number; non2xx: number }

async function cannon(url: string, token: string, path: () => string, seconds = SECONDS): Promise<Figures> {
  const result = await autocannon({
    url, connections: CONNECTIONS, duration: seconds, headers: { authorization: `Bearer ${token}` },
    requests: [{ method: 'GET', setupRequest: (req: Record<string, unknown>) => ({ ...req, path: path() }) }],
  });
  return {
    p50: result.latency.p50, p99: result.latency.p99, mean: Math.round(result.latency.average * 100) / 100,
    rps: Math.round(result.requests.average), requests: result.requests.total, errors: result.errors, non2xx: result.non2xx,
  };
}

async function main() {
  const az = await startAzurite();
  let server: { url: string; child: ChildProcess } | undefined;
  try {
    const env = {
      ...az.env,
      NEXUS_HOME: mkdtempSync(join(tmpdir(), 'nexus-bench-')),
      NEXUS_LOCAL_ISSUER: '1',
      NEXUS_API_AUDIENCE: 'api://nexus-bench',
    };
    const token = await signDevToken({ user: 'bench', roles: ['Developer'], expiresIn: '2h' }, identityConfig(env));
    log(`starting the API server with ${N} entities`);
    const t0 = Date.now();
    server = await startServerChild(env);
    log(`server ready in ${Date.now() - t0} ms at ${server.url}`);

    const r = rand(42);
    const pathOf = (i: number) => {
      const e = entityAt(i);
      return `/api/v1/entities/${String(e.kind).toLowerCase()}/default/${(e.metadata as { name: string }).name}`;
    };
    // Warm-up, and a check that the paths really answer 200.
    const probe = await fetch(server.url + pathOf(TEAMS + 7), { headers: { authorization: `Bearer ${token}` } });
    if (probe.status !== 200) throw new Error(`GET ${pathOf(TEAMS + 7)} answered ${probe.status}: ${await probe.text()}`);
    await cannon(server.url, token, () => pathOf(Math.floor(r() * N)), 3);
    log(`GET by name: ${CONNECTIONS} connections, ${SECONDS}s`);
    const get = await cannon(server.url, token, () => pathOf(Math.floor(r() * N)));
    log(`search: ${CONNECTIONS} connections, ${SECONDS}s`);
    const search = await cannon(server.url, token, () => {
      const q = r() < 0.5 ? WORDS[Math.floor(r() * WORDS.length)] : `${WORDS[Math.floor(r() * WORDS.length)]} ${WORDS[Math.floor(r() * WORDS.length)]}`;
      return `/api/v1/search?q=${encodeURIComponent(q)}&limit=20`;
    });
    const figures = {
      bench: 'catalog', entities: N, connections: CONNECTIONS, seconds: SECONDS,
      get, search,
      targets: { getP99Ms: 20, searchP99Ms: 50, getMet: get.p99 < 20 && get.non2xx === 0, searchMet: search.p99 < 50 && search.non2xx === 0 },
    };
    process.stdout.write(JSON.stringify(figures) + '\n');
  } finally {
    server?.child.kill('SIGTERM');
    await az.stop();
  }
}

if (process.argv.includes('--serve')) await serve();
else await main();
