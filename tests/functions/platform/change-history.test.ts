// The change-history signal through the real @azure/arm-resourcegraph client against the ARM sandbox:
// who changed what (with correlation ids), both change tables, paging, chunked id filters, throttling.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import type { ResourceGraphClient } from '@azure/arm-resourcegraph';
import { createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import { sandbox } from '../../helpers/sandbox.ts';
import { armConfig, armRequest, resourceGraphClient, type ArmConfig } from '../../../functions/platform/arm.ts';
import { changeHistory, chunkIds } from '../../../functions/platform/change-history.ts';
import { parseResetsAfter } from '../../../functions/platform/graph-throttle.ts';
import { queryAll } from '../../../functions/platform/resource-graph.ts';
import { attribute } from '../../../functions/drift/attribution.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

const MG = (n: string) => `/providers/Microsoft.Management/managementGroups/${n}`;
const uniq = () => randomUUID().slice(0, 8);
const tick = () => new Promise((r) => setTimeout(r, 3));

/** An ARM PUT carrying a correlation id, as Nexus's applies will send it. */
async function putWith(cfg: ArmConfig, id: string, body: unknown, correlationId?: string) {
  const { pipeline, client } = cfg.pipeline();
  const req = createPipelineRequest({
    url: `${cfg.endpoint}${id}?api-version=2021-04-01`, method: 'PUT', body: JSON.stringify(body),
    headers: createHttpHeaders({ 'content-type': 'application/json', ...(correlationId ? { 'x-ms-correlation-request-id': correlationId } : {}) }),
  });
  const res = await pipeline.sendRequest(client, req);
  if (res.status >= 300) throw new Error(`PUT ${id}: ${res.status} ${res.bodyAsText}`);
  return res;
}

async function setup() {
  const sb = await sandbox();
  const cfg = armConfig(loadConfig(sb.env).arm);
  const client = resourceGraphClient(cfg);
  const sub = randomUUID();
  const mg = `hist-${uniq()}`;
  await putWith(cfg, MG(mg), { properties: { displayName: 'History' } });
  sb.state.addSubscription({ subscriptionId: sub, displayName: 'hist-1', managementGroupId: mg });
  const rg = `/subscriptions/${sub}/resourceGroups/app`;
  await putWith(cfg, rg, { location: 'westeurope' });
  return { sb, cfg, client, sub, mg, rg };
}

const ctx = setup();

test('a person\'s change through the side door comes back with their principal, correlation id and the property changed', async () => {
  const { sb, cfg, client, sub, rg } = await ctx;
  const sa = `${rg}/providers/Microsoft.Storage/storageAccounts/person1`;
  const nexusRun = randomUUID();
  await putWith(cfg, sa, { location: 'westeurope', sku: { name: 'Standard_LRS' }, properties: { minimumTlsVersion: 'TLS1_2' } }, nexusRun);
  const since = new Date().toISOString();
  await tick();
  const drift = await armRequest('POST', '/_sandbox/resources/update', {
    apiVersion: 'sandbox', cfg,
    body: { id: sa, patch: { properties: { minimumTlsVersion: 'TLS1_0' } }, changedBy: 'carol@contoso.example', correlationId: 'portal-7f1c' },
  });
  assert.is(drift.status, 200);
  await putWith(cfg, sa, { location: 'westeurope', sku: { name: 'Standard_LRS' }, properties: { minimumTlsVersion: 'TLS1_2' } }, nexusRun);

  const changes = await changeHistory({ client, scope: { subscriptions: [sub] }, since, resourceIds: [sa.toUpperCase()] });
  assert.equal(changes.map((c) => [c.changedBy, c.correlationId]), [['carol@contoso.example', 'portal-7f1c'], ['nexus@sandbox', nexusRun]]);
  const [person, revert] = changes;
  assert.is(person.changedByType, 'User');
  assert.is(person.changeType, 'Update');
  assert.is(person.operation, 'Microsoft.Storage/storageAccounts/write');
  assert.is(person.table, 'resourcechanges');
  assert.equal(person.changes, [{ path: 'properties.minimumTlsVersion', previousValue: 'TLS1_2', newValue: 'TLS1_0', propertyChangeType: 'Update', changeCategory: 'User' }]);

  const who = { selfIdentities: [], selfCorrelationIds: new Set([nexusRun]), policyPrincipals: new Set<string>() };
  assert.equal(attribute(person, who), {
    changedBy: 'carol@contoso.example', actor: 'person', clientType: 'Sandbox side door',
    operation: 'Microsoft.Storage/storageAccounts/write', correlationId: 'portal-7f1c', at: person.timestamp, source: 'resource-graph',
  });
  assert.is(attribute(revert, who).actor, 'nexus', 'Nexus\'s own write is told by the correlation id of its run');
  assert.is(attribute(revert, { ...who, selfCorrelationIds: undefined, selfIdentities: loadConfig(sb.env).drift.selfIdentities }).actor, 'nexus',
    'or by its identity (the sandbox default)');
});

test('containers come from resourcecontainerchanges; both tables merge oldest first', async () => {
  const { cfg, client, sub, mg, rg } = await ctx;
  const since = new Date().toISOString();
  await tick();
  await armRequest('POST', '/_sandbox/resources/update', { apiVersion: 'sandbox', cfg, body: { id: rg, patch: { tags: { owner: 'dave' } }, changedBy: 'dave@contoso.example' } });
  await tick();
  await putWith(cfg, `${rg}/providers/Microsoft.Network/virtualNetworks/vnet1`, { location: 'westeurope', properties: { addressSpace: { addressPrefixes: ['10.0.0.0/16'] } } });
  await tick();
  await armRequest('PATCH', MG(mg), { apiVersion: '2021-04-01', cfg, body: { displayName: 'History (renamed)' } });
  const all = await changeHistory({ client, scope: { managementGroups: [mg] }, since });
  assert.equal(all.map((c) => [c.table, c.resourceId.split('/').pop(), c.changeType]), [
    ['resourcecontainerchanges', 'app', 'Update'],
    ['resourcechanges', 'vnet1', 'Create'],
    ['resourcecontainerchanges', mg, 'Update'],
  ]);
  assert.equal(all[0].changes, [{ path: 'tags.owner', previousValue: null, newValue: 'dave', propertyChangeType: 'Insert', changeCategory: 'User' }]);
  const onlyRg = await changeHistory({ client, scope: { subscriptions: [sub] }, since, resourceIds: [rg] });
  assert.equal(onlyRg.map((c) => c.changedBy), ['dave@contoso.example']);
  const later = await changeHistory({ client, scope: { managementGroups: [mg] }, since: all[2].timestamp });
  assert.is(later.length, 0, 'since is exclusive');
});

test('pages follow $skipToken; a large id set is filtered in chunks, never one giant query', async () => {
  const { cfg, client, sub, rg } = await ctx;
  const since = new Date().toISOString();
  await tick();
  const ids: string[] = [];
  for (let i = 0; i < 45; i++) {
    const id = `${rg}/providers/Microsoft.Storage/storageAccounts/page${String(i).padStart(2, '0')}`;
    ids.push(id);
    await putWith(cfg, id, { location: 'westeurope' });
  }
  const queries: { length: number; top?: number }[] = [];
  const spy = {
    resources: (q: Parameters<ResourceGraphClient['resources']>[0], o?: any) => {
      queries.push({ length: q.query.length, top: q.options?.top });
      return client.resources(q, o);
    },
  } as unknown as ResourceGraphClient;

  const paged = await changeHistory({ client: spy, scope: { subscriptions: [sub] }, since, pageSize: 10 });
  assert.is(paged.length, 45);
  assert.is(new Set(paged.map((c) => c.changeId)).size, 45, 'every change once');
  assert.is(queries.filter((q) => q.top === 10).length, 5 + 1, '5 pages of resourcechanges, 1 of resourcecontainerchanges');

  queries.length = 0;
  const wanted = [...ids.slice(0, 30), ...Array.from({ length: 200 }, (_, i) => `${rg}/providers/Microsoft.Storage/storageAccounts/absent${i}`)];
  const chunked = await changeHistory({ client: spy, scope: { subscriptions: [sub] }, since, resourceIds: wanted, maxFilterChars: 2000, maxChunks: 50 });
  assert.is(chunked.length, 30);
  assert.ok(queries.length > 5, `chunks: ${queries.length}`);
  assert.ok(queries.every((q) => q.length < 3000), 'each query stays small');

  queries.length = 0;
  const fallback = await changeHistory({ client: spy, scope: { subscriptions: [sub] }, since, resourceIds: wanted, maxFilterChars: 2000, maxChunks: 2 });
  assert.equal(fallback.map((c) => c.changeId), chunked.map((c) => c.changeId), 'over maxChunks: the scope read once, filtered here');
  assert.is(queries.length, 1, 'one query (no container ids asked for)');

  assert.equal(chunkIds(['a', 'b', 'c'], 10), [['a', 'b'], ['c']]);
});

test('quota used up: the next page waits until the reset (injected sleep), then goes on', async () => {
  const { sb, cfg, client, sub, rg } = await ctx;
  const since = new Date().toISOString();
  await tick();
  for (let i = 0; i < 5; i++) await putWith(cfg, `${rg}/providers/Microsoft.Web/sites/quota${i}`, { location: 'westeurope' });
  const before = sb.resourceGraphQuota.options;
  const slept: number[] = [];
  try {
    sb.resourceGraphQuota.set({ limit: 2, windowMs: 120_000 });
    const sleep = async (ms: number) => {
      slept.push(ms);
      sb.resourceGraphQuota.set({ limit: 2, windowMs: 120_000 }); // the window the client waited for has begun
    };
    const changes = await changeHistory({ client, scope: { subscriptions: [sub] }, since, pageSize: 2, sleep });
    assert.is(changes.length, 5);
    // Pages: 3 of resourcechanges + 1 of resourcecontainerchanges, two per window: one wait after the 2nd request.
    assert.equal(slept, [120_000]);

    // Every other Resource Graph query (functions/platform/resource-graph.ts) waits the same way.
    slept.length = 0;
    sb.resourceGraphQuota.set({ limit: 2, windowMs: 120_000 });
    const rows = await queryAll(`resources | where subscriptionId == '${sub}' and name startswith 'quota'`, { subscriptions: [sub] }, { client, pageSize: 1, sleep });
    assert.is(rows.length, 5);
    assert.equal(slept, [120_000, 120_000], 'five pages, two per window');
  } finally {
    sb.resourceGraphQuota.set(before);
  }
  assert.is(parseResetsAfter('00:00:03'), 3000);
  assert.is(parseResetsAfter('1.02:00:00.5'), (26 * 3600 + 0.5) * 1000);
  assert.is(parseResetsAfter('soon'), undefined);
});

test('a 429 (the quota used up elsewhere) waits Retry-After and tries again; the SDK alone would throw', async () => {
  const { sb, cfg, client, sub, rg } = await ctx;
  const since = new Date().toISOString();
  await tick();
  await putWith(cfg, `${rg}/providers/Microsoft.Web/sites/after429`, { location: 'westeurope' });
  const before = sb.resourceGraphQuota.options;
  try {
    sb.resourceGraphQuota.set({ limit: 1, windowMs: 60_000 });
    await client.resources({ query: 'resources | take 1' });
    // Verified: @azure/arm-resourcegraph (ms-rest-js) throws the 429 instead of honouring Retry-After.
    try {
      await client.resources({ query: 'resources | take 1' });
      assert.unreachable('the SDK retried');
    } catch (e) {
      assert.is((e as { statusCode?: number }).statusCode, 429);
    }
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      slept.push(ms);
      sb.resourceGraphQuota.set({ limit: 1, windowMs: 60_000 });
    };
    const changes = await changeHistory({ client, scope: { subscriptions: [sub] }, since, sleep });
    assert.equal(changes.map((c) => c.resourceId.split('/').pop()), ['after429']);
    assert.equal(slept, [60_000, 60_000], 'Retry-After before the first table, the used-up quota before the second');
  } finally {
    sb.resourceGraphQuota.set(before);
  }
});

test('a since that is not a time is refused', async () => {
  const { client } = await ctx;
  try {
    await changeHistory({ client, scope: {}, since: 'yesterday' });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /yesterday/);
  }
});

test.run();
