// The want driver: a want is removed only once a run recorded its outcome, and only if no newer
// push replaced it meanwhile (then the stack runs again at the newer commit); a stack held by
// another instance, or a failed attempt, keeps its want for the next kick. Real wants in Azurite;
// the reconcile port is a recording function (the loop itself is tested on its own).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GitOpsDriver } from '../../../functions/gitops/driver.ts';
import { GitOpsStore, type Want } from '../../../functions/gitops/store.ts';
import { createLogger } from '../../../functions/platform/logger.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import type { ReconcileRequest, ReconcileResult } from '../../../functions/reconcile/loop.ts';
import { UnknownStackError } from '../../../functions/reconcile/loop.ts';
import type { RunRecord } from '../../../functions/reconcile/model.ts';
import { azurite } from '../../helpers/azurite.ts';

let store: GitOpsStore;
const logger = createLogger({ level: 'silent' });
const want = (stack: string, commit: string): Want => ({ stack, commit, pusher: 'alice', deliveryId: `d-${commit}`, at: new Date().toISOString() });
const done = (req: ReconcileRequest): ReconcileResult => ({ status: 'done', run: { stack: req.stack, commit: req.commit } as RunRecord });

test.before(async () => {
  const az = await azurite();
  store = await GitOpsStore.open(storageConfig({ connectionString: az.connectionString }));
});

test.before.each(async () => {
  for (const w of await store.listWants()) await store.doneWant((await store.want(w.stack))!);
});

test('each want runs once at its commit as trigger push by its pusher, then is removed', async () => {
  const calls: ReconcileRequest[] = [];
  const d = new GitOpsDriver({ store, logger, concurrency: 2, reconcile: async (req) => { calls.push(req); return done(req); } });
  await store.putWant(want('a', 'c1'), () => false);
  await store.putWant(want('b', 'c1'), () => false);
  await d.kick();
  assert.equal(calls.map((c) => [c.stack, c.commit, c.trigger, c.requestedBy]).sort(), [['a', 'c1', 'push', 'alice'], ['b', 'c1', 'push', 'alice']]);
  assert.equal(await store.listWants(), []);
});

test('a newer push during the run replaces the want: the stack runs again at the newer commit', async () => {
  const calls: string[] = [];
  const d = new GitOpsDriver({
    store, logger, concurrency: 1,
    reconcile: async (req) => {
      calls.push(req.commit!);
      if (req.commit === 'c1') await store.putWant(want('a', 'c2'), () => false);
      return done(req);
    },
  });
  await store.putWant(want('a', 'c1'), () => false);
  await d.kick();
  assert.equal(calls, ['c1', 'c2']);
  assert.equal(await store.listWants(), []);
});

test('held by another instance, or failed: the want stays for the next kick; an unknown stack is dropped', async () => {
  let mode: 'skip' | 'fail' | 'ok' = 'skip';
  const d = new GitOpsDriver({
    store, logger, concurrency: 1,
    reconcile: async (req) => {
      if (req.stack === 'gone') throw new UnknownStackError('gone', ['a']);
      if (mode === 'skip') return { status: 'skipped', stack: req.stack, reason: 'LEASE_HELD' };
      if (mode === 'fail') throw new Error('host unreachable');
      return done(req);
    },
  });
  await store.putWant(want('a', 'c1'), () => false);
  await store.putWant(want('gone', 'c1'), () => false);
  await d.kick();
  assert.equal((await store.listWants()).map((w) => w.stack), ['a']);
  mode = 'fail';
  await d.kick();
  assert.equal((await store.listWants()).map((w) => w.stack), ['a']);
  mode = 'ok';
  await d.kick();
  assert.equal(await store.listWants(), []);
});

test('a run held for approval is asked once more right away (approvals given elsewhere are collected then), not forever', async () => {
  const decisions: string[] = [];
  const d = new GitOpsDriver({
    store, logger, concurrency: 1,
    reconcile: async (req) => {
      decisions.push('pending-approval');
      return { status: 'done', run: { stack: req.stack, commit: req.commit, decision: 'pending-approval' } as RunRecord };
    },
  });
  await store.putWant(want('a', 'c1'), () => false);
  await d.kick();
  assert.is(decisions.length, 2);
  assert.equal(await store.listWants(), [], 'the approval path takes over from here');
});

test('at most `concurrency` runs at once, and one driver per stack', async () => {
  let inFlight = 0;
  let most = 0;
  const d = new GitOpsDriver({
    store, logger, concurrency: 2,
    reconcile: async (req) => {
      inFlight++; most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 30));
      inFlight--;
      return done(req);
    },
  });
  for (const s of ['a', 'b', 'c', 'd', 'e']) await store.putWant(want(s, 'c1'), () => false);
  await Promise.all([d.kick(), d.kick(), d.drive('a')]);
  assert.is(most, 2);
  assert.equal(await store.listWants(), []);
});

test.run();
