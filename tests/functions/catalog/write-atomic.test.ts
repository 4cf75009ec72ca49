// A write whose relation rows fail part-way (storage refuses them) leaves nothing half-written:
// the entity row is taken back to what it was, and no relation row of the failed write stays.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freshTables } from './fresh.ts';
import { CatalogService } from '../../../functions/catalog/service.ts';

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

test.run();
