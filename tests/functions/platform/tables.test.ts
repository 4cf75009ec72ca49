import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { azurite } from '../../helpers/azurite.ts';
import { storageConfig, type StorageConfig } from '../../../functions/platform/storage-config.ts';
import { Table, AppendOnlyTable, isContinuationToken, odata, tableKey, untableKey, type Row } from '../../../functions/platform/tables.ts';
import { ConcurrencyError, EntityExistsError, StorageError, StorageInputError } from '../../../functions/platform/errors.ts';

let cfg: StorageConfig;
// Same account, separate clients: stands in for a second process writing to the same table.
let otherCfg: StorageConfig;
const run = Math.random().toString(36).slice(2, 8);
const tableName = (base: string) => `${base}${run}`;

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

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test.before(async () => {
  const az = await azurite();
  cfg = storageConfig({ connectionString: az.connectionString });
  otherCfg = storageConfig({ connectionString: az.connectionString + ';' });
  assert.is.not(cfg, otherCfg);
});

test('plain JSON values round-trip, nested objects, arrays and null included', async () => {
  type V = Record<string, unknown>;
  const t = await Table.open<V>(tableName('roundtrip'), cfg);
  const value = {
    name: 'alz-corp', empty: '', flag: false, count: 7, ratio: 0.25, negative: -3,
    big: 2 ** 40, bigNegative: -(2 ** 35), maxSafe: Number.MAX_SAFE_INTEGER,
    nested: { a: [1, { b: null, c: 'x' }], d: {} }, list: ['x', 2, true], emptyList: [], nothing: null,
    text: 'ünïcødé 🙂 \'quoted\' "double"',
  };
  const inserted = await t.insert('p', 'r', value);
  assert.ok(inserted.etag);
  const got = await t.get('p', 'r');
  const { partitionKey, rowKey, etag, timestamp, ...data } = got!;
  assert.equal(data, value);
  assert.is(partitionKey, 'p');
  assert.is(rowKey, 'r');
  assert.is(etag, inserted.etag);
  assert.ok(timestamp && !Number.isNaN(Date.parse(timestamp)));
});

test('row fields in a value are not stored as data, so a row read can be written back', async () => {
  const t = await Table.open<{ n: number }>(tableName('rowback'), cfg);
  const first = await t.insert('p', 'r', { n: 1 });
  const second = await t.replace(first, { ...first, n: 2 });
  const got = await t.get('p', 'r');
  assert.equal(Object.keys(got!).sort(), ['etag', 'n', 'partitionKey', 'rowKey', 'timestamp']);
  assert.is(got!.n, 2);
  assert.is(got!.etag, second.etag);
});

test('keys with characters Azure forbids round-trip through get, query, page and delete', async () => {
  const t = await Table.open<{ k: string }>(tableName('keys'), cfg);
  const keys = ['mg/corp/landing', 'a\\b', 'x#y?z', '~7E literally', '100% sure', "o'brien", 'tab\there', 'ünï 🙂', ''];
  for (const k of keys) await t.insert(k, k, { k });
  for (const k of keys) assert.is((await t.get(k, k))?.k, k, `get ${JSON.stringify(k)}`);
  for (const k of keys) {
    const rows = await all(t.query({ partitionKey: k }));
    assert.equal(rows.map((r) => [r.partitionKey, r.rowKey, r.k]), [[k, k, k]], `query ${JSON.stringify(k)}`);
  }
  const paged = await t.page({ pageSize: 100 });
  assert.equal(paged.items.map((r) => r.k).sort(), [...keys].sort());
  for (const k of keys) assert.ok(await t.delete(k, k), `delete ${JSON.stringify(k)}`);
  assert.equal(await all(t.query()), []);
});

test('tableKey is reversible and never emits a character Azure forbids in keys', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
      const k = tableKey(s);
      assert.not.match(k, /[/\\#?\u0000-\u001f\u007f-\u009f]/);
      assert.is(untableKey(k), s);
    }),
    { numRuns: 500 },
  );
});

