import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { previewReliabilityGate } from '../../../../functions/reconcile/gates/preview-reliability.ts';
import { change, changeSet, context, policyAssignment } from '../fixtures.ts';

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

test.run();
