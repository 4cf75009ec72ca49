// reconcileAll's own pool: results in the desired state's order (parents first), whichever stack
// finished first, and a concurrency that is not a number still reconciles every stack.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Reconciler, type ReconcileResult } from '../../../functions/reconcile/loop.ts';
import type { DesiredState } from '../../../stacks/compile/model.ts';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Reconciler whose single-stack reconcile is a stand-in that takes `delays[stack]` ms. */
function reconciler(concurrency: number, delays: Record<string, number>, order: string[]) {
  const state = { stacks: Object.keys(delays).map((name) => ({ name })) } as unknown as DesiredState;
  // Built without its constructor (which registers metrics readers on the real stores).
  const rec = Object.create(Reconciler.prototype) as Reconciler;
  Object.assign(rec, {
    deps: { concurrency, compile: async () => state, trackedCommit: async () => 'c0' },
    reconcile: async ({ stack }: { stack: string }) => {
      await tick(delays[stack]!);
      order.push(stack);
      return { status: 'done', stack } as unknown as ReconcileResult;
    },
  });
  return rec;
}

test('results are in the desired state\'s order, not the order the stacks finished', async () => {
  const finished: string[] = [];
  const rec = reconciler(2, { root: 30, platform: 1, corp: 10 }, finished);
  const results = await rec.reconcileAll({ trigger: 'timer', concurrency: 3 });
  assert.equal(finished, ['platform', 'corp', 'root']);
  assert.equal(results.map((r) => (r as unknown as { stack: string }).stack), ['root', 'platform', 'corp']);
});

test('a concurrency that is not a number still reconciles every stack (the configuration refuses one; deps built by hand may not)', async () => {
  // Math.max(1, NaN) is NaN, and a pool of NaN workers reconciled nothing.
  const finished: string[] = [];
  const rec = reconciler(Number('two'), { a: 1, b: 1 }, finished);
  const results = await rec.reconcileAll({ trigger: 'timer' });
  assert.is(results.length, 2);
  assert.equal(finished, ['a', 'b']);
});

test.run();
