// Turns placed groups into the DesiredState: every resource with scope, type, API version, stable id,
// body and dependencies, and one stack per management group (named by the group id).
import type { Hierarchy } from './hierarchy.ts';
import { API_VERSIONS, mgScope } from './ids.ts';
import type { DesiredKind, DesiredResource, DesiredState, Finding, StackPlan } from './model.ts';
import type { PlacedExemption } from './exemptions.ts';
import type { PlacedGroup } from './placeholders.ts';
import type { RoleAssignmentPlan } from './role-assignments.ts';

export const KIND_ORDER: DesiredKind[] = [
  'managementGroup',
  'subscriptionPlacement',
  'policyDefinition',
  'policySetDefinition',
  'roleDefinition',
  'policyAssignment',
  'policyExemption',
  'roleAssignment',
  'resource',
];

const TYPES: Record<string, string> = {
  managementGroup: 'Microsoft.Management/managementGroups',
  subscriptionPlacement: 'Microsoft.Management/managementGroups/subscriptions',
  policyDefinition: 'Microsoft.Authorization/policyDefinitions',
  policySetDefinition: 'Microsoft.Authorization/policySetDefinitions',
  roleDefinition: 'Microsoft.Authorization/roleDefinitions',
  policyAssignment: 'Microsoft.Authorization/policyAssignments',
  policyExemption: 'Microsoft.Authorization/policyExemptions',
  roleAssignment: 'Microsoft.Authorization/roleAssignments',
};

export interface GroupOutput {
  placed: PlacedGroup;
  roleAssignments: RoleAssignmentPlan[];
  exemptions?: PlacedExemption[];
}

export function buildDesiredState(h: Hierarchy, groups: GroupOutput[], findings: Finding[]): DesiredState {
  const resources: DesiredResource[] = [];
  const stacks: StackPlan[] = [];
  const ids = new Set<string>();
  const created = new Set(h.groups.filter((g) => !g.exists).map((g) => mgScope(g.id)));

  for (const { placed, roleAssignments, exemptions = [] } of groups) {
    const g = placed.eg.group;
    const stack = g.id;
    const scope = placed.scope;
    const own: DesiredResource[] = [];
    const mgDep = created.has(scope) ? [scope] : [];
    const add = (r: Omit<DesiredResource, 'stack' | 'type' | 'apiVersion'> & { type?: string; apiVersion?: string }) => {
      if (ids.has(r.id)) return;
      ids.add(r.id);
      own.push({ type: TYPES[r.kind]!, apiVersion: (API_VERSIONS as Record<string, string>)[r.kind] ?? '', ...r, stack });
    };

    if (!g.exists) {
      const parent = mgScope(g.parentId);
      add({
        id: scope,
        kind: 'managementGroup',
        name: g.id,
        scope: '/',
        body: { properties: { displayName: g.displayName, details: { parent: { id: parent } } } },
        dependsOn: created.has(parent) ? [parent] : [],
        source: { file: g.file, managementGroup: g.id },
      });
    }
    for (const p of h.placements.filter((p) => p.managementGroupId === g.id)) {
      add({
        id: `${scope}/subscriptions/${p.subscriptionId}`,
        kind: 'subscriptionPlacement',
        name: p.subscriptionId,
        scope,
        body: { properties: {} },
        dependsOn: mgDep,
        source: { file: p.file, managementGroup: g.id },
      });
    }
    for (const d of placed.definitions) {
      add({
        id: d.id,
        kind: d.kind,
        name: d.name,
        scope,
        body: { properties: d.properties },
        dependsOn: [...mgDep, ...d.references],
        source: { file: d.file, archetype: d.origin.archetype, managementGroup: g.id },
      });
    }
    for (const a of placed.assignments) {
      add({
        id: a.id,
        kind: 'policyAssignment',
        name: a.name,
        scope,
        body: a.body,
        dependsOn: [...mgDep, ...(a.definitionId.startsWith('/providers/Microsoft.Management/') ? [a.definitionId] : [])],
        source: { file: a.item.bodyAt.file, archetype: a.item.origin.archetype, managementGroup: g.id },
      });
    }
    for (const ex of exemptions) {
      add({
        id: ex.id,
        kind: 'policyExemption',
        name: ex.name,
        scope: ex.scope,
        body: { properties: ex.properties },
        dependsOn: [...mgDep, ...ex.dependsOn],
        source: { file: ex.item.origin.file, archetype: ex.item.origin.archetype, managementGroup: g.id },
      });
    }
    for (const ra of roleAssignments) {
      add({
        id: ra.id,
        kind: 'roleAssignment',
        name: ra.name,
        scope: ra.scope,
        body: { properties: ra.properties },
        dependsOn: ra.dependsOn,
        source: { ...ra.source, managementGroup: g.id },
      });
    }
    for (const item of placed.eg.content.resources.values()) {
      add({
        id: `${scope}/providers/Nexus/resources/${item.name}`,
        kind: 'resource',
        type: item.spec.type,
        apiVersion: '',
        name: item.name,
        scope,
        body: { properties: item.spec.inputs },
        dependsOn: mgDep,
        source: { file: item.origin.file, archetype: item.origin.archetype, managementGroup: g.id },
      });
    }
    own.sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
    resources.push(...own);
    stacks.push({ name: stack, managementGroupId: g.id, resourceIds: own.map((r) => r.id) });
  }
  // Dependencies name only what this DesiredState creates; existing things need no ordering.
  for (const r of resources) r.dependsOn = [...new Set(r.dependsOn)].filter((d) => ids.has(d) && d !== r.id);
  return {
    tenantRootId: h.tenantRootId,
    rootManagementGroupId: h.rootManagementGroupId,
    location: h.location,
    resources,
    stacks,
    findings,
  };
}
