// The Resource Graph poll: Azure resources into AzureResource entities, and the `environment` /
// `env` tags on them into Environment entities. The first poll of a scope reads everything and
// orphans what is gone; later polls read only the changes since the last one (resourcechanges),
// fetching created and updated resources and marking deleted ones gone.
import type { ResourceGraphClient } from '@azure/arm-resourcegraph';
import { Table } from '../../platform/tables.ts';
import type { StorageConfig } from '../../platform/storage-config.ts';
import {
  queryAll, resourcesByScope, resourceChangesSince, graphScope, kqlString,
  type GraphResource, type ResourceChangeRecord, type ScopeInput,
} from '../../platform/resource-graph.ts';
import { azureResourceRef } from '../azure-ids.ts';
import { parseRef, refKey, toEntityName } from '../refs.ts';
import type { SourceInfo } from '../kinds.ts';
import type { CatalogService } from '../service.ts';

/** The Resource Graph calls the poll makes (functions/platform/resource-graph.ts by default). */
export interface ResourceGraphPort {
  resourcesByScope(scope: ScopeInput): Promise<GraphResource[]>;
  resourceChangesSince(isoTime: string, scope: ScopeInput): Promise<ResourceChangeRecord[]>;
  resourcesById(ids: string[], scope: ScopeInput): Promise<GraphResource[]>;
}

export function resourceGraphPort(client: ResourceGraphClient): ResourceGraphPort {
  const opts = { client };
  return {
    resourcesByScope: (scope) => resourcesByScope(scope, opts),
    resourceChangesSince: (t, scope) => resourceChangesSince(t, scope, opts),
    resourcesById: (ids, scope) => queryAll<GraphResource>(
      `resources | where id in~ (${ids.map(kqlString).join(', ')}) | project id, name, type, location, resourceGroup, subscriptionId, tags, properties`,
      graphScope(scope).scope, opts),
  };
}

/** Where each scope's poll got to. */
export interface PollCursors {
  get(scope: string): Promise<string | undefined>;
  set(scope: string, iso: string): Promise<void>;
}

export async function tableCursors(cfg?: { storage?: StorageConfig; table?: string }): Promise<PollCursors> {
  const table = await Table.open<{ at: string }>(cfg?.table ?? 'catalogcursors', cfg?.storage);
  return {
    get: async (scope) => (await table.get('resource-graph', scope))?.at,
    set: async (scope, at) => { await table.upsert('resource-graph', scope, { at }); },
  };
}

export interface PollResult {
  mode: 'full' | 'delta';
  upserted: string[];
  orphaned: string[];
  environments: string[];
  cursor: string;
}

/** Changes older than this are not kept by Resource Graph; a cursor that old means a full read. */
const MAX_DELTA_AGE_MS = 7 * 24 * 3600_000;

const ENV_TAGS = ['environment', 'env'];

function tag(tags: Record<string, string> | undefined, names: string[]): string | undefined {
  for (const [k, v] of Object.entries(tags ?? {})) if (names.includes(k.toLowerCase()) && typeof v === 'string' && v.trim()) return v.trim();
  return undefined;
}

function stageOf(env: string): string {
  const e = env.toLowerCase();
  if (/^prod|production/.test(e)) return 'production';
  if (/stag|uat|pre/.test(e)) return 'staging';
  if (/test|qa/.test(e)) return 'test';
  if (/dev|sandbox/.test(e)) return 'development';
  return e;
}

export function environmentRef(value: string): string {
  return refKey({ kind: 'environment', namespace: 'default', name: toEntityName(value.toLowerCase()) });
}

export function azureResourceEntity(r: GraphResource): Record<string, unknown> {
  const ref = parseRef(azureResourceRef(r.id));
  const props = (r.properties ?? {}) as Record<string, any>;
  const env = tag(r.tags, ENV_TAGS);
  const sku = props.sku?.name ?? (r as { sku?: { name?: string } }).sku?.name;
  return {
    apiVersion: 'nexus/v1',
    kind: 'AzureResource',
    metadata: { name: ref.name, namespace: ref.namespace, title: r.name, annotations: { 'azure.com/resource-id': r.id } },
    spec: {
      type: r.type,
      resourceId: r.id,
      region: r.location || undefined,
      subscription: r.subscriptionId || undefined,
      resourceGroup: r.resourceGroup || undefined,
      tags: r.tags ?? {},
      ...(sku ? { sku: String(sku) } : {}),
      ...(env ? { environment: environmentRef(env) } : {}),
    },
  };
}

