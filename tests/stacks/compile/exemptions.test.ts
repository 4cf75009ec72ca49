// Policy exemptions as code: compiled from archetypes like assignments, inherited and removable,
// with findings that name the file and field.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../../../stacks/compile/index.ts';
import { resolveReport } from '../../../stacks/compile/report.ts';
import type { DesiredState } from '../../../stacks/compile/model.ts';
import { architecture, BASE, tmpLibrary } from './tmp-library.ts';

const NOW = new Date('2026-06-01T00:00:00Z');
const SUB = '44444444-4444-4444-4444-444444444444';
const TOP = '/providers/Microsoft.Management/managementGroups/top';
const APPS = '/providers/Microsoft.Management/managementGroups/apps';

/** Archetype `x` on group `apps` (under workloads, under top) with these exemption lines. */
function run(exemptions: string, extra: Record<string, unknown> = {}) {
  const lib = tmpLibrary({
    'x.yaml': `apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: x }\nspec:\n  exemptions:\n${exemptions}`,
    'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['x'] }], subscriptions: [{ id: SUB, managementGroup: 'apps' }] }),
    ...extra,
  });
  return compile({ libraries: [BASE, lib], architecture: 'test', now: NOW }).state;
}

const exemptions = (s: DesiredState) => s.resources.filter((r) => r.kind === 'policyExemption');
const codes = (s: DesiredState) => s.findings.filter((f) => f.code?.startsWith('exemption-')).map((f) => [f.severity, f.code, f.path]);

test('an exemption of an inherited assignment becomes a policyExemption after the assignments', () => {
  const s = run(`    - name: legacy-diag
      policy: Deploy-Baseline
      category: Waiver
      expiresOn: 2026-12-31T00:00:00Z
      reason: Legacy workloads ship logs elsewhere until Q4
      policyDefinitionReferenceIds: [diag]
`);
  assert.equal(codes(s), []);
  const [e, ...more] = exemptions(s);
  assert.is(more.length, 0);
  assert.is(e!.id, `${APPS}/providers/Microsoft.Authorization/policyExemptions/legacy-diag`);
  assert.is(e!.type, 'Microsoft.Authorization/policyExemptions');
  assert.is(e!.apiVersion, '2022-07-01-preview');
  assert.is(e!.stack, 'apps');
  assert.is(e!.scope, APPS);
  assert.equal(e!.body, {
    properties: {
      policyAssignmentId: `${TOP}/providers/Microsoft.Authorization/policyAssignments/Deploy-Baseline`,
      exemptionCategory: 'Waiver',
      displayName: 'legacy-diag',
      description: 'Legacy workloads ship logs elsewhere until Q4',
      expiresOn: '2026-12-31T00:00:00Z',
      policyDefinitionReferenceIds: ['diag'],
    },
  });
  assert.match(e!.source.file, /x\.yaml$/);
  assert.is(e!.source.archetype, 'x');
  // The assignment lives in another stack (top); the group `apps` is created by this one.
  assert.equal(e!.dependsOn, [APPS, `${TOP}/providers/Microsoft.Authorization/policyAssignments/Deploy-Baseline`]);
  const stack = s.stacks.find((x) => x.name === 'apps')!.resourceIds;
  const kinds = stack.map((id) => s.resources.find((r) => r.id === id)!.kind);
  assert.ok(kinds.indexOf('policyExemption') > kinds.lastIndexOf('policyAssignment'));
});

test('a subscription scope and a full assignment id; the exemption waits for the placement', () => {
  const id = `${TOP}/providers/Microsoft.Authorization/policyAssignments/Audit-Thing`;
  const s = run(`    - { name: sub-waiver, policy: "${id}", category: mitigated, reason: compensating control, scope: /subscriptions/${SUB}, displayName: Sub waiver }\n`);
  assert.equal(codes(s), []);
  const e = exemptions(s)[0]!;
  assert.is(e.id, `/subscriptions/${SUB}/providers/Microsoft.Authorization/policyExemptions/sub-waiver`);
  assert.is(e.body.properties.exemptionCategory, 'Mitigated');
  assert.is(e.body.properties.displayName, 'Sub waiver');
  assert.ok(e.dependsOn.includes(`${APPS}/subscriptions/${SUB}`));
  assert.ok(e.dependsOn.includes(id));
});

test('bad exemptions are findings naming the field, and are left out', () => {
  const s = run(`    - { name: a, policy: No-Such, category: Waiver, reason: r }
    - { name: b, policy: Audit-Thing, category: Forgiven, reason: r }
    - { name: "c/d", policy: Audit-Thing, category: Waiver, reason: r }
    - { name: e, policy: Deploy-Baseline, category: Waiver, reason: r, policyDefinitionReferenceIds: [diag, nope] }
    - { name: f, policy: Audit-Thing, category: Waiver, reason: r, policyDefinitionReferenceIds: [x] }
    - { name: g, policy: Audit-Thing, category: Waiver, reason: r, expiresOn: next tuesday }
    - { name: h, policy: Audit-Thing, category: Waiver, reason: r, scope: /subscriptions/not-a-guid }
    - { name: i, policy: "${APPS}/providers/Microsoft.Authorization/policyAssignments/Audit-Thing", category: Waiver, reason: r }
    - { name: ${'n'.repeat(65)}, policy: Audit-Thing, category: Waiver, reason: r }
`);
  assert.equal(codes(s), [
    ['error', 'exemption-unknown-assignment', 'spec.exemptions[0].policy'],
    ['error', 'exemption-bad-category', 'spec.exemptions[1].category'],
    ['error', 'exemption-name-invalid', 'spec.exemptions[2].name'],
    ['error', 'exemption-unknown-reference-id', 'spec.exemptions[3].policyDefinitionReferenceIds[1]'],
    ['error', 'exemption-unknown-reference-id', 'spec.exemptions[4].policyDefinitionReferenceIds'],
    ['error', 'exemption-bad-expiry', 'spec.exemptions[5].expiresOn'],
    ['error', 'exemption-bad-scope', 'spec.exemptions[6].scope'],
    ['error', 'exemption-unknown-assignment', 'spec.exemptions[7].policy'],
    ['error', 'exemption-name-invalid', 'spec.exemptions[8].name'],
  ]);
  for (const f of s.findings.filter((f) => f.code?.startsWith('exemption-'))) assert.match(f.file, /x\.yaml$/);
  assert.match(s.findings.find((f) => f.path === 'spec.exemptions[3].policyDefinitionReferenceIds[1]')!.message, /known: diag, tags, builtin/);
  assert.equal(exemptions(s), []);
});

