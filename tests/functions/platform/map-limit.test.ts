import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mapLimit } from '../../../functions/platform/map-limit.ts';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('results come back in the order of the items, not the order they finished', async () => {
  // reconcileAll's pool pushed results as they finished; the desired state's order is the one people read.
  const out = await mapLimit([30, 1, 15, 2], 4, async (ms, i) => { await tick(ms); return `${i}:${ms}`; });
  assert.equal(out, ['0:30', '1:1', '2:15', '3:2']);
});

test('never more than `limit` calls in flight, and every item runs once', async () => {
  let inFlight = 0;
  let most = 0;
  const seen: number[] = [];
  await mapLimit(Array.from({ length: 25 }, (_, i) => i), 3, async (i) => {
    most = Math.max(most, ++inFlight);
    await tick(1);
    seen.push(i);
    inFlight--;
  });
  assert.is(most, 3);
  assert.equal(seen.sort((a, b) => a - b), Array.from({ length: 25 }, (_, i) => i));
});

test('a limit of 0, a negative one or NaN (a bad setting) runs one at a time instead of nothing', async () => {
  // bulkUpsert's pool started no worker at concurrency 0 and resolved having written nothing.
  for (const limit of [0, -2, Number.NaN, 0.5]) {
    let inFlight = 0;
    let most = 0;
    const out = await mapLimit([1, 2, 3], limit, async (x) => { most = Math.max(most, ++inFlight); await tick(1); inFlight--; return x * 2; });
    assert.equal(out, [2, 4, 6], `limit ${limit}`);
    assert.is(most, 1, `limit ${limit}`);
  }
  assert.equal(await mapLimit([], 4, async () => 1), []);
});

test('after a failure no new item starts; those in flight finish; the first error is thrown', async () => {
  const started: number[] = [];
  let finished = 0;
  const err = await mapLimit([0, 1, 2, 3, 4, 5], 2, async (i) => {
    started.push(i);
    if (i === 1) throw new Error('boom 1');
    await tick(5);
    finished++;
    return i;
  }).catch((e: Error) => e);
  assert.instance(err, Error);
  assert.is((err as Error).message, 'boom 1');
  // 0 and 1 start together; 1 fails at once, so nothing after it starts; 0 still completes.
  assert.equal(started, [0, 1]);
  assert.is(finished, 1);
});

test.run();
