// Ordering of hits: by score, then by name, then by doc id; only the best k are kept.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { topK } from '../../../../functions/catalog/index/rank.ts';
import { nameCode } from '../../../../functions/catalog/index/doc-columns.ts';

test('name codes order like the names (first 8 characters)', () => {
  const names = ['a', 'a-b', 'a.b', 'a0', 'a9', 'a_', 'aa', 'ab', 'b', 'billing-api', 'billing-worker', 'z'];
  const sorted = [...names].sort((x, y) => nameCode(x) - nameCode(y));
  assert.equal(sorted, [...names].sort());
  assert.is(nameCode('abcdefgh-1'), nameCode('abcdefgh-2'), 'beyond 8 characters names tie (doc id decides)');
});

test('the k best, best first; equal scores by name then doc id', () => {
  const names = ['delta', 'alpha', 'charlie', 'bravo', 'alpha'];
  const codes = new Float64Array(names.map(nameCode));
  const ids = [0, 1, 2, 3, 4];
  const scores = [5, 9, 9, 1, 9];
  assert.equal(topK(scores, ids, codes, 10), [1, 4, 2, 0, 3]);
  assert.equal(topK(scores, ids, codes, 2), [1, 4]);
  assert.equal(topK(scores, ids, codes, 0), []);
});

test('a bounded heap gives the same page as a full sort', () => {
  const n = 500;
  const scores = Array.from({ length: n }, (_, i) => (i * 7919) % 37);
  const ids = Array.from({ length: n }, (_, i) => i);
  const codes = new Float64Array(n).map((_, i) => nameCode(`n${(i * 31) % 97}`));
  const full = [...ids].sort((a, b) => scores[b]! - scores[a]! || codes[a]! - codes[b]! || a - b);
  assert.equal(topK(scores, ids, codes, 25), full.slice(0, 25));
  assert.equal(topK(scores, ids, codes, n), full);
});

test.run();
