// Policy Insights through the real @azure/arm-policyinsights client against the ARM sandbox.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { sandbox } from '../../helpers/sandbox.ts';
import { armConfig, armRequest, policyInsightsClient } from '../../../functions/platform/arm.ts';
import { policyStates, summarizeCompliance, policyScope } from '../../../functions/platform/policy-insights.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

const MG = (n: string) => `/providers/Microsoft.Management/managementGroups/${n}`;
const uniq = () => randomUUID().slice(0, 8);

async function setup() {
  const sb = await sandbox();
  const cfg = armConfig(loadConfig(sb.env).arm);
  const client = policyInsightsClient(cfg);
  const put = async (id: string, body: unknown) => {
    const r = await armRequest('PUT', id, { apiVersion: '2021-04-01', body, cfg });
    if (r.status >= 300) throw new Error(`PUT ${id}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const group = `pi-${uniq()}`;
  await put(MG(group), {});
  const subA = randomUUID();
  const subB = randomUUID();
  sb.state.addSubscription({ subscriptionId: subA, managementGroupId: group });
  sb.state.addSubscription({ subscriptionId: subB, managementGroupId: group });
  const pd = `${MG(group)}/providers/Microsoft.Authorization/policyDefinitions/need-tags`;
  await put(pd, { properties: { policyRule: { if: { field: 'tags', exists: false }, then: { effect: 'audit' } }, metadata: { category: 'Tags' } } });
  const psd = `${MG(group)}/providers/Microsoft.Authorization/policySetDefinitions/baseline`;
  await put(psd, { properties: { policyDefinitions: [{ policyDefinitionId: pd, policyDefinitionReferenceId: 'tags-1' }] } });
  const pa = `${MG(group)}/providers/Microsoft.Authorization/policyAssignments/baseline`;
  await put(pa, { properties: { policyDefinitionId: psd } });
  const resources: string[] = [];
  for (const sub of [subA, subB]) {
    const rg = `/subscriptions/${sub}/resourceGroups/app`;
    await put(rg, { location: 'westeurope' });
    for (let i = 0; i < 3; i++) {
      const id = `${rg}/providers/Microsoft.Storage/storageAccounts/sa${i}`;
      await put(id, { location: 'westeurope' });
      resources.push(id);
    }
  }
  // Through the HTTP side door: subA's resources 0 and 1 non-compliant, everything else compliant.
  const states = resources.map((resourceId, i) => ({
    resourceId, policyAssignmentId: pa, policyDefinitionReferenceId: 'tags-1',
    complianceState: i === 0 || i === 1 ? 'NonCompliant' : 'Compliant',
  }));
  const r = await armRequest('POST', '/_sandbox/compliance', { apiVersion: 'sandbox', body: { states }, cfg });
  if (r.status !== 200) throw new Error(`side door: ${r.status} ${JSON.stringify(r.body)}`);
  return { sb, cfg, client, group, subA, subB, pd, psd, pa, resources };
}

const ctx = setup();

test('queryResults at management group scope returns the states of every subscription below it', async () => {
  const { client, group, pd, psd, pa, resources } = await ctx;
  const states = await policyStates(MG(group), { client });
  assert.is(states.length, 6);
  assert.equal(new Set(states.map((s) => s.resourceId)), new Set(resources));
  const s = states.find((x) => x.resourceId === resources[0])!;
  assert.is(s.complianceState, 'NonCompliant');
  assert.is(s.isCompliant, false);
  assert.is(s.policyAssignmentId, pa);
  assert.is(s.policyDefinitionId, pd, 'the member definition of the set, found by reference id');
  assert.is(s.policySetDefinitionId, psd);
  assert.is(s.policyDefinitionReferenceId, 'tags-1');
  assert.is(s.policyAssignmentScope, MG(group));
  assert.ok(s.timestamp instanceof Date, 'the SDK deserialises the timestamp');
});

test('queryResults at subscription scope, $filter and $top', async () => {
  const { client, subA, subB } = await ctx;
  const a = await policyStates(`/subscriptions/${subA}`, { client });
  assert.is(a.length, 3);
  const nonCompliant = await policyStates(`/subscriptions/${subA}`, { client, filter: "complianceState eq 'NonCompliant'" });
  assert.is(nonCompliant.length, 2);
  const b = await policyStates(`/subscriptions/${subB}`, { client, filter: "complianceState eq 'NonCompliant'" });
  assert.is(b.length, 0);
  const top = await policyStates(`/subscriptions/${subA}`, { client, top: 1 });
  assert.is(top.length, 1);
  const rg = await policyStates(`/subscriptions/${subA}/resourceGroups/app`, { client, filter: "complianceState ne 'NonCompliant' or isCompliant eq false" });
  assert.is(rg.length, 3);
});

test('more states than one page: the client follows @odata.nextLink', async () => {
  const { sb, client, pa } = await ctx;
  const sub = randomUUID();
  sb.state.addSubscription({ subscriptionId: sub });
  const many = Array.from({ length: 1205 }, (_, i) => ({
    resourceId: `/subscriptions/${sub}/resourceGroups/bulk/providers/Microsoft.Storage/storageAccounts/s${i}`,
    policyAssignmentId: pa, policyDefinitionReferenceId: 'tags-1', complianceState: 'NonCompliant' as const,
  }));
  sb.state.setCompliance(many);
  const states = await policyStates(`/subscriptions/${sub}`, { client });
  assert.is(states.length, 1205);
  assert.is(new Set(states.map((s) => s.resourceId)).size, 1205);
  const limited = await policyStates(`/subscriptions/${sub}`, { client, limit: 1001 });
  assert.is(limited.length, 1001, 'limit stops reading part-way through the second page');
});

test('an unsupported $filter is refused with a message naming it', async () => {
  const { client, subA } = await ctx;
  try {
    await policyStates(`/subscriptions/${subA}`, { client, filter: "startswith(resourceId, '/x')" });
    assert.unreachable('accepted');
  } catch (e: any) {
    assert.is(e.statusCode, 400);
    assert.match(String(e.message), /startswith/);
  }
});

test('summarize counts non-compliant resources and policies, per assignment', async () => {
  const { client, group, subB, pa } = await ctx;
  const sum = await summarizeCompliance(MG(group), { client });
  const top = sum.value![0];
  assert.is(top.results!.nonCompliantResources, 2);
  assert.is(top.results!.nonCompliantPolicies, 1);
  assert.equal(
    Object.fromEntries(top.results!.resourceDetails!.map((d) => [d.complianceState, d.count])),
    { NonCompliant: 2, Compliant: 4 });
  assert.is(top.policyAssignments!.length, 1);
  assert.is(top.policyAssignments![0].policyAssignmentId, pa);
  assert.is(top.policyAssignments![0].policyDefinitions![0].policyDefinitionReferenceId, 'tags-1');
  const clean = await summarizeCompliance(`/subscriptions/${subB}`, { client });
  assert.is(clean.value![0].results!.nonCompliantResources, 0);
});

test('a scope that does not exist is a 404, a scope that is not one is refused before any call', async () => {
  const { client } = await ctx;
  try {
    await policyStates(MG(`missing-${uniq()}`), { client });
    assert.unreachable('accepted');
  } catch (e: any) {
    assert.is(e.statusCode, 404);
  }
  assert.throws(() => policyScope('/nonsense'), /not a management group, subscription or resource group/);
});

test('compliance states for an unknown assignment are refused by the side door', async () => {
  const { cfg, resources, group } = await ctx;
  const r = await armRequest('POST', '/_sandbox/compliance', {
    apiVersion: 'sandbox', cfg,
    body: { states: [{ resourceId: resources[0], policyAssignmentId: `${MG(group)}/providers/Microsoft.Authorization/policyAssignments/nope`, complianceState: 'NonCompliant' }] },
  });
  assert.is(r.status, 404);
  assert.is(r.body.error.code, 'PolicyAssignmentNotFound');
  const bad = await armRequest('POST', '/_sandbox/compliance', {
    apiVersion: 'sandbox', cfg, body: { states: [{ resourceId: resources[0], policyAssignmentId: '/x', complianceState: 'Sideways' }] },
  });
  assert.is(bad.status, 400);
  assert.match(bad.body.error.message, /states\[0\]\.complianceState/);
});

test.run();
