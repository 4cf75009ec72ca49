// Search over the in-memory index: what ranks where, how filters and facets count, paging, and
// that a write is seen by the next search. Pure code: no storage.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryIndex } from '../../../../functions/catalog/memory-index.ts';
import { item } from './entities.ts';

const names = (r: { items: Array<{ entity: { metadata: { name: string } } }> }) => r.items.map((h) => h.entity.metadata.name);
const scores = (r: { items: Array<{ entity: { metadata: { name: string } }; score: number }> }) =>
  Object.fromEntries(r.items.map((h) => [h.entity.metadata.name, h.score]));

function fieldIndex(): MemoryIndex {
  const ix = new MemoryIndex();
  ix.put(item({ name: 'billing' }));
  ix.put(item({ name: 'billing-api' }));
  ix.put(item({ name: 'billingsvc' }));
  ix.put(item({ name: 'in-title', title: 'Billing dashboard' }));
  ix.put(item({ name: 'in-tag', tags: ['billing'] }));
  ix.put(item({ name: 'in-owner', owner: 'team:default/billing' }));
  ix.put(item({ name: 'in-description', description: 'Sends billing mail' }));
  ix.put(item({ name: 'in-spec', spec: { type: 'billing' } }));
  ix.put(item({ name: 'in-unsearched-spec', spec: { notes: 'billing' } }));
  ix.put(item({ name: 'unrelated', description: 'payments' }));
  return ix;
}

test('a word ranks by the field it is in: name, title, tag, owner, description, spec', () => {
  const r = fieldIndex().search('billing');
  assert.equal(names(r), ['billing', 'billing-api', 'billingsvc', 'in-title', 'in-tag', 'in-owner', 'in-description', 'in-spec']);
  assert.equal(scores(r), {
    billing: 30, // name 10 + the whole name is the query 20
    'billing-api': 15, // name 10 + the name starts with the query 5
    billingsvc: 12.1, // prefix of a name word: 10 * (0.5 + 0.3 * 7/10), + 5
    'in-title': 8, 'in-tag': 6, 'in-owner': 3, 'in-description': 2, 'in-spec': 1,
  });
  assert.is(r.total, 8);
});

test('every word must match; each adds its best field', () => {
  const ix = new MemoryIndex();
  ix.put(item({ name: 'orders', description: 'order api for shops' }));
  ix.put(item({ name: 'orders-api' }));
  ix.put(item({ name: 'shops', description: 'shops' }));
  const r = ix.search('orders api');
  assert.equal(names(r), ['orders-api', 'orders']);
  // The name bonus compares the name with the whole text: 'orders-api' does not start with 'orders api'.
  assert.equal(scores(r), { 'orders-api': 20, orders: 12 }, 'orders-api: 10 + 10; orders: 10 + description 2');
  assert.is(ix.search('orders-api').items[0]!.score, 40, 'the whole name as the text: 10 + 10 + 20');
  assert.is(ix.search('orders nothing').total, 0);
});

test('an orphaned entity ranks at half; equal scores go by name', () => {
  const ix = new MemoryIndex();
  ix.put(item({ name: 'zeta', tags: ['ledger'] }));
  ix.put(item({ name: 'alpha', tags: ['ledger'] }));
  ix.put(item({ name: 'mid', tags: ['ledger'], orphaned: true }));
  const r = ix.search('ledger');
  assert.equal(names(r), ['alpha', 'zeta', 'mid']);
  assert.is(r.items[2]!.score, 3);
});

test('pages are slices of one order; total and facets count every match, not the page', () => {
  const ix = new MemoryIndex();
  for (let i = 0; i < 45; i++) ix.put(item({ name: `svc-${String(i).padStart(2, '0')}`, tags: ['common', i % 2 ? 'odd' : 'even'], owner: `team:default/t${i % 3}` }));
  const all = names(ix.search('common', { limit: 200 }));
  assert.is(all.length, 45);
  const p1 = ix.search('common', { limit: 20 }), p3 = ix.search('common', { limit: 20, offset: 40 });
  assert.equal(names(p1), all.slice(0, 20));
  assert.equal(names(p3), all.slice(40));
  assert.is(p3.total, 45);
  assert.equal(p3.facets.tag, { common: 45, even: 23, odd: 22 });
  assert.equal(p3.facets.owner, { 'team:default/t0': 15, 'team:default/t1': 15, 'team:default/t2': 15 });
  assert.equal(p3.facets.kind, { Service: 45 });
});

