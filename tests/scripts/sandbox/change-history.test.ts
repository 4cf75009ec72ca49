// The sandbox's change-history signals on the wire: correlation ids and principals on every write,
// Resource Graph's change tables and throttling headers, and the Activity Log's Log Analytics workspace.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { sandbox } from '../../helpers/sandbox.ts';
import { formatResetsAfter } from '../../../scripts/sandbox/graph-quota.ts';
import { parseTimespan } from '../../../scripts/sandbox/log-analytics.ts';

const MG = (n: string) => `/providers/Microsoft.Management/managementGroups/${n}`;
const uniq = () => randomUUID().slice(0, 8);

interface Res { status: number; headers: Record<string, string | string[] | undefined>; body: any }

/** One HTTPS call with the headers given, trusting the sandbox's certificate. */
async function http(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, token?: string): Promise<Res> {
  const sb = await sandbox();
  const url = new URL(path, sb.url);
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method, ca: readFileSync(sb.caFile),
      headers: { authorization: `Bearer ${token ?? sb.token}`, ...(text ? { 'content-type': 'application/json' } : {}), ...headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: raw ? JSON.parse(raw) : undefined });
      });
    });
    req.on('error', reject);
    req.end(text);
  });
}

const graph = (query: string, token?: string) => http('POST', '/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01', { query }, {}, token);

test('an ARM write keeps the caller\'s correlation id, echoes it, and records it with the token\'s principal', async () => {
  const sb = await sandbox();
  const g = `ch-${uniq()}`;
  const correlationId = randomUUID();
  const put = await http('PUT', `${MG(g)}?api-version=2021-04-01`, { properties: { displayName: 'G' } }, { 'x-ms-correlation-request-id': correlationId });
  assert.is(put.status, 201);
  assert.is(put.headers['x-ms-correlation-request-id'], correlationId, 'ARM echoes the correlation id');
  const other = await http('GET', `${MG(g)}?api-version=2021-04-01`);
  assert.match(String(other.headers['x-ms-correlation-request-id']), /^[0-9a-f-]{36}$/, 'without one, ARM makes one');

  const alice = sb.state.issueToken(`alice-${g}@contoso.example`, 'User');
  const patch = await http('PATCH', `${MG(g)}?api-version=2021-04-01`, { displayName: 'Renamed' }, {}, alice);
  assert.is(patch.status, 200);
  const rows = await graph(`resourcecontainerchanges | where properties.targetResourceId =~ '${MG(g)}' | order by properties.changeAttributes.timestamp asc`);
  assert.is(rows.status, 200);
  const [created, renamed] = rows.body.data;
  assert.is(created.properties.changeType, 'Create');
  assert.is(created.properties.changeAttributes.correlationId, correlationId);
  assert.is(created.properties.changeAttributes.changedBy, 'nexus@sandbox');
  assert.is(created.properties.changeAttributes.changedByType, 'Application');
  assert.is(created.properties.changeAttributes.operation, 'Microsoft.Management/managementGroups/write');
  assert.is(renamed.properties.changeAttributes.changedBy, `alice-${g}@contoso.example`);
  assert.is(renamed.properties.changeAttributes.changedByType, 'User', 'a token issued to a user writes as a User');
  assert.is(renamed.properties.changeAttributes.clientType, 'ARM API');
  assert.equal(renamed.properties.changes['properties.displayName'], { previousValue: 'G', newValue: 'Renamed', propertyChangeType: 'Update', changeCategory: 'User' });
  assert.is.not(renamed.properties.changeAttributes.correlationId, correlationId);
});

test('a side-door delete records one correlation id for everything it removes', async () => {
  const sub = randomUUID();
  const sb = await sandbox();
  sb.state.addSubscription({ subscriptionId: sub });
  const rg = `/subscriptions/${sub}/resourceGroups/rg`;
  await http('PUT', `${rg}?api-version=2021-04-01`, { location: 'westeurope' });
  await http('PUT', `${rg}/providers/Microsoft.Storage/storageAccounts/sa1?api-version=2023-01-01`, { location: 'westeurope' });
  const del = await http('POST', '/_sandbox/resources/delete', { id: rg, changedBy: 'bob@contoso.example', correlationId: 'portal-op-1' });
  assert.is(del.status, 200);
  const res = await graph(`resourcechanges | where properties.targetResourceId startswith '${rg}/' and properties.changeType == 'Delete'`);
  const cont = await graph(`resourcecontainerchanges | where properties.targetResourceId =~ '${rg}' and properties.changeType == 'Delete'`);
  assert.equal([...res.body.data, ...cont.body.data].map((r: any) => r.properties.changeAttributes.correlationId), ['portal-op-1', 'portal-op-1']);
  assert.is(res.body.data[0].properties.changeAttributes.changedByType, 'User');
});

