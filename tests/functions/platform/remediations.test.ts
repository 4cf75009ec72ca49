// Policy remediations through the real @azure/arm-policyinsights client against the ARM sandbox:
// listed at management group, subscription and resource group scope with their deployments, and the
// side door's remediate writing as the assignment's managed identity (seen in resourcechanges).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { sandbox } from '../../helpers/sandbox.ts';
import { armConfig, armRequest, policyInsightsClient, resourceGraphClient } from '../../../functions/platform/arm.ts';
import { remediationsAt, remediatedResources } from '../../../functions/platform/remediations.ts';
import { resourceChangesSince } from '../../../functions/platform/resource-graph.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

const MG = (n: string) => `/providers/Microsoft.Management/managementGroups/${n}`;
const uniq = () => randomUUID().slice(0, 8);
const PD = (scope: string, n: string) => `${scope}/providers/Microsoft.Authorization/policyDefinitions/${n}`;
const PA = (scope: string, n: string) => `${scope}/providers/Microsoft.Authorization/policyAssignments/${n}`;

async function setup() {
  const sb = await sandbox();
  const cfg = armConfig(loadConfig(sb.env).arm);
  const client = policyInsightsClient(cfg);
  const graph = resourceGraphClient(cfg);
  const put = async (id: string, body: unknown) => {
    const r = await armRequest('PUT', id, { apiVersion: '2021-04-01', body, cfg });
    if (r.status >= 300) throw new Error(`PUT ${id}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const side = (path: string, body: unknown) => armRequest('POST', path, { apiVersion: 'sandbox', body, cfg });
  const group = `rem-${uniq()}`;
  await put(MG(group), {});
  const sub = randomUUID();
  sb.state.addSubscription({ subscriptionId: sub, managementGroupId: group });
  const rg = `/subscriptions/${sub}/resourceGroups/app`;
  await put(rg, { location: 'westeurope' });
  const sa = (n: number) => `${rg}/providers/Microsoft.Storage/storageAccounts/sa${n}`;
  for (const n of [1, 2, 3]) await put(sa(n), { location: 'westeurope', tags: { env: 'dev' } });

  const modifyDef = PD(MG(group), 'inherit-tag');
  await put(modifyDef, { properties: { mode: 'Indexed', policyRule: { if: { field: 'tags.costCenter', exists: false }, then: { effect: 'modify', details: { operations: [] } } } } });
  const dineDef = PD(MG(group), 'deploy-diag');
  await put(dineDef, { properties: { policyRule: { if: { field: 'type', equals: 'Microsoft.Storage/storageAccounts' }, then: { effect: 'deployIfNotExists' } } } });
  const withIdentity = { location: 'westeurope', identity: { type: 'SystemAssigned' } };
  const mgAssignment = PA(MG(group), 'inherit-tag');
  const mgPa = await put(mgAssignment, { ...withIdentity, properties: { policyDefinitionId: modifyDef } });
  const subAssignment = PA(`/subscriptions/${sub}`, 'deploy-diag');
  const subPa = await put(subAssignment, { ...withIdentity, properties: { policyDefinitionId: dineDef } });
  const rgAssignment = PA(rg, 'inherit-tag-rg');
  await put(rgAssignment, { ...withIdentity, properties: { policyDefinitionId: modifyDef } });
  const noIdentity = PA(MG(group), 'audit-only');
  await put(noIdentity, { properties: { policyDefinitionId: modifyDef } });
  return { sb, cfg, client, graph, put, side, group, sub, rg, sa, mgAssignment, subAssignment, rgAssignment, noIdentity,
    mgPrincipal: mgPa.identity.principalId as string, subPrincipal: subPa.identity.principalId as string };
}

const ctx = setup();

test('a Modify remediation through the side door writes as the assignment identity, as resourcechanges shows', async () => {
  const { side, graph, sub, sa, mgAssignment, mgPrincipal } = await ctx;
  const since = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 5));
  const r = await side('/_sandbox/policy/remediate', { assignmentId: mgAssignment, resourceId: sa(1), patch: { tags: { costCenter: 'cc-1' } }, effect: 'modify' });
  assert.is(r.status, 200, JSON.stringify(r.body));
  assert.is(r.body.resource.tags.costCenter, 'cc-1');
  assert.is(r.body.resource.tags.env, 'dev', 'a patch merges');
  const changes = await resourceChangesSince(since, `/subscriptions/${sub}`, { client: graph });
  const mine = changes.filter((c) => c.resourceId === sa(1));
  assert.is(mine.length, 1);
  assert.is(mine[0].changedBy, mgPrincipal, "the assignment's managed identity");
  assert.is(mine[0].changedByType, 'Application');
  assert.is(mine[0].operation, 'Microsoft.Authorization/policies/modify/action');
  assert.match(mine[0].clientType, /policy/i);
  assert.equal(mine[0].changes['tags.costCenter']?.newValue, 'cc-1');
});

test('remediations are listed at management group, subscription and resource group scope, with their deployments', async () => {
  const { sb, cfg, client, group, sub, rg, sa, mgAssignment, subAssignment, rgAssignment, subPrincipal } = await ctx;
  const mgName = `mg-rem-${uniq()}`;
  sb.state.remediate({ assignmentId: mgAssignment, resourceId: sa(2), patch: { tags: { costCenter: 'cc-2' } }, effect: 'modify', remediationName: mgName });
  const dine = sb.state.remediate({
    assignmentId: subAssignment, resourceId: `${sa(2)}/providers/Microsoft.Insights/diagnosticSettings/policy-diag`,
    body: { properties: { logs: [] } }, operation: 'deployIfNotExists', remediationName: 'sub-rem',
  });
  assert.is(dine.principalId, subPrincipal);
  sb.state.remediate({ assignmentId: rgAssignment, resourceId: sa(3), patch: { tags: { costCenter: 'cc-3' } }, effect: 'modify', remediationName: 'rg-rem' });

  const atMg = await remediationsAt(MG(group), { client });
  const mgTask = atMg.remediations.find((t) => t.name === mgName)!;
  assert.ok(mgTask, 'the management group remediation is listed');
  assert.is(mgTask.scope.toLowerCase(), MG(group).toLowerCase());
  assert.is(mgTask.policyAssignmentId, mgAssignment);
  assert.is(mgTask.provisioningState, 'Succeeded');
  assert.equal(mgTask.deployments.map((d) => [d.resourceId, d.status]), [[sa(2), 'Succeeded']]);
  assert.ok(mgTask.deployments[0].createdOn && !Number.isNaN(Date.parse(mgTask.deployments[0].createdOn)));

  const atSub = await remediationsAt(`/subscriptions/${sub}`, { client });
  const subTask = atSub.remediations.find((t) => t.name === 'sub-rem')!;
  assert.ok(subTask, 'the subscription remediation is listed');
  const dep = subTask.deployments[0];
  assert.is(dep.resourceId, `${sa(2)}/providers/Microsoft.Insights/diagnosticSettings/policy-diag`);
  assert.match(dep.deploymentId!, new RegExp(`^${rg}/providers/Microsoft.Resources/deployments/`, 'i'));
  const deployment = await armRequest('GET', dep.deploymentId!, { apiVersion: '2021-04-01', cfg });
  assert.is(deployment.status, 200);
  assert.is(deployment.body.properties.provisioningState, 'Succeeded', 'a DeployIfNotExists remediation leaves a finished deployment');

  const atRg = await remediationsAt(rg, { client });
  const rgTask = atRg.remediations.find((t) => t.name === 'rg-rem')!;
  assert.ok(rgTask, 'the resource group remediation is listed');
  assert.is(rgTask.scope.toLowerCase(), rg.toLowerCase());
  assert.equal(rgTask.deployments.map((d) => d.resourceId), [sa(3)]);

  // Several scopes at once, deduplicated; the resources left to the policy.
  const all = await remediationsAt([MG(group), `/subscriptions/${sub}`, rg], { client });
  assert.is(new Set(all.remediations.map((t) => t.id.toLowerCase())).size, all.remediations.length);
  const left = remediatedResources(all.remediations);
  assert.ok(left.has(sa(2).toLowerCase()) && left.has(sa(3).toLowerCase()));
  assert.not.ok(left.has(sa(1).toLowerCase() + 'x'));

  // The SDK's own get and filter, as Azure's examples use them.
  const got = await client.remediations.getAtManagementGroup(group, mgName);
  assert.is(got.deploymentStatus?.totalDeployments, 1);
  assert.is(got.deploymentStatus?.successfulDeployments, 1);
  const filtered = [];
  for await (const r of client.remediations.listForManagementGroup(group, { queryOptions: { filter: `PolicyAssignmentId eq '${rgAssignment}'` } })) filtered.push(r);
  assert.equal(filtered.map((r) => r.name), ['rg-rem']);
});

test('a remediation created with PUT targets the NonCompliant resources and the side door completes it', async () => {
  const { sb, client, side, group, sa, mgAssignment } = await ctx;
  await side('/_sandbox/compliance', { states: [
    { resourceId: sa(1), policyAssignmentId: mgAssignment, complianceState: 'Compliant' },
    { resourceId: sa(3), policyAssignmentId: mgAssignment, complianceState: 'NonCompliant' },
  ] });
  const name = `put-${uniq()}`;
  const created = await client.remediations.createOrUpdateAtManagementGroup(group, name, { policyAssignmentId: mgAssignment });
  assert.is(created.provisioningState, 'Accepted');
  assert.is(created.deploymentStatus?.totalDeployments, 1);
  let task = (await remediationsAt(MG(group), { client })).remediations.find((t) => t.name === name)!;
  assert.equal(task.deployments.map((d) => [d.resourceId, d.status]), [[sa(3), 'Running']], 'a task for the non-compliant resource only');
  assert.ok(remediatedResources([task]).has(sa(3).toLowerCase()), 'a pending task counts: drift leaves the resource to the policy');

  sb.state.remediate({ assignmentId: mgAssignment, resourceId: sa(3), patch: { tags: { costCenter: 'cc-3' } }, effect: 'modify', remediationName: name });
  task = (await remediationsAt(MG(group), { client })).remediations.find((t) => t.name === name)!;
  assert.is(task.provisioningState, 'Succeeded');
  assert.equal(task.deployments.map((d) => d.status), ['Succeeded']);
});

test('a failed remediation is recorded as failed and leaves the resource as it was', async () => {
  const { sb, client, sa, mgAssignment, group } = await ctx;
  const before = sb.state.get(sa(1))!;
  const changes = sb.state.tenant.changes.length;
  const name = `failed-${uniq()}`;
  sb.state.remediate({ assignmentId: mgAssignment, resourceId: sa(1), patch: { tags: { costCenter: 'never' } }, effect: 'modify', remediationName: name, status: 'Failed' });
  assert.is(sb.state.tenant.changes.length, changes, 'no write');
  assert.equal(sb.state.get(sa(1))!.tags, before.tags);
  const task = (await remediationsAt(MG(group), { client })).remediations.find((t) => t.name === name)!;
  assert.is(task.provisioningState, 'Failed');
  assert.equal(task.deployments.map((d) => [d.resourceId, d.status]), [[sa(1), 'Failed']]);
});

test('PUT refuses an unknown assignment and a scope outside the assignment', async () => {
  const { client, group, sub, mgAssignment, rgAssignment } = await ctx;
  try {
    await client.remediations.createOrUpdateAtManagementGroup(group, 'x', { policyAssignmentId: `${MG(group)}/providers/Microsoft.Authorization/policyAssignments/nope` });
    assert.unreachable('accepted');
  } catch (e: any) {
    assert.is(e.statusCode, 404);
  }
  try {
    await client.remediations.createOrUpdateAtResource(`subscriptions/${sub}`, 'y', { policyAssignmentId: rgAssignment });
    assert.unreachable('accepted');
  } catch (e: any) {
    assert.is(e.statusCode, 400);
    assert.match(e.message, /not at or below/);
  }
  void mgAssignment;
});

test('the side door refuses an assignment without identity, a resource outside its scope and a missing effect, writing nothing', async () => {
  const { sb, side, sa, noIdentity, rgAssignment, mgAssignment } = await ctx;
  const before = sb.state.tenant.changes.length;
  let r = await side('/_sandbox/policy/remediate', { assignmentId: noIdentity, resourceId: sa(1), patch: { tags: { a: 'b' } }, effect: 'modify' });
  assert.is(r.status, 400);
  assert.is(r.body.error.code, 'PolicyAssignmentHasNoIdentity');
  assert.match(r.body.error.message, /body\.assignmentId/);
  const elsewhere = `/subscriptions/${randomUUID()}/resourceGroups/x/providers/Microsoft.Storage/storageAccounts/y`;
  r = await side('/_sandbox/policy/remediate', { assignmentId: rgAssignment, resourceId: elsewhere, patch: {}, effect: 'modify' });
  assert.is(r.status, 400);
  assert.match(r.body.error.message, /body\.resourceId/);
  r = await side('/_sandbox/policy/remediate', { assignmentId: mgAssignment, resourceId: sa(1), patch: { tags: {} } });
  assert.is(r.status, 400);
  assert.match(r.body.error.message, /body\.effect/);
  r = await side('/_sandbox/policy/remediate', { assignmentId: mgAssignment, resourceId: `${sa(1)}x`, body: { location: 'westeurope' }, effect: 'modify' });
  assert.is(r.status, 400, 'Modify changes existing resources only');
  assert.is(sb.state.tenant.changes.length, before, 'nothing was written');
});

test.run();
