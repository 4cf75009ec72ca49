// Row encoding without storage: what is refused (naming the field) and what comes back as it went in.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeRow, encodeRow, selectColumns, writtenRow } from '../../../../functions/platform/tables/encoding.ts';
import { StorageInputError } from '../../../../functions/platform/errors.ts';

const where = "table 't': write partitionKey 'p' rowKey 'r'";

test('scalars are columns; objects, arrays and null are JSON text listed in _json; they decode as written', () => {
  const value = { s: 'x', n: 3, big: 2 ** 40, b: false, o: { a: [1, 2] }, arr: ['q'], nul: null, skip: undefined };
  const props = encodeRow('p', 'r', value, where);
  assert.equal(props, { s: 'x', n: 3, big: { value: 2 ** 40, type: 'Double' }, b: false, o: '{"a":[1,2]}', arr: '["q"]', nul: 'null', _json: 'o,arr,nul' });
  const back = decodeRow<typeof value>({ ...props, big: 2 ** 40, partitionKey: 'p~2F1', rowKey: 'r', etag: 'W/1', 'odata.etag': 'W/1' });
  assert.equal(back, { s: 'x', n: 3, big: 2 ** 40, b: false, o: { a: [1, 2] }, arr: ['q'], nul: null, partitionKey: 'p/1', rowKey: 'r', etag: 'W/1' });
});

test('bad values are refused before a request, naming the row and the field', () => {
  const refuses = (value: unknown, pattern: RegExp) => {
    try { encodeRow('p', 'r', value, where); } catch (err) {
      assert.instance(err, StorageInputError);
      assert.match((err as Error).message, pattern);
      assert.ok((err as Error).message.startsWith(where));
      return;
    }
    assert.unreachable(`accepted ${JSON.stringify(value)}`);
  };
  refuses([1], /must be a JSON object, got an array/);
  refuses({ 'bad-name': 1 }, /field 'bad-name' is not a valid column name/);
  refuses({ RowKey: 1 }, /field 'RowKey'/);
  refuses({ n: Infinity }, /field 'n' is Infinity/);
  refuses({ f: () => 1 }, /field 'f' is a function/);
  refuses({ s: 'x'.repeat(40_000) }, /field 's' is 40000 characters/);
  refuses(Object.fromEntries(Array.from({ length: 260 }, (_, i) => [`c${i}`, i])), /260 columns/);
  refuses(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`c${i}`, 'x'.repeat(30_000)])), /about \d+ bytes/);
});

test('a written row carries its keys and etag but never meta fields of the value', () => {
  assert.equal(writtenRow('p', 'r', 'e', { a: 1, etag: 'old', rowKey: 'x', gone: undefined }), { a: 1, partitionKey: 'p', rowKey: 'r', etag: 'e' });
});

test('select: column names only; keys and the JSON marker always come back', () => {
  assert.equal(selectColumns(['a', 'etag'], "table 't'"), ['PartitionKey', 'RowKey', 'Timestamp', 'a', '_json']);
  assert.throws(() => selectColumns(['a b'], "table 't'"), /table 't': select field 'a b' is not a column name/);
});

test.run();