test('insert of an existing row throws EntityExistsError naming the table and keys, and keeps the row', async () => {
  const name = tableName('exists');
  const t = await Table.open<{ v: string }>(name, cfg);
  await t.insert('stack', 'corp', { v: 'first' });
  const err = await rejects(t.insert('stack', 'corp', { v: 'second' }), EntityExistsError);
  assert.match(err.message, name);
  assert.match(err.message, /partitionKey 'stack'/);
  assert.match(err.message, /rowKey 'corp'/);
  assert.is((await t.get('stack', 'corp'))?.v, 'first');
});

test('replace with a stale etag fails with ConcurrencyError and loses nothing', async () => {
  const name = tableName('stale');
  const t = await Table.open<{ v: number }>(name, cfg);
  const read = await t.insert('p', 'r', { v: 1 });
  const winner = await t.replace(read, { v: 2 });
  const err = await rejects(t.replace(read, { v: 3 }), ConcurrencyError, /ETag/);
  assert.match(err.message, name);
  assert.match(err.message, /rowKey 'r'/);
  const now = await t.get('p', 'r');
  assert.is(now?.v, 2);
  assert.is(now?.etag, winner.etag);
});

test('replace of a row deleted since it was read fails with ConcurrencyError and does not recreate it', async () => {
  const t = await Table.open<{ v: number }>(tableName('gone'), cfg);
  const read = await t.insert('p', 'r', { v: 1 });
  assert.ok(await t.delete('p', 'r'));
  await rejects(t.replace(read, { v: 2 }), ConcurrencyError, /deleted/);
  assert.is(await t.get('p', 'r'), undefined);
});

test('replace without an etag is refused before anything is sent', async () => {
  const t = await Table.open<{ v: number }>(tableName('noetag'), cfg);
  await t.insert('p', 'r', { v: 1 });
  await rejects(t.replace({ partitionKey: 'p', rowKey: 'r', v: 5 } as Row<{ v: number }>, { v: 2 }), StorageInputError, /no etag/);
  assert.is((await t.get('p', 'r'))?.v, 1);
});

test('delete with a stale etag fails; delete of a missing row resolves false', async () => {
  const t = await Table.open<{ v: number }>(tableName('del'), cfg);
  const read = await t.insert('p', 'r', { v: 1 });
  await t.upsert('p', 'r', { v: 2 });
  await rejects(t.delete('p', 'r', read.etag), ConcurrencyError);
  assert.is((await t.get('p', 'r'))?.v, 2);
  assert.is(await t.delete('p', 'nope'), false);
});

test('concurrent update() calls on one row from two clients lose no write', async () => {
  type Counter = { n: number; ids: string[] };
  const name = tableName('counter');
  const [a, b] = [await Table.open<Counter>(name, cfg), await Table.open<Counter>(name, otherCfg)];
  const N = 24;
  const results = await Promise.all(
    Array.from({ length: N }, (_, i) =>
      (i % 2 ? a : b).update('stack', 'corp', (cur) => ({ n: (cur?.n ?? 0) + 1, ids: [...(cur?.ids ?? []), `w${i}`] })),
    ),
  );
  const final = await a.get('stack', 'corp');
  assert.is(final?.n, N);
  assert.equal([...final!.ids].sort(), Array.from({ length: N }, (_, i) => `w${i}`).sort());
  // Each update saw a distinct state: the counts it wrote are exactly 1..N.
  assert.equal(results.map((r) => r.n).sort((x, y) => x - y), Array.from({ length: N }, (_, i) => i + 1));
});

test('update() returning undefined writes nothing and returns the current row', async () => {
  const t = await Table.open<{ v: number }>(tableName('noop'), cfg);
  assert.is(await t.update('p', 'missing', () => undefined), undefined);
  assert.is(await t.get('p', 'missing'), undefined);
  const row = await t.insert('p', 'r', { v: 1 });
  const same = await t.update('p', 'r', () => undefined);
  assert.is(same?.etag, row.etag);
});

