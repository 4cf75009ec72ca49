import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { policyIdentityPrincipals, previewReliabilityGate } from '../../../../functions/reconcile/gates/preview-reliability.ts';
import { DEFAULT_GUARDRAILS_FILE, loadGuardrails } from '../../../../functions/reconcile/guardrails.ts';
import type { GateContext } from '../../../../functions/reconcile/gates/types.ts';
import { change, changeSet, context, mgId, policyAssignment, roleAssignment } from '../fixtures.ts';
import { smallState } from '../state-fixture.ts';

const pa = policyAssignment('alz', 'a', 'update');

test('a clean preview passes', () => {
  const r = previewReliabilityGate(context(), changeSet([pa], { unknowns: [{ urn: pa.urn, path: 'id' }] }));
  assert.is(r.pass, true);
});

test('an unknown value in a property that matters fails closed by default', () => {
  const r = previewReliabilityGate(context(), changeSet([pa], { unknowns: [{ urn: pa.urn, path: 'properties.parameters.effect.value' }] }));
  assert.is(r.pass, false);
  assert.is(r.reportOnly, false);
  assert.is(r.reason, 'PREVIEW_UNRELIABLE');
  assert.match(r.details.message, /properties\.parameters\.effect\.value/);
});

test('read steps, warnings and a disagreeing summary are issues', () => {
  const read = change({ op: 'read', armId: '/subscriptions/1/resourceGroups/rg' });
  const cs = changeSet([pa, read], {
    diagnostics: [{ severity: 'warning', message: 'provider throttled' }],
    engineSummary: { update: 2, same: 0 },
  });
  const r = previewReliabilityGate(context({ guardrails: { previewReliability: { maxIssues: 2 } } }), cs);
  assert.is(r.pass, false);
  assert.is(r.details.total, 3);
  const kinds = (r.details.issues as { kind: string }[]).map((i) => i.kind).sort();
  assert.equal(kinds, ['diagnostic', 'read', 'summary-mismatch']);
});

test('under the threshold passes; report-only mode degrades instead of blocking', () => {
  const cs = changeSet([pa], { diagnostics: [{ severity: 'warning', message: 'w' }] });
  assert.is(previewReliabilityGate(context({ guardrails: { previewReliability: { maxIssues: 1 } } }), cs).pass, true);
  const r = previewReliabilityGate(context({ guardrails: { previewReliability: { onExceed: 'report-only' } } }), cs);
  assert.is(r.pass, false);
  assert.is(r.reportOnly, true);
  assert.is(r.reason, 'PREVIEW_UNRELIABLE_REPORT_ONLY');
});

test('the summary may count the stack resource once more than the events, no more', () => {
  const two = [policyAssignment('alz', 'a', 'create'), policyAssignment('alz', 'b', 'create')];
  assert.is(previewReliabilityGate(context(), changeSet(two, { engineSummary: { create: 3 } })).pass, true);
  assert.is(previewReliabilityGate(context(), changeSet(two, { engineSummary: { create: 2, same: 1 } })).pass, true);
  const r = previewReliabilityGate(context(), changeSet(two, { engineSummary: { create: 2, same: 2 } }));
  assert.match(r.details.message, /2 more steps/);
  assert.match(previewReliabilityGate(context(), changeSet(two, { engineSummary: { create: 1, same: 1 } })).details.message, /says 1 create, events show 2/);
});

test('info diagnostics are not issues', () => {
  const cs = changeSet([pa], { diagnostics: [{ severity: 'info', message: 'i' }, { severity: 'info#err', message: 'e' }] });
  assert.is(previewReliabilityGate(context(), cs).pass, true);
});

// A policy assignment with a managed identity and the role assignment its identity needs, as the
// compiler emits them: the role assignment's principalId refers to the assignment's identity.
const state = smallState({ tenantRoot: 'root', name: 'alz', assignments: 2 });
const idPa = state.resources.find((r) => r.name === 'rc-audit-0')!;
const idRa = roleAssignment(mgId('alz'), 'ra-1');
state.resources.push({
  ...idPa, kind: 'roleAssignment', type: 'Microsoft.Authorization/roleAssignments', id: idRa.armId!, name: 'ra-1',
  body: { properties: { roleDefinitionId: '/x', principalId: { $ref: idPa.id, output: 'identity.principalId' } as never } },
});
// A role assignment with a literal principal, and a policy assignment whose unknown is elsewhere.
const plainRa = roleAssignment(mgId('alz'), 'ra-2');
const refs = policyIdentityPrincipals(state);
const paChange = (op: Parameters<typeof policyAssignment>[2]) => ({ ...policyAssignment('alz', 'rc-audit-0', op), armId: idPa.id });
const shipped = async (): Promise<GateContext> => ({ ...context(), guardrails: await loadGuardrails(DEFAULT_GUARDRAILS_FILE), policyIdentityPrincipals: refs });

test("the shipped config tolerates only a new policy identity's unknown principalId", async () => {
  assert.equal([...refs], [[idRa.armId!.toLowerCase(), idPa.id.toLowerCase()]]);
  const ctx = await shipped();
  const ok = previewReliabilityGate(ctx, changeSet([paChange('create'), idRa], { unknowns: [{ urn: idRa.urn, path: 'properties.principalId' }] }));
  assert.is(ok.pass, true, ok.details.message);
  const cases: [string, ReturnType<typeof changeSet>][] = [
    // The policy assignment is not changed in this run: its identity exists, so the id should be known.
    ['assignment not in the change set', changeSet([paChange('same'), idRa], { unknowns: [{ urn: idRa.urn, path: 'properties.principalId' }] })],
    ['a role assignment with no reference', changeSet([paChange('create'), plainRa], { unknowns: [{ urn: plainRa.urn, path: 'properties.principalId' }] })],
    ['another path of the same role assignment', changeSet([paChange('create'), idRa], { unknowns: [{ urn: idRa.urn, path: 'properties.roleDefinitionId' }] })],
    ['principalId of something that is not a role assignment', changeSet([paChange('create')], { unknowns: [{ urn: paChange('create').urn, path: 'properties.principalId' }] })],
    ['an unknown elsewhere', changeSet([paChange('create'), idRa], { unknowns: [{ urn: paChange('create').urn, path: 'properties.description' }] })],
  ];
  for (const [what, cs] of cases) {
    const r = previewReliabilityGate(ctx, cs);
    assert.is(r.reason, 'PREVIEW_UNRELIABLE', what);
  }
  // Without the desired state's references nothing is tolerated.
  assert.is(previewReliabilityGate({ ...ctx, policyIdentityPrincipals: undefined }, changeSet([paChange('create'), idRa], { unknowns: [{ urn: idRa.urn, path: 'properties.principalId' }] })).pass, false);
});

test('newPolicyIdentityPrincipals: count makes even that case an issue', () => {
  const ctx = { ...context({ guardrails: { previewReliability: { newPolicyIdentityPrincipals: 'count' } } }), policyIdentityPrincipals: refs };
  const r = previewReliabilityGate(ctx, changeSet([paChange('create'), idRa], { unknowns: [{ urn: idRa.urn, path: 'properties.principalId' }] }));
  assert.is(r.reason, 'PREVIEW_UNRELIABLE');
});

test.run();
