// The sandbox accepts policy exemptions as ARM does: the assignment must exist at or above the
// exemption's scope, the category is Waiver or Mitigated, reference ids belong to the assigned set.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { sandbox } from '../../helpers/sandbox.ts';
import { armConfig, armRequest } from '../../../functions/platform/arm.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';
import { API_VERSIONS } from '../../../stacks/compile/ids.ts';
import { compile } from '../../../stacks/compile/index.ts';
import { isOutputRef } from '../../../stacks/compile/model.ts';
import { BASE, tmpLibrary } from '../../stacks/compile/tmp-library.ts';

const MG = (n: string) => `/providers/Microsoft.Management/managementGroups/${n}`;
const AUTHZ = (scope: string, type: string, name: string) => `${scope}/providers/Microsoft.Authorization/${type}/${name}`;
const uniq = () => randomUUID().slice(0, 8);

async function arm(method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown, apiVersion = '2021-04-01') {
  const sb = await sandbox();
  return armRequest(method, path, { apiVersion, body, cfg: armConfig(loadConfig(sb.env).arm) });
}
const putExemption = (id: string, properties: Record<string, unknown>) => arm('PUT', id, { properties }, API_VERSIONS.policyExemption);

/** parent group with a set assignment (members `a`, `b`), a child group holding a subscription, and a sibling group. */
async function tenant() {
  const sb = await sandbox();
  const [parent, child, sibling] = [`mg-${uniq()}`, `mg-${uniq()}`, `mg-${uniq()}`];
  await arm('PUT', MG(parent), {});
  await arm('PUT', MG(child), { properties: { details: { parent: { id: MG(parent) } } } });
  await arm('PUT', MG(sibling), {});
  const sub = randomUUID();
  sb.state.addSubscription({ subscriptionId: sub });
  assert.is((await arm('PUT', `${MG(child)}/subscriptions/${sub}`)).status, 200);
  const pd = AUTHZ(MG(parent), 'policyDefinitions', 'audit-x');
  assert.is((await arm('PUT', pd, { properties: { policyRule: { if: { field: 'type', equals: 'x' }, then: { effect: 'audit' } } } })).status, 201);
  const psd = AUTHZ(MG(parent), 'policySetDefinitions', 'set-x');
  const members = [{ policyDefinitionId: pd, policyDefinitionReferenceId: 'a' }, { policyDefinitionId: pd, policyDefinitionReferenceId: 'b' }];
  assert.is((await arm('PUT', psd, { properties: { policyDefinitions: members } })).status, 201);
  const pa = AUTHZ(MG(parent), 'policyAssignments', 'audit-set');
  assert.is((await arm('PUT', pa, { properties: { policyDefinitionId: psd } })).status, 201);
  return { parent, child, sibling, sub, pa };
}

test('a compiled exemption body is accepted at the group, below it and on a subscription, and read back', async () => {
  const { parent, child, sub, pa } = await tenant();
  const body = {
    policyAssignmentId: pa,
    exemptionCategory: 'Waiver',
    displayName: 'legacy',
    description: 'Legacy workloads until Q4',
    expiresOn: '2027-01-01T00:00:00Z',
    policyDefinitionReferenceIds: ['a'],
  };
  for (const scope of [MG(parent), MG(child), `/subscriptions/${sub}`]) {
    const id = AUTHZ(scope, 'policyExemptions', 'legacy');
    const r = await putExemption(id, body);
    assert.is(r.status, 201, `${scope}: ${JSON.stringify(r.body)}`);
    assert.is(r.body.type, 'Microsoft.Authorization/policyExemptions');
    const got = await arm('GET', id, undefined, API_VERSIONS.policyExemption);
    assert.is(got.status, 200);
    assert.equal(got.body.properties, body);
  }
  const again = await putExemption(AUTHZ(MG(parent), 'policyExemptions', 'legacy'), { ...body, exemptionCategory: 'Mitigated' });
  assert.is(again.status, 200);
  const gone = await arm('DELETE', AUTHZ(MG(parent), 'policyExemptions', 'legacy'), undefined, API_VERSIONS.policyExemption);
  assert.ok(gone.status === 200 || gone.status === 204);
  const missing = await arm('GET', AUTHZ(MG(parent), 'policyExemptions', 'legacy'), undefined, API_VERSIONS.policyExemption);
  assert.is(missing.status, 404);
  assert.is(missing.body.error.code, 'PolicyExemptionNotFound');
});

