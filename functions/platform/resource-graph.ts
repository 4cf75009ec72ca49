// Resource Graph queries Nexus runs: resources by scope, changes since a time, compliance counts.
// Every query goes through queryAll, which follows $skipToken until the result is complete.
import type { ResourceGraphClient } from '@azure/arm-resourcegraph';
import { GraphThrottle } from './graph-throttle.ts';

export interface GraphScope {
  managementGroups?: string[];
  subscriptions?: string[];
}

/** An ARM scope id (management group, subscription or resource group) or an explicit GraphScope. */
export type ScopeInput = string | GraphScope;

export interface QueryOptions {
  /** Rows per page (1..1000); Resource Graph's default is 100. */
  pageSize?: number;
  /** The composition root's client (functions/runtime/nexus.ts). */
  client: ResourceGraphClient;
  /** How to wait out Resource Graph's throttling (tests inject one). */
  sleep?: (ms: number) => Promise<void>;
}

const client = (opts: QueryOptions) => opts.client;

/** A KQL string literal; quotes and backslashes escaped so no value can change the query. */
export function kqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Runs a query and returns every row, following $skipToken across pages. */
export async function queryAll<T = Record<string, unknown>>(query: string, scope: GraphScope = {}, opts: QueryOptions): Promise<T[]> {
  const rows: T[] = [];
  for await (const page of queryPages<T>(query, scope, opts)) rows.push(...page);
  return rows;
}

export async function* queryPages<T = Record<string, unknown>>(query: string, scope: GraphScope = {}, opts: QueryOptions): AsyncIterable<T[]> {
  let skipToken: string | undefined;
  const throttle = new GraphThrottle(opts.sleep);
  do {
    const request = {
      query,
      ...(scope.managementGroups?.length ? { managementGroups: scope.managementGroups } : {}),
      ...(scope.subscriptions?.length ? { subscriptions: scope.subscriptions } : {}),
      options: { resultFormat: 'objectArray' as const, ...(opts.pageSize ? { top: opts.pageSize } : {}), ...(skipToken ? { skipToken } : {}) },
    };
    const res = await throttle.send(() => client(opts).resources(request));
    throttle.observe(res._response?.headers);
    yield (res.data ?? []) as T[];
    skipToken = res.skipToken || undefined;
  } while (skipToken);
}

/** Turns an ARM scope id into Resource Graph's scope plus, for resource groups, an id prefix filter. */
export function graphScope(scope: ScopeInput): { scope: GraphScope; idPrefix?: string } {
  if (typeof scope !== 'string') return { scope };
  const mg = /^\/providers\/Microsoft\.Management\/managementGroups\/([^/]+)\/?$/i.exec(scope);
  if (mg) return { scope: { managementGroups: [mg[1]] } };
  const sub = /^\/subscriptions\/([^/]+)(\/resourceGroups\/[^/]+)?\/?$/i.exec(scope);
  if (sub) return { scope: { subscriptions: [sub[1]] }, idPrefix: sub[2] ? scope.replace(/\/+$/, '') + '/' : undefined };
  if (scope === '' || scope === '/') return { scope: {} };
  throw new Error(`'${scope}' is not a management group, subscription or resource group id`);
}

export interface GraphResource {
  id: string;
  name: string;
  type: string;
  location: string;
  resourceGroup: string;
  subscriptionId: string;
  tags: Record<string, string>;
  properties: Record<string, unknown>;
}

/** Resources (the `resources` table) within a scope, optionally of some types (case-insensitive). */
export async function resourcesByScope(scope: ScopeInput, opts: QueryOptions & { types?: string[]; table?: 'resources' | 'resourcecontainers' | 'policyresources' | 'authorizationresources' }): Promise<GraphResource[]> {
  const { scope: s, idPrefix } = graphScope(scope);
  const where = [
    opts.types?.length ? `| where type in~ (${opts.types.map(kqlString).join(', ')})` : '',
    idPrefix ? `| where id startswith ${kqlString(idPrefix)}` : '',
  ].filter(Boolean);
  const query = [opts.table ?? 'resources', ...where,
    '| project id, name, type, location, resourceGroup, subscriptionId, tags, properties', '| order by id asc'].join(' ');
  return queryAll<GraphResource>(query, s, opts);
}

