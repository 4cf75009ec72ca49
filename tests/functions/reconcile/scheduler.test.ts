// The timer tick (what the Azure Functions timer runs every minute) with the real engine, Azurite
// and the ARM sandbox: only the stacks whose own interval has passed are reconciled.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { liveParts, releaseLive, unique, type Live } from './live.ts';
import { mergeStates, smallState } from './state-fixture.ts';
import { reconcileTick, startReconcileTimer } from '../../../functions/reconcile/scheduler.ts';
import { waitFor } from '../../helpers/wait.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

let L: Live;
test.before(async () => { L = await liveParts(); });
test.after(() => releaseLive());

test('a tick reconciles the stacks whose interval has passed, and not the others', async () => {
  const [fresh, recent, slow, due] = ['rctfresh', 'rctrecent', 'rctslow', 'rctdue'].map(unique);
  const state = mergeStates([fresh, recent, slow, due].map((name) => smallState({ tenantRoot: L.tenantRoot, name, assignments: 0 })));
  const env = { ...L.env, NEXUS_RECONCILE_INTERVAL_MINUTES: '10', NEXUS_RECONCILE_SCHEDULE: `stack:${slow}=30` };
  const rec = await L.reconciler(() => state, { scopes: { allow: { managementGroups: ['rc*'] } } });
  const ago = (min: number) => new Date(Date.now() - min * 60_000).toISOString();
  // fresh never ran; recent ran 2 minutes ago (every 10); slow 20 minutes ago (every 30); due 20 ago (every 10).
  await L.stores.runs.updateStack(recent, (s) => ({ ...s, lastRunAt: ago(2) }));
  await L.stores.runs.updateStack(slow, (s) => ({ ...s, lastRunAt: ago(20) }));
  await L.stores.runs.updateStack(due, (s) => ({ ...s, lastRunAt: ago(20) }));
  const results = await reconcileTick(rec, loadConfig(env).reconcile);
  const ran = results.map((r) => (r.status === 'done' ? [r.run.stack, r.run.trigger, r.run.decision] : [r.stack, r.status]));
  assert.equal(ran.sort(), [[due, 'timer', 'applied'], [fresh, 'timer', 'applied']].sort());
  for (const s of [recent, slow]) assert.equal((await L.stores.runs.list({ stack: s })).runs, [], `${s} was not due`);
  assert.ok(await L.exists(`/providers/Microsoft.Management/managementGroups/${due}`));
  assert.is(await L.exists(`/providers/Microsoft.Management/managementGroups/${recent}`), false);
  // Right after, nothing is due.
  assert.equal(await reconcileTick(rec, loadConfig(env).reconcile), []);
});

test('under a one-minute tick a stack runs once its interval passed, not at half of it; the slack is half a tick', async () => {
  const [early, almost, ontime] = ['rctearly', 'rctalmost', 'rctontime'].map(unique);
  const state = mergeStates([early, almost, ontime].map((name) => smallState({ tenantRoot: L.tenantRoot, name, assignments: 0 })));
  const env = { ...L.env, NEXUS_RECONCILE_INTERVAL_MINUTES: '10', NEXUS_RECONCILE_SCHEDULE: '' };
  const rec = await L.reconciler(() => state, { scopes: { allow: { managementGroups: ['rc*'] } } });
  const ago = (sec: number) => new Date(Date.now() - sec * 1000).toISOString();
  // Every 10 minutes: 6 minutes ago is not due (half the interval was the slack before), 9 min
  // 40 s ago is within half a tick of due, 10 minutes ago is due.
  await L.stores.runs.updateStack(early, (s) => ({ ...s, lastRunAt: ago(6 * 60) }));
  await L.stores.runs.updateStack(almost, (s) => ({ ...s, lastRunAt: ago(9 * 60 + 40) }));
  await L.stores.runs.updateStack(ontime, (s) => ({ ...s, lastRunAt: ago(10 * 60 + 5) }));
  const results = await reconcileTick(rec, loadConfig(env).reconcile);
  assert.equal(results.map((r) => (r.status === 'done' ? r.run.stack : r.stack)).sort(), [almost, ontime].sort());
  assert.equal((await L.stores.runs.list({ stack: early })).runs, [], `${early} was not due`);
  // A slower tick (every 10 minutes) has a larger slack: half of it.
  const slow = await reconcileTick(rec, { ...loadConfig(env).reconcile, tickSeconds: 600 });
  assert.equal(slow.map((r) => (r.status === 'done' ? r.run.stack : r.stack)), [early]);
});

test('the local timer runs a pass on its own interval (nothing calls tick), and stop() ends it', async () => {
  const name = unique('rcttimer');
  const state = smallState({ tenantRoot: L.tenantRoot, name, assignments: 0 });
  const rec = await L.reconciler(() => state, { scopes: { allow: { managementGroups: ['rc*'] } } });
  // 0.005 minutes: a pass every 300 ms; none at start.
  const timer = startReconcileTimer(rec, { intervalMinutes: 0.005, schedule: [], runAtStart: false });
  try {
    const run = await waitFor(async () => (await L.stores.runs.list({ stack: name })).runs.find((r) => r.decision === 'applied'),
      { what: `a timer pass to apply ${name}`, timeoutMs: 120_000, intervalMs: 250 });
    assert.is(run.trigger, 'timer');
    assert.ok(await L.exists(`/providers/Microsoft.Management/managementGroups/${name}`));
  } finally {
    await timer.stop();
  }
  const count = (await L.stores.runs.list({ stack: name })).runs.length;
  await new Promise((r) => setTimeout(r, 1000));
  assert.is((await L.stores.runs.list({ stack: name })).runs.length, count, 'no pass after stop()');
});

test.run();
