// The DesiredState: stable ids, dependencies inside the state only, one stack per group, existing
// groups not created, subscription placement, archetype rbac and resources.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../../../stacks/compile/index.ts';
import { architecture, BASE, NEXUS, tmpLibrary } from './tmp-library.ts';

const MG = '/providers/Microsoft.Management/managementGroups/';

test('every resource is well formed: id ends with its name, stack exists, dependencies resolve', () => {
  const s = compile({ libraries: [BASE, NEXUS], architecture: 'small-nexus' }).state;
  const ids = new Set(s.resources.map((r) => r.id));
  assert.is(ids.size, s.resources.length, 'ids are unique');
  for (const r of s.resources) {
    assert.ok(r.id.endsWith(`/${r.name}`), r.id);
    assert.ok(r.apiVersion, r.id);
    assert.ok(s.stacks.find((x) => x.name === r.stack)!.resourceIds.includes(r.id));
    for (const d of r.dependsOn) assert.ok(ids.has(d), `${r.id} -> ${d}`);
  }
  assert.equal(s.stacks.map((x) => [x.name, x.managementGroupId]), [['top', 'top'], ['workloads', 'workloads'], ['apps', 'apps']]);
  assert.equal(JSON.parse(JSON.stringify(s)), s, 'plain JSON');
});

test('a group that already exists is not created, and nothing waits for it', () => {
  const lib = tmpLibrary({ 'a.yaml': architecture({ managementGroups: [{ id: 'top', exists: true }] }) });
  const s = compile({ libraries: [BASE, lib], architecture: 'test' }).state;
  assert.not.ok(s.resources.some((r) => r.id === `${MG}top`));
  const wl = s.resources.find((r) => r.id === `${MG}workloads`)!;
  assert.equal(wl.dependsOn, []);
  assert.equal((wl.body.properties as any).details.parent.id, `${MG}top`);
  assert.ok(s.stacks.find((x) => x.name === 'top')!.resourceIds.length > 0, 'its definitions still deploy');
});

test('subscriptions are placed under their group, from the architecture and from options', () => {
  const extra = '99999999-9999-9999-9999-999999999999';
  const s = compile({ libraries: [BASE, NEXUS], architecture: 'small-nexus', subscriptions: [{ id: extra, managementGroup: 'workloads' }] }).state;
  const placements = s.resources.filter((r) => r.kind === 'subscriptionPlacement');
  assert.equal(placements.map((p) => [p.stack, p.name, p.type]), [
    ['workloads', extra, 'Microsoft.Management/managementGroups/subscriptions'],
    ['apps', '44444444-4444-4444-4444-444444444444', 'Microsoft.Management/managementGroups/subscriptions'],
  ]);
  assert.is(placements[0]!.id, `${MG}workloads/subscriptions/${extra}`);
  assert.equal(placements[0]!.dependsOn, [`${MG}workloads`]);
});

test('a subscription placed under two groups is an error', () => {
  const lib = tmpLibrary({ 'a.yaml': architecture({ subscriptions: [{ id: '12121212-1212-1212-1212-121212121212', managementGroup: 'top' }, { id: '12121212-1212-1212-1212-121212121212', managementGroup: 'apps' }] }) });
  const c = compile({ libraries: [BASE, lib], architecture: 'test' });
  const f = c.state.findings.find((x) => x.code === 'duplicate-name')!;
  assert.is(f.path, 'spec.subscriptions[1].id');
});

test('archetype rbac: built-in and custom roles, principals by object id or mapped name', () => {
  const s = compile({ libraries: [BASE, NEXUS], architecture: 'small-nexus' }).state;
  const rbac = s.resources.filter((r) => r.kind === 'roleAssignment' && (r.body.properties as any).principalType !== 'ServicePrincipal');
  assert.is(rbac.length, 3);
  const reader = rbac.find((r) => (r.body.properties as any).roleDefinitionId === '/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7')!;
  assert.is((reader.body.properties as any).principalId, '66666666-6666-6666-6666-666666666666');
  const custom = rbac.filter((r) => (r.body.properties as any).roleDefinitionId.startsWith(`${MG}top/providers/Microsoft.Authorization/roleDefinitions/`));
  assert.is(custom.length, 2);
  for (const r of custom) assert.equal(r.dependsOn, [(r.body.properties as any).roleDefinitionId]);
});

