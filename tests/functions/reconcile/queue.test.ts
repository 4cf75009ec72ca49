// Runs of one stack in one process wait for each other; other stacks do not wait.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StackQueue } from '../../../functions/reconcile/queue.ts';

function deferred() {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}
const tick = () => new Promise((r) => setImmediate(r));

test('one stack: in order, never two at once, a failure does not stop the next', async () => {
  const q = new StackQueue();
  const log: string[] = [];
  const gates = [deferred(), deferred(), deferred()];
  const job = (i: number) => async () => { log.push(`start ${i}`); await gates[i].promise; log.push(`end ${i}`); return i; };
  const runs = [q.run('alz', job(0)), q.run('alz', job(1)), q.run('alz', job(2))];
  await tick();
  assert.equal(log, ['start 0']);
  assert.is(q.pending('alz'), 3);
  gates[0].reject(new Error('apply failed'));
  assert.ok(await runs[0].then(() => false, (e: Error) => e.message === 'apply failed'));
  await tick();
  assert.equal(log, ['start 0', 'start 1']);
  gates[1].resolve();
  gates[2].resolve();
  assert.equal(await Promise.all(runs.slice(1)), [1, 2]);
  assert.equal(log, ['start 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  await q.idle();
  assert.is(q.pending('alz'), 0);
});

test('different stacks run at the same time', async () => {
  const q = new StackQueue();
  const started: string[] = [];
  const gate = deferred();
  const a = q.run('corp', async () => { started.push('corp'); await gate.promise; });
  const b = q.run('online', async () => { started.push('online'); await gate.promise; });
  await tick();
  assert.equal(started.sort(), ['corp', 'online']);
  gate.resolve();
  await Promise.all([a, b]);
  await q.idle();
});

test.run();
