// The change journal on Azurite: entries come back in time order from where a reader stopped, none
// is lost to a writer in the same millisecond, big announcements split, and expiry drops partitions.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { azurite } from '../../helpers/azurite.ts';
import { clock } from './counting.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { BUCKET_MS, Journal, bucketOf } from '../../../functions/catalog/journal.ts';

async function journals(n: number, now: () => Date, opts = {}) {
  const { connectionString } = await azurite();
  const storage = storageConfig({ connectionString });
  const name = `jrn${randomBytes(4).toString('hex')}`;
  return Promise.all(Array.from({ length: n }, () => Journal.open(name, storage, opts, now)));
}

test('entries come back in time order, from the given time on', async () => {
  const c = clock(1_800_000_000_000);
  const [j] = await journals(1, c.now);
  await j!.announce(['service:default/a']);
  c.advance(10);
  const second = await j!.announce(['service:default/b', 'service:default/c']);
  c.advance(BUCKET_MS); // the next partition
  await j!.announce(['service:default/d']);
  assert.equal((await j!.read(0)).map((e) => e.keys), [['service:default/a'], ['service:default/b', 'service:default/c'], ['service:default/d']]);
  assert.equal((await j!.read(second)).map((e) => e.keys), [['service:default/b', 'service:default/c'], ['service:default/d']]);
  assert.equal(await j!.read(c.now().getTime() + 1), []);
});

test('a write that fails is announced again under a writer id its own instance reads too (it may have landed)', async () => {
  const c = clock(1_800_000_000_000);
  const [j] = await journals(1, c.now);
  await j!.around(['service:default/a'], async () => { throw new Error('timed out'); }).then(() => assert.unreachable(), (err: Error) => assert.is(err.message, 'timed out'));
  const entries = await j!.read(0);
  assert.equal(entries.map((e) => [e.writer, e.keys]), [[j!.writer, ['service:default/a']], [`${j!.writer}!`, ['service:default/a']]]);
  // A write that succeeds quickly is announced once, as its writer.
  await j!.around(['service:default/b'], async () => 'ok');
  assert.equal((await j!.read(0)).filter((e) => e.keys.includes('service:default/b')).map((e) => e.writer), [j!.writer]);
});

test('writers in the same millisecond never overwrite each other', async () => {
  const c = clock(1_800_000_000_000);
  const [one, two] = await journals(2, c.now);
  await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? one! : two!).announce([`service:default/s${i}`])));
  const entries = await one!.read(0);
  assert.is(entries.length, 10);
  assert.equal(new Set(entries.map((e) => e.time)).size, 1, 'all in one millisecond');
  assert.equal(entries.flatMap((e) => e.keys).sort(), Array.from({ length: 10 }, (_, i) => `service:default/s${i}`).sort());
  assert.equal(new Set(entries.map((e) => e.writer)), new Set([one!.writer, two!.writer]));
});

test('an announcement of many keys is split into entries a row can hold', async () => {
  const c = clock(1_800_000_000_000);
  const [j] = await journals(1, c.now);
  const keys = Array.from({ length: 1500 }, (_, i) => `azureresource:default/${'r'.repeat(50)}-${i}`);
  await j!.announce(keys);
  const entries = await j!.read(0);
  assert.ok(entries.length > 1);
  assert.equal(entries.flatMap((e) => e.keys), keys);
});

test('a write slower than half the settle time is announced again when it ends', async () => {
  const c = clock(1_800_000_000_000);
  const [j] = await journals(1, c.now, { settleMs: 10_000 });
  await j!.around(['service:default/quick'], async () => c.advance(100));
  await j!.around(['service:default/slow'], async () => c.advance(6000)).catch(() => undefined);
  await j!.around(['service:default/failed'], async () => { c.advance(6000); throw new Error('storage'); }).catch(() => undefined);
  const counts = new Map<string, number>();
  for (const e of await j!.read(0)) for (const k of e.keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  assert.equal(Object.fromEntries(counts), { 'service:default/quick': 1, 'service:default/slow': 2, 'service:default/failed': 2 });
});

test('prune deletes whole partitions older than the cut, and two instances may prune at once', async () => {
  const c = clock(1_800_000_000_000);
  const [one, two] = await journals(2, c.now);
  for (let i = 0; i < 3; i++) {
    await one!.announce(Array.from({ length: 3 }, (_, k) => `service:default/m${i}-${k}`));
    await two!.announce([`service:default/other${i}`]);
    c.advance(BUCKET_MS);
  }
  const cut = c.now().getTime() - BUCKET_MS; // the last partition stays
  const [a, b] = await Promise.all([one!.prune(cut), two!.prune(cut)]);
  assert.ok(a + b >= 4, `${a} + ${b}`);
  const left = await one!.read(0);
  assert.equal([...new Set(left.map((e) => bucketOf(e.time)))], [bucketOf(cut)]);
  assert.is(left.length, 2);
});

test.run();
