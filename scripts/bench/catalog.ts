// Catalog API benchmark: 100,000 entities (the realistic mix of catalog-data.ts: every kind, owners,
// tags, relations), the API server in a child process, autocannon with 200 connections on loopback
// from this process (which does nothing else while it measures): GET by name over many different
// entities, then search with a rotating set of realistic queries. Every request carries a real
// bearer token that the server verifies. Prints one JSON line with p50, p99 and throughput.
//
// The entities are validated by the catalog (CatalogService.validate) and put straight into its
// in-memory index, which is what GET and search answer from; writing 100,000 entities through
// Azurite first would take the emulator most of an hour (its store slows down as tables grow),
// and would not change the path measured here. Storage (Azurite) is still what the server opens.
//   node --import tsx scripts/bench/catalog.ts
//   NEXUS_BENCH_ENTITIES, NEXUS_BENCH_SECONDS change the size and the duration;
//   NEXUS_BENCH_CPU_PROF=DIR writes a V8 CPU profile of the server to DIR (open it in Chrome DevTools).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { startAzurite } from '../lib/azurite.ts';
import { storageConfig } from '../../functions/platform/storage-config.ts';
import { CatalogService } from '../../functions/catalog/service.ts';
import { signDevToken } from '../../functions/platform/identity.ts';
import { loadConfig } from '../../functions/runtime/config.ts';
import { openNexus } from '../../functions/runtime/nexus.ts';
import { Inbox } from '../../functions/catalog/inbox.ts';
import { entityRefOf } from '../../functions/catalog/refs.ts';
import { startServer } from '../../functions/server.ts';
import { entityPath, generateEntities, searchTerms } from './catalog-data.ts';
import { startServerChild as startChild, stopChild } from './server-child.ts';

