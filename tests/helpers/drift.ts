// A drift report and a compliance view as the drift domain makes them, for the tests of what shows
// them (the API, the CLI, the portal). Values carry characters that must be escaped where shown;
// every optional field is set, so a schema that leaves one out drops it and fails the API's tests.
import type { ComplianceView, DriftReport } from '../../functions/drift/model.ts';

export const SUB = '00000000-0000-0000-0000-0000000000a1';
export const STORAGE_ID = `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/stapp01`;
export const PR_URL = 'https://github.example/contoso/landing-zones/pull/12';
export const ASSIGNMENT_ID = '/providers/Microsoft.Management/managementGroups/alz/providers/Microsoft.Authorization/policyAssignments/Inherit-Tags';

export function sampleReport(stack: string, runId?: string, at = '2026-12-01T10:00:00.000Z'): DriftReport {
  const person = { changedBy: 'alice@contoso.example', actor: 'person' as const, clientType: 'Azure Portal', operation: 'Microsoft.Storage/storageAccounts/write', correlationId: 'c-1', at: '2026-12-01T09:12:00.000Z', source: 'resource-graph' as const };
  const policy = { changedBy: '11111111-2222-3333-4444-555555555555', actor: 'policy' as const, operation: 'Microsoft.Authorization/policies/modify/action', at: '2026-12-01T08:00:00.000Z', source: 'resource-graph' as const };
  return {
    stack, ...(runId ? { runId } : {}), at, mode: 'report',
    items: [
      {
        resourceId: STORAGE_ID, resourceType: 'Microsoft.Storage/storageAccounts', kind: 'configuration', action: 'report',
        properties: [
          { path: 'sku.name', desired: 'Standard_LRS', live: 'Standard_GRS', changedBy: person },
          { path: 'tags.note', desired: '<b>keep</b>', live: '<script>alert(1)</script>', changedBy: person },
        ],
        diffText: ' {\n   sku: {\n-    name: "Standard_LRS"\n+    name: "Standard_GRS"\n   }\n }',
        signals: ['engine', 'change-history'], changes: [person],
        why: 'sku.name differs from the desired state and was changed by a person',
      },
      {
        resourceId: `/subscriptions/${SUB}/resourceGroups/rg-app`, resourceType: 'Microsoft.Resources/resourceGroups', kind: 'policy-owned', action: 'leave-to-policy',
        properties: [{ path: 'tags.costCenter', desired: null, live: 'cc-42', changedBy: policy }],
        signals: ['engine', 'change-history'], changes: [policy],
        why: "tags.costCenter is written by Modify assignment 'Inherit-Tags'", policyAssignmentId: ASSIGNMENT_ID,
      },
    ],
    suppressed: [
      { rule: 'read-only-properties', count: 7, examples: ['properties.provisioningState', 'etag'] },
      { rule: 'location-display-name', count: 2, examples: ['location'] },
    ],
    counts: { configuration: 1, 'policy-owned': 1 },
    unavailable: [{ signal: 'activity-log', error: 'Log Analytics answered 403' }],
    pullRequest: { number: 12, url: PR_URL, state: 'updated' },
  };
}

export function sampleCompliance(at = '2026-12-01T10:00:00.000Z'): ComplianceView {
  return {
    at,
    scopes: [
      {
        scope: '/providers/Microsoft.Management/managementGroups/alz', kind: 'managementGroup', name: 'Azure Landing Zones',
        resources: { compliant: 40, nonCompliant: 3, exempt: 1, total: 44 },
        assignments: [
          { policyAssignmentId: ASSIGNMENT_ID, name: 'Inherit tags <from> the resource group', compliant: 30, nonCompliant: 3, exempt: 1, other: 0 },
          { policyAssignmentId: '/providers/Microsoft.Management/managementGroups/alz/providers/Microsoft.Authorization/policyAssignments/Deny-Public-IP', name: 'Deny-Public-IP', compliant: 44, nonCompliant: 0, exempt: 0, other: 2 },
        ],
        worstOffenders: [{ resourceId: STORAGE_ID, nonCompliant: 2, assignments: [ASSIGNMENT_ID, 'Deny-Public-IP'] }],
      },
      {
        scope: `/subscriptions/${SUB}`, kind: 'subscription', name: 'sub-app',
        resources: { compliant: 10, nonCompliant: 1, exempt: 0, total: 11 },
        assignments: [{ policyAssignmentId: ASSIGNMENT_ID, name: 'Inherit tags <from> the resource group', compliant: 10, nonCompliant: 1, exempt: 0, other: 0 }],
        worstOffenders: [{ resourceId: STORAGE_ID, nonCompliant: 1, assignments: [ASSIGNMENT_ID] }],
      },
    ],
    unavailable: [{ scope: `/subscriptions/00000000-0000-0000-0000-0000000000b2`, error: 'Policy Insights answered 429' }],
  };
}

/** The compliance port as another module provides it: the whole view, or only the scope asked for. */
export function compliancePort(view: ComplianceView, asked: Array<string | undefined> = []) {
  return async (scope?: string): Promise<ComplianceView> => {
    asked.push(scope);
    return scope ? { ...view, scopes: view.scopes.filter((s) => s.scope.toLowerCase() === scope.toLowerCase()), unavailable: [] } : view;
  };
}
