import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { conflictBackoffMs, retryOnConflict } from '../../../functions/platform/conflict-retry.ts';

class Conflict extends Error {}
const isConflict = (e: unknown) => e instanceof Conflict;

test('a conflict runs the whole round again (read included), pausing between rounds', async () => {
  // The catalog's event-ordered write retried at once; the table's update paused. Both pause now.
  const pauses: number[] = [];
  const reads: number[] = [];
  const out = await retryOnConflict(async (attempt) => {
    reads.push(attempt);
    if (attempt < 3) throw new Conflict('someone else wrote first');
    return 'written';
  }, { maxAttempts: 5, isConflict, sleep: async (ms) => { pauses.push(ms); } });
  assert.is(out, 'written');
  assert.equal(reads, [1, 2, 3]);
  assert.is(pauses.length, 2);
  for (const p of pauses) assert.ok(p >= 0 && p <= 250, String(p));
});

test('other errors are thrown at once, without another round', async () => {
  let rounds = 0;
  const err = await retryOnConflict(async () => { rounds++; throw new TypeError('bad input'); }, { maxAttempts: 5, isConflict, sleep: async () => {} }).catch((e) => e);
  assert.instance(err, TypeError);
  assert.is(rounds, 1);
});

test('after maxAttempts conflicts it gives up: with the conflict, or the error giveUp makes', async () => {
  let rounds = 0;
  const last = await retryOnConflict(async () => { rounds++; throw new Conflict(`round ${rounds}`); }, { maxAttempts: 4, isConflict, sleep: async () => {} }).catch((e) => e);
  assert.is(rounds, 4);
  assert.is((last as Error).message, 'round 4');
  const made = await retryOnConflict(async () => { throw new Conflict('x'); }, {
    maxAttempts: 2, isConflict, sleep: async () => {}, giveUp: (e, n) => new Error(`gave up after ${n}`, { cause: e }),
  }).catch((e) => e);
  assert.is((made as Error).message, 'gave up after 2');
  assert.instance((made as Error).cause, Conflict);
});

test('the pause grows with the round and never passes 250 ms', () => {
  assert.is(conflictBackoffMs(1, () => 1), 10);
  assert.is(conflictBackoffMs(3, () => 1), 40);
  assert.is(conflictBackoffMs(20, () => 1), 250);
  assert.is(conflictBackoffMs(5, () => 0), 0);
});

test('a caller may pace its own rounds (the rate-limit counters wait longer under contention)', async () => {
  const pauses: number[] = [];
  await retryOnConflict(async (attempt) => { if (attempt < 4) throw new Conflict('x'); }, {
    maxAttempts: 10, isConflict, backoffMs: (attempt) => attempt * 100, sleep: async (ms) => { pauses.push(ms); },
  });
  assert.equal(pauses, [100, 200, 300]);
});

test.run();
