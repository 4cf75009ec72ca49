// A small hand-made DesiredState for engine tests: one management group with an audit
// assignment, a DeployIfNotExists assignment with a managed identity, and the role assignment
// that identity needs (its principalId filled in by the engine from the assignment's outputs).
import { randomBytes, randomUUID } from 'node:crypto';
import type { DesiredResource, DesiredState } from '../../../stacks/compile/model.ts';

const AUDIT_DEF = '/providers/Microsoft.Authorization/policyDefinitions/b4330a05-a843-4bc8-bf9a-cacce50c67f4';
const DINE_DEF = '/providers/Microsoft.Authorization/policyDefinitions/90bd4cb3-9f59-45f7-a6ca-f69db2726671';
const DNS_CONTRIBUTOR = '/providers/Microsoft.Authorization/roleDefinitions/4d97b98b-1d4f-4787-a291-c67834d212e7';

export interface SmallState {
  state: DesiredState;
  stack: string;
  mg: string;
  audit: string;
  dine: string;
  role: string;
}

export function smallState(suffix = randomBytes(3).toString('hex')): SmallState {
  const stack = `nx-${suffix}`;
  const mg = `/providers/Microsoft.Management/managementGroups/nx-${suffix}`;
  const audit = `${mg}/providers/Microsoft.Authorization/policyAssignments/audit-search`;
  const dine = `${mg}/providers/Microsoft.Authorization/policyAssignments/dns-dfs`;
  const role = `${mg}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
  const base = { scope: mg, stack, source: { file: 'tests/stacks/engine/small-state.ts' } };
  const resources: DesiredResource[] = [
    {
      ...base, id: mg, kind: 'managementGroup', type: 'Microsoft.Management/managementGroups', apiVersion: '2021-04-01',
      name: `nx-${suffix}`, scope: '/', dependsOn: [], body: { properties: { displayName: `Nexus test ${suffix}` } },
    },
    {
      ...base, id: audit, kind: 'policyAssignment', type: 'Microsoft.Authorization/policyAssignments', apiVersion: '2022-06-01',
      name: 'audit-search', dependsOn: [mg],
      body: { properties: { displayName: 'Audit search logs', policyDefinitionId: AUDIT_DEF, enforcementMode: 'Default',
        parameters: { effect: { value: 'AuditIfNotExists' }, requiredRetentionDays: { value: '365' } } } },
    },
    {
      ...base, id: dine, kind: 'policyAssignment', type: 'Microsoft.Authorization/policyAssignments', apiVersion: '2022-06-01',
      name: 'dns-dfs', dependsOn: [mg],
      body: { location: 'westeurope', identity: { type: 'SystemAssigned' },
        properties: { displayName: 'DNS for dfs', policyDefinitionId: DINE_DEF, enforcementMode: 'Default',
          parameters: { privateDnsZoneId: { value: `/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/dns/providers/Microsoft.Network/privateDnsZones/privatelink.dfs.core.windows.net` } } } },
    },
    {
      ...base, id: role, kind: 'roleAssignment', type: 'Microsoft.Authorization/roleAssignments', apiVersion: '2022-04-01',
      name: role.split('/').pop()!, dependsOn: [dine],
      body: { properties: { roleDefinitionId: DNS_CONTRIBUTOR, principalType: 'ServicePrincipal',
        principalId: { $ref: dine, output: 'identity.principalId' } as unknown as string } },
    },
  ];
  return {
    stack, mg, audit, dine, role,
    state: {
      tenantRootId: 'root', rootManagementGroupId: `nx-${suffix}`, location: 'westeurope', findings: [], resources,
      stacks: [{ name: stack, managementGroupId: `nx-${suffix}`, resourceIds: resources.map((r) => r.id) }],
    },
  };
}
