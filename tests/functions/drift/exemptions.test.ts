// Expired exemptions are found in the compiled state, and the pull request's edit removes one from
// the archetype YAML keeping every comment and the rest of the formatting.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, parseAllDocuments } from 'yaml';
import { compile } from '../../../stacks/compile/index.ts';
import { expiredExemptions, removeExemptionEdit } from '../../../functions/drift/exemptions.ts';
import { architecture, BASE, tmpLibrary } from '../../stacks/compile/tmp-library.ts';

const ARCHETYPE = `# Apps: the application landing zones.
apiVersion: nexus/v1
kind: Archetype
metadata: { name: x }   # keep this comment
spec:
  policies: []
  exemptions:
    # Legacy logging: the old SIEM until it is retired.
    - name: legacy-diag
      policy: Audit-Thing
      category: Waiver
      expiresOn: 2026-01-31T00:00:00Z   # agreed with security
      reason: Logs go to the legacy SIEM

    # A compensating control covers this.
    - name: mitigated
      policy: Audit-Thing
      category: Mitigated
      reason: "Firewall rule 12"

    - { name: later, policy: Audit-Thing, category: Waiver, reason: r, expiresOn: 2030-01-01T00:00:00Z }
  # after the list
  rbac: []
`;

test('expiredExemptions lists what expired by now, with where it is written', () => {
  const lib = tmpLibrary({ 'x.yaml': ARCHETYPE, 'a.yaml': architecture({ managementGroups: [{ id: 'apps', archetypes: ['x'] }] }) });
  const state = compile({ libraries: [BASE, lib], architecture: 'test', now: new Date('2026-03-01T00:00:00Z') }).state;
  const got = expiredExemptions(state, new Date('2026-03-01T00:00:00Z'));
  assert.equal(got, [
    {
      id: '/providers/Microsoft.Management/managementGroups/apps/providers/Microsoft.Authorization/policyExemptions/legacy-diag',
      name: 'legacy-diag',
      expiresOn: '2026-01-31T00:00:00Z',
      stack: 'apps',
      source: { file: `${lib}/x.yaml`, archetype: 'x', managementGroup: 'apps' },
    },
  ]);
  assert.equal(expiredExemptions(state, new Date('2026-01-30T00:00:00Z')), []);
  assert.equal(expiredExemptions(state, new Date('2031-01-01T00:00:00Z')).map((e) => e.name), ['legacy-diag', 'later']);
});

test('removing the first exemption takes its comment, keeps every other line as written', () => {
  const out = removeExemptionEdit(ARCHETYPE, 'legacy-diag');
  assert.is(
    out,
    `# Apps: the application landing zones.
apiVersion: nexus/v1
kind: Archetype
metadata: { name: x }   # keep this comment
spec:
  policies: []
  exemptions:
    # A compensating control covers this.
    - name: mitigated
      policy: Audit-Thing
      category: Mitigated
      reason: "Firewall rule 12"

    - { name: later, policy: Audit-Thing, category: Waiver, reason: r, expiresOn: 2030-01-01T00:00:00Z }
  # after the list
  rbac: []
`,
  );
});

test('removing a middle or a flow-style last item', () => {
  const mid = removeExemptionEdit(ARCHETYPE, 'mitigated');
  assert.equal(parse(mid).spec.exemptions.map((e: { name: string }) => e.name), ['legacy-diag', 'later']);
  assert.not.match(mid, /compensating control/);
  assert.match(mid, /# Legacy logging: the old SIEM until it is retired\.\n    - name: legacy-diag/);
  assert.match(mid, /reason: Logs go to the legacy SIEM\n\n    - \{ name: later/);
  const last = removeExemptionEdit(ARCHETYPE, 'later');
  assert.match(last, /reason: "Firewall rule 12"\n  # after the list\n  rbac: \[\]\n$/);
});

test('the only exemption takes the exemptions key with it; flow lists; other documents untouched', () => {
  const one = `apiVersion: nexus/v1
kind: Archetype
metadata: { name: a }
spec:
  # exemptions of a
  exemptions:
  - name: only
    policy: P
    category: Waiver
    reason: r
  rbac: []  # rbac
---
apiVersion: nexus/v1
kind: Archetype
metadata: { name: b }
spec:
  exemptions: [{ name: only, policy: P, category: Waiver, reason: r }, { name: two, policy: P, category: Waiver, reason: r }]
`;
  const a = removeExemptionEdit(one, 'only', { archetype: 'a' });
  assert.is(a, one.replace('  # exemptions of a\n  exemptions:\n  - name: only\n    policy: P\n    category: Waiver\n    reason: r\n', ''));
  const b = removeExemptionEdit(one, 'only', { archetype: 'b' });
  assert.is(b, one.replace('[{ name: only, policy: P, category: Waiver, reason: r }, { name: two', '[{ name: two'));
  const b2 = removeExemptionEdit(b, 'two', { archetype: 'b' });
  assert.equal(parseAllDocuments(b2).map((d) => d.toJS().spec), [{ exemptions: [{ name: 'only', policy: 'P', category: 'Waiver', reason: 'r' }], rbac: [] }, {}]);
});

test('an exemption that is not there leaves the text as it is; broken YAML is refused', () => {
  assert.is(removeExemptionEdit(ARCHETYPE, 'gone'), ARCHETYPE);
  assert.is(removeExemptionEdit(ARCHETYPE, 'legacy-diag', { archetype: 'other' }), ARCHETYPE);
  assert.throws(() => removeExemptionEdit('spec: [unclosed', 'x'), /does not parse/);
});

test.run();
