// Resource Graph through the real @azure/arm-resourcegraph client against the ARM sandbox.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { sandbox } from '../../helpers/sandbox.ts';
import { armConfig, armRequest, resourceGraphClient } from '../../../functions/platform/arm.ts';
import { queryAll, queryPages, resourcesByScope, resourceChangesSince, complianceSummary, kqlString } from '../../../functions/platform/resource-graph.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

const MG = (n: string) => `/providers/Microsoft.Management/managementGroups/${n}`;
const uniq = () => randomUUID().slice(0, 8);

async function setup() {
  const sb = await sandbox();
  const cfg = armConfig(loadConfig(sb.env).arm);
  const client = resourceGraphClient(cfg);
  const put = async (id: string, body: unknown) => {
    const r = await armRequest('PUT', id, { apiVersion: '2021-04-01', body, cfg });
    if (r.status >= 300) throw new Error(`PUT ${id}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const root = `lz-${uniq()}`;
  const corp = `corp-${uniq()}`;
  await put(MG(root), { properties: { displayName: 'Landing zones' } });
  await put(MG(corp), { properties: { displayName: 'Corp', details: { parent: { id: MG(root) } } } });
  const inside = randomUUID();
  const outside = randomUUID();
  sb.state.addSubscription({ subscriptionId: inside, displayName: 'corp-1', managementGroupId: corp });
  sb.state.addSubscription({ subscriptionId: outside, displayName: 'elsewhere' });
  return { sb, cfg, client, put, root, corp, inside, outside };
}

const ctx = setup();

test('queryAll follows $skipToken across pages and returns every row once', async () => {
  const { client, put, inside } = await ctx;
  const rg = `/subscriptions/${inside}/resourceGroups/many`;
  await put(rg, { location: 'westeurope' });
  for (let i = 0; i < 250; i++) {
    await put(`${rg}/providers/Microsoft.Storage/storageAccounts/sa${String(i).padStart(3, '0')}`, { location: 'westeurope', properties: { n: i } });
  }
  const q = `resources | where type =~ 'Microsoft.Storage/storageAccounts' | project id, n = properties.n | order by id asc`;
  const pages: number[] = [];
  for await (const p of queryPages(q, { subscriptions: [inside] }, { client, pageSize: 100 })) pages.push(p.length);
  assert.equal(pages, [100, 100, 50]);
  const rows = await queryAll<{ id: string; n: number }>(q, { subscriptions: [inside] }, { client, pageSize: 100 });
  assert.is(rows.length, 250);
  assert.is(new Set(rows.map((r) => r.id)).size, 250);
  assert.is(rows[0].n, 0);
  assert.is(rows[249].n, 249);
  const limited = await queryAll(`${q} | limit 7`, { subscriptions: [inside] }, { client, pageSize: 5 });
  assert.is(limited.length, 7);
});

test('resourcesByScope: management group scope reaches subscriptions below it, not beside it', async () => {
  const { client, put, root, inside, outside } = await ctx;
  const a = `/subscriptions/${inside}/resourceGroups/net`;
  const b = `/subscriptions/${outside}/resourceGroups/net`;
  await put(a, { location: 'westeurope' });
  await put(b, { location: 'westeurope' });
  await put(`${a}/providers/Microsoft.Network/virtualNetworks/hub`, { location: 'westeurope', properties: {} });
  await put(`${b}/providers/Microsoft.Network/virtualNetworks/other`, { location: 'westeurope', properties: {} });
  const vnets = await resourcesByScope(MG(root), { client, types: ['microsoft.network/VIRTUALNETWORKS'] });
  assert.equal(vnets.map((v) => v.name), ['hub']);
  assert.is(vnets[0].type, 'microsoft.network/virtualnetworks', 'Resource Graph reports types in lower case');
  assert.is(vnets[0].resourceGroup, 'net');
  const inRg = await resourcesByScope(a, { client });
  assert.equal(inRg.map((v) => v.name), ['hub']);
  const containers = await resourcesByScope(MG(root), { client, table: 'resourcecontainers' });
  const types = containers.map((c) => c.type).sort();
  assert.ok(types.includes('microsoft.management/managementgroups'));
  assert.ok(types.includes('microsoft.resources/subscriptions'));
  assert.ok(!containers.some((c) => c.id.includes(outside)), 'nothing from the subscription outside the group');
});

test('summarize count() by, project and order over resourcecontainers', async () => {
  const { client, root } = await ctx;
  const rows = await queryAll<{ type: string; count_: number }>(
    'resourcecontainers | summarize count() by type | order by type asc', { managementGroups: [root] }, { client });
  assert.equal(rows.map((r) => r.type), ['microsoft.management/managementgroups', 'microsoft.resources/subscriptions', 'microsoft.resources/subscriptions/resourcegroups']);
  assert.is(rows.find((r) => r.type === 'microsoft.management/managementgroups')!.count_, 2, 'the group and its child');
  const chain = await queryAll<{ chain: { name: string }[] }>(
    "resourcecontainers | where type =~ 'microsoft.resources/subscriptions' | project chain = properties.managementGroupAncestorsChain",
    { managementGroups: [root] }, { client });
  assert.is(chain.length, 1);
  assert.equal(chain[0].chain.map((c) => c.name).slice(0, 2).length, 2);
});

test('resourceChangesSince: ARM writes and side-door drift, with who made them and what changed', async () => {
  const { sb, client, put, corp } = await ctx;
  const pd = `${MG(corp)}/providers/Microsoft.Authorization/policyDefinitions/audit-x`;
  await put(pd, { properties: { policyRule: { if: { field: 'type', equals: 'x' }, then: { effect: 'audit' } } } });
  const pa = `${MG(corp)}/providers/Microsoft.Authorization/policyAssignments/audit-x`;
  await put(pa, { properties: { policyDefinitionId: pd, enforcementMode: 'Default' } });
  const since = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 5));
  // The HTTP side door, as a demo or another process would use it.
  const drifted = await armRequest('POST', '/_sandbox/resources/update', {
    apiVersion: 'sandbox', cfg: armConfig(loadConfig(sb.env).arm),
    body: { id: pa, patch: { properties: { enforcementMode: 'DoNotEnforce' } }, changedBy: 'mallory@contoso.example' },
  });
  assert.is(drifted.status, 200);
  assert.is(drifted.body.properties.enforcementMode, 'DoNotEnforce');
  await put(`${MG(corp)}/providers/Microsoft.Authorization/policyAssignments/new-one`, { properties: { policyDefinitionId: pd } });

  const changes = await resourceChangesSince(since, MG(corp), { client });
  assert.equal(changes.map((c) => [c.resourceId.split('/').pop(), c.changeType]), [['audit-x', 'Update'], ['new-one', 'Create']]);
  const drift = changes[0];
  assert.is(drift.changedBy, 'mallory@contoso.example');
  assert.is(drift.clientType, 'Sandbox side door');
  assert.equal(drift.changes['properties.enforcementMode'], { previousValue: 'Default', newValue: 'DoNotEnforce', propertyChangeType: 'Update', changeCategory: 'User' });
  assert.is(changes[1].changedBy, 'nexus@sandbox', 'ARM writes are recorded under the token principal');
  const later = await resourceChangesSince(changes[1].timestamp, MG(corp), { client });
  assert.is(later.length, 0, 'the since bound is exclusive');
});

test('unsupported KQL is a 400 BadRequest naming the unsupported part', async () => {
  const { client } = await ctx;
  for (const [q, part] of [
    ['resources | join (resourcecontainers) on subscriptionId', "'join'"],
    ["resources | where name matches regex 'a.*'", "'matches'"],
    ['resources | where parse_json(name) == 1', "'parse_json'"],
    ['securityresources | limit 1', "'securityresources'"],
  ]) {
    try {
      await client.resources({ query: q });
      assert.unreachable(`accepted: ${q}`);
    } catch (e: any) {
      assert.is(e.statusCode, 400, q);
      assert.is(e.code, 'BadRequest', q);
      assert.ok(String(e.message).includes(part), `${q} -> ${e.message}`);
    }
  }
});

test('a $skipToken from another query is refused', async () => {
  const { client, inside } = await ctx;
  const first = await client.resources({ query: 'resources | order by id asc', subscriptions: [inside], options: { top: 10 } });
  assert.ok(first.skipToken);
  try {
    await client.resources({ query: 'resources | order by name asc', subscriptions: [inside], options: { top: 10, skipToken: first.skipToken } });
    assert.unreachable('accepted a foreign skip token');
  } catch (e: any) {
    assert.is(e.statusCode, 400);
  }
});

test('kqlString keeps quotes in values from changing the query', async () => {
  const { client, put, inside } = await ctx;
  const rg = `/subscriptions/${inside}/resourceGroups/quotes`;
  await put(rg, { location: 'westeurope' });
  const rows = await queryAll(`resourcecontainers | where name == ${kqlString("x' or name != '")}`, { subscriptions: [inside] }, { client });
  assert.is(rows.length, 0);
});

test('complianceSummary counts policy states by state and assignment in scope', async () => {
  const { sb, client, put, corp, inside, outside } = await ctx;
  const pd = `${MG(corp)}/providers/Microsoft.Authorization/policyDefinitions/tags`;
  await put(pd, { properties: { policyRule: { if: { field: 'tags', exists: false }, then: { effect: 'audit' } } } });
  const pa = `${MG(corp)}/providers/Microsoft.Authorization/policyAssignments/tags`;
  await put(pa, { properties: { policyDefinitionId: pd } });
  const rg = `/subscriptions/${inside}/resourceGroups/cmp`;
  await put(rg, { location: 'westeurope' });
  const ids = ['a', 'b', 'c'].map((n) => `${rg}/providers/Microsoft.Storage/storageAccounts/${n}`);
  for (const id of ids) await put(id, { location: 'westeurope' });
  sb.state.setCompliance([
    { resourceId: ids[0], policyAssignmentId: pa, complianceState: 'NonCompliant' },
    { resourceId: ids[1], policyAssignmentId: pa, complianceState: 'NonCompliant' },
    { resourceId: ids[2], policyAssignmentId: pa, complianceState: 'Compliant' },
  ]);
  const s = await complianceSummary(MG(corp), { client });
  assert.equal(s.byState, { NonCompliant: 2, Compliant: 1 });
  assert.is(s.total, 3);
  assert.is(s.nonCompliantResources, 2);
  assert.equal(s.nonCompliantByAssignment, { [pa]: 2 });
  const none = await complianceSummary(`/subscriptions/${outside}`, { client });
  assert.is(none.total, 0);
});

test.run();
