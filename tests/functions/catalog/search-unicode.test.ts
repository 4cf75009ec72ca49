// Search finds text of every script, and a query that matches nothing returns nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freshCatalog } from './fresh.ts';

const workItem = (name: string, title: string) => ({
  apiVersion: 'nexus/v1', kind: 'WorkItem', metadata: { name, title }, spec: { provider: 'azure-devops', state: 'Active', type: 'Bug', title },
});

test('a work item titled in Chinese is found by its title and by part of it; unmatched text finds nothing', async () => {
  const catalog = await freshCatalog();
  await catalog.upsert(workItem('wi-7', '结账页面支付失败'), { name: 'test' });
  await catalog.upsert(workItem('wi-8', 'Zahlung für Müller schlägt fehl'), { name: 'test' });
  await catalog.upsert(workItem('wi-9', 'Checkout fails'), { name: 'test' });
  const names = async (q: string) => (await catalog.search(q)).items.map((h) => h.entity.metadata.name);
  assert.equal(await names('结账页面支付失败'), ['wi-7']);
  assert.equal(await names('支付失败'), ['wi-7']);
  assert.equal(await names('支'), ['wi-7']);
  assert.equal(await names('müller'), ['wi-8']);
  assert.equal(await names('MÜLLER schlägt'), ['wi-8']);
  // Only characters nothing has: nothing, not the whole catalog with score 0.
  for (const q of ['ü', '東京', 'ß', '!!!']) {
    const res = await catalog.search(q);
    assert.is(res.total, 0, q);
    assert.equal(res.items, [], q);
  }
  // Filters alone still list.
  assert.is((await catalog.search('kind:workitem')).total, 3);
});

test.run();
