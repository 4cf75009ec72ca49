import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { killSwitchGate } from '../../../../functions/reconcile/gates/kill-switch.ts';
import { changeSet, context, policyAssignment } from '../fixtures.ts';

const cs = changeSet([policyAssignment('alz', 'a1')]);

test('passes while the kill switch is off', () => {
  const r = killSwitchGate(context(), cs);
  assert.is(r.pass, true);
  assert.is(r.reason, 'OK');
});

test('blocks with KILL_SWITCH and names who turned it on and why', () => {
  const r = killSwitchGate(context({ killSwitch: { on: true, source: 'settings', by: 'ada@contoso.com', reason: 'incident 42' } }), cs);
  assert.is(r.pass, false);
  assert.is(r.hold, undefined);
  assert.is(r.reason, 'KILL_SWITCH');
  assert.match(r.details.message, /ada@contoso\.com/);
  assert.match(r.details.message, /incident 42/);
});

test('names the environment when NEXUS_KILL_SWITCH forces it', () => {
  const r = killSwitchGate(context({ killSwitch: { on: true, source: 'env' } }), cs);
  assert.is(r.reason, 'KILL_SWITCH');
  assert.match(r.details.message, /NEXUS_KILL_SWITCH/);
});

test.run();