// autocannon ships no types; the part used here, typed.
interface CannonResult {
  latency: { p50: number; p90: number; p99: number; average: number; max: number };
  requests: { average: number; total: number };
  throughput: { average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Cannon = (opts: Record<string, unknown>) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const N = Number(process.env.NEXUS_BENCH_ENTITIES ?? 100_000);
const SECONDS = Number(process.env.NEXUS_BENCH_SECONDS ?? 15);
const CONNECTIONS = 200;
const log = (msg: string) => process.stderr.write(`[bench:catalog] ${msg}\n`);

function rand(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** Child process: a catalog holding N entities, served by the real server. */
async function serve(): Promise<void> {
  // No index refresh: the benchmark's catalog lives in this process only.
  const config = loadConfig({ ...process.env, NEXUS_CATALOG_REFRESH_SECONDS: '0' });
  const storage = storageConfig(config.storage);
  const suffix = Date.now().toString(36);
  // Storage is opened before the long indexing, so no idle connection to the emulator goes stale meanwhile.
  const [catalog, inbox] = await Promise.all([
    CatalogService.open({ storage, tables: { entities: `benchcat${suffix}`, relations: `benchrel${suffix}` } }),
    Inbox.open({ storage, table: `benchdlv${suffix}` }),
  ]);
  const started = Date.now();
  let i = 0;
  for (const input of generateEntities(N)) {
    const e = catalog.validate(input, { name: 'bench', scope: 'bench' });
    catalog.index.put({
      key: entityRefOf(e), entity: { ...e, relations: [] }, etag: `W/"bench-${i++}"`,
      declared: e.relations.map((r) => ({ type: r.type, target: r.targetRef })),
    });
  }
  log(`indexed ${catalog.index.size} entities in ${Date.now() - started} ms`);
  const nexus = await openNexus(config, { storage, catalog, inbox, handlers: {} });
  const server = await startServer({ port: Number(process.env.PORT), nexus });
  (globalThis as { gc?: () => void }).gc?.();
  process.stdout.write(`Nexus API on ${server.url}\n`);
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
}

/**
 * Child process: the ceiling of this machine at this moment. A bare node:http server answering every
 * request with the same body (a real GET response), no routing, no auth, no catalog: measured with
 * the same autocannon settings, it shows how much of the latency is the machine rather than Nexus.
 */
async function serveBare(): Promise<void> {
  const { createServer } = await import('node:http');
  const body = Buffer.from(process.env.NEXUS_BENCH_BODY ?? '{}');
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
  server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('Nexus API on bare\n'));
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

// ---- server ------------------------------------------------------------------------------------
async function startServerChild(env: Record<string, string>, mode = '--serve'): Promise<{ url: string; child: ChildProcess }> {
  const prof = mode === '--serve' ? process.env.NEXUS_BENCH_CPU_PROF : undefined;
  const flags = ['--expose-gc', ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [])];
  return startChild(fileURLToPath(import.meta.url), env, { mode, flags, cwd: ROOT });
}

interface Figures { p50: number; p90: number; p99: number; max: number; mean: number; rps: number; requests: number; errors: number; timeouts: number; non2xx: number; bytesPerResponse: number }

async function cannon(url: string, token: string, paths: string[], seconds = SECONDS): Promise<Figures> {
  let next = 0;
  const result = await autocannon({
    url, connections: CONNECTIONS, duration: seconds, headers: { authorization: `Bearer ${token}` },
    requests: [{ method: 'GET', setupRequest: (req: Record<string, unknown>) => ({ ...req, path: paths[next++ % paths.length] }) }],
  });
  return {
    p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max,
    mean: Math.round(result.latency.average * 100) / 100,
    rps: Math.round(result.requests.average), requests: result.requests.total,
    errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx,
    bytesPerResponse: result.requests.average ? Math.round(result.throughput.average / result.requests.average) : 0,
  };
}

/** Realistic search box input: single words, several words, prefixes being typed, kind filters, names. */
function searchQueries(names: string[]): string[] {
  const r = rand(7);
  const word = () => searchTerms[Math.floor(r() * searchTerms.length)]!;
  const prefix = () => { const w = word(); return w.slice(0, 3 + Math.floor(r() * (w.length - 2))); };
  const kinds = ['service', 'repository', 'api', 'package', 'pipeline', 'azureresource'];
  const out: string[] = [];
  for (let i = 0; i < 400; i++) {
    switch (i % 8) {
      case 0: out.push(word()); break;
      case 1: out.push(`${word()} ${word()}`); break;
      case 2: out.push(`${word()} ${prefix()}`); break;
      case 3: out.push(prefix()); break;
      case 4: out.push(`kind:${kinds[i % kinds.length]} ${word()}`); break;
      case 5: out.push(`${word()} ${word()} ${word()}`); break;
      case 6: out.push(names[Math.floor(r() * names.length)]!); break;
      default: out.push(`${word()} ${['java', 'go', 'python', 'node', 'production', 'westeurope'][i % 6]}`); break;
    }
  }
  return out.map((q) => `/api/v1/search?q=${encodeURIComponent(q)}&limit=20`);
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
    const token = await signDevToken({ user: 'bench', roles: ['Developer'], expiresIn: '2h' }, loadConfig(env).identity);

    // Every path is worked out before the clock starts, so autocannon's process only sends requests.
    const all: string[] = [];
    const names: string[] = [];
    for (const e of generateEntities(N)) {
      all.push(entityPath(e));
      names.push((e.metadata as { name: string }).name);
    }
    const r = rand(42);
    const getPaths = Array.from({ length: 50_000 }, () => all[Math.floor(r() * all.length)]!);
    const searchPaths = searchQueries(names);

    log(`starting the API server with ${N} entities`);
    const t0 = Date.now();
    server = await startServerChild(env);
    log(`server ready in ${Date.now() - t0} ms at ${server.url}`);

    // A check that the paths really answer 200, then a warm-up of both routes.
    let sample = '';
    for (const p of [getPaths[0]!, searchPaths[0]!]) {
      const probe = await fetch(server.url + p, { headers: { authorization: `Bearer ${token}` } });
      if (probe.status !== 200) throw new Error(`GET ${p} answered ${probe.status}: ${await probe.text()}`);
      sample ||= await probe.text();
    }
    // No request without a valid token gets through.
    const refused = await fetch(server.url + getPaths[0]!, { headers: { authorization: `Bearer ${token.slice(0, -4)}AAAA` } });
    if (refused.status !== 401) throw new Error(`a forged token answered ${refused.status}`);

    log(`baseline: bare node:http with a ${sample.length}-byte body, ${CONNECTIONS} connections, ${SECONDS}s`);
    const bare = await startServerChild({ NEXUS_BENCH_BODY: sample }, '--bare');
    let baseline: Figures;
    try {
      await cannon(bare.url, token, getPaths, 2);
      baseline = await cannon(bare.url, token, getPaths);
    } finally {
      await stopChild(bare.child);
    }

    await cannon(server.url, token, getPaths.slice(25_000), 3);
    await cannon(server.url, token, searchPaths.slice(200), 3);
    log(`GET by name: ${CONNECTIONS} connections, ${SECONDS}s, ${new Set(getPaths).size} different entities`);
    const get = await cannon(server.url, token, getPaths);
    log(`search: ${CONNECTIONS} connections, ${SECONDS}s, ${new Set(searchPaths).size} different queries`);
    const search = await cannon(server.url, token, searchPaths);
    const figures = {
      bench: 'catalog', entities: N, connections: CONNECTIONS, seconds: SECONDS,
      // The machine at the end of the run: other processes' load shows in every figure below.
      machine: { cpus: cpus().length, loadavg1m: Math.round(loadavg()[0]! * 100) / 100 },
      get, search, baseline,
      targets: {
        getP99Ms: 20, searchP99Ms: 50,
        getMet: get.p99 < 20 && get.non2xx === 0 && get.errors === 0,
        searchMet: search.p99 < 50 && search.non2xx === 0 && search.errors === 0,
      },
    };
    process.stdout.write(JSON.stringify(figures) + '\n');
  } finally {
    if (server) await stopChild(server.child);
    await az.stop();
  }
}

if (process.argv.includes('--serve')) await serve();
else if (process.argv.includes('--bare')) await serveBare();
else await main();
