import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { azurite } from '../../helpers/azurite.ts';
import { storageConfig, type StorageConfig } from '../../../functions/platform/storage-config.ts';
import { BlobStore } from '../../../functions/platform/blobs.ts';
import { ConcurrencyError, StorageInputError } from '../../../functions/platform/errors.ts';

let cfg: StorageConfig;
const run = Math.random().toString(36).slice(2, 8);

async function rejects<E extends Error>(p: Promise<unknown>, cls: new (...a: any[]) => E, pattern?: RegExp): Promise<E> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, cls, `expected ${cls.name}, got ${(err as Error)?.name}: ${(err as Error)?.message}`);
    if (pattern) assert.match((err as Error).message, pattern);
    return err as E;
  }
  assert.unreachable(`expected ${cls.name}, but it resolved`);
  throw new Error('unreachable');
}

test.before(async () => {
  cfg = storageConfig({ connectionString: (await azurite()).connectionString });
});

test('JSON and text round-trip; a missing blob reads as undefined', async () => {
  const store = await BlobStore.open(`runs-${run}`, cfg);
  const changeSet = { stack: 'corp', changes: [{ op: 'update', keys: ['properties.displayName'], old: null, new: 'Corp' }], n: 1.5 };
  const etag = await store.putJson('runs/42/changeset.json', changeSet);
  assert.ok(etag);
  assert.equal(await store.getJson('runs/42/changeset.json'), changeSet);
  await store.putText('runs/42/preview.txt', 'Ünïcode ✓\nline 2');
  assert.is(await store.getText('runs/42/preview.txt'), 'Ünïcode ✓\nline 2');
  assert.is(await store.getJson('runs/none.json'), undefined);
  assert.is(await store.getText('runs/none.txt'), undefined);
  assert.ok(await store.exists('runs/42/preview.txt'));
  assert.not.ok(await store.exists('runs/none.txt'));
  // Overwrite replaces the whole document.
  await store.putJson('runs/42/changeset.json', { replaced: true });
  assert.equal(await store.getJson('runs/42/changeset.json'), { replaced: true });
});

test('list returns the names under a prefix in order; delete reports whether there was a blob', async () => {
  const store = await BlobStore.open(`list-${run}`, cfg);
  for (const name of ['runs/2/a.json', 'runs/1/b.json', 'runs/1/a.json', 'other/x.json', 'runsx.json']) await store.putJson(name, { name });
  assert.equal(await store.list('runs/'), ['runs/1/a.json', 'runs/1/b.json', 'runs/2/a.json']);
  assert.equal((await store.list()).length, 5);
  assert.equal(await store.list('nothing/'), []);
  const items = [];
  for await (const item of store.items('runs/1/')) items.push(item);
  assert.equal(items.map((i) => i.name), ['runs/1/a.json', 'runs/1/b.json']);
  assert.ok(items.every((i) => i.size > 0 && i.etag && !Number.isNaN(Date.parse(i.lastModified))));
  assert.is(await store.delete('runs/1/a.json'), true);
  assert.is(await store.delete('runs/1/a.json'), false);
  assert.equal(await store.list('runs/1/'), ['runs/1/b.json']);
});

test('conditional writes: a stale ETag or an existing blob is refused and the blob kept', async () => {
  const store = await BlobStore.open(`cond-${run}`, cfg);
  const first = await store.putJson('state.json', { v: 1 });
  await store.putJson('state.json', { v: 2 }, { ifMatch: first === '' ? 'x' : first }).then((second) => assert.ok(second));
  const err = await rejects(store.putJson('state.json', { v: 3 }, { ifMatch: first }), ConcurrencyError, /ETag/);
  assert.match(err.message, new RegExp(`cond-${run}.*state\\.json`));
  assert.equal(await store.getJson('state.json'), { v: 2 });
  await rejects(store.putJson('state.json', { v: 4 }, { ifNotExists: true }), ConcurrencyError, /already exists/);
  assert.equal(await store.getJson('state.json'), { v: 2 });
  await store.putJson('fresh.json', { v: 1 }, { ifNotExists: true });
  assert.equal(await store.getJson('fresh.json'), { v: 1 });
});

test('bad input gets an error naming the container and blob', async () => {
  await rejects(BlobStore.open('Bad_Name'), StorageInputError, /container name 'Bad_Name'/);
  await rejects(BlobStore.open('a--b', cfg), StorageInputError, /container name 'a--b'/);
  const store = await BlobStore.open(`bad-${run}`, cfg);
  await rejects(store.putJson('x.json', undefined), StorageInputError, /blob 'x\.json'.*not JSON/);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  await rejects(store.putJson('x.json', cyclic), StorageInputError, /blob 'x\.json'.*cannot be written as JSON/);
  await rejects(store.putText('', 'x'), StorageInputError, /blob name must be 1-1024/);
  await rejects(store.putText('dir/', 'x'), StorageInputError, /blob 'dir\/'/);
  await store.putText('broken.json', '{"a":');
  await rejects(store.getJson('broken.json'), StorageInputError, /blob 'broken\.json': not valid JSON/);
  assert.equal(await store.list(), ['broken.json'], 'the rejected writes left nothing behind');
});

test.run();
