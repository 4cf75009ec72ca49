// The Activity Log signal through the real LogsQueryClient (@azure/monitor-query-logs) against the ARM
// sandbox's Log Analytics workspace: management-group-scope policy and role changes with who made them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import { sandbox } from '../../helpers/sandbox.ts';
import { armConfig, armRequest, type ArmConfig } from '../../../functions/platform/arm.ts';
import { logsQueryClient } from '../../../functions/platform/log-analytics.ts';
import { activityLog } from '../../../functions/platform/activity-log.ts';
import { attributor } from '../../../functions/drift/attribution.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

const MG = (n: string) => `/providers/Microsoft.Management/managementGroups/${n}`;
const uniq = () => randomUUID().slice(0, 8);
const tick = () => new Promise((r) => setTimeout(r, 3));

async function putWith(cfg: ArmConfig, id: string, body: unknown, correlationId?: string) {
  const { pipeline, client } = cfg.pipeline();
  const res = await pipeline.sendRequest(client, createPipelineRequest({
    url: `${cfg.endpoint}${id}?api-version=2023-04-01`, method: 'PUT', body: JSON.stringify(body),
    headers: createHttpHeaders({ 'content-type': 'application/json', ...(correlationId ? { 'x-ms-correlation-request-id': correlationId } : {}) }),
  }));
  if (res.status >= 300) throw new Error(`PUT ${id}: ${res.status} ${res.bodyAsText}`);
}

async function setup() {
  const sb = await sandbox();
  const config = loadConfig(sb.env);
  const cfg = armConfig(config.arm);
  // As the composition root will build it: the drift settings name the endpoint and the workspace.
  const client = logsQueryClient(cfg, config.drift.logAnalyticsEndpoint);
  const workspaceId = config.drift.activityLogWorkspaceId!;
  const mg = `core-${uniq()}`;
  await putWith(cfg, MG(mg), { properties: { displayName: 'Core' } });
  const pd = `${MG(mg)}/providers/Microsoft.Authorization/policyDefinitions/audit-tags`;
  await putWith(cfg, pd, { properties: { policyRule: { if: { field: 'tags', exists: 'false' }, then: { effect: 'audit' } } } });
  return { sb, cfg, client, workspaceId, mg, pd };
}

const ctx = setup();

test('management-group-scope policy assignment changes come back with caller, correlation id and category', async () => {
  const { cfg, client, workspaceId, mg, pd } = await ctx;
  const since = new Date().toISOString();
  await tick();
  const pa = `${MG(mg)}/providers/Microsoft.Authorization/policyAssignments/audit-tags`;
  const nexusRun = randomUUID();
  await putWith(cfg, pa, { properties: { policyDefinitionId: pd, enforcementMode: 'Default' } }, nexusRun);
  await tick();
  const drift = await armRequest('POST', '/_sandbox/resources/update', {
    apiVersion: 'sandbox', cfg, body: { id: pa, patch: { properties: { enforcementMode: 'DoNotEnforce' } }, changedBy: 'erin@contoso.example', correlationId: 'portal-erin-1' },
  });
  assert.is(drift.status, 200);
  await tick();
  const policyEvent = await armRequest('POST', '/_sandbox/activity-log/events', {
    apiVersion: 'sandbox', cfg,
    body: { events: [{ resourceId: pa, operation: 'Microsoft.Authorization/policies/audit/action', caller: 'f1d2c3b4-0000-4000-8000-00000000abcd', category: 'Policy' }] },
  });
  assert.is(policyEvent.status, 200);

  const events = await activityLog({ client, workspaceId, since, resourceIds: [pa] });
  assert.equal(events.map((e) => [e.resourceId, e.category, e.operation, e.caller, e.status]), [
    [pa, 'Administrative', 'MICROSOFT.AUTHORIZATION/POLICYASSIGNMENTS/WRITE', 'nexus@sandbox', 'Success'],
    [pa, 'Administrative', 'MICROSOFT.AUTHORIZATION/POLICYASSIGNMENTS/WRITE', 'erin@contoso.example', 'Success'],
    [pa, 'Policy', 'MICROSOFT.AUTHORIZATION/POLICIES/AUDIT/ACTION', 'f1d2c3b4-0000-4000-8000-00000000abcd', 'Success'],
  ]);
  assert.is(events[0].correlationId, nexusRun);
  assert.is(events[1].correlationId, 'portal-erin-1');
  assert.match(events[0].at, /^\d{4}-\d{2}-\d{2}T/);
  assert.is(events[0].properties.entity, pa, 'Properties_d arrives parsed');

  const who = attributor({ selfIdentities: [], selfCorrelationIds: new Set([nexusRun]), policyPrincipals: new Set() });
  assert.equal(events.map((e) => who(e).actor), ['nexus', 'person', 'policy']);
  assert.is(who(events[1]).source, 'activity-log');
});

test('scopes select resources at or under an id; since is exclusive; deletes and role changes are included', async () => {
  const { cfg, client, workspaceId, mg, pd } = await ctx;
  const since = new Date().toISOString();
  await tick();
  const ra = `${MG(mg)}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
  await putWith(cfg, ra, { properties: { roleDefinitionId: '/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7', principalId: randomUUID(), principalType: 'Group' } });
  await tick();
  await armRequest('DELETE', pd, { apiVersion: '2023-04-01', cfg });
  const other = `other-${uniq()}`;
  await putWith(cfg, MG(other), { properties: { displayName: 'Elsewhere' } });

  const events = await activityLog({ client, workspaceId, since, scopes: [MG(mg)] });
  assert.equal(events.map((e) => e.operation), ['MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE', 'MICROSOFT.AUTHORIZATION/POLICYDEFINITIONS/DELETE']);
  assert.is(events[0].resourceId, ra.toUpperCase(), 'without resourceIds, ids are as the table has them (upper case)');
  const after = await activityLog({ client, workspaceId, since: events[1].at, scopes: [MG(mg)] });
  assert.is(after.length, 0);
});

test('a large id list is sent in chunks; an unknown workspace is an error, not an empty answer', async () => {
  const { client, workspaceId, mg } = await ctx;
  const ids = Array.from({ length: 120 }, (_, i) => `${MG(mg)}/providers/Microsoft.Authorization/policyAssignments/none-${i}`);
  const queries: string[] = [];
  const spy = Object.assign(Object.create(client), {
    queryWorkspace: (...args: Parameters<typeof client.queryWorkspace>) => {
      queries.push(args[1]);
      return client.queryWorkspace(...args);
    },
  }) as typeof client;
  const events = await activityLog({ client: spy, workspaceId, since: new Date(Date.now() - 3600_000).toISOString(), resourceIds: [...ids, MG(mg)], maxFilterChars: 1500 });
  assert.equal(events.map((e) => e.resourceId), [MG(mg)], 'the requested spelling comes back');
  assert.ok(queries.length >= 8, `queries: ${queries.length}`);
  assert.ok(queries.every((q) => q.length < 2500), 'each query stays small');
  try {
    await activityLog({ client, workspaceId: randomUUID(), since: new Date().toISOString() });
    assert.unreachable();
  } catch (e) {
    assert.is((e as { statusCode?: number }).statusCode, 404);
    assert.match((e as Error).message, /workspace/i);
  }
});

test('the client refuses an endpoint that is not https', async () => {
  const { cfg } = await ctx;
  assert.throws(() => logsQueryClient(cfg, 'http://127.0.0.1:1/v1'), /NEXUS_LOG_ANALYTICS_ENDPOINT/);
});

test.run();
