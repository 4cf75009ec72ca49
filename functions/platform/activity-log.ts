// The Activity Log signal: who changed the landing-zone core (policy definitions, set definitions,
// assignments, exemptions, role assignments and definitions, management groups), which Resource Graph
// keeps no change table for. Nexus's infra streams the managed management group's Administrative and
// Policy categories to a Log Analytics workspace; this queries its AzureActivity table.
import { LogsQueryResultStatus, type LogsQueryClient, type LogsTable } from '@azure/monitor-query-logs';
import { kqlString } from './resource-graph.ts';
import { chunkIds } from './change-history.ts';

export interface ActivityEvent {
  /** As the caller named it when given in `resourceIds`; otherwise as the table has it (upper case). */
  resourceId: string;
  /** OperationNameValue, e.g. MICROSOFT.AUTHORIZATION/POLICYASSIGNMENTS/WRITE (Azure upper-cases it). */
  operation: string;
  category: 'Administrative' | 'Policy';
  /** A user's UPN, or a service principal's / managed identity's id. */
  caller: string;
  correlationId: string;
  status: string;
  at: string;
  properties: Record<string, unknown>;
}

export interface ActivityLogOptions {
  client: LogsQueryClient;
  workspaceId: string;
  /** Events strictly after this ISO time. */
  since: string;
  /** Only these resources (case-insensitive). */
  resourceIds?: string[];
  /** Only resources at or under these ids (id prefixes, e.g. a management group's id). */
  scopes?: string[];
  /** Longest id filter per query, in characters (default 6000). */
  maxFilterChars?: number;
}

/** The timespan ends a little after now, so an event stamped by a clock slightly ahead is not cut off. */
const CLOCK_SLACK_MS = 5 * 60_000;

function where(since: string, ids?: string[], scopes?: string[]): string {
  const scopeFilter = scopes?.length
    ? `| where ${scopes.map((s) => `ResourceId =~ ${kqlString(s)} or ResourceId startswith ${kqlString(`${s.replace(/\/+$/, '')}/`)}`).join(' or ')}`
    : '';
  return [
    'AzureActivity',
    `| where TimeGenerated > datetime(${since})`,
    "| where CategoryValue in ('Administrative', 'Policy')",
    // 'Success' in today's schema, 'Succeeded' in the legacy one.
    "| where ActivityStatusValue in~ ('Success', 'Succeeded')",
    "| where OperationNameValue endswith '/write' or OperationNameValue endswith '/delete' or OperationNameValue endswith '/action'",
    ids ? `| where ResourceId in~ (${ids.map(kqlString).join(', ')})` : '',
    scopeFilter,
    '| project TimeGenerated, CategoryValue, OperationNameValue, ResourceId, Caller, CorrelationId, ActivityStatusValue, Properties_d',
    '| order by TimeGenerated asc',
  ].filter(Boolean).join(' ');
}

function tableOf(result: Awaited<ReturnType<LogsQueryClient['queryWorkspace']>>): LogsTable {
  if (result.status === LogsQueryResultStatus.PartialFailure) {
    // A partial answer would silently drop changes: the signal is unavailable instead.
    throw new Error(`the Activity Log query failed part-way: ${result.partialError.code ?? ''} ${result.partialError.message ?? ''}`.trim());
  }
  const table = result.tables[0];
  if (!table) throw new Error('the Activity Log query returned no table');
  return table;
}

function events(table: LogsTable, requested: Map<string, string>): ActivityEvent[] {
  const col = new Map(table.columnDescriptors.map((c, i) => [c.name ?? '', i]));
  const cell = (row: unknown[], name: string) => (col.has(name) ? row[col.get(name)!] : undefined);
  return table.rows.map((row) => {
    const at = cell(row, 'TimeGenerated');
    const id = String(cell(row, 'ResourceId') ?? '');
    const props = cell(row, 'Properties_d');
    return {
      resourceId: requested.get(id.toLowerCase()) ?? id,
      operation: String(cell(row, 'OperationNameValue') ?? ''),
      category: cell(row, 'CategoryValue') === 'Policy' ? 'Policy' : 'Administrative',
      caller: String(cell(row, 'Caller') ?? ''),
      correlationId: String(cell(row, 'CorrelationId') ?? ''),
      status: String(cell(row, 'ActivityStatusValue') ?? ''),
      at: at instanceof Date ? at.toISOString() : String(at ?? ''),
      properties: props !== null && typeof props === 'object' && !Array.isArray(props) ? (props as Record<string, unknown>) : {},
    };
  });
}

/** Succeeded writes, deletes and actions of the Administrative and Policy categories after `since`, oldest first. */
export async function activityLog(opts: ActivityLogOptions): Promise<ActivityEvent[]> {
  const t = Date.parse(opts.since);
  if (Number.isNaN(t)) throw new Error(`activityLog: since '${opts.since}' is not an ISO date-time`);
  const since = new Date(t).toISOString();
  const requested = new Map((opts.resourceIds ?? []).map((id) => [id.toLowerCase(), id]));
  const filters: (string[] | undefined)[] = opts.resourceIds
    ? chunkIds([...requested.keys()], opts.maxFilterChars ?? 6000)
    : [undefined];
  const out: ActivityEvent[] = [];
  for (const ids of filters) {
    // The timespan bounds the scan on the service side; the query's own filter makes `since` exclusive.
    const result = await opts.client.queryWorkspace(opts.workspaceId, where(since, ids, opts.scopes), { startTime: new Date(t), endTime: new Date(Date.now() + CLOCK_SLACK_MS) });
    out.push(...events(tableOf(result), requested));
  }
  return out.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}
