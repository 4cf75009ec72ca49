// The background work of the control plane, as named jobs: the local runtime runs them on
// intervals, Azure Functions runs the same jobs from timer triggers (functions/app.ts).
import type { CatalogService } from './catalog/service.ts';
import { importPulumiState } from './catalog/ingestion/pulumi-state.ts';
import { pollResourceGraph, resourceGraphPort, tableCursors } from './catalog/ingestion/resource-graph.ts';
import { resourceGraphClient, type ArmConfig } from './platform/arm.ts';
import { PulumiCheckpoints } from './platform/pulumi-checkpoints.ts';
import type { StorageConfig } from './platform/storage-config.ts';
import { Table } from './platform/tables.ts';
import type { NexusConfig } from './runtime/config.ts';
import type { BackendSettings } from '../stacks/engine/backend.ts';

export interface Job {
  name: string;
  /** How often it runs (ms). */
  everyMs: number;
  /** One run; resolves to a one-line summary for the log. */
  run(): Promise<string>;
}

/** What the jobs are made of: the catalog and the adapters the composition root opened. */
export interface JobParts {
  catalog: CatalogService;
  storage: StorageConfig;
  arm: ArmConfig;
  /** The Pulumi backend (stacks/engine/backend.ts): where the state files are. */
  backend: Pick<BackendSettings, 'container' | 'prefix'>;
  config: Pick<NexusConfig, 'catalog'>;
}

/**
 * Resource Graph into AzureResource and Environment entities (full read first, then deltas), over
 * the configured scopes (NEXUS_RESOURCE_GRAPH_SCOPES, else the tenant root group, else everything).
 */
export async function resourceGraphJob(parts: JobParts): Promise<Job> {
  const { catalog } = parts;
  const cursors = await tableCursors({ storage: parts.storage });
  const graph = resourceGraphPort(resourceGraphClient(parts.arm));
  const scopes = parts.config.catalog.resourceGraphScopes;
  return {
    name: 'resource-graph-poll',
    everyMs: parts.config.catalog.resourceGraphPollMinutes * 60_000,
    async run() {
      const parts: string[] = [];
      for (const scope of scopes) {
        const r = await pollResourceGraph({ catalog, graph, cursors, scope });
        parts.push(`${scope}: ${r.mode}, ${r.upserted.length} upserted, ${r.orphaned.length} orphaned`);
      }
      return parts.join('; ');
    },
  };
}

/** Pulumi's stack name as a catalog Stack: Nexus's own project keeps the bare stack name. */
export function catalogStackName(project: string, stack: string): string {
  return project === 'nexus' ? stack : `${project}-${stack}`;
}

/**
 * Pulumi state into the catalog: every stack whose state file changed since the last run is
 * imported (its resources managedBy the Stack). The last imported ETag of each stack is kept in
 * a table, so a restart does not import everything again and another instance's import counts.
 */
export async function pulumiStateJob(parts: JobParts): Promise<Job | undefined> {
  const { catalog, storage } = parts;
  const checkpoints = await PulumiCheckpoints.open(storage, parts.backend);
  if (!checkpoints) return undefined;
  // Not `etag`: the table's own row ETag takes that name, so the state file's would never be read back.
  const seen = await Table.open<{ stateEtag: string }>('catalogcursors', storage);
  return {
    name: 'pulumi-state-ingestion',
    everyMs: parts.config.catalog.pulumiStatePollMinutes * 60_000,
    async run() {
      let imported = 0, resources = 0, orphaned = 0;
      for (const ref of await checkpoints.list()) {
        const key = `${ref.project}.${ref.stack}`;
        if ((await seen.get('pulumi-state', key))?.stateEtag === ref.etag) continue;
        const r = await importPulumiState(catalog, { stack: catalogStackName(ref.project, ref.stack), state: await checkpoints.deployment(ref) });
        await seen.upsert('pulumi-state', key, { stateEtag: ref.etag });
        imported++;
        resources += r.upserted.length;
        orphaned += r.orphaned.length;
      }
      return `${imported} stacks imported, ${resources} resources, ${orphaned} orphaned`;
    },
  };
}

/** Every catalog job this configuration can run. */
export async function catalogJobs(parts: JobParts): Promise<Job[]> {
  const jobs = [await resourceGraphJob(parts), await pulumiStateJob(parts)];
  return jobs.filter((j): j is Job => j !== undefined);
}

export interface RunningJobs {
  /** Runs one job now (waits for its run in flight instead of starting a second). */
  runNow(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** Runs each job on its interval, never two runs of one job at once; failures are logged, not thrown. */
export function startJobs(jobs: Job[], log: (msg: string) => void, opts: { runAtStart?: boolean } = {}): RunningJobs {
  const inFlight = new Map<string, Promise<string>>();
  let stopped = false;
  const runNow = (name: string): Promise<string> => {
    const job = jobs.find((j) => j.name === name);
    if (!job) return Promise.reject(new Error(`no job '${name}'; jobs: ${jobs.map((j) => j.name).join(', ')}`));
    let run = inFlight.get(name);
    if (!run) {
      run = job.run()
        .then((summary) => { log(`${name}: ${summary}`); return summary; })
        .catch((err: Error) => { log(`${name} failed: ${err.message}`); return `failed: ${err.message}`; })
        .finally(() => inFlight.delete(name));
      inFlight.set(name, run);
    }
    return run;
  };
  const timers = jobs.map((j) => {
    const t = setInterval(() => { if (!stopped) void runNow(j.name); }, j.everyMs);
    t.unref();
    return t;
  });
  if (opts.runAtStart ?? true) for (const j of jobs) void runNow(j.name);
  return {
    runNow,
    async stop() {
      stopped = true;
      timers.forEach(clearInterval);
      await Promise.all(inFlight.values());
    },
  };
}
