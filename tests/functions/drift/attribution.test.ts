// Attribution rules (DRIFT-DESIGN.md "Attribution"): policy, then Nexus (identity or run), then
// pipeline (another application), then person; both signals' records.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { attribute, attributor, type Who } from '../../../functions/drift/attribution.ts';
import type { ChangeRecord } from '../../../functions/platform/change-history.ts';
import type { ActivityEvent } from '../../../functions/platform/activity-log.ts';

const change = (over: Partial<ChangeRecord>): ChangeRecord => ({
  changeId: 'c1', resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa', resourceType: 'microsoft.storage/storageaccounts',
  changeType: 'Update', timestamp: '2026-01-01T00:00:00.000Z', changedBy: 'someone@contoso.example', changedByType: 'User', clientType: 'Azure Portal',
  operation: 'Microsoft.Storage/storageAccounts/write', correlationId: 'corr-1', changes: [], table: 'resourcechanges', ...over,
});
const event = (over: Partial<ActivityEvent>): ActivityEvent => ({
  resourceId: '/providers/Microsoft.Management/managementGroups/corp/providers/Microsoft.Authorization/policyAssignments/pa',
  operation: 'MICROSOFT.AUTHORIZATION/POLICYASSIGNMENTS/WRITE', category: 'Administrative', caller: 'frank@contoso.example',
  correlationId: 'corr-2', status: 'Success', at: '2026-01-01T00:00:00.000Z', properties: {}, ...over,
});

const NEXUS_MI = '0d9f8a7b-1111-4222-8333-444455556666';
const DINE_MI = '9a8b7c6d-1111-4222-8333-444455556666';
const who: Who = { selfIdentities: [NEXUS_MI, 'nexus@sandbox'], selfCorrelationIds: new Set(['RUN-1']), policyPrincipals: new Set([DINE_MI]) };

test('a person, a pipeline, Nexus by identity and by run, and unknown', () => {
  assert.is(attribute(change({}), who).actor, 'person');
  assert.is(attribute(change({ changedBy: 'a1b2c3d4-0000-4000-8000-000000000001', changedByType: 'Application' }), who).actor, 'pipeline');
  assert.is(attribute(change({ changedBy: NEXUS_MI.toUpperCase(), changedByType: 'Application' }), who).actor, 'nexus', 'identities match without case');
  assert.is(attribute(change({ correlationId: 'run-1' }), who).actor, 'nexus', 'a change on one of Nexus\'s runs is Nexus\'s');
  assert.is(attribute(change({ changedByType: 'System', changedBy: 'Microsoft' }), who).actor, 'unknown');
  assert.is(attribute(change({ changedByType: '' }), { selfIdentities: [], policyPrincipals: new Set() }).actor, 'unknown');
});

test('policy: the assignment\'s identity, a policy action (even on Nexus\'s correlation id), or a policy client', () => {
  assert.is(attribute(change({ changedBy: DINE_MI, changedByType: 'Application' }), who).actor, 'policy');
  assert.is(attribute(change({ operation: 'Microsoft.Authorization/policies/modify/action', correlationId: 'RUN-1', changedBy: NEXUS_MI }), who).actor, 'policy',
    'Modify runs on the request\'s correlation id: the action decides');
  assert.is(attribute(change({ operation: 'Microsoft.Authorization/policies/deployIfNotExists/action' }), who).actor, 'policy');
  assert.is(attribute(change({ clientType: 'Azure Policy', changedByType: 'Application' }), who).actor, 'policy');
  assert.is(attribute(change({ operation: 'Microsoft.Authorization/policyAssignments/write' }), who).actor, 'person', 'writing a policy resource is not a policy action');
});

test('Activity Log events: the caller\'s shape gives its kind; the Policy category is policy', () => {
  const a = attributor(who);
  assert.equal(a(event({})), {
    changedBy: 'frank@contoso.example', actor: 'person', operation: 'MICROSOFT.AUTHORIZATION/POLICYASSIGNMENTS/WRITE',
    correlationId: 'corr-2', at: '2026-01-01T00:00:00.000Z', source: 'activity-log',
  });
  assert.is(a(event({ caller: 'a1b2c3d4-0000-4000-8000-000000000001' })).actor, 'pipeline');
  assert.is(a(event({ caller: NEXUS_MI })).actor, 'nexus');
  assert.is(a(event({ category: 'Policy', operation: 'MICROSOFT.AUTHORIZATION/POLICIES/AUDIT/ACTION', caller: 'x' })).actor, 'policy');
  assert.is(a(event({ operation: 'MICROSOFT.AUTHORIZATION/POLICIES/DEPLOYIFNOTEXISTS/ACTION', caller: DINE_MI })).actor, 'policy');
  assert.is(a(event({ caller: 'Microsoft.Insights' })).actor, 'unknown');
});

test.run();
