// The one safe JSON reader of the API: depth found by a linear scan (strings and escapes do not
// count), the path to the too-deep value named, size and syntax refused naming the field.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_JSON_DEPTH, parseJsonText, tooDeep } from '../../../functions/api/body.ts';
import { ProblemError } from '../../../functions/api/problem.ts';

const nest = (n: number, inner = '1') => '['.repeat(n) + inner + ']'.repeat(n);

function problemOf(fn: () => unknown): ProblemError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, ProblemError);
    return err as ProblemError;
  }
  throw new Error('expected a ProblemError');
}

test('64 levels are read; 65 are refused with the path to where it goes too deep', () => {
  assert.is(MAX_JSON_DEPTH, 64);
  assert.is(tooDeep(nest(64)), undefined);
  assert.equal(tooDeep(nest(65)), [0, 0, 0, 0]);
  const text = `{"spec":{"items":[1,2,{"x":${nest(70)}}]}}`;
  const p = problemOf(() => parseJsonText(text));
  assert.is(p.status, 400);
  assert.is(p.extra.field, 'body.spec.items.2.x');
  assert.match(p.message, /deeper than 64/);
});

test('brackets, quotes and escapes inside strings are not nesting', () => {
  const text = JSON.stringify({ a: '['.repeat(1000), 'b\\"[': '\\', c: '{"x":[[[[' });
  assert.is(tooDeep(text), undefined);
  assert.equal(parseJsonText(text), JSON.parse(text));
});

test('keys named after Object.prototype stay plain data', () => {
  const parsed = parseJsonText('{"__proto__":{"polluted":true},"constructor":{"prototype":1}}') as Record<string, unknown>;
  assert.ok(Object.hasOwn(parsed, '__proto__'));
  assert.is(({} as Record<string, unknown>).polluted, undefined);
});

test('10,000 levels, unparsable text and too many bytes are problems naming the field', () => {
  assert.is(problemOf(() => parseJsonText(nest(10_000), 'body.payload')).extra.field, 'body.payload.0.0.0.0');
  const bad = problemOf(() => parseJsonText('{"a":', 'body'));
  assert.equal([bad.status, bad.extra.field], [400, 'body']);
  const big = problemOf(() => parseJsonText(JSON.stringify('x'.repeat(2000)), 'body', { maxBytes: 1000 }));
  assert.equal([big.status, big.extra.field], [413, 'body']);
});

test.run();
