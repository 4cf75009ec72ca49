// The real Azure Landing Zones library: loads, resolves and compiles without a single error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { alzLibraryDir, compile } from '../../../stacks/compile/index.ts';
import { stableUuid } from '../../../stacks/compile/ids.ts';
import { KIND_ORDER } from '../../../stacks/compile/desired-state.ts';
import { tmpLibrary } from './tmp-library.ts';

const c = compile({ libraries: [alzLibraryDir()], architecture: 'alz', rootMg: 'tenant-root', location: 'swedencentral' });
const state = c.state;
const byId = new Map(state.resources.map((r) => [r.id, r]));

test('loads every ALZ file and compiles without a single error', () => {
  assert.is(c.library.policyDefinitions.size, 149);
  assert.is(c.library.policySetDefinitions.size, 42);
  assert.is(c.library.roleDefinitions.size, 5);
  assert.is(c.library.policyAssignments.size, 80);
  assert.is(c.library.archetypes.size, 12);
  assert.equal(state.findings.filter((f) => f.severity === "error"), []);
});

test('one stack per management group, named by the group id, parents first', () => {
  assert.equal(state.stacks.map((s) => s.name), c.hierarchy.groups.map((g) => g.id));
  assert.is(state.stacks.length, 12);
  assert.is(state.stacks[0]!.name, 'alz');
  const alz = byId.get('/providers/Microsoft.Management/managementGroups/alz')!;
  assert.equal(alz.body.properties, { displayName: 'Azure Landing Zones', details: { parent: { id: '/providers/Microsoft.Management/managementGroups/tenant-root' } } });
  const corp = byId.get('/providers/Microsoft.Management/managementGroups/corp')!;
  assert.equal(corp.dependsOn, ['/providers/Microsoft.Management/managementGroups/landingzones']);
});

test('resources in each stack: groups, definitions, assignments, role assignments', () => {
  for (const s of state.stacks) {
    const kinds = s.resourceIds.map((id) => KIND_ORDER.indexOf(byId.get(id)!.kind));
    assert.equal(kinds, [...kinds].sort((a, b) => a - b), s.name);
  }
  const root = state.stacks.find((s) => s.name === 'alz')!;
  const count = (k: string) => root.resourceIds.filter((id) => byId.get(id)!.kind === k).length;
  assert.is(count('policyDefinition'), 149);
  assert.is(count('policySetDefinition'), 42);
  assert.is(count('roleDefinition'), 5);
  assert.is(count('policyAssignment'), 17);
});

test('placeholders are rewritten: location, definition groups, assignable scopes', () => {
  const text = JSON.stringify(state.resources);
  assert.not.ok(text.includes('${default_location}'));
  assert.not.ok(text.includes('${current_scope_resource_id}'));
  assert.not.ok(text.includes('managementGroups/placeholder'));
  assert.not.ok(text.includes('managementGroups/contoso'));
  const pa = byId.get('/providers/Microsoft.Management/managementGroups/alz/providers/Microsoft.Authorization/policyAssignments/Deploy-MDFC-Config-H224')!;
  assert.is(pa.body.location, 'swedencentral');
  assert.equal(pa.body.identity, { type: 'SystemAssigned' });
  const props = pa.body.properties as { policyDefinitionId: string; parameters: Record<string, { value: unknown }> };
  assert.is(props.policyDefinitionId, '/providers/Microsoft.Management/managementGroups/alz/providers/Microsoft.Authorization/policySetDefinitions/Deploy-MDFC-Config_20240319');
  assert.is(props.parameters.ascExportResourceGroupLocation!.value, 'swedencentral');
  assert.ok(pa.dependsOn.includes(props.policyDefinitionId));
  // A set definition referencing custom definitions points at the group that deploys them.
  const set = byId.get('/providers/Microsoft.Management/managementGroups/alz/providers/Microsoft.Authorization/policySetDefinitions/Enforce-ALZ-Sandbox')!;
  const members = (set.body.properties as { policyDefinitions: { policyDefinitionId: string }[] }).policyDefinitions.map((m) => m.policyDefinitionId);
  assert.ok(members.includes('/providers/Microsoft.Management/managementGroups/alz/providers/Microsoft.Authorization/policyDefinitions/Deny-VNET-Peer-Cross-Sub'));
  assert.ok(set.dependsOn.includes('/providers/Microsoft.Management/managementGroups/alz/providers/Microsoft.Authorization/policyDefinitions/Deny-VNET-Peer-Cross-Sub'));
});

test('role definitions are named uuid v5 of group and role name, assignable at their group', () => {
  const name = stableUuid('alz', 'Network-Management');
  const rd = byId.get(`/providers/Microsoft.Management/managementGroups/alz/providers/Microsoft.Authorization/roleDefinitions/${name}`)!;
  assert.ok(rd);
  assert.is(rd.kind, 'roleDefinition');
  assert.equal((rd.body.properties as { assignableScopes: string[] }).assignableScopes, ['/providers/Microsoft.Management/managementGroups/alz']);
  assert.is((rd.body.properties as { roleName: string }).roleName, 'Network-Management');
});