test('filters: kind in any case, owner and tag exact (the third tag too); an unknown value matches nothing', () => {
  const ix = new MemoryIndex();
  ix.put(item({ name: 'api-a', kind: 'API', tags: ['x', 'y', 'third'], owner: 'team:default/a' }));
  ix.put(item({ name: 'api-b', kind: 'Service', tags: ['third'], owner: 'team:default/b' }));
  assert.equal(names(ix.search('api', { kind: 'api' })), ['api-a']);
  assert.equal(names(ix.search('api', { owner: 'team:default/b' })), ['api-b']);
  assert.equal(names(ix.search('api', { tag: 'third' })), ['api-a', 'api-b']);
  assert.equal(names(ix.search('api', { tag: 'y', kind: 'API' })), ['api-a']);
  const none = ix.search('api', { tag: 'nobody-has-this' });
  assert.is(none.total, 0);
  assert.equal(none.items, []);
});

test('an empty box lists what the filters admit in key order; punctuation alone finds nothing', () => {
  const ix = new MemoryIndex();
  ix.put(item({ name: 'b', tags: ['t'] }));
  ix.put(item({ name: 'a', tags: ['t'] }));
  ix.put(item({ name: 'c', kind: 'API' }));
  const all = ix.search('');
  assert.equal(names(all), ['c', 'a', 'b'], 'key order: api:... before service:...');
  assert.equal(all.items.map((h) => h.score), [0, 0, 0]);
  assert.equal(names(ix.search('  ', { tag: 't', limit: 1, offset: 1 })), ['b']);
  assert.equal(ix.search('', { kind: 'service' }).facets.kind, { Service: 2 });
  const dots = ix.search('...');
  assert.is(dots.total, 0);
  assert.equal(dots.facets.kind, {});
});

test('facets list every kind and lifecycle, the top 20 owners and tags (most first, then by name)', () => {
  const ix = new MemoryIndex();
  for (let i = 0; i < 25; i++) ix.put(item({ name: `s${i}`, description: 'word', tags: [`tag${String(i).padStart(2, '0')}`], owner: `team:default/o${i}`, spec: { lifecycle: i < 5 ? 'experimental' : 'production' } }));
  ix.put(item({ name: 'extra', description: 'word', tags: ['tag24'], kind: 'API' }));
  const f = ix.search('word').facets;
  assert.is(Object.keys(f.tag).length, 20);
  assert.equal(Object.keys(f.tag).slice(0, 2), ['tag24', 'tag00']);
  assert.is(Object.keys(f.owner).length, 20);
  assert.equal(f.kind, { Service: 25, API: 1 });
  assert.equal(f.lifecycle, { production: 20, experimental: 5 });
});

test('a tag named __proto__ is a facet like any other', () => {
  const ix = new MemoryIndex();
  ix.put(item({ name: 'odd', tags: ['__proto__'] }));
  const f = ix.search('odd').facets;
  assert.ok(Object.hasOwn(f.tag, '__proto__'));
  assert.is(JSON.parse(JSON.stringify(f)).tag.__proto__, 1);
  assert.equal(names(ix.search('odd', { tag: '__proto__' })), ['odd']);
});

test('results are cached until the next write, and a write is seen at once', () => {
  const ix = new MemoryIndex();
  ix.put(item({ name: 'cache-me' }));
  const first = ix.search('cache');
  assert.is(ix.search(' CACHE '), first, 'the same query (any case) answers from the cache');
  assert.is(ix.resultJson(first), ix.resultJson(first));
  ix.put(item({ name: 'cache-too' }));
  const second = ix.search('cache');
  assert.is.not(second, first);
  assert.equal(names(second), ['cache-me', 'cache-too']);
  ix.remove('service:default/cache-me');
  assert.equal(names(ix.search('cache')), ['cache-too']);
});

test('prefixes: a short word finds longer ones, at less than an exact match', () => {
  const ix = new MemoryIndex();
  ix.put(item({ name: 'x1', title: 'kubernetes' }));
  ix.put(item({ name: 'x2', title: 'kube' }));
  const r = ix.search('kube');
  assert.equal(names(r), ['x2', 'x1']);
  assert.ok(r.items[1]!.score < r.items[0]!.score);
  assert.equal(names(ix.search('k')), ['x2', 'x1'], 'one letter is a prefix too');
});

test.run();