test('unknown roles and principals without object id are errors naming the field', () => {
  const lib = tmpLibrary({
    'x.yaml': 'apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: x }\nspec:\n  rbac:\n    - { role: Wizard, principals: [{ type: User, objectId: 12121212-1212-1212-1212-121212121212 }] }\n    - { role: Reader, principals: [{ type: Group, name: nobody }] }\n',
    'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['x'] }] }),
  });
  const c = compile({ libraries: [BASE, lib], architecture: 'test' });
  assert.equal(c.state.findings.filter((f) => f.severity === 'error').map((f) => `${f.code} ${f.path}`).sort(), ['unknown-principal spec.rbac[1].principals[0]', 'unknown-role spec.rbac[0].role']);
});

test('archetype resources become resource entries with their Pulumi type and inputs', () => {
  const lib = tmpLibrary({
    'x.yaml': 'apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: x }\nspec:\n  resources:\n    - { name: logs, type: "azure-native:resources:ResourceGroup", inputs: { resourceGroupName: rg-logs, location: westeurope } }\n',
    'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['x'] }] }),
  });
  const s = compile({ libraries: [BASE, lib], architecture: 'test' }).state;
  const r = s.resources.find((x) => x.kind === 'resource')!;
  assert.is(r.type, 'azure-native:resources:ResourceGroup');
  assert.is(r.stack, 'apps');
  assert.equal(r.body.properties, { resourceGroupName: 'rg-logs', location: 'westeurope' });
  assert.is(s.stacks.find((x) => x.name === 'apps')!.resourceIds.at(-1), r.id);
});

test('rbac condition is passed with conditionVersion 2.0; without one neither is set', () => {
  const condition = "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {acdd72a7-3385-48ef-bd42-f606fba81ae7}))";
  const lib = tmpLibrary({
    'x.yaml': `apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: x }\nspec:\n  rbac:\n    - name: delegated\n      role: User Access Administrator\n      condition: ${JSON.stringify(condition)}\n      principals: [{ type: Group, objectId: 12121212-1212-1212-1212-121212121212 }]\n    - { role: Reader, principals: [{ type: User, objectId: 13131313-1313-1313-1313-131313131313 }] }\n`,
    'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['x'] }] }),
  });
  const s = compile({ libraries: [BASE, lib], architecture: 'test' }).state;
  assert.equal(s.findings.filter((f) => f.severity === 'error'), []);
  const ras = s.resources.filter((r) => r.kind === 'roleAssignment' && r.stack === 'apps');
  const withCondition = ras.find((r) => (r.body.properties as any).principalId === '12121212-1212-1212-1212-121212121212')!;
  assert.is((withCondition.body.properties as any).condition, condition);
  assert.is((withCondition.body.properties as any).conditionVersion, '2.0');
  const plain = ras.find((r) => (r.body.properties as any).principalId === '13131313-1313-1313-1313-131313131313')!;
  assert.not.ok('condition' in plain.body.properties || 'conditionVersion' in plain.body.properties);
});

test('notScopes and nonComplianceMessages pass through to the assignment, and an inheriting override replaces them', () => {
  const excluded = `${MG}apps-excluded`;
  const lib = tmpLibrary({
    'x.yaml': [
      'apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: x }\nspec:',
      '  inherits:',
      '    - name: workloads',
      '      overrides:',
      '        policies:',
      `          Deny-Types: { notScopes: ["${MG}legacy"], nonComplianceMessages: [{ message: Ask the platform team first. }] }`,
      '  policies:',
      `    - { name: Own, definition: Audit-Thing, parameters: { tagName: owner }, notScopes: ["${excluded}"], nonComplianceMessages: [{ message: Tag it. }, { message: Per policy., policyDefinitionReferenceId: r1 }] }`,
    ].join('\n'),
    'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['x'] }] }),
  });
  const s = compile({ libraries: [BASE, lib], architecture: 'test' }).state;
  assert.equal(s.findings.filter((f) => f.severity === 'error'), []);
  const props = (mg: string, name: string) => s.resources.find((r) => r.id === `${MG}${mg}/providers/Microsoft.Authorization/policyAssignments/${name}`)!.body.properties as any;
  assert.equal(props('apps', 'Own').notScopes, [excluded]);
  assert.equal(props('apps', 'Own').nonComplianceMessages, [{ message: 'Tag it.' }, { message: 'Per policy.', policyDefinitionReferenceId: 'r1' }]);
  assert.equal(props('apps', 'Deny-Types').notScopes, [`${MG}legacy`]);
  assert.equal(props('apps', 'Deny-Types').nonComplianceMessages, [{ message: 'Ask the platform team first.' }]);
  // The ALZ assignment used directly keeps its own (empty) settings.
  assert.equal(props('workloads', 'Deny-Types').notScopes ?? [], []);
  assert.is(props('workloads', 'Deny-Types').nonComplianceMessages, undefined);
});

test.run();
