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

test.run();
