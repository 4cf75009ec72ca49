// The sandbox's ARM resource API, driven through the production ARM adapter (the Azure SDK pipeline).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { sandbox } from '../../helpers/sandbox.ts';
import { startSandbox } from '../../../scripts/sandbox/server.ts';
import { armConfig, armRequest } from '../../../functions/platform/arm.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

const V = '2021-04-01';
const MG = (n: string) => `/providers/Microsoft.Management/managementGroups/${n}`;
const uniq = () => randomUUID().slice(0, 8);

async function arm(method: 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST', path: string, body?: unknown, env?: Record<string, string>) {
  const sb = await sandbox();
  return armRequest(method, path, { apiVersion: V, body, cfg: armConfig(loadConfig(env ?? sb.env).arm) });
}

test('management groups: create 201, read, update 200, nest, list', async () => {
  const sb = await sandbox();
  const a = `mg-a-${uniq()}`;
  const b = `mg-b-${uniq()}`;
  const created = await arm('PUT', MG(a), { properties: { displayName: 'Group A' } });
  assert.is(created.status, 201);
  assert.is(created.body.properties.displayName, 'Group A');
  assert.is(created.body.properties.details.parent.id, MG(sb.tenantId), 'a new group sits under the tenant root');
  const child = await arm('PUT', MG(b), { properties: { displayName: 'B', details: { parent: { id: MG(a) } } } });
  assert.is(child.status, 201);
  assert.is(child.body.properties.details.parent.name, a);
  const again = await arm('PUT', MG(a), { properties: { displayName: 'Group A2' } });
  assert.is(again.status, 200);
  const read = await arm('GET', MG(a));
  assert.is(read.body.properties.displayName, 'Group A2');
  const list = await arm('GET', '/providers/Microsoft.Management/managementGroups');
  const names = list.body.value.map((g: { name: string }) => g.name);
  assert.ok(names.includes(a) && names.includes(b));
  const patched = await arm('PATCH', MG(b), { displayName: 'B renamed' });
  assert.is(patched.status, 200);
  assert.is(patched.body.properties.displayName, 'B renamed');
  assert.is(patched.body.properties.details.parent.id, MG(a), 'PATCH keeps the parent');
});

test('a management group cannot become its own descendant', async () => {
  const a = `mg-${uniq()}`;
  const b = `mg-${uniq()}`;
  await arm('PUT', MG(a), {});
  await arm('PUT', MG(b), { properties: { details: { parent: { id: MG(a) } } } });
  const r = await arm('PUT', MG(a), { properties: { details: { parent: { id: MG(b) } } } });
  assert.is(r.status, 400);
  assert.is(r.body.error.code, 'InvalidManagementGroupParent');
});

test('deleting a group with children is refused with 409; empty groups delete; second delete is 204', async () => {
  const sb = await sandbox();
  const parent = `mg-${uniq()}`;
  const child = `mg-${uniq()}`;
  const sub = randomUUID();
  await arm('PUT', MG(parent), {});
  await arm('PUT', MG(child), { properties: { details: { parent: { id: MG(parent) } } } });
  let r = await arm('DELETE', MG(parent));
  assert.is(r.status, 409);
  assert.is(r.body.error.code, 'ManagementGroupHasChildren');
  assert.match(r.body.error.message, child);

  sb.state.addSubscription({ subscriptionId: sub, displayName: 'Landing zone 1' });
  r = await arm('PUT', `${MG(child)}/subscriptions/${sub}`);
  assert.is(r.status, 200);
  assert.is(r.body.properties.parent.id, MG(child));
  r = await arm('GET', `/subscriptions/${sub}`);
  assert.is(r.body.displayName, 'Landing zone 1');
  r = await arm('GET', `${MG(child)}/subscriptions`);
  assert.equal(r.body.value.map((s: { name: string }) => s.name), [sub]);
  r = await arm('DELETE', MG(child));
  assert.is(r.status, 409, 'a group holding a subscription keeps it');
  r = await arm('DELETE', `${MG(child)}/subscriptions/${sub}`);
  assert.is(r.status, 200);
  r = await arm('GET', `${MG(child)}/subscriptions/${sub}`);
  assert.is(r.status, 404);
  assert.is((await arm('DELETE', MG(child))).status, 200);
  assert.is((await arm('DELETE', MG(parent))).status, 200);
  assert.is((await arm('DELETE', MG(parent))).status, 204);
  r = await arm('GET', MG(parent));
  assert.is(r.status, 404);
  assert.is(r.body.error.code, 'ManagementGroupNotFound');
});

