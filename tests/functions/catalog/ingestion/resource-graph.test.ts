// The Resource Graph poll through the real @azure/arm-resourcegraph client against the ARM sandbox.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { sandbox } from '../../../helpers/sandbox.ts';
import { armConfig, armRequest, resourceGraphClient } from '../../../../functions/platform/arm.ts';
import { pollResourceGraph, resourceGraphPort, tableCursors } from '../../../../functions/catalog/ingestion/resource-graph.ts';
import { azureResourceRef } from '../../../../functions/catalog/azure-ids.ts';
import { freshCatalog, freshTables } from '../fresh.ts';
import { loadConfig } from '../../../../functions/runtime/config.ts';

test('first poll reads the subscription; later polls apply only the changes, orphaning deleted resources', async () => {
  const sb = await sandbox();
  const cfg = armConfig(loadConfig(sb.env).arm);
  const put = async (id: string, body: unknown) => {
    const r = await armRequest('PUT', id, { apiVersion: '2021-04-01', body, cfg });
    if (r.status >= 300) throw new Error(`PUT ${id}: ${r.status} ${JSON.stringify(r.body)}`);
  };
  const sub = randomUUID();
  sb.state.addSubscription({ subscriptionId: sub, displayName: 'shop-prod' });
  const rg = `/subscriptions/${sub}/resourceGroups/rg-shop`;
  await put(rg, { location: 'westeurope', tags: { environment: 'prod' } });
  const web = `${rg}/providers/Microsoft.Web/sites/shop-web`;
  const db = `${rg}/providers/Microsoft.Sql/servers/shop-sql`;
  const kv = `${rg}/providers/Microsoft.KeyVault/vaults/shop-kv`;
  await put(web, { location: 'westeurope', tags: { environment: 'prod', team: 'Shop Team' }, properties: { sku: { name: 'P1v3' } } });
  await put(db, { location: 'westeurope', tags: { env: 'prod', owner: 'data' }, properties: {} });
  await put(kv, { location: 'westeurope', tags: {}, properties: {} });

  const catalog = await freshCatalog();
  const t = await freshTables();
  const cursors = await tableCursors({ storage: t.storage, table: t.entities });
  const graph = resourceGraphPort(resourceGraphClient(cfg));
  const scope = `/subscriptions/${sub}`;

  const first = await pollResourceGraph({ catalog, graph, cursors, scope });
  assert.is(first.mode, 'full');
  assert.equal(first.upserted.sort(), [azureResourceRef(web), azureResourceRef(db), azureResourceRef(kv)].sort());
  assert.equal(first.environments, ['environment:default/prod']);
  const site = await catalog.get(azureResourceRef(web));
  assert.equal([site?.metadata.title, site?.spec.type, site?.spec.region, site?.spec.sku, site?.spec.resourceGroup], ['shop-web', 'microsoft.web/sites', 'westeurope', 'P1v3', 'rg-shop']);
  assert.is(site?.metadata.namespace, sub);
  assert.equal([site?.status?.owner, site?.status?.ownerSource], ['team:default/shop-team', 'azure-tags']);
  assert.is((await catalog.get(azureResourceRef(db)))?.status?.owner, 'team:default/data');
  const env = await catalog.get('environment:default/prod');
  assert.equal([env?.spec.stage, env?.spec.subscription], ['production', sub]);
  assert.ok(env?.relations.some((r) => r.type === 'hosts' && r.targetRef === azureResourceRef(web) && r.resolved));
  assert.ok(site?.relations.some((r) => r.type === 'deployedTo' && r.targetRef === 'environment:default/prod' && r.resolved));

  // Behind Nexus's back: a tag changes, a resource is deleted, another one is created.
  sb.state.update(web, { tags: { environment: 'prod', team: 'Web Team' } }, 'someone@contoso');
  sb.state.delete(db, 'someone@contoso');
  const sa = `${rg}/providers/Microsoft.Storage/storageAccounts/shopsa`;
  await put(sa, { location: 'northeurope', tags: { environment: 'prod' }, properties: {} });

  const second = await pollResourceGraph({ catalog, graph, cursors, scope });
  assert.is(second.mode, 'delta');
  assert.equal(second.upserted.sort(), [azureResourceRef(web), azureResourceRef(sa)].sort(), 'only what changed');
  assert.equal(second.orphaned, [azureResourceRef(db)]);
  assert.is((await catalog.get(azureResourceRef(web)))?.status?.owner, 'team:default/web-team');
  const gone = await catalog.get(azureResourceRef(db), { consistent: true });
  assert.is(gone?.status?.orphaned, true, 'kept, marked orphaned');
  assert.is((await catalog.get(azureResourceRef(sa)))?.spec.region, 'northeurope');

  const third = await pollResourceGraph({ catalog, graph, cursors, scope });
  assert.equal([third.mode, third.upserted, third.orphaned], ['delta', [], []]);

  // The environment tag is removed: a delta poll drops spec.environment and both sides of deployedTo,
  // while what another writer added to the entity (merge) stays.
  await catalog.update(azureResourceRef(sa), (cur) => ({ ...cur, spec: { ...cur.spec, health: 'Available' } }), { name: 'azure-monitor' });
  assert.ok((await catalog.get(azureResourceRef(sa)))?.relations.some((r) => r.type === 'deployedTo'));
  sb.state.put(sa, { location: 'northeurope', tags: { team: 'Web Team' }, properties: {} }, 'someone@contoso');
  const fourth = await pollResourceGraph({ catalog, graph, cursors, scope });
  assert.equal([fourth.mode, fourth.upserted], ['delta', [azureResourceRef(sa)]]);
  const untagged = await catalog.get(azureResourceRef(sa));
  assert.is(untagged?.spec.environment, undefined);
  assert.equal(untagged?.spec.tags, { team: 'Web Team' });
  assert.is(untagged?.spec.health, 'Available');
  assert.ok(!untagged!.relations.some((r) => r.type === 'deployedTo'), JSON.stringify(untagged?.relations));
  assert.ok(!(await catalog.get('environment:default/prod'))!.relations.some((r) => r.type === 'hosts' && r.targetRef === azureResourceRef(sa)));
  assert.ok(!(await catalog.relations(azureResourceRef(sa))).some((r) => r.type === 'deployedTo'), 'the relations table agrees');
});

test.run();
