// A small desired state for loop tests: one management group of its own under the tenant root,
// N policy assignments of a built-in definition, and optionally a role assignment at the group.
// Real ARM bodies, so the real engine applies them to the ARM sandbox.
import type { DesiredResource, DesiredState } from '../../../stacks/compile/model.ts';

export const AUDIT_RG_LOCATION = '/providers/Microsoft.Authorization/policyDefinitions/0a914e76-4921-4c19-b460-a2d36003525a';
const READER = '/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7';

export const mg = (name: string) => `/providers/Microsoft.Management/managementGroups/${name}`;

export interface SmallStateOptions {
  /** Management group name, also the stack name. */
  name: string;
  assignments: number;
  /** Value of each assignment's displayName suffix; change it to make an update. */
  version?: string;
  roleAssignment?: string;
  /** The tenant root group's id (the sandbox's tenant id). */
  tenantRoot: string;
  /** Put the group under this parent (default the tenant root). */
  parent?: string;
}

export function smallState(o: SmallStateOptions): DesiredState {
  const scope = mg(o.name);
  const resources: DesiredResource[] = [{
    id: scope, kind: 'managementGroup', type: 'Microsoft.Management/managementGroups', apiVersion: '2023-04-01', name: o.name,
    scope: '/', stack: o.name, body: { properties: { displayName: o.name, details: { parent: { id: mg(o.parent ?? o.tenantRoot) } } } },
    dependsOn: [], source: { file: 'tests/fixture', managementGroup: o.name },
  }];
  for (let i = 0; i < o.assignments; i++) {
    const name = `rc-audit-${i}`;
    resources.push({
      id: `${scope}/providers/Microsoft.Authorization/policyAssignments/${name}`, kind: 'policyAssignment',
      type: 'Microsoft.Authorization/policyAssignments', apiVersion: '2022-06-01', name, scope, stack: o.name,
      body: { properties: { displayName: `Audit ${i} ${o.version ?? 'v1'}`, policyDefinitionId: AUDIT_RG_LOCATION, parameters: {}, enforcementMode: 'Default' } },
      dependsOn: [scope], source: { file: 'tests/fixture', managementGroup: o.name },
    });
  }
  if (o.roleAssignment) {
    resources.push({
      id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${o.roleAssignment}`, kind: 'roleAssignment',
      type: 'Microsoft.Authorization/roleAssignments', apiVersion: '2022-04-01', name: o.roleAssignment, scope, stack: o.name,
      body: { properties: { roleDefinitionId: READER, principalId: '11111111-2222-3333-4444-555555555555', principalType: 'Group' } },
      dependsOn: [scope], source: { file: 'tests/fixture', managementGroup: o.name },
    });
  }
  return {
    tenantRootId: o.tenantRoot, rootManagementGroupId: o.name, location: 'westeurope', resources, findings: [],
    stacks: [{ name: o.name, managementGroupId: o.name, resourceIds: resources.map((r) => r.id) }],
  };
}

/** Several small stacks in one state (for multi-stack runs). */
export function mergeStates(states: DesiredState[]): DesiredState {
  return { ...states[0], resources: states.flatMap((s) => s.resources), stacks: states.flatMap((s) => s.stacks) };
}
