// The change-history signal: Resource Graph's `resourcechanges` (resources) and
// `resourcecontainerchanges` (subscriptions, resource groups, management groups) since a time, with who
// made each change and its correlation id. Pages follow $skipToken; Resource Graph's throttling headers
// are honoured (quota used up: wait for the reset before the next request), and a large set of resource
// ids is filtered in chunks, never one giant query.
import type { ResourceGraphClient } from '@azure/arm-resourcegraph';
import { kqlString, type GraphScope } from './resource-graph.ts';
import { GraphThrottle } from './graph-throttle.ts';

export interface PropertyChangeRecord {
  /** Resource Graph's property path, e.g. `properties.enforcementMode`, `tags.owner`, `properties.notScopes[0]`. */
  path: string;
  previousValue: unknown;
  newValue: unknown;
  propertyChangeType?: string;
  changeCategory?: string;
}

export interface ChangeRecord {
  changeId: string;
  resourceId: string;
  resourceType: string;
  changeType: 'Create' | 'Update' | 'Delete';
  timestamp: string;
  changedBy: string;
  /** `User`, `Application` (a service principal or managed identity), or what Azure says otherwise. */
  changedByType: string;
  clientType: string;
  operation: string;
  correlationId: string;
  /** Per property (Update only): a list, so no property path is ever used as an object key. */
  changes: PropertyChangeRecord[];
  table: 'resourcechanges' | 'resourcecontainerchanges';
}

export interface ChangeHistoryOptions {
  client: ResourceGraphClient;
  scope: GraphScope;
  /** Changes strictly after this ISO time. */
  since: string;
  /** Only these resources (case-insensitive); absent: every change in the scope. */
  resourceIds?: string[];
  /** Rows per page (1..1000). */
  pageSize?: number;
  /** How to wait for the quota's reset (tests inject one). */
  sleep?: (ms: number) => Promise<void>;
  /** Longest id filter per query, in characters (default 6000). */
  maxFilterChars?: number;
  /** More chunks than this: read the scope's changes once and filter here (default 10). */
  maxChunks?: number;
}

const TABLES = ['resourcechanges', 'resourcecontainerchanges'] as const;
type Table = (typeof TABLES)[number];

/** Container ids: what `resourcecontainerchanges` holds rather than `resourcechanges`. */
const CONTAINER = /^(\/subscriptions\/[^/]+(\/resourcegroups\/[^/]+)?|\/providers\/microsoft\.management\/managementgroups\/[^/]+)\/?$/i;


/** Every page of a query, waiting out the quota between requests. */
async function* pages(client: ResourceGraphClient, query: string, scope: GraphScope, pageSize: number | undefined, throttle: GraphThrottle) {
  let skipToken: string | undefined;
  do {
    const request = {
      query,
      ...(scope.managementGroups?.length ? { managementGroups: scope.managementGroups } : {}),
      ...(scope.subscriptions?.length ? { subscriptions: scope.subscriptions } : {}),
      options: { resultFormat: 'objectArray' as const, ...(pageSize ? { top: pageSize } : {}), ...(skipToken ? { skipToken } : {}) },
    };
    const res = await throttle.send(() => client.resources(request));
    // @azure/arm-resourcegraph is built on ms-rest-js: the raw response (and its headers) is `_response`.
    throttle.observe(res._response?.headers);
    yield (res.data ?? []) as Row[];
    skipToken = res.skipToken || undefined;
  } while (skipToken);
}

interface Row {
  changeId: string;
  resourceId: string;
  resourceType: string;
  changeType: ChangeRecord['changeType'];
  timestamp: string;
  changedBy: string;
  changedByType: string;
  clientType: string;
  operation: string;
  correlationId: string;
  changes: unknown;
}

