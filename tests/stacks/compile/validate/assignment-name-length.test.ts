import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../../../../stacks/compile/index.ts';
import { architecture, BASE, tmpLibrary } from '../tmp-library.ts';

test('assignment names over 24 characters at management group scope are errors', () => {
  const lib = tmpLibrary({
    'x.yaml': 'apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: x }\nspec:\n  policies:\n    - { name: Audit-Owner-Tag-On-Everything, definition: Audit-Thing, parameters: { tagName: a } }\n    - { name: Exactly-24-Characters-Ok, definition: Audit-Thing, parameters: { tagName: b } }\n',
    'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['x'] }] }),
  });
  const c = compile({ libraries: [BASE, lib], architecture: 'test' });
  const f = c.state.findings.filter((x) => x.code === 'assignment-name-too-long');
  assert.is(f.length, 1);
  assert.is(f[0]!.severity, 'error');
  assert.match(f[0]!.file, /x\.yaml$/);
  assert.is(f[0]!.path, 'spec.policies[0].name');
  assert.match(f[0]!.message, /"Audit-Owner-Tag-On-Everything" has 29 characters/);
});

test.run();
