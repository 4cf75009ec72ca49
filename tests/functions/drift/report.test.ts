// The drift report's classification, with the shipped rules: who changed what, remediations left
// to the policy, defaults suppressed with their rule, flapping reported once, pending desired
// changes not taken for drift, unmanaged core resources, compliance apart from configuration.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { judge } from '../../../functions/drift/normalise/judge.ts';
import { loadRules } from '../../../functions/drift/normalise/rules.ts';
import { buildDriftReport, heldBack, type DriftInputs, type ResourceView } from '../../../functions/drift/report.ts';
import type { DriftReport } from '../../../functions/drift/model.ts';
import type { HistoryChange } from '../../../functions/drift/signals.ts';

const rules = loadRules();
const SA = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1';
const PA = '/providers/Microsoft.Management/managementGroups/corp/providers/Microsoft.Authorization/policyAssignments/Deny-Public-IP';
const RA = '/providers/Microsoft.Management/managementGroups/corp/providers/Microsoft.Authorization/roleAssignments/6b1f0d2e-9a4c-4d7e-8f11-3c2b1a0e9d8f';

const storage = (over: Record<string, unknown> = {}) => ({
  location: 'westeurope', kind: 'StorageV2', sku: { name: 'Standard_LRS' },
  properties: { minimumTlsVersion: 'TLS1_2', allowBlobPublicAccess: false, ...over },
});

function inputs(over: Partial<DriftInputs>): DriftInputs {
  return {
    stack: 'corp', runId: 'r1', at: '2026-12-03T10:00:00.000Z', mode: 'remediate', resources: [], changes: [], nonCompliant: [],
    remediations: [], deployments: [], earlier: [], who: { selfIdentities: ['nexus@sandbox'], policyPrincipals: new Set() },
    judge: (i) => judge(i, rules), ...over,
  };
}

const change = (c: Partial<HistoryChange> & { resourceId: string; changedBy: string }): HistoryChange => ({
  changeType: 'Update', at: '2026-12-03T09:00:00.000Z', source: 'resource-graph', paths: [], changedByType: 'User', ...c,
});

const sa = (live: Record<string, unknown> | null, more: Partial<ResourceView> = {}): ResourceView => ({
  id: SA, type: 'Microsoft.Storage/storageAccounts', desired: storage(), live, engineSaw: true, ...more,
});

test('a property a person changed is configuration drift, with who and when, acted on per the mode', () => {
  const r = buildDriftReport(inputs({
    mode: 'report',
    resources: [sa(storage({ allowBlobPublicAccess: true }))],
    changes: [change({ resourceId: SA, changedBy: 'alice@contoso.com', paths: ['properties.allowBlobPublicAccess'], at: '2026-12-03T09:30:00.000Z' })],
  }));
  assert.is(r.items.length, 1);
  const it = r.items[0];
  assert.is(it.kind, 'configuration');
  assert.is(it.action, 'report');
  assert.equal(it.properties.map((p) => [p.path, p.desired, p.live]), [['properties.allowBlobPublicAccess', false, true]]);
  assert.is(it.properties[0].changedBy?.changedBy, 'alice@contoso.com');
  assert.is(it.properties[0].changedBy?.actor, 'person');
  assert.is(it.properties[0].changedBy?.at, '2026-12-03T09:30:00.000Z');
  assert.equal(it.signals.sort(), ['change-history', 'engine']);
  assert.ok(heldBack(r).has(SA.toLowerCase()), 'report mode leaves the resource out of the apply');
  const remediate = buildDriftReport(inputs({ resources: [sa(storage({ allowBlobPublicAccess: true }))] }));
  assert.is(remediate.items[0].action, 'remediate');
  assert.is(heldBack(remediate).size, 0);
});

test('a change made by a DeployIfNotExists/Modify remediation is left to the policy and never put back', () => {
  const r = buildDriftReport(inputs({
    resources: [sa(storage({ minimumTlsVersion: 'TLS1_2', allowBlobPublicAccess: true }))],
    changes: [change({ resourceId: SA, changedBy: '9f2c7a51-0000-4000-8000-00000000abcd', changedByType: 'Application', operation: 'Microsoft.Authorization/policies/modify/action', paths: ['properties.allowBlobPublicAccess'] })],
  }));
  assert.is(r.items[0].kind, 'remediation');
  assert.is(r.items[0].action, 'leave-to-policy');
  assert.ok(heldBack(r).has(SA.toLowerCase()));
  const byTask = buildDriftReport(inputs({
    resources: [sa(storage({ allowBlobPublicAccess: true }))],
    remediations: [{ id: 'rem1', policyAssignmentId: PA, provisioningState: 'Succeeded', resourceIds: [SA.toUpperCase()] }],
  }));
  assert.is(byTask.items[0].kind, 'remediation', 'a remediation task for the resource is enough');
});