test('placing an unknown subscription is a 404', async () => {
  const g = `mg-${uniq()}`;
  await arm('PUT', MG(g), {});
  const r = await arm('PUT', `${MG(g)}/subscriptions/${randomUUID()}`);
  assert.is(r.status, 404);
  assert.is(r.body.error.code, 'SubscriptionNotFound');
});

test('requests without api-version or a valid token are refused with ARM error bodies', async () => {
  const sb = await sandbox();
  const noVersion = await fetchJson(sb, `${sb.url}${MG('x')}`, { authorization: `Bearer ${sb.token}` });
  assert.is(noVersion.status, 400);
  assert.is(noVersion.body.error.code, 'MissingApiVersionParameter');
  const noToken = await fetchJson(sb, `${sb.url}${MG('x')}?api-version=${V}`, {});
  assert.is(noToken.status, 401);
  assert.is(noToken.body.error.code, 'AuthenticationFailed');
  const wrong = await arm('GET', MG('x'), undefined, { ...sb.env, NEXUS_ARM_TOKEN: 'not-the-token' });
  assert.is(wrong.status, 401);
  assert.is(wrong.body.error.code, 'InvalidAuthenticationToken');
});

test('policy definitions, set definitions and assignments with a system-assigned identity', async () => {
  const g = `mg-${uniq()}`;
  await arm('PUT', MG(g), {});
  const pd = `${MG(g)}/providers/Microsoft.Authorization/policyDefinitions/deny-things`;
  const rule = { if: { field: 'type', equals: 'Microsoft.Foo/bar' }, then: { effect: "[parameters('effect')]" } };
  let r = await arm('PUT', pd, { properties: { displayName: 'Deny things', policyRule: rule, parameters: { effect: { type: 'String' } } } });
  assert.is(r.status, 201);
  assert.is(r.body.properties.policyType, 'Custom');
  r = await arm('PUT', `${MG(g)}/providers/Microsoft.Authorization/policyDefinitions/broken`, { properties: { displayName: 'no rule' } });
  assert.is(r.status, 400);
  assert.is(r.body.error.code, 'InvalidPolicyRule');

  const psd = `${MG(g)}/providers/Microsoft.Authorization/policySetDefinitions/set1`;
  r = await arm('PUT', psd, { properties: { policyDefinitions: [{ policyDefinitionId: pd, parameters: { effect: { value: 'Deny' } } }] } });
  assert.is(r.status, 201);
  r = await arm('PUT', `${psd}x`, { properties: { policyDefinitions: [{ policyDefinitionId: `${pd}-missing` }] } });
  assert.is(r.status, 400);
  assert.is(r.body.error.code, 'PolicyDefinitionNotFound');

  const pa = `${MG(g)}/providers/Microsoft.Authorization/policyAssignments/deny-things`;
  r = await arm('PUT', pa, { properties: { policyDefinitionId: pd, parameters: { effect: { value: 'Deny' } } }, identity: { type: 'SystemAssigned' } });
  assert.is(r.status, 400, 'an identity needs a location');
  assert.is(r.body.error.code, 'PolicyAssignmentMissingLocation');
  r = await arm('PUT', pa, { location: 'westeurope', identity: { type: 'SystemAssigned' }, properties: { policyDefinitionId: pd } });
  assert.is(r.status, 400, 'a parameter without default must be given');
  assert.is(r.body.error.code, 'MissingPolicyParameter');
  r = await arm('PUT', pa, {
    location: 'westeurope', identity: { type: 'SystemAssigned' },
    properties: { policyDefinitionId: pd, parameters: { effect: { value: 'Deny' } } },
  });
  assert.is(r.status, 201);
  const principalId = r.body.identity.principalId;
  assert.match(principalId, /^[0-9a-f-]{36}$/);
  assert.is(r.body.properties.scope, MG(g));
  assert.is(r.body.properties.enforcementMode, 'Default');
  r = await arm('PUT', pa, {
    location: 'westeurope', identity: { type: 'SystemAssigned' },
    properties: { policyDefinitionId: pd, enforcementMode: 'DoNotEnforce', parameters: { effect: { value: 'Audit' } } },
  });
  assert.is(r.status, 200);
  assert.is(r.body.identity.principalId, principalId, 'the identity survives updates');
  r = await arm('PUT', `${pa}2`, { properties: { policyDefinitionId: pd, parameters: { effect: { value: 'Deny' }, nope: { value: 1 } } } });
  assert.is(r.status, 400);
  assert.is(r.body.error.code, 'UndefinedPolicyParameter');
  r = await arm('PUT', `${pa}3`, { properties: { policyDefinitionId: `${pd}-missing` } });
  assert.is(r.status, 404);
  assert.is(r.body.error.code, 'PolicyDefinitionNotFound');
  r = await arm('GET', `${MG(g)}/providers/Microsoft.Authorization/policyAssignments`);
  assert.equal(r.body.value.map((x: { name: string }) => x.name), ['deny-things']);
});