test('ARM refuses an exemption whose assignment is missing, elsewhere in the tree, or badly described', async () => {
  const { parent, sibling, pa } = await tenant();
  const ok = { policyAssignmentId: pa, exemptionCategory: 'Waiver' };
  let r = await putExemption(AUTHZ(MG(parent), 'policyExemptions', 'x'), { ...ok, policyAssignmentId: `${pa}-missing` });
  assert.is(r.status, 404);
  assert.is(r.body.error.code, 'PolicyAssignmentNotFound');
  r = await putExemption(AUTHZ(MG(sibling), 'policyExemptions', 'x'), ok);
  assert.is(r.status, 400, 'the assignment is not at or above the sibling group');
  assert.is(r.body.error.code, 'InvalidPolicyExemptionScope');
  r = await putExemption(AUTHZ(MG(parent), 'policyExemptions', 'x'), { ...ok, exemptionCategory: 'Forgiven' });
  assert.is(r.status, 400);
  assert.match(r.body.error.message, /exemptionCategory/);
  r = await putExemption(AUTHZ(MG(parent), 'policyExemptions', 'x'), { ...ok, expiresOn: 'soon' });
  assert.is(r.status, 400);
  r = await putExemption(AUTHZ(MG(parent), 'policyExemptions', 'x'), { ...ok, policyDefinitionReferenceIds: ['a', 'zzz'] });
  assert.is(r.status, 400);
  assert.is(r.body.error.code, 'PolicyDefinitionReferenceIdNotFound');
  assert.match(r.body.error.message, /'zzz'/);
  r = await putExemption(AUTHZ(MG(parent), 'policyExemptions', 'x'), { exemptionCategory: 'Waiver' });
  assert.is(r.status, 400);
});

test('a compiled archetype with exemptions is accepted by ARM resource by resource, in DesiredState order', async () => {
  const sb = await sandbox();
  const cfg = armConfig(loadConfig(sb.env).arm);
  const [top, apps, sub] = [`ex-${uniq()}`, `ex-${uniq()}`, randomUUID()];
  sb.state.addSubscription({ subscriptionId: sub });
  const lib = tmpLibrary({
    'x.yaml': `apiVersion: nexus/v1
kind: Archetype
metadata: { name: x }
spec:
  exemptions:
    - { name: diag-waiver, policy: Deploy-Baseline, category: Waiver, reason: r, expiresOn: 2099-01-01T00:00:00Z, policyDefinitionReferenceIds: [diag] }
    - { name: sub-mitigated, policy: Audit-Thing, category: Mitigated, reason: r, scope: /subscriptions/${sub} }
`,
    'a.yaml': JSON.stringify({
      apiVersion: 'nexus/v1', kind: 'Architecture', metadata: { name: 'ex' },
      spec: { location: 'westeurope', managementGroups: [{ id: top, archetypes: ['top'] }, { id: apps, parent: top, archetypes: ['x'] }], subscriptions: [{ id: sub, managementGroup: apps }] },
    }),
  });
  const state = compile({ libraries: [BASE, lib], architecture: 'ex', rootMg: sb.tenantId }).state;
  assert.equal(state.findings.filter((f) => f.severity === 'error'), []);
  assert.is(state.resources.filter((r) => r.kind === 'policyExemption').length, 2);
  const responses = new Map<string, any>();
  const fill = (v: unknown): unknown => {
    if (isOutputRef(v)) return v.output.split('.').reduce((a: any, k) => a?.[k], responses.get(v.$ref));
    if (Array.isArray(v)) return v.map(fill);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    return v;
  };
  const byId = new Map(state.resources.map((r) => [r.id, r]));
  const failures: string[] = [];
  for (const s of state.stacks) {
    for (const id of s.resourceIds) {
      const r = byId.get(id)!;
      for (const d of r.dependsOn) assert.ok(responses.has(d), `${id} needs ${d} first`);
      const res = await armRequest('PUT', r.id, { apiVersion: r.apiVersion, body: fill(r.body), cfg });
      if (res.status >= 300) failures.push(`${res.status} ${r.id}: ${JSON.stringify(res.body).slice(0, 300)}`);
      else responses.set(r.id, res.body);
    }
  }
  assert.equal(failures, []);
});

test.run();