test('an assignment below the exemption\'s group is not "at or above" it', () => {
  // Deny-Types is assigned at workloads; an exemption on top cannot use it.
  const lib = tmpLibrary({
    'x.yaml': 'apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: x }\nspec:\n  inherits: [top]\n  exemptions:\n    - { name: a, policy: Deny-Types, category: Waiver, reason: r }\n',
    'a.yaml': architecture({ managementGroups: [{ id: 'top', archetypes: ['x'] }] }),
  });
  const s = compile({ libraries: [BASE, lib], architecture: 'test', now: NOW }).state;
  assert.equal(codes(s), [['error', 'exemption-unknown-assignment', 'spec.exemptions[0].policy']]);
});

test('two groups exempting one subscription under one name is a duplicate, not a silent merge', () => {
  const lib = tmpLibrary({
    'x.yaml': `apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: x }\nspec:\n  exemptions:\n    - { name: same, policy: Audit-Thing, category: Waiver, reason: r, scope: /subscriptions/${SUB} }\n`,
    'y.yaml': `apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: y }\nspec:\n  inherits: [workloads]\n  exemptions:\n    - { name: same, policy: Deny-Types, category: Mitigated, reason: r, scope: /subscriptions/${SUB} }\n`,
    'a.yaml': architecture({ managementGroups: [{ id: 'workloads', archetypes: ['y'] }, { id: 'apps', archetypes: ['x'] }], subscriptions: [{ id: SUB, managementGroup: 'apps' }] }),
  });
  const s = compile({ libraries: [BASE, lib], architecture: 'test', now: NOW }).state;
  assert.equal(codes(s), []);
  assert.equal(s.findings.filter((f) => f.code === 'duplicate-name').map((f) => [f.file.split('/').pop(), f.path]), [['x.yaml', 'spec.exemptions[0].name']]);
  assert.is(exemptions(s).length, 1);
});

test('an expired exemption is still compiled, with an exemption-expired warning', () => {
  const s = run('    - { name: old, policy: Audit-Thing, category: Waiver, reason: r, expiresOn: "2026-01-01" }\n');
  assert.equal(codes(s), [['warning', 'exemption-expired', 'spec.exemptions[0].expiresOn']]);
  assert.is(exemptions(s)[0]!.body.properties.expiresOn, '2026-01-01T00:00:00Z');
});

test('nexus resolve shows where a group\'s exemptions come from', () => {
  const lib = tmpLibrary({
    'x.yaml': 'apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: x }\nspec:\n  exemptions:\n    - { name: w, policy: Audit-Thing, category: Waiver, reason: r, expiresOn: "2027-01-01T00:00:00Z" }\n',
    'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['x'] }] }),
  });
  const r = resolveReport(compile({ libraries: [BASE, lib], architecture: 'test', now: NOW }), 'apps')!;
  assert.equal(r.exemptions, [{ name: 'w', archetype: 'x', via: [], file: `${lib}/x.yaml`, path: 'spec.exemptions[0]', policy: 'Audit-Thing', category: 'Waiver', expiresOn: '2027-01-01T00:00:00Z', scope: 'group' }]);
});

test('exemptions are inherited, replaced by name, and removed through overrides', () => {
  const base = 'apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: base }\nspec:\n  exemptions:\n    - { name: one, policy: Audit-Thing, category: Waiver, reason: base one }\n    - { name: two, policy: Audit-Thing, category: Waiver, reason: base two }\n';
  const child = (body: string) =>
    run('    - { name: two, policy: Audit-Thing, category: Mitigated, reason: child two }\n', {
      'base.yaml': base,
      'x.yaml': `apiVersion: nexus/v1\nkind: Archetype\nmetadata: { name: x }\nspec:\n${body}`,
    });
  let s = child('  inherits: [base]\n  exemptions:\n    - { name: two, policy: Audit-Thing, category: Mitigated, reason: child two }\n');
  assert.equal(exemptions(s).map((e) => [e.name, e.body.properties.description]), [['one', 'base one'], ['two', 'child two']]);
  s = child('  inherits:\n    - name: base\n      overrides: { remove: { exemptions: [one] } }\n');
  assert.equal(exemptions(s).map((e) => e.name), ['two']);
  s = child('  inherits:\n    - name: base\n      overrides: { remove: { exemptions: [three] } }\n');
  assert.equal(s.findings.filter((f) => f.code === 'unknown-override').map((f) => f.path), ['spec.inherits[0].overrides.remove.exemptions[0]']);
});

test.run();
