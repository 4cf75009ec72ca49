// Placement on a management group: ALZ placeholders rewritten, custom definitions found at the nearest
// ancestor that deploys them (or an error), role definition names as uuid v5 of group and name,
// managed identities where the definition remediates.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../../../stacks/compile/index.ts';
import { stableUuid } from '../../../stacks/compile/ids.ts';
import { architecture, BASE, NEXUS, tmpLibrary } from './tmp-library.ts';

const MG = '/providers/Microsoft.Management/managementGroups/';
const byId = (c: ReturnType<typeof compile>) => new Map(c.state.resources.map((r) => [r.id, r]));

test('location, current scope and definition groups are rewritten', () => {
  const c = compile({ libraries: [BASE, NEXUS], architecture: 'small-nexus', location: 'uksouth' });
  const r = byId(c);
  const pa = r.get(`${MG}top/providers/Microsoft.Authorization/policyAssignments/Deploy-Baseline`)!;
  assert.is(pa.body.location, 'uksouth');
  assert.is((pa.body.properties as any).policyDefinitionId, `${MG}top/providers/Microsoft.Authorization/policySetDefinitions/Baseline`);
  assert.is((pa.body.properties as any).scope, undefined, 'scope is the resource scope, not a body field');
  const set = r.get(`${MG}top/providers/Microsoft.Authorization/policySetDefinitions/Baseline`)!;
  const ids = (set.body.properties as any).policyDefinitions.map((m: any) => m.policyDefinitionId);
  assert.equal(ids, [
    `${MG}top/providers/Microsoft.Authorization/policyDefinitions/Deploy-Diag`,
    `${MG}top/providers/Microsoft.Authorization/policyDefinitions/Audit-Thing`,
    '/providers/Microsoft.Authorization/policyDefinitions/0088bc63-6dee-4a9c-9d29-91cfdc848952',
  ]);
  // Nexus assignments two levels down use the definition deployed at the nearest ancestor.
  const app = r.get(`${MG}apps/providers/Microsoft.Authorization/policyAssignments/Deploy-App-Diag`)!;
  assert.is((app.body.properties as any).policyDefinitionId, `${MG}top/providers/Microsoft.Authorization/policyDefinitions/Deploy-Diag`);
  assert.equal(app.body.identity, { type: 'SystemAssigned' }, 'DINE definition: identity added');
  assert.is(app.body.location, 'uksouth');
  const audit = r.get(`${MG}apps/providers/Microsoft.Authorization/policyAssignments/Audit-Owner-Tag`)!;
  assert.is(audit.body.identity, undefined, 'audit definition: no identity');
});

test('role definitions: uuid v5 of group and role name, assignable at the group', () => {
  const c = compile({ libraries: [BASE, NEXUS], architecture: 'small-nexus' });
  const name = stableUuid('top', 'Reader-Plus');
  assert.is(name, '0871e3be-d66e-536b-aaad-24e6743619d9');
  const rd = byId(c).get(`${MG}top/providers/Microsoft.Authorization/roleDefinitions/${name}`)!;
  assert.equal((rd.body.properties as any).assignableScopes, [`${MG}top`]);
  assert.is((rd.body.properties as any).roleName, 'Reader-Plus');
});

test('a definition nearer the group wins over one higher up', () => {
  const lib = tmpLibrary({
    'mid.alz_archetype_definition.json': { name: 'mid', policy_assignments: ['Deny-Types'], policy_definitions: ['Deny-Types'] },
    'a.yaml': architecture({ managementGroups: [{ id: 'workloads', archetypes: ['mid'] }] }),
  });
  const c = compile({ libraries: [BASE, lib], architecture: 'test' });
  const pa = byId(c).get(`${MG}workloads/providers/Microsoft.Authorization/policyAssignments/Deny-Types`)!;
  assert.is((pa.body.properties as any).policyDefinitionId, `${MG}workloads/providers/Microsoft.Authorization/policyDefinitions/Deny-Types`);
});

test('a custom definition not deployed at the group or above is an error saying it is out of the hierarchy', () => {
  const lib = tmpLibrary({
    'below.alz_archetype_definition.json': { name: 'below', policy_definitions: ['Deny-Types'] },
    'top2.alz_archetype_definition.json': { name: 'top2', policy_assignments: ['Deny-Types'] },
    'a.yaml': architecture({ managementGroups: [{ id: 'top', archetypes: ['top2'] }, { id: 'apps', archetypes: ['below'] }] }),
  });
  const c = compile({ libraries: [BASE, lib], architecture: 'test' });
  const f = c.state.findings.find((x) => x.code === 'definition-out-of-hierarchy')!;
  assert.is(f.severity, 'error');
  assert.match(f.file, /Deny-Types\.alz_policy_assignment\.json$/);
  assert.is(f.path, 'properties.policyDefinitionId');
  assert.match(f.message, /"Deny-Types" used at management group "top" is not deployed there or at any ancestor/);
});

