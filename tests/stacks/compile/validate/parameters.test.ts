import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../../../../stacks/compile/index.ts';
import { architecture, BASE, tmpLibrary } from '../tmp-library.ts';

const run = (policies: string) =>
  compile({
    libraries: [
      BASE,
      tmpLibrary({
        'x.yaml': `apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: x }\nspec:\n  policies:\n${policies}`,
        'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['x'] }] }),
      }),
    ],
    architecture: 'test',
  }).state.findings.filter((f) => ['unknown-parameter', 'missing-parameter', 'parameter-not-allowed'].includes(f.code ?? ''));

test('a parameter the definition does not declare is an error naming it', () => {
  const f = run('    - { name: A, definition: Audit-Thing, parameters: { tagName: x, colour: red } }\n');
  assert.equal(f.map((x) => [x.severity, x.code, x.path]), [['error', 'unknown-parameter', 'spec.policies[0].parameters.colour']]);
  assert.match(f[0]!.message, /declared: effect, tagName/);
});

test('a required parameter without a value is an error; names match case-insensitively', () => {
  const f = run('    - { name: A, definition: Audit-Thing }\n    - { name: B, definition: Audit-Thing, parameters: { TAGNAME: x } }\n');
  assert.equal(f.map((x) => [x.code, x.path]), [['missing-parameter', 'spec.policies[0].parameters']]);
  assert.match(f[0]!.message, /required parameter "tagName"/);
});

test('a literal value outside allowedValues is an error; expressions are not judged', () => {
  const f = run("    - { name: A, definition: Audit-Thing, parameters: { tagName: x, effect: Deny } }\n    - { name: B, definition: Audit-Thing, parameters: { tagName: x, effect: \"[parameters('e')]\" } }\n");
  assert.equal(f.map((x) => [x.code, x.path]), [['parameter-not-allowed', 'spec.policies[0].parameters.effect']]);
});

test('set members are checked against their definitions, in the set file', () => {
  const lib = tmpLibrary({
    'Bad-Set.alz_policy_set_definition.json': {
      name: 'Bad-Set',
      properties: {
        displayName: 'Bad set',
        parameters: {},
        policyDefinitions: [
          { policyDefinitionId: '/providers/Microsoft.Management/managementGroups/x/providers/Microsoft.Authorization/policyDefinitions/Audit-Thing', parameters: { tagName: { value: 'a' }, bogus: { value: 1 } } },
        ],
      },
    },
    'b.alz_archetype_definition.json': { name: 'b', policy_set_definitions: ['Bad-Set'] },
    'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['b'] }] }),
  });
  const c = compile({ libraries: [BASE, lib], architecture: 'test' });
  const f = c.state.findings.find((x) => x.code === 'unknown-parameter')!;
  assert.is(f.severity, 'error');
  assert.match(f.file, /Bad-Set\.alz_policy_set_definition\.json$/);
  assert.is(f.path, 'properties.policyDefinitions[0].parameters.bogus');
});

test('an undeclared parameter of a cached built-in is a warning (the cache may lag Azure)', () => {
  const f = run('    - { name: A, definition: 0088bc63-6dee-4a9c-9d29-91cfdc848952, parameters: { newerParameter: 1 } }\n');
  assert.equal(f.map((x) => [x.severity, x.code]), [['warning', 'unknown-parameter']]);
  assert.match(f[0]!.message, /cached version/);
});

const THINGS = {
  name: 'Allowed-Things',
  properties: {
    displayName: 'Allowed things',
    policyType: 'Custom',
    mode: 'All',
    parameters: { listOfThings: { type: 'Array', allowedValues: ['a', 'b', 'c'] } },
    policyRule: { if: { field: 'type', notIn: "[parameters('listOfThings')]" }, then: { effect: 'audit' } },
  },
};

test('an array value is checked element by element against allowedValues', () => {
  const lib = tmpLibrary({
    'Allowed-Things.alz_policy_definition.json': THINGS,
    'x.yaml': `apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: x }\nspec:\n  policyDefinitions: [Allowed-Things]\n  policies:\n${[
      '{ name: Ok, definition: Allowed-Things, parameters: { listOfThings: [a, B] } }',
      '{ name: Bad, definition: Allowed-Things, parameters: { listOfThings: [a, z, y] } }',
      `{ name: Expr, definition: Allowed-Things, parameters: { listOfThings: [a, "[parameters('p')]"] } }`,
      '{ name: Scalar, definition: Allowed-Things, parameters: { listOfThings: z } }',
    ].map((p) => `    - ${p}\n`).join('')}`,
    'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['x'] }] }),
  });
  const f = compile({ libraries: [BASE, lib], architecture: 'test' }).state.findings.filter((x) => x.code === 'parameter-not-allowed');
  assert.equal(f.map((x) => [x.severity, x.path]), [['error', 'spec.policies[1].parameters.listOfThings'], ['error', 'spec.policies[3].parameters.listOfThings']]);
  assert.match(f[0]!.message, 'elements "z", "y" of parameter "listOfThings" is not one of ["a","b","c"]');
  assert.match(f[1]!.message, 'value "z" of parameter');
});

test('a set member that is a custom definition no library defines is an unknown-definition error, not a missing built-in', () => {
  const lib = tmpLibrary({
    'Gap-Set.alz_policy_set_definition.json': {
      name: 'Gap-Set',
      properties: {
        displayName: 'Gap set',
        parameters: {},
        policyDefinitions: [
          { policyDefinitionId: '/providers/Microsoft.Management/managementGroups/x/providers/Microsoft.Authorization/policyDefinitions/Not-There' },
          { policyDefinitionId: '/subscriptions/1/providers/Microsoft.Authorization/policyDefinitions/Odd' },
          { policyDefinitionId: '/providers/Microsoft.Authorization/policyDefinitions/00000000-0000-0000-0000-00000000abcd' },
        ],
      },
    },
    'b.alz_archetype_definition.json': { name: 'b', policy_set_definitions: ['Gap-Set'] },
    'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['b'] }] }),
  });
  const f = compile({ libraries: [BASE, lib], architecture: 'test' }).state.findings.filter((x) => x.file.endsWith('Gap-Set.alz_policy_set_definition.json'));
  assert.equal(f.map((x) => [x.severity, x.code, x.path]), [
    ['error', 'unknown-definition', 'properties.policyDefinitions[0].policyDefinitionId'],
    ['error', 'unknown-definition', 'properties.policyDefinitions[1].policyDefinitionId'],
    ['warning', 'builtin-not-cached', 'properties.policyDefinitions[2].policyDefinitionId'],
  ]);
  assert.match(f[0]!.message, 'policy definition "Not-There" is not defined in any library');
  assert.match(f[1]!.message, 'is not a policy definition id');
});

test.run();
