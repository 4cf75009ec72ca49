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

// alz-orphan's parent alz-gone is not in the desired state (deleted, or made elsewhere): it could
// sit inside the denied alz-decommissioned. alz-moved sits under alz now.
const withOrphan = mergeStates([
  tree,
  smallState({ tenantRoot: TENANT, name: 'alz-orphan', assignments: 0, parent: 'alz-gone' }),
  smallState({ tenantRoot: TENANT, name: 'alz-moved', assignments: 0, parent: 'alz' }),
]);
withOrphan.resources.push({
  id: `${mgId('alz-orphan')}/subscriptions/1111-in-orphan`, kind: 'subscriptionPlacement', type: 'Microsoft.Management/managementGroups/subscriptions',
  apiVersion: '2023-04-01', name: '1111-in-orphan', scope: mgId('alz-orphan'), stack: 'alz-orphan', body: { properties: {} }, dependsOn: [], source: { file: 'x' },
});
const inOrphanTree = (changes: Parameters<typeof changeSet>[0], g: object = guardrails) =>
  scopeGuardrailsGate(context({ guardrails: g, hierarchy: scopeHierarchy(withOrphan) }), changeSet(changes));

test('with a group deny list, a scope whose ancestry the desired state cannot resolve is refused (SCOPE_UNKNOWN, naming the group)', () => {
  for (const c of [
    policyAssignment('alz-orphan', 'a'), managementGroup('alz-orphan'), managementGroup('alz-gone', 'delete'),
    policyAssignment('alz-gone', 'b', 'delete'), roleAssignment('/subscriptions/1111-in-orphan/resourceGroups/rg1', 'r'),
  ]) {
    const r = inOrphanTree([c]);
    assert.is(r.reason, 'SCOPE_UNKNOWN', `${c.armId}: ${r.details.message}`);
    assert.match(r.details.message, /alz-gone is not in the desired hierarchy/);
  }
  // Groups that reach the tenant root, and the root's own children, still pass.
  assert.is(inOrphanTree([policyAssignment('alz', 'a'), managementGroup('alz-moved')]).pass, true);
  // Without a group deny list nothing can be inherited: the allow list decides.
  const noDeny = { scopes: { allow: guardrails.scopes.allow, deny: { subscriptions: ['1111-bad'] } } };
  assert.is(inOrphanTree([policyAssignment('alz-orphan', 'a'), managementGroup('alz-gone', 'delete')], noDeny).pass, true);
});

test('a group moved out of a denied group (old parent from the diffs) is denied; out of an unknown one, refused', () => {
  const move = (old: unknown, path = 'properties.details.parent.id') => ({
    ...managementGroup('alz-moved', 'update'), diffs: [{ path, kind: 'update' as const, old, new: path.endsWith('.id') ? mgId('alz') : { parent: { id: mgId('alz') } } }],
  });
  const denied = inOrphanTree([move(mgId('alz-decommissioned'))]);
  assert.is(denied.reason, 'SCOPE_DENIED');
  assert.match(denied.details.message, /moved out of alz-decommissioned/);
  assert.is(inOrphanTree([move(mgId('alz-older'))]).reason, 'SCOPE_DENIED', 'from deep inside the denied group');
  assert.is(inOrphanTree([move({ parent: { id: mgId('alz-old') } }, 'properties.details')]).reason, 'SCOPE_DENIED', 'an enclosing path');
  const unknown = inOrphanTree([move(mgId('alz-elsewhere'))]);
  assert.is(unknown.reason, 'SCOPE_UNKNOWN');
  assert.match(unknown.details.message, /moved out of alz-elsewhere/);
  // From the tenant root or an allowed group: a plain move.
  assert.is(inOrphanTree([move(mgId(TENANT))]).pass, true);
  assert.is(inOrphanTree([move(mgId('alz'))]).pass, true);
});

test.run();
