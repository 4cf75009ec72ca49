// The Activity Log as a Log Analytics workspace holds it: POST /v1/workspaces/{workspaceId}/query
// with {query, timespan?}, answered as {tables:[{name:'PrimaryResult', columns, rows}]} (the wire
// format @azure/monitor-query-logs' LogsQueryClient speaks). One workspace per sandbox tenant, with
// the table AzureActivity: every ARM write of the tenant's change log (category Administrative; a
// write made as a policy remediation is category Policy) and the side door's Policy events.
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { idParts } from './arm-ids.ts';
import { parseKql, run, KqlError, type Expr, type Query } from './kql.ts';
import type { ActivityEvent, ResourceChange, Tenant } from './tenant.ts';

type Row = Record<string, unknown>;

/** Log Analytics' error body: { error: { message, code, correlationId, innererror? } }. */
export class LogAnalyticsError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly inner?: { code: string; message: string }) {
    super(message);
  }
  body() {
    return { error: { message: this.message, code: this.code, correlationId: randomUUID(), ...(this.inner ? { innererror: this.inner } : {}) } };
  }
}

/** The tenant's one workspace id: a GUID derived from the tenant id, so it survives restarts. */
export function workspaceIdFor(tenantId: string): string {
  const h = createHash('sha256').update(`activity-log:${tenantId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// AzureActivity's columns as Log Analytics types them (the part of the schema the sandbox fills).
const COLUMNS: [string, string][] = [
  ['TenantId', 'string'], ['SourceSystem', 'string'], ['CategoryValue', 'string'], ['CorrelationId', 'string'],
  ['Level', 'string'], ['OperationNameValue', 'string'], ['Properties', 'string'], ['Properties_d', 'dynamic'],
  ['Caller', 'string'], ['EventDataId', 'string'], ['EventSubmissionTimestamp', 'datetime'], ['OperationId', 'string'],
  ['ResourceGroup', 'string'], ['ResourceProviderValue', 'string'], ['ActivityStatusValue', 'string'],
  ['ActivitySubstatusValue', 'string'], ['Hierarchy', 'string'], ['TimeGenerated', 'datetime'], ['SubscriptionId', 'string'],
  ['ResourceId', 'string'], ['_ResourceId', 'string'], ['Authorization_d', 'dynamic'], ['Type', 'string'],
];

const POLICY_ACTION = /^microsoft\.authorization\/policies\/[^/]+\/action$/i;

function hierarchy(t: Tenant, resourceId: string): string {
  const chain = t.groupChain(resourceId).reverse().map((g) => t.get(g)?.name ?? '');
  const sub = idParts(resourceId).subscriptionId;
  return [...chain, ...(sub ? [sub] : [])].join('/');
}

/** The provider namespace of the operation (the resource type's), upper-cased as the table has it. */
function providerOf(operation: string): string {
  return operation.split('/')[0].toUpperCase();
}

function row(t: Tenant, e: ActivityEvent): Row {
  const p = idParts(e.resourceId);
  const props = { eventCategory: e.category, entity: e.resourceId, message: e.operation, hierarchy: hierarchy(t, e.resourceId), ...e.properties };
  return {
    TenantId: t.tenantId,
    SourceSystem: 'Azure',
    CategoryValue: e.category,
    CorrelationId: e.correlationId,
    Level: 'Informational',
    // Azure upper-cases operation names and resource ids in this table; _ResourceId is lower case.
    OperationNameValue: e.operation.toUpperCase(),
    Properties: JSON.stringify(props),
    Properties_d: props,
    Caller: e.caller,
    EventDataId: e.eventId,
    EventSubmissionTimestamp: e.at,
    OperationId: e.eventId,
    ResourceGroup: (p.resourceGroup ?? '').toUpperCase(),
    ResourceProviderValue: providerOf(e.operation),
    ActivityStatusValue: e.status,
    ActivitySubstatusValue: e.subStatus ?? '',
    Hierarchy: hierarchy(t, e.resourceId),
    TimeGenerated: e.at,
    SubscriptionId: p.subscriptionId ?? '',
    ResourceId: e.resourceId.toUpperCase(),
    _ResourceId: e.resourceId.toLowerCase(),
    Authorization_d: { action: e.operation, scope: e.resourceId },
    Type: 'AzureActivity',
  };
}

/** A resource write as the Activity Log reports it: one event, status Success. */
function fromChange(c: ResourceChange): ActivityEvent {
  const policy = POLICY_ACTION.test(c.operation);
  return {
    eventId: c.changeId,
    category: policy ? 'Policy' : 'Administrative',
    operation: c.operation,
    resourceId: c.resourceId,
    caller: c.changedBy,
    correlationId: c.correlationId ?? c.changeId,
    status: 'Success',
    subStatus: c.changeType === 'Create' ? 'Created' : 'OK',
    at: c.timestamp,
    properties: { statusCode: c.changeType === 'Create' ? 'Created' : 'OK' },
  };
}

export function activityRows(t: Tenant): Row[] {
  const events = [...t.changes.map(fromChange), ...t.activity];
  return events.sort((a, b) => a.at.localeCompare(b.at)).map((e) => row(t, e));
}

const ISO_DURATION = /^P(?!$)(\d+(?:\.\d+)?D)?(T(?=\d)(\d+(?:\.\d+)?H)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?S)?)?$/;

function durationMs(s: string): number | undefined {
  const m = ISO_DURATION.exec(s);
  if (!m) return undefined;
  const n = (x?: string) => (x ? parseFloat(x) : 0);
  return ((n(m[1]) * 24 + n(m[3])) * 60 + n(m[4])) * 60_000 + n(m[5]) * 1000;
}

/** An ISO 8601 interval: start/end, start/duration, duration/end, or a duration ending now. */
export function parseTimespan(ts: string, now = Date.now()): { from: number; to: number } | undefined {
  const parts = ts.split('/');
  const point = (s: string) => (/^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : NaN);
  if (parts.length === 1) {
    const d = durationMs(parts[0]);
    return d === undefined ? undefined : { from: now - d, to: now };
  }
  if (parts.length !== 2) return undefined;
  const [a, b] = parts;
  const ta = point(a), tb = point(b), da = durationMs(a), db = durationMs(b);
  if (!Number.isNaN(ta) && !Number.isNaN(tb)) return { from: ta, to: tb };
  if (!Number.isNaN(ta) && db !== undefined) return { from: ta, to: ta + db };
  if (da !== undefined && !Number.isNaN(tb)) return { from: tb - da, to: tb };
  return undefined;
}

const request = z.object({
  query: z.string().min(1).max(100_000),
  timespan: z.string().max(100).optional(),
  workspaces: z.array(z.string()).max(100).optional(),
});

/**
 * The columns a query's result has, in order, with the type each keeps from AzureActivity when it is
 * a column as is or renamed (an empty result still names them; a renamed TimeGenerated stays datetime).
 */
function resultColumns(q: Query): Map<string, string | undefined> {
  let cols = new Map<string, string | undefined>(COLUMNS);
  const typed = (named: { name: string; e: Expr }[]) =>
    named.map((c) => [c.name, c.e.k === 'col' && c.e.path.length === 1 ? cols.get(String(c.e.path[0])) : undefined] as [string, string | undefined]);
  for (const s of q.stages) {
    if (s.k === 'project' || s.k === 'distinct') cols = new Map(typed(s.cols));
    else if (s.k === 'extend') {
      const added = typed(s.cols);
      for (const [n] of added) cols.delete(n);
      cols = new Map([...cols, ...added]);
    } else if (s.k === 'project-away') for (const n of s.names) cols.delete(n);
    else if (s.k === 'summarize') {
      cols = new Map([...typed(s.by), ...s.aggs.map((a) => [a.name, a.e.k === 'call' && /^(count|countif|dcount)$/.test(a.e.fn) ? 'long' : undefined] as [string, string | undefined])]);
    } else if (s.k === 'count') cols = new Map([['Count', 'long']]);
  }
  return cols;
}

function columnType(name: string, known: Map<string, string | undefined>, rows: Row[]): string {
  const t = known.get(name);
  if (t) return t;
  const v = rows.find((r) => r[name] !== null && r[name] !== undefined)?.[name];
  if (typeof v === 'number') return Number.isInteger(v) ? 'long' : 'real';
  if (typeof v === 'boolean') return 'bool';
  if (v !== null && typeof v === 'object') return 'dynamic';
  return 'string';
}

/** POST /v1/workspaces/{id}/query over the tenant's AzureActivity table. */
export function handleLogAnalytics(t: Tenant, method: string, path: string, body: unknown): { status: number; body: unknown } {
  const m = /^\/v1\/workspaces\/([^/]+)\/query\/?$/i.exec(path);
  if (!m) throw new LogAnalyticsError(404, 'PathNotFoundError', `The requested path does not exist: ${path}`);
  if (method !== 'POST') throw new LogAnalyticsError(405, 'MethodNotAllowed', `${method} is not supported on ${path}; the sandbox answers POST queries.`);
  if (decodeURIComponent(m[1]).toLowerCase() !== workspaceIdFor(t.tenantId)) {
    throw new LogAnalyticsError(404, 'WorkspaceNotFoundError', `The workspace '${decodeURIComponent(m[1])}' could not be found.`);
  }
  const parsed = request.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LogAnalyticsError(400, 'BadArgumentError', `The request had some invalid properties: '${issue.path.join('.') || 'body'}': ${issue.message}`);
  }
  const req = parsed.data;
  let window: { from: number; to: number } | undefined;
  if (req.timespan) {
    window = parseTimespan(req.timespan);
    if (!window) throw new LogAnalyticsError(400, 'BadArgumentError', `The timespan '${req.timespan}' is not an ISO 8601 interval or duration.`);
  }
  let rows: Row[];
  let query: Query;
  try {
    query = parseKql(req.query);
    if (query.table !== 'azureactivity') {
      throw new LogAnalyticsError(400, 'BadArgumentError', 'The request had some invalid properties', {
        code: 'SemanticError', message: `'${query.table}' could not be resolved to a table (the sandbox's workspace holds AzureActivity)`,
      });
    }
    let input = activityRows(t);
    if (window) input = input.filter((r) => { const at = Date.parse(String(r.TimeGenerated)); return at >= window.from && at <= window.to; });
    rows = run(query, input);
  } catch (e) {
    if (e instanceof KqlError) {
      throw new LogAnalyticsError(400, 'BadArgumentError', 'The request had some invalid properties', { code: 'SyntaxError', message: e.message });
    }
    throw e;
  }
  const known = resultColumns(query);
  const names = rows.length ? Object.keys(rows[0]) : [...known.keys()];
  const columns = names.map((name) => ({ name, type: columnType(name, known, rows) }));
  // Dynamic values travel as JSON text; the client parses them.
  const cells = rows.map((r) => columns.map((c) => {
    const v = r[c.name] ?? null;
    return c.type === 'dynamic' && v !== null ? JSON.stringify(v) : v;
  }));
  return { status: 200, body: { tables: [{ name: 'PrimaryResult', columns, rows: cells }] } };
}

/** Side-door input: an Activity Log event of the Policy category (or another Administrative one). */
export const activityEventInput = z.object({
  resourceId: z.string().startsWith('/').max(2000),
  operation: z.string().min(1).max(300),
  category: z.enum(['Administrative', 'Policy']).default('Policy'),
  caller: z.string().min(1).max(300),
  correlationId: z.string().min(1).max(128).optional(),
  status: z.string().min(1).max(50).default('Success'),
  subStatus: z.string().max(100).optional(),
  at: z.string().datetime().optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
});

export function toActivityEvent(input: z.infer<typeof activityEventInput>): ActivityEvent {
  return {
    eventId: randomUUID(),
    category: input.category,
    operation: input.operation,
    resourceId: input.resourceId,
    caller: input.caller,
    correlationId: input.correlationId ?? randomUUID(),
    status: input.status,
    subStatus: input.subStatus,
    at: input.at ?? new Date().toISOString(),
    properties: (input.properties ?? {}) as ActivityEvent['properties'],
  };
}
