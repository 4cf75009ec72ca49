import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { scopeGuardrailsGate } from '../../../../functions/reconcile/gates/scope-guardrails.ts';
import { TENANT, change, changeSet, context, managementGroup, mgId, policyAssignment, roleAssignment } from '../fixtures.ts';
import { scopeHierarchy } from '../../../../functions/reconcile/scope.ts';
import { mergeStates, smallState } from '../state-fixture.ts';

const guardrails = {
  scopes: {
    allow: { managementGroups: ['alz', 'alz-*'], subscriptions: ['1111*'], resourceGroups: ['2222*/rg-app-*'] },
    deny: { managementGroups: ['alz-decommissioned'], subscriptions: ['1111-bad'], resourceGroups: ['*/NetworkWatcherRG'] },
  },
};
const gate = (changes: Parameters<typeof changeSet>[0], g: object = guardrails) =>
  scopeGuardrailsGate(context({ guardrails: g }), changeSet(changes));

test('passes changes inside the allowed management groups', () => {
  const r = gate([policyAssignment('alz', 'a'), policyAssignment('alz-corp', 'b'), managementGroup('alz-online')]);
  assert.is(r.pass, true, r.details.message);
  assert.is(r.reason, 'OK');
});

test('blocks a change in a denied management group even when a pattern allows it', () => {
  const r = gate([policyAssignment('alz', 'a'), policyAssignment('alz-decommissioned', 'b')]);
  assert.is(r.pass, false);
  assert.is(r.reason, 'SCOPE_DENIED');
  assert.match(r.details.message, /alz-decommissioned/);
});

test('blocks a change outside the allow list', () => {
  const r = gate([policyAssignment('contoso', 'a')]);
  assert.is(r.reason, 'SCOPE_NOT_ALLOWED');
});

test('denies the tenant root group unless explicitly allowed, even with an allow-all pattern', () => {
  const all = { scopes: { allow: { managementGroups: ['*'] } } };
  assert.is(gate([policyAssignment(TENANT, 'a')], all).reason, 'TENANT_ROOT');
  assert.is(gate([change({ armType: 'Microsoft.Authorization/policyDefinitions', scope: '/', armId: '/providers/Microsoft.Authorization/policyDefinitions/x' })], all).reason, 'TENANT_ROOT');
  const allowed = { scopes: { allow: { managementGroups: ['*'] }, allowTenantRoot: true } };
  assert.is(gate([policyAssignment(TENANT, 'a')], allowed).pass, true);
});

test('a management group created at tenant scope touches the group, not the tenant root', () => {
  assert.is(gate([managementGroup('alz')]).pass, true);
});

test('subscriptions and resource groups: allow by pattern, deny wins, rg allowed through its subscription', () => {
  assert.is(gate([roleAssignment('/subscriptions/1111-aaaa', 'r')]).pass, true);
  assert.is(gate([roleAssignment('/subscriptions/1111-bad', 'r')]).reason, 'SCOPE_DENIED');
  assert.is(gate([roleAssignment('/subscriptions/1111-bad/resourceGroups/rg1', 'r')]).reason, 'SCOPE_DENIED');
  assert.is(gate([roleAssignment('/subscriptions/3333/resourceGroups/rg1', 'r')]).reason, 'SCOPE_NOT_ALLOWED');
  assert.is(gate([roleAssignment('/subscriptions/2222-x/resourceGroups/rg-app-1', 'r')]).pass, true);
  assert.is(gate([roleAssignment('/subscriptions/1111-aaaa/resourceGroups/anything', 'r')]).pass, true);
  assert.is(gate([roleAssignment('/subscriptions/1111-aaaa/resourceGroups/NetworkWatcherRG', 'r')]).reason, 'SCOPE_DENIED');
});

