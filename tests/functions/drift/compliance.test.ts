// The compliance view: the pure builder on rows, and the loader through the real
// @azure/arm-policyinsights client against the ARM sandbox (states set through its side door).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { sandbox } from '../../helpers/sandbox.ts';
import { armConfig, armRequest, policyInsightsClient } from '../../../functions/platform/arm.ts';
import { buildComplianceView, loadComplianceView, armAssignmentNames, type ComplianceRow } from '../../../functions/drift/compliance.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

const MG = (n: string) => `/providers/Microsoft.Management/managementGroups/${n}`;
const uniq = () => randomUUID().slice(0, 8);
const AT = '2026-01-01T00:00:00.000Z';

// ---------- the pure builder ----------

const A = '/providers/Microsoft.Management/managementGroups/lz/providers/Microsoft.Authorization/policyAssignments/tags';
const B = '/subscriptions/s1/providers/Microsoft.Authorization/policyAssignments/diag';
const res = (n: number) => `/subscriptions/s1/resourceGroups/app/providers/Microsoft.Storage/storageAccounts/sa${n}`;
const row = (resourceId: string, policyAssignmentId: string, complianceState: string): ComplianceRow => ({ resourceId, policyAssignmentId, complianceState });

test('counts per assignment are per resource, the worst state of a set\'s members winning', () => {
  const view = buildComplianceView([{
    scope: '/subscriptions/s1', kind: 'subscription', name: 'One',
    rows: [
      row(res(1), A, 'Compliant'), row(res(1), A, 'NonCompliant'), // two members of a set
      row(res(2), A, 'Compliant'), row(res(3), A, 'Exempt'), row(res(4), A, 'Unknown'),
      row(res(1), B, 'NonCompliant'), row(res(2), B, 'NonCompliant'), row(res(3), B, 'Compliant'),
    ],
  }], { at: AT });
  const s = view.scopes[0];
  assert.equal(s.assignments, [
    { policyAssignmentId: B, name: 'diag', compliant: 1, nonCompliant: 2, exempt: 0, other: 0 },
    { policyAssignmentId: A, name: 'tags', compliant: 1, nonCompliant: 1, exempt: 1, other: 1 },
  ]);
  // res1, res2 non-compliant (with something); res3 exempt beats compliant; res4 unknown (only in total).
  assert.equal(s.resources, { compliant: 0, nonCompliant: 2, exempt: 1, total: 4 });
  assert.equal(s.worstOffenders, [
    { resourceId: res(1), nonCompliant: 2, assignments: [A, B].sort() },
    { resourceId: res(2), nonCompliant: 1, assignments: [B] },
  ]);
  assert.is(view.at, AT);
  assert.is(view.unavailable, undefined);
});

test('management groups come first, names come from the map, then the states, then the id; offenders are capped at 10', () => {
  const many = Array.from({ length: 15 }, (_, i) => row(res(i), A, 'NonCompliant'));
  const view = buildComplianceView([
    { scope: '/subscriptions/s1', kind: 'subscription', name: 'One', rows: [{ ...row(res(1), B, 'Compliant'), policyAssignmentName: 'diag-from-state' }] },
    { scope: MG('lz'), kind: 'managementGroup', name: 'Landing zones', rows: many },
  ], { at: AT, names: new Map([[A.toLowerCase(), 'Require tags']]), unavailable: [{ scope: MG('x'), error: 'boom' }] });
  assert.equal(view.scopes.map((s) => s.kind), ['managementGroup', 'subscription']);
  assert.is(view.scopes[0].assignments[0].name, 'Require tags');
  assert.is(view.scopes[1].assignments[0].name, 'diag-from-state');
  assert.is(view.scopes[0].worstOffenders.length, 10);
  assert.is(view.scopes[0].resources.nonCompliant, 15);
  assert.equal(view.unavailable, [{ scope: MG('x'), error: 'boom' }]);
});

// ---------- the loader, against the sandbox ----------

