// What the catalog keeps between reads (relations, an entity's JSON, search results and their JSON)
// is dropped by the next write, so a read after a write always sees it; search hits are summaries.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freshCatalog } from './fresh.ts';

const api = { name: 'api', actor: 'tester' };

function service(name: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) {
  return { apiVersion: 'nexus/v1', kind: 'Service', metadata: { name, ...metadata }, spec: { lifecycle: 'production', ...spec } };
}

test('GET after a write: new relations, resolved targets and changed fields show at once', async () => {
  const catalog = await freshCatalog();
  await catalog.upsert(service('orders', { owner: 'shop', dependsOn: ['service:stock'] }, { tags: ['java'] }), api);
  const before = JSON.parse((await catalog.getJson('service:orders'))!.json);
  assert.equal(before.relations.find((r: { targetRef: string }) => r.targetRef === 'service:default/stock'), { type: 'dependsOn', targetRef: 'service:default/stock', resolved: false });
  assert.is((await catalog.getJson('service:orders'))!.json, JSON.stringify(before), 'read twice, the same document');

  // Another entity's write resolves the relation and adds one in the other direction.
  await catalog.upsert(service('stock', { owner: 'shop' }), api);
  await catalog.upsert(service('billing', { owner: 'shop', dependsOn: ['service:orders'] }), api);
  const after = JSON.parse((await catalog.getJson('service:orders'))!.json);
  assert.ok(after.relations.some((r: { type: string; targetRef: string; resolved: boolean }) => r.targetRef === 'service:default/stock' && r.resolved));
  assert.ok(after.relations.some((r: { type: string; targetRef: string }) => r.type === 'dependencyOf' && r.targetRef === 'service:default/billing'));

  // Its own change: the new field and the new ETag.
  const written = await catalog.upsert(service('orders', { owner: 'shop', dependsOn: ['service:stock'], tier: 'gold' }, { tags: ['java'] }), api);
  const got = (await catalog.getJson('service:orders'))!;
  assert.is(JSON.parse(got.json).spec.tier, 'gold');
  assert.is(got.etag, written.metadata.etag);
  assert.equal(JSON.parse(got.json), await catalog.get('service:orders'));

  await catalog.delete('service:orders');
  assert.is(await catalog.getJson('service:orders'), undefined);
  assert.is(await catalog.getJson('not a ref!'), undefined);
});

test('search: summaries, results and their JSON renewed by writes, facets counted over all matches', async () => {
  const catalog = await freshCatalog();
  await catalog.upsert(service('ledger-core', { owner: 'finance', system: 'money' }, { description: 'the ledger', tags: ['java', 'pci', 'tier-1'] }), api);
  await catalog.upsert(service('ledger-ui', { owner: 'finance' }, { tags: ['node'] }), api);
  const first = await catalog.search('ledger');
  assert.is(first.total, 2);
  const hit = first.items.find((h) => h.entity.metadata.name === 'ledger-core')!;
  // A hit is enough to list and link the entity; the whole of it is one GET away.
  assert.equal(hit.entity, {
    apiVersion: 'nexus/v1', kind: 'Service',
    metadata: { name: 'ledger-core', namespace: 'default', description: 'the ledger', tags: ['java', 'pci', 'tier-1'], etag: (await catalog.get('service:ledger-core'))!.metadata.etag },
    spec: { owner: 'finance', type: 'service', lifecycle: 'production' },
    status: { owner: 'team:default/finance' },
  });
  assert.equal(first.facets.tag, { java: 1, node: 1, pci: 1, 'tier-1': 1 });
  assert.equal(first.facets.owner, { 'team:default/finance': 2 });
  assert.equal(await catalog.search('tag:tier-1 ledger').then((r) => r.items.map((h) => h.entity.metadata.name)), ['ledger-core']);
  const json = await catalog.searchJson('ledger');
  assert.equal(JSON.parse(json), first);

  await catalog.upsert(service('ledger-api', { owner: 'payments' }, { tags: ['go'] }), api);
  const second = await catalog.search('ledger');
  assert.is(second.total, 3);
  assert.equal(second.facets.owner, { 'team:default/finance': 2, 'team:default/payments': 1 });
  assert.is(JSON.parse(await catalog.searchJson('ledger')).total, 3);
  // Equal scores are listed by name.
  assert.equal(second.items.map((h) => h.entity.metadata.name), ['ledger-api', 'ledger-core', 'ledger-ui']);
  assert.equal(second.items.map((h) => h.score), [15, 15, 15]);

  await catalog.delete('service:ledger-core');
  const third = await catalog.search('ledger');
  assert.equal(third.items.map((h) => h.entity.metadata.name), ['ledger-api', 'ledger-ui']);
  assert.equal(third.facets.tag, { go: 1, node: 1 });
  assert.is((await catalog.search('tag:pci ledger')).total, 0);
});

test('search keeps the best offset+limit of many equal and unequal scores, in order', async () => {
  const catalog = await freshCatalog();
  const names = Array.from({ length: 40 }, (_, i) => `node-${String(i).padStart(2, '0')}`);
  await catalog.bulkUpsert(names.map((n, i) => service(n, { owner: 'web' }, i % 3 === 0 ? { title: 'Edge node' } : { description: 'a node' })), api);
  const all = await catalog.search('node', { limit: 40 });
  const pages = [...(await catalog.search('node', { limit: 7 })).items, ...(await catalog.search('node', { limit: 7, offset: 7 })).items];
  assert.equal(pages.map((h) => h.entity.metadata.name), all.items.slice(0, 14).map((h) => h.entity.metadata.name));
  for (let i = 1; i < all.items.length; i++) {
    const [a, b] = [all.items[i - 1]!, all.items[i]!];
    assert.ok(a.score > b.score || (a.score === b.score && a.entity.metadata.name < b.entity.metadata.name), `${a.entity.metadata.name} before ${b.entity.metadata.name}`);
  }
  assert.is(all.total, 40);
});

test.run();
