// Newest-first row keys: from the wall clock, strictly ordered per source (same millisecond, clock
// stepping back), unique, in the stored format, and with no state kept in the module.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { NewestFirstKeys, newestFirstKey } from '../../../../functions/platform/tables.ts';

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
const isDescending = (keys: string[]) => keys.every((k, i) => i === 0 || k < keys[i - 1]!);

test('keys from the clock: the wall clock (comparable across processes); a source orders them back to back', () => {
  const micros = (k: string) => 8_999_999_999_999_999 - Number(k.slice(0, 16));
  assert.ok(Math.abs(micros(newestFirstKey()) - Date.now() * 1000) < 1_000_000, 'the wall clock (to within a second)');
  const src = new NewestFirstKeys();
  const keys = Array.from({ length: 3000 }, () => src.next());
  assert.ok(isDescending(keys));
  assert.equal([...keys].sort(), [...keys].reverse());
  assert.ok(Math.abs(micros(keys[0]!) - Date.now() * 1000) < 1_000_000);
});

test('keys from one source sort newest first, even within one millisecond', () => {
  const src = new NewestFirstKeys();
  const keys = Array.from({ length: 2000 }, () => src.next(NOW));
  assert.ok(isDescending(keys));
  assert.is(new Set(keys).size, keys.length);
  assert.equal([...keys].sort(), [...keys].reverse(), 'sorted order is newest first');
});

test('a wall clock that steps back does not break the order', () => {
  const src = new NewestFirstKeys();
  const keys = [src.next(NOW), src.next(NOW - 5000), src.next(NOW - 1), src.next(NOW + 1)];
  assert.ok(isDescending(keys));
});

test('the format: 16 digits of inverted microseconds, a dash, 8 hex digits', () => {
  const key = new NewestFirstKeys().next(NOW);
  assert.match(key, /^\d{16}-[0-9a-f]{8}$/);
  assert.is(key.slice(0, 16), String(8_999_999_999_999_999 - NOW * 1000).padStart(16, '0'));
  assert.is(newestFirstKey(NOW).slice(0, 16), key.slice(0, 16), 'a given time without a source: that time alone');
});

test('sources are independent: nothing is shared through the module', () => {
  const busy = new NewestFirstKeys();
  for (let i = 0; i < 100; i++) busy.next(NOW);
  // A fresh source is not pushed on by the other's keys: it starts at `now` itself.
  assert.is(new NewestFirstKeys().next(NOW).slice(0, 16), newestFirstKey(NOW).slice(0, 16));
  assert.is(newestFirstKey(NOW, busy) < newestFirstKey(NOW), true, 'the busy source is 100 µs ahead');
  // Later times sort first whichever source issued them.
  assert.ok(new NewestFirstKeys().next(NOW + 1) < new NewestFirstKeys().next(NOW));
});

test('keys of a given time without a source are unique by their suffix', () => {
  const keys = Array.from({ length: 1000 }, () => newestFirstKey(NOW));
  assert.is(new Set(keys).size, keys.length);
});

test('the table modules keep no module-level mutable variables', () => {
  const root = join(import.meta.dirname, '../../../../functions/platform');
  const files = ['tables.ts', ...readdirSync(join(root, 'tables')).map((f) => join('tables', f))];
  for (const f of files) assert.not.match(readFileSync(join(root, f), 'utf8'), /^(export )?(let|var) /m, f);
});

test.run();
