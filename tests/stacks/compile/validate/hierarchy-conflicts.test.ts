import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../../../../stacks/compile/index.ts';
import { deniedTypes } from '../../../../stacks/compile/validate/hierarchy-conflicts.ts';
import { architecture, BASE, NEXUS, tmpLibrary } from '../tmp-library.ts';

const archetype = (name: string, policies: string) => `apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: ${name} }\nspec:\n  policies:\n${policies}`;

test('a parent that denies what a child deploys with DeployIfNotExists is an error', () => {
  const lib = tmpLibrary({
    'p.yaml': archetype('p', '    - { name: Deny-Diag, definition: Deny-Types, parameters: { listOfResourceTypesNotAllowed: [Microsoft.Insights/diagnosticSettings] } }\n'),
    'a.yaml': architecture({ managementGroups: [{ id: 'workloads', archetypes: ['p'] }, { id: 'apps', archetypes: ['apps'] }] }),
  });
  const c = compile({ libraries: [BASE, NEXUS, lib], architecture: 'test' });
  const f = c.state.findings.filter((x) => x.code === 'deny-blocks-deploy');
  // Deploy-App-Diag at apps (below workloads) deploys diagnostic settings.
  assert.is(f.length, 1);
  assert.is(f[0]!.severity, 'error');
  assert.match(f[0]!.file, /nexus\/apps\.yaml$/);
  assert.is(f[0]!.path, 'spec.policies[0].definition');
  assert.match(f[0]!.message, /"Deploy-App-Diag" at "apps" deploys Microsoft\.Insights\/diagnosticSettings .* "Deny-Diag" at "workloads" denies/);
});

test('no conflict when the deny is not enforced, is only an audit, or sits on another branch', () => {
  const cases = [
    "    - { name: Deny-Diag, definition: Deny-Types, enforcementMode: DoNotEnforce, parameters: { listOfResourceTypesNotAllowed: [Microsoft.Insights/diagnosticSettings] } }\n",
    "    - { name: Deny-Diag, definition: Deny-Types, parameters: { effect: Audit, listOfResourceTypesNotAllowed: [Microsoft.Insights/diagnosticSettings] } }\n",
  ];
  for (const policies of cases) {
    const lib = tmpLibrary({ 'p.yaml': archetype('p', policies), 'a.yaml': architecture({ managementGroups: [{ id: 'workloads', archetypes: ['p'] }, { id: 'apps', archetypes: ['apps'] }] }) });
    const c = compile({ libraries: [BASE, NEXUS, lib], architecture: 'test' });
    assert.equal(c.state.findings.filter((x) => x.code === 'deny-blocks-deploy'), [], policies);
  }
  const sibling = tmpLibrary({
    'p.yaml': archetype('p', '    - { name: Deny-Diag, definition: Deny-Types, parameters: { listOfResourceTypesNotAllowed: [Microsoft.Insights/diagnosticSettings] } }\n'),
    'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['apps'] }, { id: 'side', parent: 'top', archetypes: ['p'] }] }),
  });
  const c = compile({ libraries: [BASE, NEXUS, sibling], architecture: 'test' });
  assert.equal(c.state.findings.filter((x) => x.code === 'deny-blocks-deploy'), []);
});

test('deniedTypes reads type-only rules and refuses rules that look at other fields', () => {
  assert.equal(deniedTypes({ field: 'type', equals: 'A/b' }, {}), ['A/b']);
  assert.equal(deniedTypes({ allOf: [{ field: 'type', in: "[parameters('l')]" }, { value: "[field('type')]", exists: true }] }, { l: ['x/y', 'z/w'] }), ['x/y', 'z/w']);
  assert.is(deniedTypes({ allOf: [{ field: 'type', equals: 'A/b' }, { field: 'location', notIn: ['x'] }] }, {}), undefined);
});

test('one definition twice on a path with contradicting effects is a warning', () => {
  const lib = tmpLibrary({
    'p.yaml': archetype('p', '    - { name: Deny-Types-Audit, definition: Deny-Types, parameters: { effect: Audit } }\n'),
    'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['p'] }] }),
  });
  const c = compile({ libraries: [BASE, lib], architecture: 'test' });
  const f = c.state.findings.filter((x) => x.code === 'contradicting-parameters');
  assert.is(f.length, 1);
  assert.is(f[0]!.severity, 'warning');
  assert.is(f[0]!.path, 'spec.policies[0].parameters');
  assert.match(f[0]!.message, /"Deny-Types-Audit" at "apps" and "Deny-Types" at "workloads" .* audit vs deny/);
});

test.run();
