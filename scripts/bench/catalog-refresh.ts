// Catalog refresh benchmark: what one instance's refresh() costs when a catalog of 100,000 entities
// has not changed (the 5-second loop every API instance runs). The entities (the realistic mix of
// catalog-data.ts, validated by the catalog) are written as catalog rows straight into Azurite with
// batch transactions, 100 rows a request: through bulkUpsert, with their relation rows, the
// emulator slows down so much past 30,000 rows that seeding would take most of an hour, and
// refresh never reads relation rows. A reader instance opens the tables and refreshes repeatedly;
// every storage request it sends goes through a counting pipeline policy: requests and entities
// received per refresh, and the time each takes. Then one entity changes, to show what one change
// costs. Prints one JSON line.
//   node --import tsx scripts/bench/catalog-refresh.ts
//   NEXUS_BENCH_BASELINE=DIR also measures the checkout in DIR (e.g. `git worktree add DIR <commit>`)
//   over the same data, for a before/after from one seeding.
//   NEXUS_BENCH_ENTITIES (default 100000), NEXUS_BENCH_REFRESHES (default 24) change the size.
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAzurite } from '../lib/azurite.ts';
import { storageConfig, type StorageConfig } from '../../functions/platform/storage-config.ts';
import { loadConfig } from '../../functions/runtime/config.ts';
import { CatalogService } from '../../functions/catalog/service.ts';
import { Table } from '../../functions/platform/tables.ts';
import { chunkText } from '../../functions/platform/row-chunks.ts';
import { mapLimit } from '../../functions/platform/map-limit.ts';
import { tableKeysOf, entityRefOf } from '../../functions/catalog/refs.ts';
import { generateEntities } from './catalog-data.ts';

const N = Number(process.env.NEXUS_BENCH_ENTITIES ?? 100_000);
const REFRESHES = Number(process.env.NEXUS_BENCH_REFRESHES ?? 24);
/** Past every journal window (settle + overlap), so "unchanged" means nothing recent either. */
const QUIET_MS = Number(process.env.NEXUS_BENCH_QUIET_MS ?? 25_000);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const log = (msg: string) => process.stderr.write(`[bench:catalog-refresh] ${msg}\n`);

interface Counter { requests: number; entities: number }

/** A storage config whose table clients count requests and the entities their answers carry. */
function counting(storage: StorageConfig, counter: Counter): StorageConfig {
  const policy: PipelinePolicy = {
    name: 'benchCounter',
    async sendRequest(req, next) {
      counter.requests++;
      const res = await next(req);
      if (req.method === 'GET' && res.status === 200 && res.bodyAsText) {
        try {
          const body = JSON.parse(res.bodyAsText) as { value?: unknown[] };
          counter.entities += Array.isArray(body.value) ? body.value.length : 1;
        } catch { /* not JSON: not an entity */ }
      }
      return res;
    },
  };
  return {
    ...storage,
    tableClient: (table) => {
      const client = storage.tableClient(table);
      client.pipeline.addPolicy(policy);
      return client;
    },
  };
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const mean = (xs: number[]) => Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 100) / 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Writes N generated entities as catalog rows: the document (the entity as the catalog prepares
 * it, and its declared relations) in chunks, the filterable columns, version 1.
 */
async function seed(catalog: CatalogService, storage: StorageConfig, table: string): Promise<void> {
  const rows = await Table.open<Record<string, unknown>>(table, storage);
  const byPk = new Map<string, Array<{ rowKey: string; value: Record<string, unknown> }>>();
  for (const input of generateEntities(N)) {
    const e = catalog.validate(input, { name: 'bench', scope: 'bench' });
    const declared = e.relations.map((r) => ({ type: r.type, target: r.targetRef }));
    const { pk, rk } = tableKeysOf(entityRefOf(e));
    const value = {
      version: 1, kind: e.kind, namespace: e.metadata.namespace, name: e.metadata.name,
      orphaned: false, lastSeen: e.status!.lastSeen, ...(e.status?.owner ? { owner: e.status.owner } : {}),
      ...chunkText('d', JSON.stringify({ entity: { ...e, relations: [] }, declared })),
    };
    let l = byPk.get(pk);
    if (!l) byPk.set(pk, (l = []));
    l.push({ rowKey: rk, value });
  }
  const batches = [...byPk].flatMap(([pk, l]) => Array.from({ length: Math.ceil(l.length / 100) }, (_, i) => ({ pk, ops: l.slice(i * 100, (i + 1) * 100) })));
  let done = 0;
  await mapLimit(batches, 8, async (b) => {
    await rows.batch(b.pk, b.ops.map((o) => ({ op: 'upsert' as const, rowKey: o.rowKey, value: o.value })));
    if ((done += b.ops.length) % 10_000 < 100) log(`seeding: ${done} rows`);
  });
}

/** What one reader measured: its open, refreshes of the unchanged catalog, and one after a change. */
interface ReaderFigures {
  open: { ms: number; requests: number; entities: number; indexed: number };
  unchanged: Record<'requestsPerRefresh' | 'entitiesReadPerRefresh' | 'msPerRefresh', { median: number; mean: number; max: number }>;
  oneChange?: { requests: number; entities: number; ms: number; changed: number };
}

/**
 * Child process: one reader instance over the seeded tables (NEXUS_BENCH_TABLES). Prints a line of
 * JSON after the unchanged refreshes, waits for a line on stdin (the writer changed the marker),
 * refreshes once more and prints the figures. Run from another checkout's copy of this file, it
 * measures that checkout's catalog over the same data (NEXUS_BENCH_BASELINE).
 */
