// A webhook receiver for inbox-crash.test.ts: the real local server (HTTP webhook route, inbox on
// Azurite's table and queue, drained on a timer) whose GitHub handler writes real table state:
// a row per handler run (when it starts, which process) and the delivery's effect (an upsert of
// what the payload says, as catalog ingestion does). The test kills it with SIGKILL mid-way.
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../../../functions/runtime/config.ts';
import { openNexus } from '../../../../functions/runtime/nexus.ts';
import { Table } from '../../../../functions/platform/tables.ts';
import { CatalogService } from '../../../../functions/catalog/service.ts';
import { Inbox, type DeliveryHandler } from '../../../../functions/catalog/inbox.ts';
import { startServer } from '../../../../functions/server.ts';
import { storageFrom } from '../../../helpers/config.ts';

export interface CrashWorkerConfig {
  table: string;
  effects: string;
  runs: string;
  catalog: string;
  relations: string;
  visibilitySeconds: number;
  concurrency: number;
  /** SIGKILLs itself right after this many handler runs: the last one ran, its done-mark not yet written, others in flight. */
  dieAfterRuns?: number;
}

const cfg = JSON.parse(process.env.CRASH_CHILD ?? '{}') as CrashWorkerConfig;
const storage = storageFrom(process.env);
const [catalog, inbox, effects, runs] = await Promise.all([
  CatalogService.open({ storage, tables: { entities: cfg.catalog, relations: cfg.relations } }),
  Inbox.open({ storage, table: cfg.table, visibilitySeconds: cfg.visibilitySeconds, concurrency: cfg.concurrency }),
  Table.open<{ n: number; pid: number }>(cfg.effects, storage),
  Table.open<{ pid: number; attempt: number; at: number }>(cfg.runs, storage),
]);

let ran = 0;
const github: DeliveryHandler = async (d) => {
  await runs.insert(d.deliveryId, randomUUID(), { pid: process.pid, attempt: d.attempt, at: Date.now() });
  await effects.upsert('effects', d.deliveryId, { n: (d.payload as { n: number }).n, pid: process.pid });
  if (++ran === cfg.dieAfterRuns) process.kill(process.pid, 'SIGKILL');
  if (ran % 50 === 0) process.stdout.write(`RAN ${ran}\n`);
};

// The composition root as every runtime builds it, with this test's tables and handler.
const nexus = await openNexus(loadConfig(process.env), { storage, catalog, inbox, handlers: { github } });
const server = await startServer({ port: 0, drainIntervalMs: 100, nexus });
process.stdout.write(`READY ${server.port}\n`);