test('subscription placement touches both the group and the subscription', () => {
  const placement = change({ armType: 'Microsoft.Management/managementGroups/subscriptions', armId: `${mgId('alz-corp')}/subscriptions/3333` });
  assert.is(gate([placement]).reason, 'SCOPE_NOT_ALLOWED');
  const ok = change({ armType: 'Microsoft.Management/managementGroups/subscriptions', armId: `${mgId('alz-corp')}/subscriptions/1111-a` });
  assert.is(gate([ok]).pass, true);
});

test('checks every resource, not the stack name, and ignores resources that do not change', () => {
  const r = gate([policyAssignment('alz', 'a'), policyAssignment('contoso', 'same', 'same'), policyAssignment('alz-x', 'b', 'delete'), policyAssignment('elsewhere', 'c', 'delete')]);
  assert.is(r.reason, 'SCOPE_NOT_ALLOWED');
  assert.is((r.details.violations as unknown[]).length, 1);
});

test('fails closed on a change with neither ARM id nor scope', () => {
  assert.is(gate([change({ armId: undefined, scope: undefined })]).reason, 'SCOPE_UNKNOWN');
});

test('tenant root is the most important reason when several apply', () => {
  const r = gate([policyAssignment('contoso', 'a'), policyAssignment(TENANT, 'b')]);
  assert.is(r.reason, 'TENANT_ROOT');
});

// alz-decommissioned (denied) > alz-old > alz-older, with subscription 1111-in-old placed in alz-old.
const tree = mergeStates([
  smallState({ tenantRoot: TENANT, name: 'alz', assignments: 0 }),
  smallState({ tenantRoot: TENANT, name: 'alz-decommissioned', assignments: 0, parent: 'alz' }),
  smallState({ tenantRoot: TENANT, name: 'alz-old', assignments: 0, parent: 'alz-decommissioned' }),
  smallState({ tenantRoot: TENANT, name: 'alz-older', assignments: 0, parent: 'alz-old' }),
]);
tree.resources.push({
  id: `${mgId('alz-old')}/subscriptions/1111-in-old`, kind: 'subscriptionPlacement', type: 'Microsoft.Management/managementGroups/subscriptions',
  apiVersion: '2023-04-01', name: '1111-in-old', scope: mgId('alz-old'), stack: 'alz-old', body: { properties: {} }, dependsOn: [], source: { file: 'x' },
});
const inTree = (changes: Parameters<typeof changeSet>[0]) =>
  scopeGuardrailsGate(context({ guardrails, hierarchy: scopeHierarchy(tree) }), changeSet(changes));

test('a deny covers everything inside the group: child groups at any depth, their subscriptions and resource groups', () => {
  assert.is(inTree([policyAssignment('alz', 'a')]).pass, true);
  for (const c of [
    policyAssignment('alz-old', 'a'), policyAssignment('alz-older', 'b'), managementGroup('alz-older'),
    roleAssignment('/subscriptions/1111-in-old', 'r'), roleAssignment('/subscriptions/1111-IN-OLD/resourceGroups/rg1', 'r'),
    change({ armType: 'Microsoft.Management/managementGroups/subscriptions', armId: `${mgId('alz-older')}/subscriptions/1111-a` }),
  ]) {
    const r = inTree([c]);
    assert.is(r.reason, 'SCOPE_DENIED', `${c.armId}: ${r.details.message}`);
  }
  // Without the hierarchy the allow pattern alz-* would have let them through.
  assert.is(gate([policyAssignment('alz-older', 'b')]).pass, true);
  assert.is(gate([roleAssignment('/subscriptions/1111-in-old', 'r')]).pass, true);
  // A subscription elsewhere is not affected.
  assert.is(inTree([roleAssignment('/subscriptions/1111-aaaa', 'r')]).pass, true);
});

test('a cycle in the hierarchy does not hang the gate', () => {
  const h = scopeHierarchy(tree);
  h.parentOf.set('alz', 'alz-older');
  assert.is(scopeGuardrailsGate(context({ guardrails, hierarchy: h }), changeSet([policyAssignment('alz-older', 'a')])).reason, 'SCOPE_DENIED');
});

test.run();