test('update() gives up with ConcurrencyError after maxAttempts when the row keeps changing', async () => {
  const t = await Table.open<{ v: number }>(tableName('giveup'), cfg);
  await t.insert('p', 'r', { v: 0 });
  let calls = 0;
  const err = await rejects(
    t.update('p', 'r', async (cur) => {
      calls++;
      await t.upsert('p', 'r', { v: 100 + calls }); // another writer gets in every time
      return { v: cur!.v + 1 };
    }, { maxAttempts: 3 }),
    ConcurrencyError,
    /gave up after 3 attempts/,
  );
  assert.match(err.message, /rowKey 'r'/);
  assert.is(calls, 3);
  assert.is((await t.get('p', 'r'))?.v, 103);
});

test('query filters by partition and OData filter, and select restores JSON columns', async () => {
  type Run = { stack: string; status: string; attempts: number; detail: { steps: string[] } };
  const t = await Table.open<Run>(tableName('runs'), cfg);
  await t.insert('corp', '1', { stack: 'corp', status: 'ok', attempts: 1, detail: { steps: ['a'] } });
  await t.insert('corp', '2', { stack: 'corp', status: 'failed', attempts: 3, detail: { steps: ['a', 'b'] } });
  await t.insert('online', '1', { stack: 'online', status: 'failed', attempts: 2, detail: { steps: [] } });
  const failed = await all(t.query({ filter: odata`status eq ${'failed'}` }));
  assert.equal(failed.map((r) => `${r.partitionKey}/${r.rowKey}`), ['corp/2', 'online/1']);
  const corpFailed = await all(t.query({ partitionKey: 'corp', filter: odata`attempts ge ${2}` }));
  assert.equal(corpFailed.map((r) => r.rowKey), ['2']);
  const selected = await all(t.query({ partitionKey: 'corp', select: ['detail'] }));
  assert.equal(selected.map((r) => ({ rk: r.rowKey, detail: r.detail, status: r.status })), [
    { rk: '1', detail: { steps: ['a'] }, status: undefined },
    { rk: '2', detail: { steps: ['a', 'b'] }, status: undefined },
  ]);
});

test('page() walks every row exactly once with continuation tokens', async () => {
  const t = await Table.open<{ i: number }>(tableName('paging'), cfg);
  const total = 57;
  for (let start = 0; start < total; start += 20) {
    const ops = [];
    for (let i = start; i < Math.min(start + 20, total); i++) ops.push({ op: 'insert' as const, rowKey: String(i).padStart(3, '0'), value: { i } });
    await t.batch('p', ops);
  }
  await t.insert('other', '000', { i: -1 });
  const seen: number[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await t.page({ partitionKey: 'p', pageSize: 10, continuationToken: token });
    assert.ok(page.items.length <= 10);
    seen.push(...page.items.map((r) => r.i));
    token = page.continuationToken;
    pages++;
  } while (token);
  assert.equal(seen, Array.from({ length: total }, (_, i) => i));
  assert.ok(pages >= 6, `expected at least 6 pages, got ${pages}`);
});

test('first() and a selected page return the first matching row with its JSON columns', async () => {
  type V = { status: string; detail: { n: number } };
  const t = await Table.open<V>(tableName('first'), cfg);
  assert.is(await t.first(), undefined);
  await t.insert('a', '2', { status: 'open', detail: { n: 2 } });
  await t.insert('a', '1', { status: 'closed', detail: { n: 1 } });
  await t.insert('b', '0', { status: 'open', detail: { n: 0 } });
  assert.is((await t.first({ partitionKey: 'a' }))?.rowKey, '1');
  assert.equal((await t.first({ filter: odata`status eq ${'open'}` }))?.detail, { n: 2 });
  const page = await t.page({ partitionKey: 'a', pageSize: 5, select: ['detail'] });
  assert.equal(page.items.map((r) => [r.rowKey, r.detail.n, r.status]), [['1', 1, undefined], ['2', 2, undefined]]);
});

test('a table deleted behind our back is reported, not read as an empty row', async () => {
  const name = tableName('vanished');
  const t = await Table.open<{ v: number }>(name, cfg);
  await t.insert('p', 'r', { v: 1 });
  await cfg.tableService().deleteTable(name);
  await rejects(t.get('p', 'r'), StorageError, new RegExp(`${name}.*TableNotFound`));
  await rejects(t.delete('p', 'r'), StorageError, /TableNotFound/);
});