test('a definition is visible only at or below its scope', async () => {
  const a = `mg-${uniq()}`;
  const b = `mg-${uniq()}`;
  await arm('PUT', MG(a), {});
  await arm('PUT', MG(b), {});
  const pd = `${MG(a)}/providers/Microsoft.Authorization/policyDefinitions/only-a`;
  await arm('PUT', pd, { properties: { policyRule: { if: { field: 'type', equals: 'x' }, then: { effect: 'audit' } } } });
  const r = await arm('PUT', `${MG(b)}/providers/Microsoft.Authorization/policyAssignments/x`, { properties: { policyDefinitionId: pd } });
  assert.is(r.status, 404);
});

test('built-in policy definitions are seeded at the tenant scope and assignable', async () => {
  const g = `mg-${uniq()}`;
  await arm('PUT', MG(g), {});
  const list = await arm('GET', '/providers/Microsoft.Authorization/policyDefinitions');
  assert.ok(list.body.value.length > 100, `built-ins seeded (${list.body.value.length})`);
  const builtin = list.body.value.find((d: any) => !Object.values(d.properties.parameters ?? {}).some((p: any) => !('defaultValue' in p)));
  assert.is(builtin.properties.policyType, 'BuiltIn');
  const r = await arm('PUT', `${MG(g)}/providers/Microsoft.Authorization/policyAssignments/builtin`, { properties: { policyDefinitionId: builtin.id } });
  assert.is(r.status, 201);
  const del = await arm('DELETE', builtin.id);
  assert.is(del.status, 403);
});