async function reader(): Promise<void> {
  const storage = storageConfig(loadConfig(process.env).storage);
  const tables = JSON.parse(process.env.NEXUS_BENCH_TABLES!) as { entities: string; relations: string };
  const counter: Counter = { requests: 0, entities: 0 };
  const t0 = Date.now();
  const catalog = await CatalogService.open({ storage: counting(storage, counter), tables });
  const open = { ms: Date.now() - t0, requests: counter.requests, entities: counter.entities, indexed: catalog.index.size };
  if (catalog.index.size !== N + 1) throw new Error(`the reader indexed ${catalog.index.size} entities, not ${N + 1}: the seeded rows are not catalog rows`);
  log(`reader opened: ${JSON.stringify(open)}; quiet for ${QUIET_MS} ms`);
  await sleep(QUIET_MS);
  const measure = async () => {
    const before = { ...counter };
    const start = performance.now();
    const changed = await catalog.refresh();
    return { requests: counter.requests - before.requests, entities: counter.entities - before.entities, ms: Math.round((performance.now() - start) * 10) / 10, changed };
  };
  const runs: Array<{ requests: number; entities: number; ms: number; changed: number }> = [];
  for (let i = 0; i < REFRESHES; i++) runs.push(await measure());
  log(`unchanged: ${JSON.stringify(runs)}`);
  const pick = (f: 'requests' | 'entities' | 'ms') => runs.map((r) => r[f]);
  const stat = (xs: number[]) => ({ median: median(xs), mean: mean(xs), max: Math.max(...xs) });
  const figures: ReaderFigures = {
    open,
    unchanged: { requestsPerRefresh: stat(pick('requests')), entitiesReadPerRefresh: stat(pick('entities')), msPerRefresh: stat(pick('ms')) },
  };
  process.stdout.write(JSON.stringify(figures) + '\n');
  const tier = await new Promise<string>((resolve) => process.stdin.once('data', (d) => resolve(String(d).trim())));
  figures.oneChange = await measure();
  if ((await catalog.get('service:bench-marker'))?.spec.tier !== tier) throw new Error('the reader did not pick up the change');
  process.stdout.write(JSON.stringify(figures) + '\n');
  process.stdin.destroy(); // nothing more to wait for: let the process end
}

/** Runs a reader child (this file, or the same file in another checkout) and changes the marker when it is ready. */
async function runReader(file: string, cwd: string, env: Record<string, string>, change: (tier: string) => Promise<void>, tier: string): Promise<ReaderFigures> {
  const child = spawn(process.execPath, ['--import', 'tsx', file, '--reader'], { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let changed = false;
  return new Promise<ReaderFigures>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const lines = out.split('\n').filter(Boolean);
      if (lines.length === 1 && out.endsWith('\n') && !changed) {
        changed = true;
        change(tier).then(() => child.stdin!.write(`${tier}\n`), reject);
      }
      if (lines.length === 2 && out.endsWith('\n')) {
        child.stdin!.end();
        resolve(JSON.parse(lines[1]!) as ReaderFigures);
      }
    });
    child.once('exit', (code) => { if (code) reject(new Error(`reader in ${cwd} exited with ${code}`)); });
  });
}

async function main() {
  const az = await startAzurite({ inMemory: true });
  try {
    const storage = storageConfig(loadConfig(az.env).storage);
    const suffix = Date.now().toString(36);
    const tables = { entities: `benchcat${suffix}`, relations: `benchrel${suffix}` };
    const writer = await CatalogService.open({ storage, tables });
    const seeded = Date.now();
    await seed(writer, storage, tables.entities);
    log(`seeded ${N} entities in ${Math.round((Date.now() - seeded) / 1000)} s`);
    // Past the old refresh's 5-second look-back, so the seeding's last rows are not "recent" any more.
    await sleep(6_000);
    const marker = { apiVersion: 'nexus/v1', kind: 'Service', metadata: { name: 'bench-marker' }, spec: { lifecycle: 'production' } };
    await writer.upsert(marker, { name: 'bench' });
    const change = async (tier: string) => { await writer.update('service:bench-marker', (cur) => ({ ...cur, spec: { ...cur.spec, tier } }), { name: 'bench' }); };
    const env = { ...az.env, NEXUS_BENCH_TABLES: JSON.stringify(tables) };
    const self = fileURLToPath(import.meta.url);
    const readers: Record<string, ReaderFigures> = {};
    readers.current = await runReader(self, ROOT, env, change, 'current');
    // The same data read by another checkout's catalog (the code before a change), for a before/after.
    const baseline = process.env.NEXUS_BENCH_BASELINE;
    if (baseline) readers.baseline = await runReader(join(baseline, 'scripts/bench/catalog-refresh.ts'), baseline, env, change, 'baseline');
    process.stdout.write(JSON.stringify({
      bench: 'catalog-refresh', entities: N, refreshes: REFRESHES,
      machine: { cpus: cpus().length, loadavg1m: Math.round(loadavg()[0]! * 100) / 100 },
      ...readers.current,
      ...(readers.baseline ? { baseline: readers.baseline } : {}),
    }) + '\n');
  } finally {
    await az.stop();
  }
}

if (process.argv.includes('--reader')) await reader();
else await main();