test('Nexus definitions by name, built-in GUID and id; unknown and uncached ones', () => {
  const lib = tmpLibrary({
    'x.yaml': `apiVersion: nexus/v1
kind: Archetype
metadata: { name: x }
spec:
  policies:
    - { name: By-Set, definition: Baseline, parameters: { logAnalytics: /subscriptions/88888888-8888-8888-8888-888888888888/resourceGroups/r } }
    - { name: By-Guid, definition: 0088bc63-6dee-4a9c-9d29-91cfdc848952 }
    - { name: By-Id, definition: /providers/Microsoft.Authorization/policyDefinitions/0088bc63-6dee-4a9c-9d29-91cfdc848952 }
    - { name: Not-Cached, definition: /providers/Microsoft.Authorization/policyDefinitions/11111111-0000-0000-0000-000000000000 }
    - { name: Unknown, definition: No-Such-Definition }
`,
    'a.yaml': architecture({ managementGroups: [{ id: 'workloads', archetypes: ['x'] }] }),
  });
  const c = compile({ libraries: [BASE, lib], architecture: 'test' });
  const r = byId(c);
  const def = (n: string) => (r.get(`${MG}workloads/providers/Microsoft.Authorization/policyAssignments/${n}`)?.body.properties as any)?.policyDefinitionId;
  assert.is(def('By-Set'), `${MG}top/providers/Microsoft.Authorization/policySetDefinitions/Baseline`);
  assert.is(def('By-Guid'), '/providers/Microsoft.Authorization/policyDefinitions/0088bc63-6dee-4a9c-9d29-91cfdc848952');
  assert.is(def('By-Id'), def('By-Guid'));
  assert.is(def('Not-Cached'), '/providers/Microsoft.Authorization/policyDefinitions/11111111-0000-0000-0000-000000000000');
  assert.is(def('Unknown'), undefined);
  const unknown = c.state.findings.find((f) => f.code === 'unknown-definition')!;
  assert.is(unknown.severity, 'error');
  assert.is(unknown.path, 'spec.policies[4].definition');
  const uncached = c.state.findings.find((f) => f.code === 'builtin-not-cached')!;
  assert.is(uncached.severity, 'warning', 'a built-in in neither place is a warning, never an error');
  assert.is(uncached.path, 'spec.policies[3].definition');
});

test('role assignments for DINE: roleDefinitionIds at the assignment scope and at assignPermissions values', () => {
  const c = compile({ libraries: [BASE, NEXUS], architecture: 'small-nexus' });
  const pa = `${MG}apps/providers/Microsoft.Authorization/policyAssignments/Deploy-App-Diag`;
  const ras = c.state.resources.filter((r) => r.kind === 'roleAssignment' && r.dependsOn.includes(pa));
  const ws = '/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/logs/providers/Microsoft.OperationalInsights/workspaces/apps';
  assert.equal(ras.map((r) => `${r.scope} ${(r.body.properties as any).roleDefinitionId.split('/').pop()}`).sort(), [
    `${MG}apps 749f88d5-cbae-40b8-bcfc-e573ddc772fa`,
    `${MG}apps 92aaf0da-9dab-42b6-94a3-d43ce8d16293`,
    `${ws} 749f88d5-cbae-40b8-bcfc-e573ddc772fa`,
    `${ws} 92aaf0da-9dab-42b6-94a3-d43ce8d16293`,
  ]);
  for (const r of ras) {
    assert.is(r.stack, 'apps');
    assert.is(r.id, `${r.scope}/providers/Microsoft.Authorization/roleAssignments/${r.name}`);
    assert.equal((r.body.properties as any).principalId, { $ref: pa, output: 'identity.principalId' });
  }
});

test('a placeholder resource id in an assignPermissions parameter grants nothing and says so', () => {
  const lib = tmpLibrary({ 'a.yaml': architecture() });
  const c = compile({ libraries: [BASE, lib], architecture: 'test' });
  const info = c.state.findings.find((f) => f.code === 'placeholder-permission-scope')!;
  assert.is(info.severity, 'info');
  assert.is(info.path, 'properties.parameters.logAnalytics');
  assert.not.ok(c.state.resources.some((r) => r.scope.startsWith('/subscriptions/00000000-0000-0000-0000-000000000000')));
  assert.is(c.state.resources.filter((r) => r.kind === 'roleAssignment').length, 2);
});

test.run();
