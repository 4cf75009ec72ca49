// The timer tick (what the Azure Functions timer runs every minute) with the real engine, Azurite
// and the ARM sandbox: only the stacks whose own interval has passed are reconciled.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { liveParts, releaseLive, unique, type Live } from './live.ts';
import { mergeStates, smallState } from './state-fixture.ts';
import { reconcileTick } from '../../../functions/reconcile/scheduler.ts';

let L: Live;
test.before(async () => { L = await liveParts(); });
test.after(() => releaseLive());

test('a tick reconciles the stacks whose interval has passed, and not the others', async () => {
  const [fresh, recent, slow, due] = ['rctfresh', 'rctrecent', 'rctslow', 'rctdue'].map(unique);
  const state = mergeStates([fresh, recent, slow, due].map((name) => smallState({ tenantRoot: L.tenantRoot, name, assignments: 0 })));
  const env = { ...L.env, NEXUS_RECONCILE_INTERVAL_MINUTES: '10', NEXUS_RECONCILE_SCHEDULE: `stack:${slow}=30` };
  const rec = await L.reconciler(() => state, { scopes: { allow: { managementGroups: ['rc*'] } } }, { env });
  const ago = (min: number) => new Date(Date.now() - min * 60_000).toISOString();
  // fresh never ran; recent ran 2 minutes ago (every 10); slow 20 minutes ago (every 30); due 20 ago (every 10).
  await L.stores.runs.updateStack(recent, (s) => ({ ...s, lastRunAt: ago(2) }));
  await L.stores.runs.updateStack(slow, (s) => ({ ...s, lastRunAt: ago(20) }));
  await L.stores.runs.updateStack(due, (s) => ({ ...s, lastRunAt: ago(20) }));
  const results = await reconcileTick(env, rec);
  const ran = results.map((r) => (r.status === 'done' ? [r.run.stack, r.run.trigger, r.run.decision] : [r.stack, r.status]));
  assert.equal(ran.sort(), [[due, 'timer', 'applied'], [fresh, 'timer', 'applied']].sort());
  for (const s of [recent, slow]) assert.equal((await L.stores.runs.list({ stack: s })).runs, [], `${s} was not due`);
  assert.ok(await L.exists(`/providers/Microsoft.Management/managementGroups/${due}`));
  assert.is(await L.exists(`/providers/Microsoft.Management/managementGroups/${recent}`), false);
  // Right after, nothing is due.
  assert.equal(await reconcileTick(env, rec), []);
});

test.run();
