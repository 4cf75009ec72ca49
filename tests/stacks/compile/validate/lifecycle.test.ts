import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../../../../stacks/compile/index.ts';
import { architecture, BASE, tmpLibrary } from '../tmp-library.ts';

test('preview and deprecated definitions are warnings, assigned directly or inside a set', () => {
  const lib = tmpLibrary({
    'x.yaml': 'apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: x }\nspec:\n  policies:\n    - { name: Preview-One, definition: Audit-Preview }\n',
    'Preview-Set.alz_policy_set_definition.json': {
      name: 'Preview-Set',
      properties: {
        displayName: 'Has a deprecated member',
        policyDefinitions: [{ policyDefinitionId: '/providers/Microsoft.Authorization/policyDefinitions/0725b4dd-7e76-479c-a735-68e7ee23d5ca' }],
      },
    },
    's.alz_archetype_definition.json': { name: 's', policy_set_definitions: ['Preview-Set'] },
    'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['x'] }, { id: 'workloads', archetypes: ['s'] }] }),
  });
  const c = compile({ libraries: [BASE, lib], architecture: 'test' });
  const f = c.state.findings.filter((x) => x.code === 'preview-policy' || x.code === 'deprecated-policy');
  assert.equal(f.map((x) => [x.severity, x.code, x.path]).sort(), [
    ['warning', 'deprecated-policy', 'properties.policyDefinitions[0].policyDefinitionId'],
    ['warning', 'preview-policy', 'spec.policies[0].definition'],
  ]);
  assert.equal(c.state.findings.filter((x) => x.severity === 'error'), []);
});

test.run();
