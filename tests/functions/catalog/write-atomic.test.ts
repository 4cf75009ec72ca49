// A write whose relation rows fail part-way (storage refuses them) leaves nothing half-written:
// the entity row is taken back to what it was, and no relation row of the failed write stays.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freshTables } from './fresh.ts';
import { CatalogService, PartialWriteError } from '../../../functions/catalog/service.ts';

const svc = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'nexus/v1', kind: 'Service', metadata: { name }, spec: { owner: 'team:ops', ...spec } });

test('relation rows that cannot be written take the entity row back', async () => {
  const t = await freshTables();
  const catalog = await CatalogService.open({ storage: t.storage, tables: { entities: t.entities, relations: t.relations } });
  await catalog.upsert(svc('kept', { lifecycle: 'production' }), { name: 'test' });
  const before = await catalog.get('service:default/kept', { consistent: true });

  // The relations table goes away under the service: every relation write now fails.
  await t.storage.tableService().deleteTable(t.relations);
  const changed = catalog.upsert(svc('kept', { lifecycle: 'retired', dependsOn: ['service:other'] }), { name: 'test' });
  await changed.then(() => assert.unreachable('the write should fail'), (err) => assert.ok(err instanceof Error));
  const created = catalog.upsert(svc('fresh', { dependsOn: ['service:kept'] }), { name: 'test' });
  await created.then(() => assert.unreachable('the write should fail'), (err) => assert.ok(err instanceof Error));

  // The table says what it said before the failed writes.
  const reopened = await CatalogService.open({ storage: t.storage, tables: { entities: t.entities, relations: t.relations } });
  const after = await reopened.get('service:default/kept', { consistent: true });
  assert.is(after?.spec.lifecycle, 'production');
  assert.equal(after?.spec.dependsOn, undefined);
  assert.is(after?.status?.lastSeen, before?.status?.lastSeen);
  assert.is(await reopened.get('service:default/fresh', { consistent: true }), undefined);
  // And this instance's index was never changed.
  assert.is((await catalog.get('service:default/kept'))?.spec.lifecycle, 'production');
  assert.is(await catalog.get('service:default/fresh'), undefined);
});

test('update() and writeAll() take their rows back the same way', async () => {
  const t = await freshTables();
  const catalog = await CatalogService.open({ storage: t.storage, tables: { entities: t.entities, relations: t.relations } });
  await catalog.upsert(svc('a', { lifecycle: 'production' }), { name: 'test' });
  await catalog.upsert(svc('b', { lifecycle: 'production' }), { name: 'test' });
  await t.storage.tableService().deleteTable(t.relations);

  await catalog.update('service:default/a', (cur) => ({ ...cur, spec: { ...cur.spec, lifecycle: 'retired', dependsOn: ['service:x'] } }), { name: 'test' })
    .then(() => assert.unreachable('the update should fail'), (err) => assert.ok(err instanceof Error));
  // An import of three (two changed, one new) in one transaction.
  const items = [svc('a', { dependsOn: ['service:x'] }), svc('b', { lifecycle: 'retired' }), svc('c', { dependsOn: ['service:a'] })]
    .map((input) => ({ input, source: { name: 'test' } }));
  const err = await catalog.writeAll(items).then(() => undefined, (e) => e);
  assert.ok(err instanceof PartialWriteError, String(err));
  assert.equal((err as PartialWriteError).written, []);
  assert.equal((err as PartialWriteError).notWritten.sort(), ['service:default/a', 'service:default/b', 'service:default/c']);

  const reopened = await CatalogService.open({ storage: t.storage, tables: { entities: t.entities, relations: t.relations } });
  for (const name of ['a', 'b']) {
    const e = await reopened.get(`service:default/${name}`, { consistent: true });
    assert.is(e?.spec.lifecycle, 'production', name);
    assert.equal(e?.spec.dependsOn, undefined, name);
  }
  assert.is(await reopened.get('service:default/c', { consistent: true }), undefined);
});

test.run();
