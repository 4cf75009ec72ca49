import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { azurite } from '../../../helpers/azurite.ts';
import { storageConfig } from '../../../../functions/platform/storage-config.ts';
import { Inbox } from '../../../../functions/catalog/inbox.ts';
import { catalogHandlers } from '../../../../functions/catalog/handlers.ts';
import { azureResourceRef } from '../../../../functions/catalog/azure-ids.ts';
import { freshCatalog } from '../fresh.ts';
import { fixture } from './fixture.ts';

async function pipeline() {
  const catalog = await freshCatalog();
  const storage = storageConfig({ connectionString: (await azurite()).connectionString });
  const inbox = await Inbox.open({ storage, table: `inc${randomBytes(4).toString('hex')}` });
  return { catalog, inbox, handlers: catalogHandlers({ catalog }) };
}

test('Azure Monitor common alert schema: fired, then resolved, affecting the target resource', async () => {
  const { catalog, inbox, handlers } = await pipeline();
  const target = '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-shop/providers/Microsoft.Web/sites/shop-web';
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'AzureResource', metadata: { ...refParts(azureResourceRef(target)) }, spec: { type: 'Microsoft.Web/sites' } }, { name: 'resource-graph' });
  await inbox.enqueue({ source: 'azure-monitor', deliveryId: 'am-1', event: 'alert', payload: fixture('incidents/azure-monitor-fired.json') });
  assert.equal(await inbox.drain(handlers), { done: 1, failed: 0, poisoned: 0, repeated: 0 });
  let inc = await catalog.get('incident:azure-monitor-b9569717-bc32-442f-add5-83a997729330');
  assert.equal([inc?.spec.severity, inc?.spec.status, inc?.spec.opened, inc?.spec.resolved], ['high', 'open', '2026-11-25T08:00:12.000Z', undefined]);
  assert.is(inc?.spec.summary, 'checkout-5xx: More than 5% of checkout requests fail');
  assert.ok(inc?.relations.some((r) => r.type === 'affects' && r.targetRef === azureResourceRef(target) && r.resolved));
  assert.ok((await catalog.get(azureResourceRef(target)))?.relations.some((r) => r.type === 'affectedBy' && r.targetRef === 'incident:default/azure-monitor-b9569717-bc32-442f-add5-83a997729330'));
  await inbox.enqueue({ source: 'azure-monitor', deliveryId: 'am-2', event: 'alert', payload: fixture('incidents/azure-monitor-resolved.json') });
  await inbox.drain(handlers);
  inc = await catalog.get('incident:azure-monitor-b9569717-bc32-442f-add5-83a997729330');
  assert.equal([inc?.spec.status, inc?.spec.resolved], ['resolved', '2026-11-25T08:41:00.000Z']);
});

test('PagerDuty v3: priority to severity, service and team from the incident', async () => {
  const { catalog, inbox, handlers } = await pipeline();
  await inbox.enqueue({ source: 'pagerduty', deliveryId: '01DEN3KQ5X9J4L2ZC3CJ8HZ1PA', event: 'incident.triggered', payload: fixture('incidents/pagerduty-triggered.json') });
  await inbox.drain(handlers);
  let inc = await catalog.get('incident:pagerduty-PGR0VU2');
  assert.equal([inc?.spec.severity, inc?.spec.status, inc?.spec.url], ['critical', 'open', 'https://acme.pagerduty.com/incidents/PGR0VU2']);
  assert.is(inc?.status?.owner, 'team:default/payments-team');
  assert.ok(inc?.relations.some((r) => r.type === 'affects' && r.targetRef === 'service:default/payments-api' && !r.resolved));
  await inbox.enqueue({ source: 'pagerduty', deliveryId: '01DEN3KQ5X9J4L2ZC3CJ8HZ1PB', event: 'incident.resolved', payload: fixture('incidents/pagerduty-resolved.json') });
  await inbox.drain(handlers);
  inc = await catalog.get('incident:pagerduty-PGR0VU2');
  assert.equal([inc?.spec.status, inc?.spec.resolved], ['resolved', '2026-11-25T09:12:00.000Z']);
  // The affected service arrives later: the relation resolves.
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'Service', metadata: { name: 'payments-api' }, spec: {} }, { name: 'api' });
  assert.ok((await catalog.get('service:payments-api'))?.relations.some((r) => r.type === 'affectedBy' && r.targetRef === 'incident:default/pagerduty-pgr0vu2' && r.resolved));
});

test('Opsgenie alert webhook: P2 is high, epoch times read, entity and service tags affected', async () => {
  const { catalog, inbox, handlers } = await pipeline();
  await inbox.enqueue({ source: 'opsgenie', deliveryId: 'og-1', event: 'Create', payload: fixture('incidents/opsgenie-create.json') });
  await inbox.drain(handlers);
  const [inc] = (await catalog.list({ kind: 'Incident', limit: 5 })).items as Array<{ spec: Record<string, unknown>; relations: Array<{ type: string; targetRef: string }> }>;
  assert.equal([inc!.spec.severity, inc!.spec.status, inc!.spec.opened], ['high', 'open', '2025-11-25T08:00:00.000Z']);
  assert.equal(inc!.relations.filter((r) => r.type === 'affects').map((r) => r.targetRef), ['service:default/orders', 'service:default/orders-db']);
});

test('a payload that is not what the source sends fails the delivery with a reason, and stores nothing', async () => {
  const { catalog, inbox, handlers } = await pipeline();
  await inbox.enqueue({ source: 'azure-monitor', deliveryId: 'bad-1', event: 'alert', payload: { hello: 'world' } });
  assert.equal(await inbox.drain(handlers), { done: 0, failed: 1, poisoned: 0, repeated: 0 });
  assert.match((await inbox.status('azure-monitor', 'bad-1'))!.error!, /common alert schema/);
  assert.is(catalog.index.size, 0);
});

function refParts(key: string) {
  const m = /^[a-z]+:([^/]+)\/(.+)$/.exec(key)!;
  return { namespace: m[1]!, name: m[2]! };
}

test.run();