test('a service default the program never set is suppressed with its rule named, counted per rule', () => {
  const live = { ...storage(), properties: { ...storage().properties, encryption: { keySource: 'Microsoft.Storage' } } };
  const r = buildDriftReport(inputs({ resources: [sa(live, { baseline: live })] }));
  assert.is(r.items.length, 0);
  const rule = r.suppressed.find((s) => s.rule === 'baseline-default');
  assert.ok(rule, JSON.stringify(r.suppressed));
  assert.ok(rule!.count >= 1);
  assert.ok(rule!.examples.some((e) => e.startsWith('properties.encryption')));
});

test('a desired change not applied yet (live still equals the baseline) is not drift', () => {
  const before = storage({ minimumTlsVersion: 'TLS1_1' });
  const r = buildDriftReport(inputs({ resources: [sa(before, { baseline: before })] }));
  assert.is(r.items.length, 0);
  assert.ok(r.suppressed.some((s) => s.rule === 'pending-desired-change'));
});

test('a property that flips back and forth across runs is reported as flapping, and still acted on per the mode', () => {
  const item = (live: unknown): DriftReport => ({
    stack: 'corp', at: 'x', mode: 'remediate', suppressed: [], counts: {}, unavailable: [],
    items: [{ resourceId: SA, resourceType: 'Microsoft.Storage/storageAccounts', kind: 'configuration', action: 'remediate', signals: [], changes: [], why: '', properties: [{ path: 'properties.allowBlobPublicAccess', desired: false, live }] }],
  });
  const empty: DriftReport = { ...item(true), items: [] };
  const r = buildDriftReport(inputs({ resources: [sa(storage({ allowBlobPublicAccess: true }))], earlier: [empty, item(true)] }));
  assert.is(r.items.length, 1);
  assert.is(r.items[0].kind, 'flapping');
  assert.is(r.items[0].action, 'remediate', 'a deny policy someone keeps turning off is put back every time');
  assert.is(heldBack(r).size, 0);
  const reporting = buildDriftReport(inputs({ mode: 'report', resources: [sa(storage({ allowBlobPublicAccess: true }))], earlier: [empty, item(true)] }));
  assert.equal([reporting.items[0].kind, reporting.items[0].action], ['flapping', 'report']);
  assert.ok(heldBack(reporting).has(SA.toLowerCase()));
  const steady = buildDriftReport(inputs({ resources: [sa(storage({ allowBlobPublicAccess: true }))], earlier: [item(true), item(true)] }));
  assert.is(steady.items[0].kind, 'configuration', 'a drift that stays is not flapping');
  const moved = buildDriftReport(inputs({ resources: [sa(storage({ allowBlobPublicAccess: true }))], earlier: [item('maybe'), empty] }));
  assert.is(moved.items[0].kind, 'configuration', 'a drift whose value changed once is not flapping');
});

test('a running deployment is an item the run waits on; compliance is listed apart', () => {
  const r = buildDriftReport(inputs({
    deployments: [{ id: '/subscriptions/s/providers/Microsoft.Resources/deployments/d1', name: 'd1', provisioningState: 'Running' }],
    nonCompliant: [{ resourceId: SA, policyAssignmentId: PA, complianceState: 'NonCompliant' }],
  }));
  assert.equal(r.items.map((i) => [i.kind, i.action]), [['deployment-in-progress', 'wait'], ['compliance', 'report']]);
  assert.is(r.counts.compliance, 1);
  assert.is(heldBack(r).size, 0, 'compliance drift does not change the apply');
});

test('a role assignment added outside Nexus is reported (Nexus cannot put back what it does not manage)', () => {
  const live = { properties: { roleDefinitionId: '/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635', principalId: '11111111-2222-3333-4444-555555555555', scope: '/providers/Microsoft.Management/managementGroups/corp' } };
  const r = buildDriftReport(inputs({
    resources: [{ id: RA, type: 'Microsoft.Authorization/roleAssignments', live }],
    changes: [change({ resourceId: RA, changedBy: 'bob@contoso.com', changeType: 'Create', source: 'activity-log' })],
  }));
  assert.is(r.items[0].kind, 'configuration');
  assert.is(r.items[0].action, 'report');
  assert.match(r.items[0].why, /bob@contoso.com/);
  assert.equal(r.items[0].signals, ['activity-log']);
});

test.run();