async function setup() {
  const sb = await sandbox();
  const cfg = armConfig(loadConfig(sb.env).arm);
  const client = policyInsightsClient(cfg);
  const put = async (id: string, body: unknown) => {
    const r = await armRequest('PUT', id, { apiVersion: '2021-04-01', body, cfg });
    if (r.status >= 300) throw new Error(`PUT ${id}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const group = `cv-${uniq()}`;
  await put(MG(group), { properties: { displayName: 'Compliance view' } });
  const sub1 = randomUUID();
  const sub2 = randomUUID();
  sb.state.addSubscription({ subscriptionId: sub1, managementGroupId: group, displayName: 'Sub one' });
  sb.state.addSubscription({ subscriptionId: sub2, managementGroupId: group });
  const pd = `${MG(group)}/providers/Microsoft.Authorization/policyDefinitions/need-tags`;
  await put(pd, { properties: { policyRule: { if: { field: 'tags', exists: false }, then: { effect: 'audit' } } } });
  const tags = `${MG(group)}/providers/Microsoft.Authorization/policyAssignments/need-tags`;
  await put(tags, { properties: { policyDefinitionId: pd, displayName: 'Require tags' } });
  const diag = `/subscriptions/${sub1}/providers/Microsoft.Authorization/policyAssignments/diag`;
  await put(diag, { properties: { policyDefinitionId: pd } });
  const sa = (sub: string, n: number) => `/subscriptions/${sub}/resourceGroups/app/providers/Microsoft.Storage/storageAccounts/sa${n}`;
  const states = [
    { resourceId: sa(sub1, 1), policyAssignmentId: tags, complianceState: 'NonCompliant' },
    { resourceId: sa(sub1, 1), policyAssignmentId: diag, complianceState: 'NonCompliant' },
    { resourceId: sa(sub1, 2), policyAssignmentId: tags, complianceState: 'NonCompliant' },
    { resourceId: sa(sub1, 2), policyAssignmentId: diag, complianceState: 'Compliant' },
    { resourceId: sa(sub1, 3), policyAssignmentId: tags, complianceState: 'Exempt' },
    { resourceId: sa(sub2, 1), policyAssignmentId: tags, complianceState: 'Compliant' },
    { resourceId: sa(sub2, 2), policyAssignmentId: tags, complianceState: 'Compliant' },
  ];
  // Through the HTTP side door, as Azure Policy would report them.
  const r = await armRequest('POST', '/_sandbox/compliance', { apiVersion: 'sandbox', body: { states }, cfg });
  if (r.status !== 200) throw new Error(`side door: ${r.status} ${JSON.stringify(r.body)}`);
  return { cfg, client, group, sub1, sub2, tags, diag, sa };
}

const ctx = setup();

test('loadComplianceView: counts per assignment and worst offenders per management group and subscription', async () => {
  const { cfg, client, group, sub1, sub2, tags, diag, sa } = await ctx;
  const view = await loadComplianceView({
    client, assignmentNames: armAssignmentNames(cfg),
    scopes: [{ scope: `/subscriptions/${sub1}`, name: 'Sub one' }, { scope: MG(group), name: 'Compliance view' }, { scope: `/subscriptions/${sub2}` }],
  });
  assert.is(view.unavailable, undefined);
  assert.equal(view.scopes.map((s) => [s.kind, s.name]), [['managementGroup', 'Compliance view'], ['subscription', 'Sub one'], ['subscription', sub2]]);
  const [mg, one, two] = view.scopes;
  assert.equal(mg.assignments, [
    { policyAssignmentId: tags, name: 'Require tags', compliant: 2, nonCompliant: 2, exempt: 1, other: 0 },
    { policyAssignmentId: diag, name: 'diag', compliant: 1, nonCompliant: 1, exempt: 0, other: 0 },
  ], 'display name from the assignment, else its name');
  assert.equal(mg.resources, { compliant: 2, nonCompliant: 2, exempt: 1, total: 5 });
  assert.equal(mg.worstOffenders[0], { resourceId: sa(sub1, 1), nonCompliant: 2, assignments: [tags, diag].sort() });
  assert.equal(mg.worstOffenders.map((w) => w.resourceId), [sa(sub1, 1), sa(sub1, 2)]);
  assert.equal(one.resources, { compliant: 0, nonCompliant: 2, exempt: 1, total: 3 });
  assert.equal(two.resources, { compliant: 2, nonCompliant: 0, exempt: 0, total: 2 });
  assert.equal(two.worstOffenders, []);
});

test('loadComplianceView is bounded per scope and says so; a scope it cannot read is named, the others stand', async () => {
  const { client, group, sub2 } = await ctx;
  const missing = MG(`missing-${uniq()}`);
  const view = await loadComplianceView({ client, maxRowsPerScope: 3, scopes: [{ scope: MG(group) }, { scope: missing }, { scope: `/subscriptions/${sub2}` }] });
  assert.equal(view.scopes.map((s) => s.scope), [MG(group), `/subscriptions/${sub2}`]);
  assert.is(view.scopes[0].resources.total <= 3, true);
  assert.equal(view.unavailable!.map((u) => u.scope), [MG(group), missing]);
  assert.match(view.unavailable![0].error, /more than 3 policy states/);
  assert.match(view.unavailable![1].error, /missing-|not found|404/i);
  assert.is(view.scopes[1].resources.total, 2, 'a scope under the cap is complete');
  try {
    await loadComplianceView({ client, scopes: [{ scope: `/subscriptions/${sub2}/resourceGroups/app` }] });
    assert.unreachable('accepted');
  } catch (e) {
    assert.match((e as Error).message, /not a management group or subscription/);
  }
});

test.run();
