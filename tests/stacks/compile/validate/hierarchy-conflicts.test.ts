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


const ALLOWED_LOCATIONS = {
  name: 'Allowed-Locations',
  properties: {
    displayName: 'Allowed locations',
    policyType: 'Custom',
    mode: 'Indexed',
    parameters: {
      listOfAllowedLocations: { type: 'Array' },
      effect: { type: 'String', allowedValues: ['Audit', 'Deny'], defaultValue: 'Deny' },
    },
    policyRule: { if: { field: 'location', notIn: "[parameters('listOfAllowedLocations')]" }, then: { effect: "[parameters('effect')]" } },
  },
};

/** Allowed-Locations assigned on `mid` (under top) and on `leaf` (under mid or, with `sibling`, under top). */
function locations(up: string, down: string, sibling = false) {
  const lib = tmpLibrary({
    'Allowed-Locations.alz_policy_definition.json': ALLOWED_LOCATIONS,
    'up.yaml': archetype('up', `    - { name: Locations-Up, definition: Allowed-Locations, parameters: ${up} }\n`) + '  policyDefinitions: [Allowed-Locations]\n',
    'down.yaml': archetype('down', `    - { name: Locations-Down, definition: Allowed-Locations, parameters: ${down} }\n`),
    'a.yaml': architecture({ managementGroups: [{ id: 'mid', parent: 'top', archetypes: ['up'] }, { id: 'leaf', parent: sibling ? 'top' : 'mid', archetypes: ['down'] }] }),
  });
  const c = compile({ libraries: [BASE, lib], architecture: 'test' });
  return { lib, findings: c.state.findings.filter((x) => x.code === 'contradicting-parameters'), errors: c.state.findings.filter((x) => x.severity === 'error') };
}

test('one definition on ancestor and descendant with contradicting non-effect parameters is a warning naming both', () => {
  const { lib, findings, errors } = locations('{ listOfAllowedLocations: [westeurope] }', '{ listOfAllowedLocations: [westeurope, northeurope] }');
  assert.equal(errors, []);
  assert.is(findings.length, 1);
  const f = findings[0]!;
  assert.is(f.severity, 'warning');
  assert.is(f.file, `${lib}/down.yaml`);
  assert.is(f.path, 'spec.policies[0].parameters.listOfAllowedLocations');
  assert.match(f.message, '"Locations-Down" at "leaf" and "Locations-Up" at "mid" assign the same definition with contradicting parameters: listOfAllowedLocations ["westeurope","northeurope"] vs ["westeurope"]');
  assert.match(f.message, `(declared in ${lib}/down.yaml and ${lib}/up.yaml)`);
});

test('same parameters, another effect only, sibling branches, or deny-lists that add up are no parameter conflict', () => {
  assert.equal(locations('{ listOfAllowedLocations: [westeurope] }', '{ listOfAllowedLocations: [westeurope] }').findings, []);
  assert.equal(locations('{ listOfAllowedLocations: [westeurope] }', '{ listOfAllowedLocations: [northeurope] }', true).findings, []);
  const effectOnly = locations('{ listOfAllowedLocations: [westeurope] }', '{ listOfAllowedLocations: [westeurope], effect: Audit }').findings;
  assert.is(effectOnly.length, 1);
  assert.not.match(effectOnly[0]!.message, 'contradicting parameters');
  // Two not-allowed resource type lists both apply: Deny-Types at workloads and another list below it.
  const lib = tmpLibrary({
    'p.yaml': archetype('p', '    - { name: Deny-Types-Net, definition: Deny-Types, parameters: { listOfResourceTypesNotAllowed: [microsoft.network/publicipaddresses] } }\n'),
    'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['p'] }] }),
  });
  assert.equal(compile({ libraries: [BASE, lib], architecture: 'test' }).state.findings.filter((x) => x.code === 'contradicting-parameters'), []);
});

test.run();
