// Catalog refresh benchmark: what one instance's refresh() costs when another instance's catalog of
// 100,000 entities has not changed (the 5-second loop every API instance runs). The entities are
// written through CatalogService.bulkUpsert into Azurite (batch transactions); a second instance
// opens the same tables and refreshes repeatedly. Every storage request of the reader goes through
// a counting pipeline policy: requests sent and entities received per refresh, and the time each
// refresh takes. Then one entity changes, to show what one change costs. Prints one JSON line.
//   node --import tsx scripts/bench/catalog-refresh.ts
//   NEXUS_BENCH_ENTITIES (default 100000), NEXUS_BENCH_REFRESHES (default 24) change the size.
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { cpus, loadavg } from 'node:os';
import { startAzurite } from '../lib/azurite.ts';
import { storageConfig, type StorageConfig } from '../../functions/platform/storage-config.ts';
import { CatalogService } from '../../functions/catalog/service.ts';
import { loadCatalog } from './catalog-data.ts';

const N = Number(process.env.NEXUS_BENCH_ENTITIES ?? 100_000);
const REFRESHES = Number(process.env.NEXUS_BENCH_REFRESHES ?? 24);
/** Past every journal window (settle + overlap), so "unchanged" means nothing recent either. */
const QUIET_MS = Number(process.env.NEXUS_BENCH_QUIET_MS ?? 25_000);
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

async function main() {
  const az = await startAzurite();
  try {
    const storage = storageConfig(az.env);
    const suffix = Date.now().toString(36);
    const tables = { entities: `benchcat${suffix}`, relations: `benchrel${suffix}` };
    const writer = await CatalogService.open({ storage, tables });
    const seeded = Date.now();
    await loadCatalog(writer, N, { chunk: 5000, log: (m) => log(`seeding: ${m}`) });
    log(`seeded ${writer.index.size} entities in ${Math.round((Date.now() - seeded) / 1000)} s`);
    // Past the old refresh's 5-second look-back, so the seeding's last rows are not "recent" any more.
    await sleep(6_000);
    const marker = { apiVersion: 'nexus/v1', kind: 'Service', metadata: { name: 'bench-marker' }, spec: { lifecycle: 'production' } };
    await writer.upsert(marker, { name: 'bench' });

    const counter: Counter = { requests: 0, entities: 0 };
    const t0 = Date.now();
    const reader = await CatalogService.open({ storage: counting(storage, counter), tables: writer.tableNames() });
    const open = { ms: Date.now() - t0, requests: counter.requests, entities: counter.entities, indexed: reader.index.size };
    log(`reader opened: ${JSON.stringify(open)}; quiet for ${QUIET_MS} ms`);
    await sleep(QUIET_MS);

    const runs: Array<{ requests: number; entities: number; ms: number; changed: number }> = [];
    for (let i = 0; i < REFRESHES; i++) {
      const before = { ...counter };
      const start = performance.now();
      const changed = await reader.refresh();
      runs.push({ requests: counter.requests - before.requests, entities: counter.entities - before.entities, ms: Math.round((performance.now() - start) * 10) / 10, changed });
    }
    log(`unchanged: ${JSON.stringify(runs)}`);

    // One entity changes on the writer: what the reader's next refreshes read for it.
    await writer.update('service:bench-marker', (cur) => ({ ...cur, spec: { ...cur.spec, tier: 'gold' } }), { name: 'bench' });
    const one = { ...counter };
    const startOne = performance.now();
    const changedOne = await reader.refresh();
    const oneChange = { requests: counter.requests - one.requests, entities: counter.entities - one.entities, ms: Math.round((performance.now() - startOne) * 10) / 10, changed: changedOne };
    if ((await reader.get('service:bench-marker'))?.spec.tier !== 'gold') throw new Error('the reader did not pick up the change');

    const pick = (f: 'requests' | 'entities' | 'ms') => runs.map((r) => r[f]);
    process.stdout.write(JSON.stringify({
      bench: 'catalog-refresh', entities: N, refreshes: REFRESHES,
      machine: { cpus: cpus().length, loadavg1m: Math.round(loadavg()[0]! * 100) / 100 },
      open,
      unchanged: {
        requestsPerRefresh: { median: median(pick('requests')), mean: mean(pick('requests')), max: Math.max(...pick('requests')) },
        entitiesReadPerRefresh: { median: median(pick('entities')), mean: mean(pick('entities')), max: Math.max(...pick('entities')) },
        msPerRefresh: { median: median(pick('ms')), mean: mean(pick('ms')), max: Math.max(...pick('ms')) },
      },
      oneChange,
    }) + '\n');
  } finally {
    await az.stop();
  }
}

await main();