test('Resource Graph tells the quota on every response and answers 429 with Retry-After over it', async () => {
  const sb = await sandbox();
  const token = sb.state.issueToken(`quota-${uniq()}`);
  const before = sb.resourceGraphQuota.options;
  try {
    sb.resourceGraphQuota.set({ limit: 2, windowMs: 90_000 });
    const a = await graph('resources | take 1', token);
    assert.is(a.headers['x-ms-user-quota-remaining'], '1');
    assert.match(String(a.headers['x-ms-user-quota-resets-after']), /^00:01:(2\d|30)$/);
    const b = await graph('resources | take 1', token);
    assert.is(b.status, 200);
    assert.is(b.headers['x-ms-user-quota-remaining'], '0');
    const c = await graph('resources | take 1', token);
    assert.is(c.status, 429);
    assert.is(c.body.error.code, 'RateLimiting');
    assert.ok(Number(c.headers['retry-after']) >= 89, 'Retry-After is the seconds until the window resets');
    assert.is(c.headers['x-ms-user-quota-remaining'], '0');
    const other = await graph('resources | take 1');
    assert.is(other.status, 200, 'the quota is per token');
    const set = await http('POST', '/_sandbox/resource-graph/quota', { limit: 5, windowMs: 1000 });
    assert.equal(set.body, { limit: 5, windowMs: 1000 });
    assert.is((await graph('resources | take 1', token)).headers['x-ms-user-quota-remaining'], '4', 'a new quota starts a new window');
  } finally {
    sb.resourceGraphQuota.set(before);
  }
  assert.is(formatResetsAfter(3_661_001), '01:01:02');
});

