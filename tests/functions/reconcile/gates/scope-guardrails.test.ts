import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { scopeGuardrailsGate } from '../../../../functions/reconcile/gates/scope-guardrails.ts';
import { TENANT, change, changeSet, context, managementGroup, mgId, policyAssignment, roleAssignment } from '../fixtures.ts';

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

test.run();