/** The spec fields azureResourceEntity derives from Resource Graph. */
const GRAPH_FIELDS = ['type', 'resourceId', 'region', 'subscription', 'resourceGroup', 'tags', 'sku', 'environment'];

/** One poll of one scope (a subscription, resource group or management group id). */
export async function pollResourceGraph(deps: {
  catalog: CatalogService;
  graph: ResourceGraphPort;
  cursors: PollCursors;
  scope: string;
  now?: () => Date;
}): Promise<PollResult> {
  const { catalog, graph, cursors, scope } = deps;
  const now = deps.now ?? (() => new Date());
  const started = now().toISOString();
  const pollId = `poll-${started}`;
  const source: SourceInfo = { name: 'resource-graph', scope: scope.toLowerCase(), ref: pollId };
  const cursor = await cursors.get(scope.toLowerCase());
  const full = !cursor || Date.parse(started) - Date.parse(cursor) > MAX_DELTA_AGE_MS;
  const result: PollResult = { mode: full ? 'full' : 'delta', upserted: [], orphaned: [], environments: [], cursor: cursor ?? started };

  let resources: GraphResource[];
  let next = started;
  if (full) {
    resources = await graph.resourcesByScope(scope);
  } else {
    const changes = await graph.resourceChangesSince(cursor!, scope);
    const latest = new Map<string, ResourceChangeRecord>();
    for (const c of changes) latest.set(c.resourceId.toLowerCase(), c);
    const deleted = [...latest.values()].filter((c) => c.changeType === 'Delete');
    const changedIds = [...latest.values()].filter((c) => c.changeType !== 'Delete').map((c) => c.resourceId);
    resources = [];
    for (let i = 0; i < changedIds.length; i += 100) resources.push(...(await graph.resourcesById(changedIds.slice(i, i + 100), scope)));
    for (const c of deleted) {
      const key = azureResourceRef(c.resourceId);
      if (!catalog.index.has(key)) continue;
      const gone = await catalog.markGone(key, source);
      if (gone?.status?.orphaned) result.orphaned.push(key);
    }
    // The next poll starts after the newest change read, so nothing between is skipped.
    next = changes.length ? changes[changes.length - 1]!.timestamp : cursor!;
  }

  const envs = new Map<string, GraphResource>();
  for (const r of resources) {
    const env = tag(r.tags, ENV_TAGS);
    if (env && !envs.has(environmentRef(env))) envs.set(environmentRef(env), r);
  }
  for (const [key, r] of envs) {
    const value = tag(r.tags, ENV_TAGS)!;
    const ref = parseRef(key);
    await catalog.upsert({
      apiVersion: 'nexus/v1', kind: 'Environment',
      metadata: { name: ref.name, namespace: ref.namespace, title: value },
      spec: { stage: stageOf(value), ...(r.location ? { region: r.location } : {}), ...(r.subscriptionId ? { subscription: r.subscriptionId } : {}) },
    }, { ...source, scope: `${source.scope}#environments` }, { mode: 'merge' });
    result.environments.push(key);
  }
  for (const r of resources) {
    // Merge keeps what others added to the entity; what Resource Graph says about the resource is
    // its own, so a tag or SKU that is gone goes from the entity too (and its relations with it).
    const e = await catalog.upsert(azureResourceEntity(r), source, { mode: 'merge', ownedFields: GRAPH_FIELDS });
    result.upserted.push(refKey({ kind: e.kind, namespace: e.metadata.namespace, name: e.metadata.name }));
  }
  if (full) result.orphaned.push(...(await catalog.markMissing(source, result.upserted)));
  result.cursor = next;
  await cursors.set(scope.toLowerCase(), next);
  return result;
}
