import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freshCatalog } from '../fresh.ts';
import { fixture } from './fixture.ts';
import { handleAzureDevOpsEvent } from '../../../../functions/catalog/ingestion/azure-devops.ts';

test('build.complete updates the Pipeline with the last run', async () => {
  const catalog = await freshCatalog();
  const out = await handleAzureDevOpsEvent(catalog, { deliveryId: 'n-1', payload: fixture('azure-devops/build-complete.json') });
  assert.equal(out.upserted, ['pipeline:fabrikam-web/fabrikam-web-ci']);
  const p = await catalog.get('pipeline:fabrikam-web/fabrikam-web-ci');
  assert.is(p?.metadata.title, 'Fabrikam Web CI');
  assert.is(p?.spec.provider, 'azure-pipelines');
  assert.is(p?.spec.definitionId, '42');
  assert.equal(p?.spec.lastRun, {
    id: '2727068', status: 'completed', result: 'succeeded', branch: 'main', sha: 'b3c2a1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4',
    at: '2026-11-25T08:14:41.9Z', url: 'https://dev.azure.com/fabrikam/Fabrikam%20Web/_build/results?buildId=2727068', number: '20261125.3',
  });
  assert.is(p?.status?.source.name, 'azure-devops');
  assert.is(p?.status?.source.ref, 'n-1');
});

test('a completed release deployment updates its Pipeline, which deploys to the Environment (both ways)', async () => {
  const catalog = await freshCatalog();
  await handleAzureDevOpsEvent(catalog, { deliveryId: 'n-2', payload: fixture('azure-devops/release-deployment-completed.json') });
  const p = await catalog.get('pipeline:fabrikam-web/fabrikam-web-cd');
  assert.is(p?.spec.provider, 'azure-releases');
  assert.is((p?.spec.lastRun as { result: string }).result, 'succeeded');
  assert.is((p?.spec.lastRun as { number: string }).number, 'Release-17');
  assert.ok(p?.relations.some((r) => r.type === 'deployedTo' && r.targetRef === 'environment:fabrikam-web/production' && r.resolved));
  const env = await catalog.get('environment:fabrikam-web/production');
  assert.is(env?.spec.stage, 'production');
  assert.ok(env?.relations.some((r) => r.type === 'hosts' && r.targetRef === 'pipeline:fabrikam-web/fabrikam-web-cd'));
});

test('work item created then updated: one WorkItem with type, state, sprint and assignee', async () => {
  const catalog = await freshCatalog();
  await handleAzureDevOpsEvent(catalog, { deliveryId: 'n-3', payload: fixture('azure-devops/workitem-created.json') });
  let wi = await catalog.get('workitem:fabrikam-web/wi-5');
  assert.equal([wi?.spec.type, wi?.spec.state, wi?.spec.sprint, wi?.spec.assignee, wi?.spec.priority], ['Bug', 'New', 'Sprint 7', undefined, 1]);
  assert.is(wi?.spec.url, 'https://dev.azure.com/fabrikam/Fabrikam%20Web/_workitems/edit/5');
  await handleAzureDevOpsEvent(catalog, { deliveryId: 'n-4', payload: fixture('azure-devops/workitem-updated.json') });
  wi = await catalog.get('workitem:fabrikam-web/wi-5');
  assert.equal([wi?.spec.state, wi?.spec.assignee, wi?.metadata.title], ['Active', 'Omar Khan', 'Checkout fails with a 500']);
  assert.is((await catalog.search('checkout fails')).items[0]?.entity.metadata.name, 'wi-5');
  const deleted = { ...fixture('azure-devops/workitem-created.json'), eventType: 'workitem.deleted' };
  const out = await handleAzureDevOpsEvent(catalog, { deliveryId: 'n-5', payload: deleted });
  assert.equal(out.orphaned, ['workitem:fabrikam-web/wi-5']);
});

test('events that are not about the catalog are skipped, not failed', async () => {
  const catalog = await freshCatalog();
  const out = await handleAzureDevOpsEvent(catalog, { deliveryId: 'n-6', payload: { eventType: 'git.push', resource: {} } });
  assert.equal(out.skipped, ['git.push: not a catalog event']);
  assert.is(catalog.index.size, 0);
});

test.run();