export interface ResourceChangeRecord {
  changeId: string;
  resourceId: string;
  resourceType: string;
  changeType: 'Create' | 'Update' | 'Delete';
  timestamp: string;
  changedBy: string;
  changedByType: string;
  clientType: string;
  operation: string;
  /** Per property path: previousValue and newValue. */
  changes: Record<string, { previousValue: unknown; newValue: unknown; propertyChangeType?: string }>;
}

/** Changes after `isoTime` (exclusive), oldest first. */
export async function resourceChangesSince(isoTime: string, scope: ScopeInput = {}, opts: QueryOptions): Promise<ResourceChangeRecord[]> {
  const t = Date.parse(isoTime);
  if (Number.isNaN(t)) throw new Error(`resourceChangesSince: '${isoTime}' is not an ISO date-time`);
  const { scope: s, idPrefix } = graphScope(scope);
  const query = [
    'resourcechanges',
    `| where properties.changeAttributes.timestamp > datetime(${new Date(t).toISOString()})`,
    idPrefix ? `| where tostring(properties.targetResourceId) startswith ${kqlString(idPrefix)}` : '',
    '| project changeId = name, resourceId = tostring(properties.targetResourceId), resourceType = tostring(properties.targetResourceType),',
    'changeType = tostring(properties.changeType), timestamp = tostring(properties.changeAttributes.timestamp),',
    'changedBy = tostring(properties.changeAttributes.changedBy), changedByType = tostring(properties.changeAttributes.changedByType),',
    'clientType = tostring(properties.changeAttributes.clientType), operation = tostring(properties.changeAttributes.operation), changes = properties.changes',
    '| order by timestamp asc',
  ].filter(Boolean).join(' ');
  return queryAll<ResourceChangeRecord>(query, s, opts);
}

export interface ComplianceSummary {
  /** Policy states per compliance state (one state per resource, assignment and definition). */
  byState: Record<string, number>;
  total: number;
  nonCompliantResources: number;
  /** Non-compliant state count per policy assignment id. */
  nonCompliantByAssignment: Record<string, number>;
}

/** Compliance counts from the `policyresources` table (policy states) within a scope. */
export async function complianceSummary(scope: ScopeInput, opts: QueryOptions): Promise<ComplianceSummary> {
  const { scope: s, idPrefix } = graphScope(scope);
  const base = [
    'policyresources',
    "| where type =~ 'microsoft.policyinsights/policystates'",
    idPrefix ? `| where tostring(properties.resourceId) startswith ${kqlString(idPrefix)}` : '',
  ].filter(Boolean).join(' ');
  const [counts, resources] = await Promise.all([
    queryAll<{ state: string; assignment: string; n: number }>(
      `${base} | summarize n = count() by state = tostring(properties.complianceState), assignment = tostring(properties.policyAssignmentId)`, s, opts),
    queryAll<{ n: number }>(
      `${base} | where properties.complianceState =~ 'NonCompliant' | summarize n = dcount(tostring(properties.resourceId))`, s, opts),
  ]);
  const out: ComplianceSummary = { byState: {}, total: 0, nonCompliantResources: resources[0]?.n ?? 0, nonCompliantByAssignment: {} };
  for (const c of counts) {
    out.byState[c.state] = (out.byState[c.state] ?? 0) + c.n;
    out.total += c.n;
    if (c.state === 'NonCompliant') out.nonCompliantByAssignment[c.assignment] = (out.nonCompliantByAssignment[c.assignment] ?? 0) + c.n;
  }
  return out;
}