test('page() rejects a bad page size or continuation token, naming the table', async () => {
  const name = tableName('badpage');
  const t = await Table.open<{ i: number }>(name, cfg);
  await rejects(t.page({ pageSize: 0 }), StorageInputError, new RegExp(`${name}.*pageSize`));
  await rejects(t.page({ pageSize: 1001 }), StorageInputError, /pageSize/);
  await rejects(t.page({ pageSize: 10, continuationToken: 'not-a-token' }), StorageInputError, /continuationToken 'not-a-token'/);
});

test('continuation tokens: the shapes the service issues pass; forged ones do not', async () => {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64');
  // Azurite's (base64 keys) and Azure's (1!8!...- keys) shapes.
  for (const ok of [b64({ nextPartitionKey: 'cA==', nextRowKey: 'cjI=' }), b64({ nextPartitionKey: '1!8!cA--', nextRowKey: '1!12!cjE-' }), b64({ nextPartitionKey: '1!8!cA--' })]) {
    assert.ok(isContinuationToken(ok), ok);
  }
  for (const bad of ['', 'not-a-token', b64(['x']), b64({ nextPartitionKey: 1 }), b64({ nextPartitionKey: "a'b" }), b64({ nextPartitionKey: 'a', nextRowKey: 'b\u0000' }),
    b64({ nextPartitionKey: 'a', more: 'x' }), b64({ nextPartitionKey: 'x'.repeat(1025) }), 'x'.repeat(5000)]) {
    assert.not.ok(isContinuationToken(bad), bad.slice(0, 40));
  }
  const name = tableName('forgedtok');
  const t = await Table.open<{ i: number }>(name, cfg);
  await t.insert('p', 'a', { i: 1 });
  await rejects(t.page({ pageSize: 1, continuationToken: b64({ nextPartitionKey: "p'", nextRowKey: '#' }) }), StorageInputError, /continuationToken/);
});

test('batch is all or nothing', async () => {
  const t = await Table.open<{ v: number }>(tableName('batch'), cfg);
  const existing = await t.insert('p', 'b', { v: 1 });
  await rejects(
    t.batch('p', [
      { op: 'insert', rowKey: 'a', value: { v: 1 } },
      { op: 'insert', rowKey: 'b', value: { v: 2 } },
    ]),
    EntityExistsError,
  );
  assert.is(await t.get('p', 'a'), undefined, 'the first insert of a failed batch must not stay');
  await t.upsert('p', 'b', { v: 5 });
  await rejects(
    t.batch('p', [
      { op: 'upsert', rowKey: 'c', value: { v: 3 } },
      { op: 'replace', rowKey: 'b', value: { v: 9 }, etag: existing.etag },
    ]),
    ConcurrencyError,
  );
  assert.is(await t.get('p', 'c'), undefined);
  assert.is((await t.get('p', 'b'))?.v, 5);
  const current = (await t.get('p', 'b'))!;
  const res = await t.batch('p', [
    { op: 'insert', rowKey: 'a/1', value: { v: 1 } },
    { op: 'replace', rowKey: 'b', value: { v: 6 }, etag: current.etag },
    { op: 'upsert', rowKey: 'c', value: { v: 3 } },
  ]);
  assert.equal(res.map((r) => r.rowKey), ['a/1', 'b', 'c']);
  assert.ok(res.every((r) => r.etag));
  assert.equal((await all(t.query({ partitionKey: 'p' }))).map((r) => [r.rowKey, r.v]), [['a/1', 1], ['b', 6], ['c', 3]]);
  await t.batch('p', [{ op: 'delete', rowKey: 'a/1' }, { op: 'delete', rowKey: 'c' }]);
  assert.equal((await all(t.query({ partitionKey: 'p' }))).map((r) => r.rowKey), ['b']);
});

test('batch rejects empty, oversized and duplicate-key batches before sending', async () => {
  const t = await Table.open<{ v: number }>(tableName('badbatch'), cfg);
  await rejects(t.batch('p', []), StorageInputError, /1 to 100/);
  const many = Array.from({ length: 101 }, (_, i) => ({ op: 'insert' as const, rowKey: String(i), value: { v: i } }));
  await rejects(t.batch('p', many), StorageInputError, /got 101/);
  await rejects(
    t.batch('p', [{ op: 'insert', rowKey: 'x', value: { v: 1 } }, { op: 'delete', rowKey: 'x' }]),
    StorageInputError, /rowKey 'x' twice/,
  );
  assert.equal(await all(t.query()), []);
});