function query(table: Table, since: string, ids?: string[]): string {
  return [
    table,
    `| where properties.changeAttributes.timestamp > datetime(${since})`,
    ids ? `| where tostring(properties.targetResourceId) in~ (${ids.map(kqlString).join(', ')})` : '',
    '| project changeId = name, resourceId = tostring(properties.targetResourceId), resourceType = tostring(properties.targetResourceType),',
    'changeType = tostring(properties.changeType), timestamp = tostring(properties.changeAttributes.timestamp),',
    'changedBy = tostring(properties.changeAttributes.changedBy), changedByType = tostring(properties.changeAttributes.changedByType),',
    'clientType = tostring(properties.changeAttributes.clientType), operation = tostring(properties.changeAttributes.operation),',
    'correlationId = tostring(properties.changeAttributes.correlationId), changes = properties.changes',
    '| order by timestamp asc',
  ].filter(Boolean).join(' ');
}

/** Splits ids into groups whose quoted list stays under `maxChars`. */
export function chunkIds(ids: string[], maxChars: number): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let len = 0;
  for (const id of ids) {
    const n = kqlString(id).length + 2;
    if (cur.length && len + n > maxChars) {
      out.push(cur);
      cur = [];
      len = 0;
    }
    cur.push(id);
    len += n;
  }
  if (cur.length) out.push(cur);
  return out;
}

function propertyChanges(v: unknown): PropertyChangeRecord[] {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return [];
  return Object.entries(v as Record<string, unknown>).map(([path, c]) => {
    const o = (c !== null && typeof c === 'object' ? c : {}) as Record<string, unknown>;
    return {
      path,
      previousValue: o.previousValue ?? null,
      newValue: o.newValue ?? null,
      ...(typeof o.propertyChangeType === 'string' ? { propertyChangeType: o.propertyChangeType } : {}),
      ...(typeof o.changeCategory === 'string' ? { changeCategory: o.changeCategory } : {}),
    };
  });
}

function record(r: Row, table: Table): ChangeRecord {
  return {
    changeId: r.changeId, resourceId: r.resourceId, resourceType: r.resourceType, changeType: r.changeType,
    timestamp: r.timestamp, changedBy: r.changedBy ?? '', changedByType: r.changedByType ?? '', clientType: r.clientType ?? '',
    operation: r.operation ?? '', correlationId: r.correlationId ?? '', changes: propertyChanges(r.changes), table,
  };
}

/** Changes after `since` in the scope (optionally of some resources only), oldest first, each once. */
export async function changeHistory(opts: ChangeHistoryOptions): Promise<ChangeRecord[]> {
  const t = Date.parse(opts.since);
  if (Number.isNaN(t)) throw new Error(`changeHistory: since '${opts.since}' is not an ISO date-time`);
  const since = new Date(t).toISOString();
  const throttle = new GraphThrottle(opts.sleep);
  const wanted = opts.resourceIds ? new Set(opts.resourceIds.map((id) => id.toLowerCase())) : undefined;
  const byTable = new Map<Table, string[]>(TABLES.map((tb) => [tb, []]));
  for (const id of new Set(opts.resourceIds?.map((x) => x.toLowerCase()) ?? [])) {
    byTable.get(CONTAINER.test(id) ? 'resourcecontainerchanges' : 'resourcechanges')!.push(id);
  }
  const found = new Map<string, ChangeRecord>();
  for (const table of TABLES) {
    let filters: (string[] | undefined)[] = [undefined];
    if (wanted) {
      const ids = byTable.get(table)!;
      if (!ids.length) continue;
      const chunks = chunkIds(ids, opts.maxFilterChars ?? 6000);
      // Very many chunks cost more requests (and quota) than reading the scope once.
      filters = chunks.length > (opts.maxChunks ?? 10) ? [undefined] : chunks;
    }
    for (const ids of filters) {
      for await (const page of pages(opts.client, query(table, since, ids), opts.scope, opts.pageSize, throttle)) {
        for (const r of page) {
          if (wanted && !wanted.has(String(r.resourceId).toLowerCase())) continue;
          found.set(r.changeId, record(r, table));
        }
      }
    }
  }
  return [...found.values()].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
}