test('role definitions and role assignments: GUID names, no duplicates, no in-place principal change', async () => {
  const g = `mg-${uniq()}`;
  await arm('PUT', MG(g), {});
  const rdName = randomUUID();
  const rd = `${MG(g)}/providers/Microsoft.Authorization/roleDefinitions/${rdName}`;
  let r = await arm('PUT', rd, { properties: { roleName: 'Reader of things', permissions: [{ actions: ['*/read'] }], assignableScopes: [MG(g)] } });
  assert.is(r.status, 201);
  assert.is(r.body.properties.type, 'CustomRole');
  r = await arm('PUT', `${MG(g)}/providers/Microsoft.Authorization/roleAssignments/not-a-guid`, { properties: { roleDefinitionId: rd, principalId: randomUUID() } });
  assert.is(r.status, 400);
  assert.is(r.body.error.code, 'InvalidRoleAssignmentId');
  const principal = randomUUID();
  const ra = `${MG(g)}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
  r = await arm('PUT', ra, { properties: { roleDefinitionId: rd, principalId: principal, principalType: 'ServicePrincipal' } });
  assert.is(r.status, 201);
  assert.is(r.body.properties.scope, MG(g));
  r = await arm('PUT', ra, { properties: { roleDefinitionId: rd, principalId: principal, principalType: 'ServicePrincipal' } });
  assert.is(r.status, 200, 'the same assignment again is a no-op update');
  r = await arm('PUT', ra, { properties: { roleDefinitionId: rd, principalId: randomUUID() } });
  assert.is(r.status, 400);
  assert.is(r.body.error.code, 'RoleAssignmentUpdateNotPermitted');
  r = await arm('PUT', `${MG(g)}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`, { properties: { roleDefinitionId: rd, principalId: principal } });
  assert.is(r.status, 409);
  assert.is(r.body.error.code, 'RoleAssignmentExists');
});

test('resource groups and generic resources: scope checks, PATCH merge, cascade delete', async () => {
  const sb = await sandbox();
  const sub = randomUUID();
  sb.state.addSubscription({ subscriptionId: sub });
  const rg = `/subscriptions/${sub}/resourceGroups/rg-${uniq()}`;
  let r = await arm('PUT', rg, {});
  assert.is(r.status, 400);
  assert.is(r.body.error.code, 'LocationRequired');
  const vnet = `${rg}/providers/Microsoft.Network/virtualNetworks/hub`;
  r = await arm('PUT', vnet, { location: 'westeurope', properties: {} });
  assert.is(r.status, 404);
  assert.is(r.body.error.code, 'ResourceGroupNotFound');
  r = await arm('PUT', `/subscriptions/${randomUUID()}/resourceGroups/x`, { location: 'westeurope' });
  assert.is(r.status, 404);
  assert.is(r.body.error.code, 'SubscriptionNotFound');
  r = await arm('PUT', rg, { location: 'westeurope', tags: { env: 'test' } });
  assert.is(r.status, 201);
  assert.is(r.body.properties.provisioningState, 'Succeeded');
  r = await arm('PUT', vnet, { location: 'westeurope', tags: { a: '1' }, properties: { addressSpace: { addressPrefixes: ['10.0.0.0/16'] } } });
  assert.is(r.status, 201);
  r = await arm('PUT', `${vnet}/subnets/default`, { properties: { addressPrefix: '10.0.0.0/24' } });
  assert.is(r.status, 201);
  r = await arm('PUT', `${rg}/providers/Microsoft.Network/virtualNetworks/other/subnets/default`, { properties: {} });
  assert.is(r.status, 404);
  assert.is(r.body.error.code, 'ParentResourceNotFound');
  r = await arm('PATCH', vnet, { tags: { b: '2' } });
  assert.equal(r.body.tags, { a: '1', b: '2' });
  assert.equal(r.body.properties.addressSpace.addressPrefixes, ['10.0.0.0/16']);
  r = await arm('GET', `${vnet}/subnets`);
  assert.is(r.body.value.length, 1);
  r = await arm('GET', `/subscriptions/${sub}/resourcegroups`);
  assert.is(r.body.value.length, 1, 'resource group listing ignores case of the segment');
  assert.is((await arm('DELETE', rg)).status, 200);
  r = await arm('GET', vnet);
  assert.is(r.status, 404, 'deleting a resource group deletes what is in it');
  assert.is(r.body.error.code, 'ResourceNotFound');
});

test('invalid JSON, unknown paths and unsupported methods get ARM errors', async () => {
  const sb = await sandbox();
  const res = await fetchJson(sb, `${sb.url}${MG('bad-json')}?api-version=${V}`, { authorization: `Bearer ${sb.token}`, 'content-type': 'application/json' }, 'PUT', '{nope');
  assert.is(res.status, 400);
  assert.is(res.body.error.code, 'InvalidRequestContent');
  const r = await arm('GET', '/nonsense/path');
  assert.is(r.status, 400);
  assert.is(r.body.error.code, 'InvalidResourceId');
});

test('the tenant, its token and certificate survive a restart with a data file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-sandbox-test-'));
  try {
    const dataFile = join(dir, 'sandbox.json');
    const first = await startSandbox({ dataFile, builtinPolicies: false });
    const g = MG('persisted');
    let r = await armRequest('PUT', g, { apiVersion: V, body: { properties: { displayName: 'Kept' } }, cfg: armConfig(loadConfig(first.env).arm) });
    assert.is(r.status, 201);
    await first.stop();
    const second = await startSandbox({ dataFile, builtinPolicies: false });
    try {
      assert.is(second.token, first.token);
      assert.is(second.tenantId, first.tenantId);
      assert.is(second.caFile, first.caFile);
      r = await armRequest('GET', g, { apiVersion: V, cfg: armConfig(loadConfig(second.env).arm) });
      assert.is(r.status, 200);
      assert.is(r.body.properties.displayName, 'Kept');
      assert.ok(second.state.changes().some((c) => c.resourceId === g && c.changeType === 'Create'));
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A raw HTTPS call (no SDK) for requests the SDK would never send. */
async function fetchJson(sb: { caFile: string }, url: string, headers: Record<string, string>, method = 'GET', body?: string) {
  const https = await import('node:https');
  const { readFileSync } = await import('node:fs');
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = https.request(url, { method, headers, ca: readFileSync(sb.caFile) }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test.run();