test('bad input gets an error naming the table, key and field', async () => {
  await rejects(Table.open('no-dashes'), StorageInputError, /table name 'no-dashes'/);
  await rejects(Table.open('ab', cfg), StorageInputError, /table name 'ab'/);
  const name = tableName('badinput');
  const t = await Table.open<Record<string, unknown>>(name, cfg);
  await rejects(t.insert('p', 'r', [1, 2] as unknown as Record<string, unknown>), StorageInputError, /must be a JSON object, got an array/);
  await rejects(t.insert('p', 'r', { 'bad-name': 1 }), StorageInputError, new RegExp(`${name}.*rowKey 'r'.*field 'bad-name'`));
  await rejects(t.insert('p', 'r', { PartitionKey: 'x' }), StorageInputError, /field 'PartitionKey'/);
  await rejects(t.insert('p', 'r', { n: Number.NaN }), StorageInputError, /field 'n' is NaN/);
  await rejects(t.insert('p', 'r', { f: () => 1 }), StorageInputError, /field 'f' is a function/);
  await rejects(t.insert('p', 'r', { big: 'x'.repeat(40_000) }), StorageInputError, /field 'big' is 40000 characters.*blob/);
  const wide = Object.fromEntries(Array.from({ length: 260 }, (_, i) => [`f${i}`, i]));
  await rejects(t.insert('p', 'r', wide), StorageInputError, /260 columns.*at most 252/);
  const heavy = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, 'x'.repeat(30_000)]));
  await rejects(t.insert('p', 'r', heavy), StorageInputError, /about \d+ bytes.*blob/);
  await rejects(t.insert('p', 42 as unknown as string, { a: 1 }), StorageInputError, /rowKey must be a string, got number/);
  await rejects(t.insert('p', 'k'.repeat(1100), { a: 1 }), StorageInputError, /rowKey .* 1100 characters/);
  await rejects(t.query({ filter: '  ' })[Symbol.asyncIterator]().next(), StorageInputError, /filter/);
  assert.equal(await all(t.query()), [], 'nothing was written by the rejected calls');
});

test('append-only table: appends sort newest first and all land under concurrency', async () => {
  type Audit = { seq: number; actor: string; change: { field: string } };
  const audit = await AppendOnlyTable.open<Audit>(tableName('audit'), cfg);
  for (let seq = 0; seq < 15; seq++) await audit.append('corp', { seq, actor: 'alice', change: { field: `f${seq}` } });
  const rows = await all(audit.query({ partitionKey: 'corp' }));
  assert.equal(rows.map((r) => r.seq), Array.from({ length: 15 }, (_, i) => 14 - i));
  assert.equal(rows[0].change, { field: 'f14' });
  const again = await audit.get('corp', rows[3].rowKey);
  assert.is(again?.seq, 11);
  assert.is((await audit.first({ partitionKey: 'corp' }))?.seq, 14, 'first() is the newest entry');

  const concurrent = await Promise.all(Array.from({ length: 30 }, (_, seq) => audit.append('busy', { seq, actor: 'bot', change: { field: 'x' } })));
  assert.is(new Set(concurrent.map((r) => r.rowKey)).size, 30);
  const busy = await all(audit.query({ partitionKey: 'busy' }));
  assert.equal(busy.map((r) => r.seq).sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i));
});

test('append-only table has no way to change or remove a row', async () => {
  const audit = await AppendOnlyTable.open<{ a: number }>(tableName('auditro'), cfg);
  for (const method of ['update', 'replace', 'upsert', 'delete', 'insert', 'batch']) {
    assert.not.ok(method in audit, `AppendOnlyTable must not have ${method}`);
  }
  assert.not.ok(Object.values(audit).some((v) => v instanceof Table), 'the underlying table must not be reachable');
  // @ts-expect-error no update surface at compile time either
  audit.update;
  // @ts-expect-error no delete surface at compile time either
  audit.delete;
});

test.run();
