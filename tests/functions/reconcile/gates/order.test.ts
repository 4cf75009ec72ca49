// The gate order is declared once (gates/index.ts): the verdicts of a run, and the record after a
// check at apply, follow it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GATES, GATE_NAMES, refusals, runGates } from '../../../../functions/reconcile/gates/index.ts';
import { withVerdictsAtApply } from '../../../../functions/reconcile/gate-inputs.ts';
import { changeSet, context, policyAssignment } from '../fixtures.ts';

const cs = changeSet([policyAssignment('alz', 'a1')]);

test('the declared list names each gate once, and the names are its order', () => {
  assert.is(new Set(GATES.map((g) => g.name)).size, GATES.length);
  assert.equal(GATE_NAMES, GATES.map((g) => g.name));
  assert.is(GATE_NAMES[0], 'kill-switch', 'the kill switch is judged first');
});

test('runGates: one verdict per declared gate, in the declared order, named by the list', () => {
  const verdicts = runGates(context({ killSwitch: { on: true, source: 'settings', by: 'ada' } }), cs);
  assert.equal(verdicts.map((g) => g.gate), GATE_NAMES);
  assert.equal(refusals(verdicts).map((g) => [g.gate, g.reason]), [['kill-switch', 'KILL_SWITCH']]);
});

test('after a check at apply the record keeps the declared order; only changed verdicts are replaced, marked atApply', () => {
  const before = runGates(context(), cs);
  const now = runGates(context({ killSwitch: { on: true, source: 'settings', by: 'ada' } }), cs);
  // Whatever order the verdicts come in, the record is in the declared one.
  const merged = withVerdictsAtApply([...before].reverse(), [...now].reverse());
  assert.equal(merged.map((g) => g.gate), GATE_NAMES);
  const ks = merged.find((g) => g.gate === 'kill-switch')!;
  assert.equal([ks.pass, ks.reason, ks.details.atApply], [false, 'KILL_SWITCH', true]);
  for (const g of merged.filter((x) => x.gate !== 'kill-switch')) {
    assert.is(g, before.find((b) => b.gate === g.gate), `${g.gate} kept as it was`);
  }
});

test.run();