test('DeployIfNotExists and Modify assignments get role assignments for their identity', () => {
  const paId = '/providers/Microsoft.Management/managementGroups/landingzones/providers/Microsoft.Authorization/policyAssignments/Deploy-VM-Backup';
  const ras = state.resources.filter((r) => r.kind === 'roleAssignment' && r.dependsOn.includes(paId));
  assert.ok(ras.length >= 1);
  for (const ra of ras) {
    assert.is(ra.stack, 'landingzones');
    assert.is(ra.scope, '/providers/Microsoft.Management/managementGroups/landingzones');
    assert.equal(ra.body.properties.principalId, { $ref: paId, output: 'identity.principalId' });
    assert.match(ra.name, /^[0-9a-f-]{36}$/);
  }
  // Every assignment with an identity whose definition declares roles has them; none without identity.
  for (const r of state.resources.filter((x) => x.kind === 'roleAssignment')) {
    const pa = byId.get(r.dependsOn[0]!)!;
    assert.ok(pa.body.identity, r.id);
  }
  // Deterministic: compiling again gives the same ids.
  const again = compile({ libraries: [alzLibraryDir()], architecture: 'alz', rootMg: 'tenant-root', location: 'swedencentral' }).state;
  assert.equal(again.resources.map((r) => r.id), state.resources.map((r) => r.id));
});

test('no two role assignments grant one role to one principal at one scope (ARM refuses duplicates)', () => {
  const seen = new Set<string>();
  for (const r of state.resources.filter((x) => x.kind === 'roleAssignment')) {
    const p = r.body.properties as { roleDefinitionId: string; principalId: unknown };
    const key = `${r.scope.toLowerCase()}|${p.roleDefinitionId.toLowerCase()}|${JSON.stringify(p.principalId)}`;
    assert.not.ok(seen.has(key), key);
    seen.add(key);
  }
});

test('policy assignment names stay within 24 characters and sit at their group scope', () => {
  for (const r of state.resources.filter((x) => x.kind === 'policyAssignment')) {
    assert.ok(r.name.length <= 24, r.name);
    assert.is(r.id, `${r.scope}/providers/Microsoft.Authorization/policyAssignments/${r.name}`);
  }
});

test('Modify assignments get their role assignments: Enable-DDoS-VNET from ALZ, Modify-NSG and Modify-UDR from a Nexus archetype', () => {
  const NETWORK_CONTRIBUTOR = '/providers/Microsoft.Authorization/roleDefinitions/4d97b98b-1d4f-4787-a291-c67834d212e7';
  const MGS = '/providers/Microsoft.Management/managementGroups/';
  const ddos = `${MGS}landingzones/providers/Microsoft.Authorization/policyAssignments/Enable-DDoS-VNET`;
  const ddosRas = state.resources.filter((r) => r.kind === 'roleAssignment' && r.dependsOn.includes(ddos));
  assert.ok(ddosRas.length >= 1, 'the ALZ Modify assignment has role assignments');
  assert.ok(ddosRas.every((r) => r.scope === `${MGS}landingzones`));

  const lib = tmpLibrary({
    'modify.yaml': [
      'apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: corp-modify }\nspec:\n  inherits: [corp]\n  policies:',
      '    - { name: Modify-NSG, definition: Modify-NSG }',
      '    - { name: Modify-UDR, definition: Modify-UDR, parameters: { addressPrefix: 0.0.0.0/0, nextHopType: VirtualAppliance, nextHopIpAddress: 10.0.0.4 } }',
      '---',
      'apiVersion: nexus/v1\nkind: Architecture\nmetadata: { name: alz-modify }\nspec:\n  extends: alz\n  rootManagementGroup: tenant-root\n  location: swedencentral\n  managementGroups:\n    - { id: corp, archetypes: [corp-modify] }',
    ].join('\n'),
  });
  const m = compile({ libraries: [alzLibraryDir(), lib], architecture: 'alz-modify' }).state;
  assert.equal(m.findings.filter((f) => f.severity === 'error'), []);
  for (const name of ['Modify-NSG', 'Modify-UDR']) {
    const paId = `${MGS}corp/providers/Microsoft.Authorization/policyAssignments/${name}`;
    const pa = m.resources.find((r) => r.id === paId)!;
    assert.equal(pa.body.identity, { type: 'SystemAssigned' }, `${name}: Modify needs an identity`);
    assert.is(pa.body.location, 'swedencentral');
    assert.is((pa.body.properties as any).policyDefinitionId, `${MGS}alz/providers/Microsoft.Authorization/policyDefinitions/${name}`, 'defined at the root of the hierarchy');
    const ras = m.resources.filter((r) => r.kind === 'roleAssignment' && r.dependsOn.includes(paId));
    assert.equal(ras.map((r) => [r.scope, r.stack, (r.body.properties as any).roleDefinitionId]), [[`${MGS}corp`, 'corp', NETWORK_CONTRIBUTOR]], name);
    assert.equal((ras[0]!.body.properties as any).principalId, { $ref: paId, output: 'identity.principalId' });
  }
});

test.run();