test('the Activity Log workspace answers AzureActivity queries in the Log Analytics format', async () => {
  const sb = await sandbox();
  const g = `al-${uniq()}`;
  await http('PUT', `${MG(g)}?api-version=2021-04-01`, { properties: { displayName: 'G' } }, { 'x-ms-correlation-request-id': `corr-${g}` });
  const pd = `${MG(g)}/providers/Microsoft.Authorization/policyDefinitions/deny-x`;
  await http('PUT', `${pd}?api-version=2023-04-01`, { properties: { policyRule: { if: { field: 'type', equals: 'x' }, then: { effect: 'deny' } } } });
  const ev = await http('POST', '/_sandbox/activity-log/events', { events: [{ resourceId: pd, operation: 'Microsoft.Authorization/policies/audit/action', caller: 'policy-insights', correlationId: `corr-${g}` }] });
  assert.is(ev.status, 200);
  const path = `/v1/workspaces/${sb.logAnalytics.workspaceId}/query`;
  assert.is(sb.logAnalytics.endpoint, `${sb.url}/v1`);

  const r = await http('POST', path, { query: `AzureActivity | where CorrelationId == 'corr-${g}' or ResourceId =~ '${pd}' | project TimeGenerated, CategoryValue, OperationNameValue, ResourceId, Caller, ActivityStatusValue, Properties_d | order by TimeGenerated asc` });
  assert.is(r.status, 200);
  const table = r.body.tables[0];
  assert.is(table.name, 'PrimaryResult');
  assert.equal(table.columns.map((c: any) => `${c.name}:${c.type}`), [
    'TimeGenerated:datetime', 'CategoryValue:string', 'OperationNameValue:string', 'ResourceId:string', 'Caller:string', 'ActivityStatusValue:string', 'Properties_d:dynamic']);
  assert.equal(table.rows.map((row: any[]) => [row[1], row[2], row[3], row[4], row[5]]), [
    ['Administrative', 'MICROSOFT.MANAGEMENT/MANAGEMENTGROUPS/WRITE', MG(g).toUpperCase(), 'nexus@sandbox', 'Success'],
    ['Administrative', 'MICROSOFT.AUTHORIZATION/POLICYDEFINITIONS/WRITE', pd.toUpperCase(), 'nexus@sandbox', 'Success'],
    ['Policy', 'MICROSOFT.AUTHORIZATION/POLICIES/AUDIT/ACTION', pd.toUpperCase(), 'policy-insights', 'Success'],
  ]);
  assert.type(table.rows[0][6], 'string', 'dynamic values travel as JSON text');
  assert.is(JSON.parse(table.rows[1][6]).entity, pd);

  const future = new Date(Date.now() + 3600_000).toISOString();
  const none = await http('POST', path, { query: `AzureActivity | where ResourceId =~ '${pd}'`, timespan: `${future}/PT1H` });
  assert.is(none.body.tables[0].rows.length, 0, 'the timespan bounds the rows');
  assert.is(none.body.tables[0].columns.length > 20, true, 'an empty result still names the columns');
  const emptyProjected = await http('POST', path, { query: `AzureActivity | where ResourceId == 'none' | project at = TimeGenerated, Caller | extend n = 1` });
  assert.equal(emptyProjected.body.tables[0].columns, [{ name: 'at', type: 'datetime' }, { name: 'Caller', type: 'string' }, { name: 'n', type: 'string' }], 'a renamed column keeps its type');
  const counted = await http('POST', path, { query: `AzureActivity | where CorrelationId == 'corr-${g}' | summarize n = count() by CategoryValue | order by CategoryValue asc` });
  assert.equal(counted.body.tables[0].columns, [{ name: 'CategoryValue', type: 'string' }, { name: 'n', type: 'long' }]);
  assert.equal(counted.body.tables[0].rows, [['Administrative', 1], ['Policy', 1]]);

  const bad = await http('POST', path, { query: 'AzureActivity | join (AzureActivity) on CorrelationId' });
  assert.is(bad.status, 400);
  assert.is(bad.body.error.code, 'BadArgumentError');
  assert.match(bad.body.error.innererror.message, /join/);
  const table2 = await http('POST', path, { query: 'SigninLogs | take 1' });
  assert.is(table2.status, 400);
  assert.match(table2.body.error.innererror.message, /SigninLogs|signinlogs/);
  const noQuery = await http('POST', path, { timespan: 'P1D' });
  assert.is(noQuery.status, 400);
  assert.match(noQuery.body.error.message, /query/);
  const badSpan = await http('POST', path, { query: 'AzureActivity', timespan: 'yesterday' });
  assert.is(badSpan.status, 400);
  assert.match(badSpan.body.error.message, /yesterday/);
  const elsewhere = await http('POST', `/v1/workspaces/${randomUUID()}/query`, { query: 'AzureActivity' });
  assert.is(elsewhere.status, 404);
  assert.is(elsewhere.body.error.code, 'WorkspaceNotFoundError');
  const noToken = await http('POST', path, { query: 'AzureActivity' }, {}, 'not-a-token');
  assert.is(noToken.status, 401);
  const badEvent = await http('POST', '/_sandbox/activity-log/events', { events: [{ resourceId: 'nope', operation: 'x', caller: 'y' }] });
  assert.is(badEvent.status, 400);
  assert.match(badEvent.body.error.message, /resourceId/);
});

test('Log Analytics timespans: start/end, start/duration, duration/end and a duration ending now', () => {
  const now = Date.parse('2026-01-02T00:00:00Z');
  assert.equal(parseTimespan('2026-01-01T00:00:00Z/2026-01-01T06:00:00Z', now), { from: Date.parse('2026-01-01T00:00:00Z'), to: Date.parse('2026-01-01T06:00:00Z') });
  assert.equal(parseTimespan('2026-01-01T00:00:00Z/PT1H30M', now), { from: Date.parse('2026-01-01T00:00:00Z'), to: Date.parse('2026-01-01T01:30:00Z') });
  assert.equal(parseTimespan('P1D/2026-01-01T00:00:00Z', now), { from: Date.parse('2025-12-31T00:00:00Z'), to: Date.parse('2026-01-01T00:00:00Z') });
  assert.equal(parseTimespan('PT10M', now), { from: now - 600_000, to: now });
  assert.is(parseTimespan('P', now), undefined);
  assert.is(parseTimespan('a/b/c', now), undefined);
});

test.run();
