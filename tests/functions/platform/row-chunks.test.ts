import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { ROW_CHUNK_CHARS, RowChunkError, chunkText, joinChunks } from '../../../functions/platform/row-chunks.ts';
import { azurite } from '../../helpers/azurite.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { Table } from '../../../functions/platform/tables.ts';
import { Inbox, type Delivery } from '../../../functions/catalog/inbox.ts';

test('text round-trips through chunks at and around the chunk size', () => {
  for (const n of [0, 1, ROW_CHUNK_CHARS - 1, ROW_CHUNK_CHARS, ROW_CHUNK_CHARS + 1, 3 * ROW_CHUNK_CHARS + 7]) {
    const text = 'x'.repeat(n);
    const row = chunkText('d', text);
    assert.is(row.chunks, Math.ceil(n / ROW_CHUNK_CHARS), `length ${n}`);
    for (let i = 0; i < row.chunks; i++) assert.ok((row as unknown as Record<string, string>)[`d${i}`]!.length <= ROW_CHUNK_CHARS);
    assert.is(joinChunks('d', row, 'row'), text, `length ${n}`);
  }
});

// The catalog and the inbox each joined chunks with `?? ''`, so a row missing one gave text with a
// hole (the catalog then failed in JSON.parse with no word of which row). Now it names the row and chunk.
test('a missing chunk or a bad count is an error naming the row and the property', () => {
  const row = chunkText('p', 'y'.repeat(ROW_CHUNK_CHARS + 10)) as Record<string, unknown>;
  delete row.p1;
  assert.throws(() => joinChunks('p', row as never, 'delivery github/d-1'), (e: Error) => e instanceof RowChunkError && /delivery github\/d-1.*'p1' of 2 is missing/.test(e.message));
  assert.throws(() => joinChunks('p', { chunks: -1 } as never, 'r'), /'chunks' is -1/);
  assert.throws(() => joinChunks('p', { chunks: 'many' } as never, 'r'), /'chunks' is many/);
});

test('an inbox delivery whose row lost a chunk fails with that reason, not a JSON parse error', async () => {
  const storage = storageConfig({ connectionString: (await azurite()).connectionString });
  const id = randomBytes(4).toString('hex');
  const inbox = await Inbox.open({ storage, table: `dlv${id}`, container: `dlv${id}`, maxAttempts: 3 });
  await inbox.enqueue({ source: 'github', deliveryId: 'big', event: 'push', payload: { text: 'z'.repeat(2 * ROW_CHUNK_CHARS) } });
  const table = await Table.open<Record<string, unknown>>(`dlv${id}`, storage);
  const row = (await table.get('github', 'd:big'))!;
  const { partitionKey: _p, rowKey: _r, etag: _e, p1: _lost, ...rest } = row as Record<string, unknown>;
  await table.replace(row, rest);
  const seen: Delivery[] = [];
  assert.equal(await inbox.drain({ github: async (d) => { seen.push(d); } }), { done: 0, failed: 1, poisoned: 0, repeated: 0 });
  assert.is(seen.length, 0);
  assert.match((await inbox.status('github', 'big'))?.error ?? '', /delivery github\/big: chunk 'p1' of 3 is missing/);
});

test.run();
