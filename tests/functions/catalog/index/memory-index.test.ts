// Writes keep every part of the index in step: after put, replace and remove, search, facets,
// listing, relations and identities all agree with what the index holds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryIndex } from '../../../../functions/catalog/memory-index.ts';
import { item } from './entities.ts';

const names = (r: { items: Array<{ entity: { metadata: { name: string } } }> }) => r.items.map((h) => h.entity.metadata.name);

test('put then remove leaves nothing behind', () => {
  const ix = new MemoryIndex();
  ix.put(item({ name: 'keep', tags: ['t'], owner: 'team:default/a', description: 'stays' }));
  const before = { search: ix.search('t'), list: ix.list({ limit: 10 }), rels: ix.relationsOf('service:default/keep') };
  ix.put(item({ kind: 'User', name: 'gone', title: 'Vanishing', tags: ['t', 'u', 'v'], owner: 'team:default/b', spec: { githubLogin: 'gone' },
    declared: [{ type: 'memberOf', target: 'team:default/x' }] }));
  ix.remove('user:default/gone');
  assert.is(ix.size, 1);
  assert.is(ix.has('user:default/gone'), false);
  assert.is(ix.view('user:default/gone'), undefined);
  assert.is(ix.viewJson('user:default/gone'), undefined);
  assert.is(ix.search('vanishing').total, 0);
  assert.is(ix.search('', { tag: 'u' }).total, 0);
  assert.equal(ix.search('t').items, before.search.items);
  assert.equal(ix.search('t').facets.tag, { t: 1 }, 'values nobody has any more count zero and are not listed');
  assert.equal(ix.list({ limit: 10 }), before.list);
  assert.equal(ix.list({ owner: 'team:default/b', limit: 10 }).keys, []);
  assert.equal(ix.relationsOf('team:default/x'), []);
  assert.equal(ix.relationsOf('service:default/keep'), before.rels);
  assert.is(ix.userByLogin('gone'), undefined);
  assert.equal(ix.ownedBy(['team:default/b']), []);
  ix.remove('user:default/gone'); // removing twice is harmless
  assert.is(ix.size, 1);
});

test('a replaced entity is found by its new words only; a freed slot does not leak into the next entity', () => {
  const ix = new MemoryIndex();
  ix.put(item({ name: 'a', title: 'apple' }));
  ix.put(item({ name: 'a', title: 'banana', version: 2 }));
  assert.is(ix.search('apple').total, 0);
  assert.equal(names(ix.search('banana')), ['a']);
  ix.remove('service:default/a');
  ix.put(item({ name: 'b', title: 'cherry', tags: ['fresh'] }));
  assert.is(ix.search('banana').total, 0);
  assert.equal(names(ix.search('cherry')), ['b']);
  assert.equal(ix.search('cherry').facets.tag, { fresh: 1 });
});

test('an older version never replaces a newer one; force takes what storage holds', () => {
  const ix = new MemoryIndex();
  assert.is(ix.put(item({ name: 'v', title: 'two', version: 2 })), true);
  assert.is(ix.put(item({ name: 'v', title: 'one', version: 1 })), false);
  assert.is(ix.entity('service:default/v')!.metadata.title, 'two');
  assert.is(ix.search('one').total, 0);
  // Deleted and created again: a later creation counts as newer whatever its write count.
  assert.is(ix.put(item({ name: 'v', title: 'reborn', version: 1, createdAt: '2026-06-01T00:00:00Z' })), true);
  assert.is(ix.put(item({ name: 'v', title: 'consistent read', version: 1 }), { force: true }), true);
  assert.equal(names(ix.search('consistent')), ['v']);
});

test('relations in both directions; an edge both sides declare stays until neither does', () => {
  const ix = new MemoryIndex();
  const team = 'team:default/core', ann = 'user:default/ann';
  ix.put(item({ kind: 'Team', name: 'core', declared: [{ type: 'hasMember', target: ann }] }));
  assert.equal(ix.relationsOf(team), [{ type: 'hasMember', targetRef: ann, resolved: false }]);
  ix.put(item({ kind: 'User', name: 'ann', declared: [{ type: 'memberOf', target: team }] }));
  assert.equal(ix.relationsOf(team), [{ type: 'hasMember', targetRef: ann, resolved: true }], 'a write resolves the target');
  assert.equal(ix.view(ann)!.relations, [{ type: 'memberOf', targetRef: team, resolved: true }]);
  // The Team stops listing ann; ann still declares memberOf: the edge stays.
  ix.put(item({ kind: 'Team', name: 'core' }), { force: true });
  assert.equal(ix.relationsOf(team), [{ type: 'hasMember', targetRef: ann, resolved: true }]);
  ix.put(item({ kind: 'User', name: 'ann' }), { force: true });
  assert.equal(ix.relationsOf(team), []);
  assert.equal(ix.relationsOf(ann), []);
});

test('listing: filters, where paths (own fields only), orphaned, and a cursor', () => {
  const ix = new MemoryIndex();
  for (const n of ['c', 'a', 'b', 'd']) ix.put(item({ name: n, spec: { lifecycle: n < 'c' ? 'Production' : 'dev', langs: ['ts', 'go'] }, orphaned: n === 'd' }));
  ix.put(item({ kind: 'API', name: 'e' }));
  assert.equal(ix.list({ kind: 'SERVICE', limit: 2 }), { keys: ['service:default/a', 'service:default/b'], more: true });
  assert.equal(ix.list({ kind: 'service', limit: 2, after: 'service:default/b' }), { keys: ['service:default/c', 'service:default/d'], more: false });
  assert.equal(ix.list({ where: { 'spec.lifecycle': 'production' }, limit: 10 }).keys, ['service:default/a', 'service:default/b']);
  assert.equal(ix.list({ where: { 'spec.langs': 'GO' }, limit: 10 }).keys.length, 4, 'any element of an array');
  assert.equal(ix.list({ orphaned: true, limit: 10 }).keys, ['service:default/d']);
  assert.equal(ix.list({ where: { 'constructor.name': 'Object' }, limit: 10 }).keys, [], 'never the prototype');
  assert.equal(ix.list({ where: { 'metadata.__proto__': 'x' }, limit: 10 }).keys, []);
});

test('view and its JSON are rebuilt after any write (relations may have changed)', () => {
  const ix = new MemoryIndex();
  ix.put(item({ name: 'svc', declared: [{ type: 'dependsOn', target: 'service:default/db' }] }));
  const json1 = ix.viewJson('service:default/svc')!;
  assert.ok(json1.includes('"resolved":false'));
  ix.put(item({ name: 'db' }));
  assert.ok(ix.viewJson('service:default/svc')!.includes('"resolved":true'));
  assert.equal(ix.relationsOf('service:default/db'), [{ type: 'dependencyOf', targetRef: 'service:default/svc', resolved: true }]);
});

test.run();
