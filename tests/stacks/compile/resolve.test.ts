// Resolution: transitive inheritance with overrides, ALZ overrides, several archetypes on one group,
// policy default values, and cycles or unknown names as findings naming the file and field.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile, InputError, pickArchitecture } from '../../../stacks/compile/index.ts';
import { loadLibraries } from '../../../stacks/compile/library/load.ts';
import { architecture, BASE, NEXUS, tmpLibrary } from './tmp-library.ts';

const MG = '/providers/Microsoft.Management/managementGroups/';

test('transitive inherits: overrides replace parameters and remove items, own items added', () => {
  const c = compile({ libraries: [BASE, NEXUS], architecture: 'small-nexus' });
  assert.equal(c.state.findings.filter((f) => f.severity === 'error'), []);
  const apps = c.groups.get('apps')!.content;
  assert.equal([...apps.assignments.keys()].sort(), ['Audit-Owner-Tag', 'Deploy-App-Diag'], 'Deny-Types removed, own policy added');
  const owner = apps.assignments.get('Audit-Owner-Tag')!;
  assert.is(owner.body.properties.enforcementMode, 'DoNotEnforce', 'override from apps');
  assert.equal(owner.origin.via, ['apps']);
  assert.is(owner.origin.archetype, 'workloads-strict');
  assert.ok(owner.origin.overriddenBy!.path.endsWith('overrides.policies.Audit-Owner-Tag'));
  // The inherited archetype is unchanged by what inherits it.
  const strict = compile({ libraries: [BASE, NEXUS, tmpLibrary({ 'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['workloads-strict'] }] }) })], architecture: 'test' });
  const s = strict.groups.get('apps')!.content.assignments;
  assert.equal([...s.keys()].sort(), ['Audit-Owner-Tag', 'Deny-Types']);
  assert.is(s.get('Audit-Owner-Tag')!.body.properties.enforcementMode, 'Default');
  assert.equal(s.get('Deny-Types')!.body.properties.parameters!.listOfResourceTypesNotAllowed!.value, ['microsoft.network/vpngateways', 'microsoft.network/natgateways']);
  // ...and the ALZ assignment it overrides keeps its own value where it is used directly.
  assert.equal(strict.groups.get('workloads')!.content.assignments.get('Deny-Types')!.body.properties.parameters!.listOfResourceTypesNotAllowed!.value, ['microsoft.network/vpngateways']);
});

test('ALZ archetype overrides add and remove items of their base archetype', () => {
  const lib = tmpLibrary({
    'o.alz_archetype_override.json': {
      name: 'top-lite',
      base_archetype: 'top',
      policy_assignments_to_remove: ['Audit-Thing'],
      policy_assignments_to_add: ['Deny-Types'],
      role_definitions_to_remove: ['Reader-Plus'],
    },
    'a.yaml': architecture({ managementGroups: [{ id: 'top', archetypes: ['top-lite'] }] }),
  });
  const c = compile({ libraries: [BASE, lib], architecture: 'test' });
  const top = c.groups.get('top')!.content;
  assert.equal([...top.assignments.keys()].sort(), ['Deny-Types', 'Deploy-Baseline']);
  assert.is(top.roleDefinitions.size, 0);
  assert.is(top.policyDefinitions.size, 4);
  assert.equal(c.state.findings.filter((f) => f.severity === 'error'), []);
});

test('several archetypes on one group are united', () => {
  const lib = tmpLibrary({ 'a.yaml': architecture({ managementGroups: [{ id: 'workloads', archetypes: ['workloads', 'apps'] }, { id: 'apps', archetypes: [] }] }) });
  const c = compile({ libraries: [BASE, NEXUS, lib], architecture: 'test' });
  assert.equal([...c.groups.get('workloads')!.content.assignments.keys()].sort(), ['Audit-Owner-Tag', 'Deny-Types', 'Deploy-App-Diag']);
});

test('one name with different content from two archetypes is an error', () => {
  const lib = tmpLibrary({
    'x.yaml': 'apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: other }\nspec:\n  policies:\n    - { name: Deny-Types, definition: Audit-Thing, parameters: { tagName: x } }\n',
    'a.yaml': architecture({ managementGroups: [{ id: 'workloads', archetypes: ['workloads', 'other'] }] }),
  });
  const c = compile({ libraries: [BASE, lib], architecture: 'test' });
  const f = c.state.findings.find((x) => x.code === 'duplicate-name')!;
  assert.ok(f);
  assert.is(f.path, 'spec.managementGroups[0].archetypes[1]');
  assert.match(f.message, /policy assignment "Deny-Types" comes from both archetype "workloads" .* and "other"/);
});

test('two Nexus policies with one name but another definition or identity are a duplicate-name error, not merged', () => {
  const arch = (name: string, policy: string) => `apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: ${name} }\nspec:\n  policies:\n    - ${policy}\n`;
  const run = (one: string, two: string) => {
    const lib = tmpLibrary({
      'x.yaml': [arch('one', one), arch('two', two), arch('both', "{ name: Other, definition: Audit-Thing, parameters: { tagName: o } }\n  inherits: [one, two]")].join('---\n'),
      'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['one', 'two'] }, { id: 'more', parent: 'top', archetypes: ['both'] }] }),
    });
    return compile({ libraries: [BASE, lib], architecture: 'test' }).state.findings.filter((f) => f.code === 'duplicate-name');
  };
  const p = (definition: string, extra = '') => `{ name: Tagged, definition: ${definition}, parameters: { tagName: x }${extra} }`;
  const otherDefinition = run(p('Audit-Thing'), p('Deny-Types'));
  assert.equal(otherDefinition.map((f) => [f.severity, f.path]), [['error', 'spec.managementGroups[0].archetypes[1]'], ['error', 'spec.inherits[1]']]);
  assert.match(otherDefinition[0]!.message, /policy assignment "Tagged" comes from both archetype "one" .* and "two"/);
  assert.is(run(p('Audit-Thing'), p('Audit-Thing', ', identity: None')).length, 2, 'another identity');
  assert.equal(run(p('Audit-Thing'), p('Audit-Thing')), [], 'the same policy twice is one');
});

test('an inheritance cycle is an error naming the file, field and chain', () => {
  const lib = tmpLibrary({
    'c.yaml': [
      'apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: a }\nspec: { inherits: [b] }',
      'apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: b }\nspec: { inherits: [c] }',
      'apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: c }\nspec: { inherits: [a] }',
    ].join('\n---\n'),
    'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['a'] }] }),
  });
  const c = compile({ libraries: [BASE, lib], architecture: 'test' });
  const f = c.state.findings.find((x) => x.code === 'inheritance-cycle')!;
  assert.is(f.severity, 'error');
  assert.match(f.file, /c\.yaml$/);
  assert.is(f.path, 'spec.inherits[0].name');
  assert.match(f.message, /a -> b -> c -> a/);
});

test('unknown archetypes, assignments and override targets are errors naming the field', () => {
  const lib = tmpLibrary({
    'x.yaml': [
      'apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: x }\nspec:\n  inherits:\n    - name: workloads\n      overrides:\n        policies: { Nope: { enforcementMode: DoNotEnforce } }\n        remove: { policies: [Also-Nope] }\n    - name: missing-one',
    ].join(''),
    'bad.alz_archetype_definition.json': { name: 'bad', policy_assignments: ['Not-There'], policy_definitions: ['Nor-This'] },
    'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['x', 'ghost'] }, { id: 'workloads', archetypes: ['bad'] }] }),
  });
  const c = compile({ libraries: [BASE, lib], architecture: 'test' });
  const got = c.state.findings.filter((f) => f.severity === 'error').map((f) => `${f.code} ${f.path}`).sort();
  assert.equal(got, [
    'unknown-archetype spec.inherits[1].name',
    'unknown-archetype spec.managementGroups[0].archetypes[1]',
    'unknown-override spec.inherits[0].overrides.policies.Nope',
    'unknown-override spec.inherits[0].overrides.remove.policies[0]',
    'unknown-policy-assignment policy_assignments[0]',
    'unknown-policy-definition policy_definitions[0]',
  ]);
});

test('policy default values are written into the assignments that map them; unknown defaults are errors', () => {
  const c = compile({ libraries: [BASE, NEXUS], architecture: 'small-nexus' });
  const pa = c.state.resources.find((r) => r.id === `${MG}top/providers/Microsoft.Authorization/policyAssignments/Deploy-Baseline`)!;
  assert.equal((pa.body.properties as any).parameters.logAnalytics.value, '/subscriptions/55555555-5555-5555-5555-555555555555/resourceGroups/logs/providers/Microsoft.OperationalInsights/workspaces/central');
  const lib = tmpLibrary({ 'a.yaml': architecture({ policyDefaultValues: { no_such_default: 1 } }) });
  const bad = compile({ libraries: [BASE, lib], architecture: 'test' });
  const f = bad.state.findings.find((x) => x.code === 'unknown-policy-default')!;
  assert.is(f.path, 'spec.policyDefaultValues.no_such_default');
  assert.match(f.message, /known: log_analytics_workspace_id/);
});

test('a parameter an archetype override sets explicitly wins over the policy default value', () => {
  const X = '/subscriptions/88888888-8888-8888-8888-888888888888/resourceGroups/logs/providers/Microsoft.OperationalInsights/workspaces/own';
  const Y = '/subscriptions/55555555-5555-5555-5555-555555555555/resourceGroups/logs/providers/Microsoft.OperationalInsights/workspaces/central';
  const lib = tmpLibrary({
    'o.yaml': `apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: top-own }\nspec:\n  inherits:\n    - name: top\n      overrides:\n        policies:\n          Deploy-Baseline: { parameters: { logAnalytics: ${X} } }\n`,
    'a.yaml': architecture({ managementGroups: [{ id: 'top', archetypes: ['top-own'] }], policyDefaultValues: { log_analytics_workspace_id: Y } }),
    'b.yaml': architecture({ policyDefaultValues: { log_analytics_workspace_id: Y } }, 'plain'),
  });
  const value = (architecture: string) => {
    const c = compile({ libraries: [BASE, lib], architecture });
    assert.equal(c.state.findings.filter((f) => f.severity === 'error'), []);
    const pa = c.state.resources.find((r) => r.id === `${MG}top/providers/Microsoft.Authorization/policyAssignments/Deploy-Baseline`)!;
    return (pa.body.properties as any).parameters.logAnalytics.value;
  };
  assert.is(value('test'), X, 'the override wins');
  assert.is(value('plain'), Y, 'without an override the default value is written');
});

test('management group problems: unknown parent, parent cycle, unknown placement group', () => {
  const lib = tmpLibrary({
    'a.yaml': architecture({
      managementGroups: [
        { id: 'orphan', parent: 'nowhere', archetypes: [] },
        { id: 'x1', parent: 'x2' },
        { id: 'x2', parent: 'x1' },
      ],
      subscriptions: [{ id: '77777777-7777-7777-7777-777777777777', managementGroup: 'ghost' }],
    }),
  });
  const c = compile({ libraries: [BASE, lib], architecture: 'test' });
  const codes = c.state.findings.filter((f) => f.severity === 'error').map((f) => `${f.code} ${f.path}`).sort();
  assert.equal(codes, ['hierarchy-cycle spec.managementGroups[1].parent', 'unknown-management-group spec.managementGroups[0].parent', 'unknown-management-group spec.subscriptions[0].managementGroup']);
  assert.not.ok(c.state.stacks.some((s) => ['orphan', 'x1', 'x2'].includes(s.name)));
});

test('in an ALZ architecture file the unknown-parent and cycle findings name parent_id', () => {
  const group = (id: string, parent: string | null) => ({ id, display_name: id, parent_id: parent, exists: false, archetypes: [] });
  const lib = tmpLibrary({
    'bad.alz_architecture_definition.json': { name: 'bad', management_groups: [group('ok', null), group('orphan', 'nowhere'), group('x1', 'x2'), group('x2', 'x1')] },
  });
  const c = compile({ libraries: [BASE, lib], architecture: 'bad', rootMg: 'tenant-root', location: 'westeurope' });
  const got = c.state.findings.filter((f) => f.severity === 'error').map((f) => [f.code, f.file, f.path]);
  assert.equal(got.sort(), [
    ['hierarchy-cycle', `${lib}/bad.alz_architecture_definition.json`, 'management_groups[2].parent_id'],
    ['unknown-management-group', `${lib}/bad.alz_architecture_definition.json`, 'management_groups[1].parent_id'],
  ]);
  // A Nexus architecture that extends it without repeating the parent points at the ALZ file too.
  const ext = tmpLibrary({ 'e.yaml': 'apiVersion: nexus/v1\nkind: Architecture\nmetadata: { name: ext }\nspec:\n  extends: bad\n  rootManagementGroup: tenant-root\n  location: westeurope\n  managementGroups:\n    - { id: orphan, displayName: Orphan }\n' });
  const e = compile({ libraries: [BASE, lib, ext], architecture: 'ext' }).state.findings.find((f) => f.code === 'unknown-management-group')!;
  assert.equal([e.file, e.path], [`${lib}/bad.alz_architecture_definition.json`, 'management_groups[1].parent_id']);
});

test('an item twice in one Nexus archetype is a duplicate-name error naming the second', () => {
  const lib = tmpLibrary({
    'x.yaml': [
      'apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: x }\nspec:',
      '  policies:',
      '    - { name: Twice, definition: Audit-Thing, parameters: { tagName: a } }',
      '    - { name: Twice, definition: Audit-Thing, parameters: { tagName: b } }',
      '  rbac:',
      '    - { role: Reader, principals: [{ type: User, objectId: 12121212-1212-1212-1212-121212121212 }] }',
      '    - { role: Reader, principals: [{ type: User, objectId: 13131313-1313-1313-1313-131313131313 }] }',
      '  resources:',
      '    - { name: rg, type: "azure-native:resources:ResourceGroup" }',
      '    - { name: rg, type: "azure-native:resources:ResourceGroup" }',
      '  policyDefinitions: [Audit-Thing, Audit-Thing]',
    ].join('\n'),
    'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['x'] }] }),
  });
  const c = compile({ libraries: [BASE, lib], architecture: 'test' });
  const f = c.state.findings.filter((x) => x.code === 'duplicate-name');
  assert.equal(f.map((x) => [x.severity, x.file, x.path]).sort(), [
    ['error', `${lib}/x.yaml`, 'spec.policies[1].name'],
    ['error', `${lib}/x.yaml`, 'spec.policyDefinitions[1]'],
    ['error', `${lib}/x.yaml`, 'spec.rbac[1].name'],
    ['error', `${lib}/x.yaml`, 'spec.resources[1].name'],
  ]);
  assert.match(f.find((x) => x.path === 'spec.policies[1].name')!.message, 'policies item "Twice" appears twice in archetype "x"');
  assert.is(c.groups.get('apps')!.content.assignments.get('Twice')!.body.properties.parameters!.tagName!.value, 'a', 'the first one is kept');
});

test('a management group declared twice is a duplicate-name error, in Nexus and in ALZ architectures', () => {
  const nexus = tmpLibrary({ 'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: [] }, { id: 'apps', displayName: 'Again' }] }) });
  const n = compile({ libraries: [BASE, nexus], architecture: 'test' }).state.findings.filter((x) => x.code === 'duplicate-name');
  assert.equal(n.map((x) => [x.file, x.path, x.message]), [[`${nexus}/a.yaml`, 'spec.managementGroups[1].id', 'management group "apps" is declared twice']]);
  const g = { id: 'one', display_name: 'One', parent_id: null, exists: false, archetypes: [] };
  const alz = tmpLibrary({ 'd.alz_architecture_definition.json': { name: 'dup', management_groups: [g, g] } });
  const a = compile({ libraries: [BASE, alz], architecture: 'dup', rootMg: 'r', location: 'westeurope' }).state.findings.filter((x) => x.code === 'duplicate-name');
  assert.equal(a.map((x) => [x.file, x.path]), [[`${alz}/d.alz_architecture_definition.json`, 'management_groups[1].id']]);
});

test('an architecture that extends an unknown one, or itself through others, is an error naming spec.extends', () => {
  const arch = (name: string, ext: string) => `apiVersion: nexus/v1\nkind: Architecture\nmetadata: { name: ${name} }\nspec:\n  extends: ${ext}\n  rootManagementGroup: r\n  location: westeurope\n`;
  const lib = tmpLibrary({ 'u.yaml': arch('lost', 'nowhere'), 'c.yaml': [arch('ca', 'cb'), arch('cb', 'cc'), arch('cc', 'ca')].join('---\n'), 's.yaml': arch('self', 'self') });
  const finding = (name: string) => compile({ libraries: [BASE, lib], architecture: name }).state.findings.filter((x) => x.severity === 'error');
  const lost = finding('lost');
  assert.equal(lost.map((x) => [x.code, x.file, x.path]), [['unknown-architecture', `${lib}/u.yaml`, 'spec.extends']]);
  assert.match(lost[0]!.message, 'unknown architecture "nowhere"');
  const cycle = finding('ca');
  assert.equal(cycle.map((x) => [x.code, x.path]), [['inheritance-cycle', 'spec.extends']]);
  assert.match(cycle[0]!.message, 'architecture cycle: ca -> cb -> cc -> ca');
  assert.equal(finding('self').map((x) => x.code), ['inheritance-cycle']);
});

test('pickArchitecture: the requested one, the default tenant, the only one; several or none is an InputError', () => {
  const two = loadLibraries([BASE, NEXUS]);
  assert.is(pickArchitecture(two, 'small'), 'small');
  const refuse = (lib: ReturnType<typeof loadLibraries>) => {
    try {
      pickArchitecture(lib);
    } catch (e) {
      assert.instance(e, InputError);
      return (e as InputError).message;
    }
    assert.unreachable('expected an InputError');
  };
  assert.is(refuse(two), 'architecture: several architectures (small, small-nexus): pass --architecture');
  assert.is(pickArchitecture(loadLibraries([BASE])), 'small', 'the only one');
  assert.is(refuse(loadLibraries([tmpLibrary({ 'e.alz_archetype_definition.json': { name: 'e' } })])), 'architecture: the libraries hold no architecture');
  const withDefault = tmpLibrary({ 'd.yaml': 'apiVersion: nexus/v1\nkind: Architecture\nmetadata: { name: nexus-default }\nspec: { extends: small }\n' });
  assert.is(pickArchitecture(loadLibraries([BASE, NEXUS, withDefault])), 'nexus-default');
});

test.run();
