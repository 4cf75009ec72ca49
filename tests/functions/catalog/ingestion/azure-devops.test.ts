import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freshCatalog, freshTables } from '../fresh.ts';
import { fixture } from './fixture.ts';
import { handleAzureDevOpsEvent } from '../../../../functions/catalog/ingestion/azure-devops.ts';
import { CatalogService } from '../../../../functions/catalog/service.ts';
import { Inbox } from '../../../../functions/catalog/inbox.ts';
import { catalogHandlers } from '../../../../functions/catalog/handlers.ts';

type Run = { id: string; status: string; result?: string; branch?: string; sha?: string; at?: string; url?: string; number?: string };
const lastRun = async (catalog: CatalogService, key: string) => (await catalog.get(key))?.spec.lastRun as Run | undefined;
const CD = 'pipeline:fabrikam-web/fabrikam-web-cd';

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
  const junk = await handleAzureDevOpsEvent(catalog, { deliveryId: 'n-7', event: 'build.complete', payload: [1, 2] });
  assert.equal(junk.skipped, ['build.complete: the payload is not a service hook notification (a JSON object with eventType and resource)']);
  const empty = await handleAzureDevOpsEvent(catalog, { deliveryId: 'n-8', payload: { eventType: 'workitem.updated', resource: { workItemId: 0 } } });
  assert.equal(empty.skipped, ['workitem.updated: no work item id (resource.revision.id or resource.workItemId); nothing written']);
  assert.is(catalog.index.size, 0);
});


// ---- 14: each release event means what it says --------------------------------------------------

test('deployment started: the Pipeline has an in-progress run of that release; no result, no default Environment', async () => {
  const catalog = await freshCatalog();
  const out = await handleAzureDevOpsEvent(catalog, { deliveryId: 'r-1', payload: fixture('azure-devops/release-deployment-started.json') });
  assert.equal(out.skipped, []);
  const run = await lastRun(catalog, CD);
  assert.equal(run, {
    id: '18-61', status: 'inProgress', at: '2026-11-25T10:00:02.157Z', number: 'Release-18',
    url: 'https://dev.azure.com/fabrikam/Fabrikam%20Web/_release?releaseId=18&_a=release-summary',
  });
  assert.ok(await catalog.get('environment:fabrikam-web/production'));
  assert.is(await catalog.get('environment:fabrikam-web/default'), undefined);
  assert.equal((await catalog.get(CD))?.spec.deploysTo, ['environment:fabrikam-web/production']);
});

test('approval pending: a run waiting for approval, not a completed run of result unknown', async () => {
  const catalog = await freshCatalog();
  await handleAzureDevOpsEvent(catalog, { deliveryId: 'r-2', payload: fixture('azure-devops/release-deployment-approval-pending.json') });
  assert.equal(await lastRun(catalog, CD), { id: '18-61', status: 'pendingApproval', at: '2026-11-25T10:00:05.31Z', number: 'Release-18' });
  assert.is(await catalog.get('environment:fabrikam-web/default'), undefined);
  assert.is(await catalog.get('pipeline:fabrikam-web/release-undefined'), undefined);
  assert.is((await catalog.get('environment:fabrikam-web/production'))?.spec.stage, 'production');
});

test('a started or pending event delivered after the completion of the same deployment leaves the result', async () => {
  const catalog = await freshCatalog();
  await handleAzureDevOpsEvent(catalog, { deliveryId: 'r-3', payload: fixture('azure-devops/release-deployment-completed-deployment.json') });
  const started = await handleAzureDevOpsEvent(catalog, { deliveryId: 'r-4', payload: fixture('azure-devops/release-deployment-started.json') });
  const pending = await handleAzureDevOpsEvent(catalog, { deliveryId: 'r-5', payload: fixture('azure-devops/release-deployment-approval-pending.json') });
  const run = await lastRun(catalog, CD);
  assert.is(run?.status, 'completed');
  assert.is(run?.result, 'succeeded');
  assert.equal(started.upserted, ['environment:fabrikam-web/production']);
  assert.match(started.skipped[0]!, /not newer than the stored run 18-61 \(completed succeeded/);
  assert.match(pending.skipped[0]!, /not newer than the stored run/);
});

test('a late event of an earlier stage keeps the newer run but records the stage the pipeline deploys to', async () => {
  const catalog = await freshCatalog();
  await handleAzureDevOpsEvent(catalog, { deliveryId: 'r-12', payload: fixture('azure-devops/release-deployment-completed-deployment.json') });
  const staging = fixture('azure-devops/release-deployment-started.json');
  Object.assign(staging.resource.environment, { id: 60, name: 'Staging' });
  staging.createdDate = '2026-11-25T09:58:50Z';
  const out = await handleAzureDevOpsEvent(catalog, { deliveryId: 'r-13', payload: staging });
  const p = await catalog.get(CD);
  assert.equal(p?.spec.deploysTo, ['environment:fabrikam-web/production', 'environment:fabrikam-web/staging']);
  assert.equal([(p?.spec.lastRun as Run).id, (p?.spec.lastRun as Run).result], ['18-61', 'succeeded']);
  assert.match(out.skipped[0]!, /run 18-60 \(inProgress at 2026-11-25T09:58:50Z\) is not newer .*; only the stage it deploys to was recorded$/);
});

test('a later deployment that starts replaces the completed run of an earlier one', async () => {
  const catalog = await freshCatalog();
  await handleAzureDevOpsEvent(catalog, { deliveryId: 'r-6', payload: fixture('azure-devops/release-deployment-completed-deployment.json') });
  const next = fixture('azure-devops/release-deployment-started.json');
  next.resource.environment.release = { id: 19, name: 'Release-19' };
  next.createdDate = '2026-11-25T11:00:00Z';
  await handleAzureDevOpsEvent(catalog, { deliveryId: 'r-7', payload: next });
  assert.equal(await lastRun(catalog, CD), { id: '19-61', status: 'inProgress', at: '2026-11-25T11:00:00Z', number: 'Release-19' });
});

// ---- 15: the release definition and no invented names -------------------------------------------

test("Microsoft's deployment-completed shape: the definition is resource.deployment.releaseDefinition", async () => {
  const catalog = await freshCatalog();
  const out = await handleAzureDevOpsEvent(catalog, { deliveryId: 'r-8', payload: fixture('azure-devops/release-deployment-completed-deployment.json') });
  assert.equal(out.upserted.sort(), ['environment:fabrikam-web/production', CD]);
  assert.is(await catalog.get('pipeline:fabrikam-web/release-undefined'), undefined);
  const p = await catalog.get(CD);
  assert.is(p?.metadata.title, 'Fabrikam Web CD');
  assert.is(p?.spec.definitionId, '1');
  assert.is(p?.spec.url, 'https://dev.azure.com/fabrikam/Fabrikam%20Web/_release?definitionId=1');
  assert.equal(p?.spec.lastRun, {
    id: '18-61', status: 'completed', result: 'succeeded', at: '2026-11-25T10:05:21.6Z', number: 'Release-18',
    url: 'https://dev.azure.com/fabrikam/Fabrikam%20Web/_releaseProgress?releaseId=18&_a=release-pipeline-progress',
  });
  assert.ok(p?.relations.some((r) => r.type === 'deployedTo' && r.targetRef === 'environment:fabrikam-web/production' && r.resolved));
});

test('a release event without a definition name or project is skipped naming the field; nothing invented', async () => {
  const catalog = await freshCatalog();
  const noDef = fixture('azure-devops/release-deployment-completed-deployment.json');
  delete noDef.resource.deployment.releaseDefinition;
  const a = await handleAzureDevOpsEvent(catalog, { deliveryId: 'r-9', payload: noDef });
  assert.match(a.skipped[0]!, /^ms\.vss-release\.deployment-completed-event: no release definition name \(resource\.deployment\.releaseDefinition\.name/);
  const noProject = fixture('azure-devops/release-deployment-approval-pending.json');
  delete noProject.resource.project;
  const b = await handleAzureDevOpsEvent(catalog, { deliveryId: 'r-10', payload: noProject });
  assert.match(b.skipped[0]!, /no project name \(resource\.project\.name\)/);
  const noStage = fixture('azure-devops/release-deployment-completed-deployment.json');
  delete noStage.resource.deployment.releaseEnvironment;
  delete noStage.resource.environment.name;
  const c = await handleAzureDevOpsEvent(catalog, { deliveryId: 'r-11', payload: noStage });
  assert.equal(c.upserted, [CD]);
  assert.match(c.findings?.[0] ?? '', /names no stage \(resource\.environment\.name\)/);
  assert.equal(catalog.index.keysWhere((i) => /default|undefined|^[a-z]+:[^/]+\/x$/.test(i.key)), []);
  assert.equal(catalog.index.keysWhere(() => true), [CD]);
});

// ---- 16: work item ids and links, the 1.0 build format -----------------------------------------

test("workitem.updated with workItemId 0 (Microsoft's sample) updates the item its revision names", async () => {
  const catalog = await freshCatalog();
  await handleAzureDevOpsEvent(catalog, { deliveryId: 'w-1', payload: fixture('azure-devops/workitem-created.json') });
  const out = await handleAzureDevOpsEvent(catalog, { deliveryId: 'w-2', payload: fixture('azure-devops/workitem-updated-sample.json') });
  assert.equal(out.upserted, ['workitem:fabrikam-web/wi-5']);
  assert.is(await catalog.get('workitem:fabrikam-web/wi-0'), undefined);
  const wi = await catalog.get('workitem:fabrikam-web/wi-5');
  // The update's new values, over the revision's fields: resolved, unassigned, priority 2, sprint 8.
  assert.equal([wi?.spec.state, wi?.spec.assignee, wi?.spec.priority, wi?.spec.sprint], ['Resolved', undefined, 2, 'Sprint 8']);
  assert.is(wi?.spec.url, 'https://dev.azure.com/fabrikam/Fabrikam%20Web/_workitems/edit/5');
  assert.is(wi?.metadata.annotations?.['dev.azure.com/rev'], '3');
});

test('work item links are the browser links the payload carries, never the REST url', async () => {
  const catalog = await freshCatalog();
  await handleAzureDevOpsEvent(catalog, { deliveryId: 'w-3', payload: fixture('azure-devops/workitem-updated.json') });
  // This update has a revision without _links: the REST url is not taken instead.
  const wi = await catalog.get('workitem:fabrikam-web/wi-5');
  assert.is(wi?.spec.state, 'Active');
  assert.is(wi?.spec.url, undefined);
  const withLink = fixture('azure-devops/workitem-updated.json');
  withLink.resource.rev = 3;
  withLink.resource.revision.rev = 3;
  withLink.resource.revision._links = { html: { href: 'https://dev.azure.com/fabrikam/Fabrikam%20Web/_workitems/edit/5' } };
  await handleAzureDevOpsEvent(catalog, { deliveryId: 'w-4', payload: withLink });
  assert.is((await catalog.get('workitem:fabrikam-web/wi-5'))?.spec.url, 'https://dev.azure.com/fabrikam/Fabrikam%20Web/_workitems/edit/5');
});

test('build.complete in the 1.0 format keeps result, branch and commit (project from an earlier event of its id)', async () => {
  const catalog = await freshCatalog();
  const alone = await handleAzureDevOpsEvent(catalog, { deliveryId: 'b-1', payload: fixture('azure-devops/build-complete-legacy.json') });
  assert.match(alone.skipped[0]!, /^build\.complete: no project name \(resource\.project\.name\), and project 6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c is not known/);
  assert.is(catalog.index.size, 0);
  // The work item update carries both the project's id and its name.
  await handleAzureDevOpsEvent(catalog, { deliveryId: 'b-2', payload: fixture('azure-devops/workitem-updated-sample.json') });
  const out = await handleAzureDevOpsEvent(catalog, { deliveryId: 'b-3', payload: fixture('azure-devops/build-complete-legacy.json') });
  assert.equal(out.upserted, ['pipeline:fabrikam-web/fabrikam-legacy']);
  assert.equal(await lastRun(catalog, 'pipeline:fabrikam-web/fabrikam-legacy'), {
    id: '3104', status: 'completed', result: 'succeeded', branch: 'release/2026.11', sha: '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432',
    at: '2026-11-25T11:06:10.69Z', number: 'FabrikamLegacy_20261125.2',
  });
});

// ---- 17: an older event never overwrites a newer one ------------------------------------------

test('a late, older work item revision does not overwrite a newer one; a created event after updates neither', async () => {
  const catalog = await freshCatalog();
  await handleAzureDevOpsEvent(catalog, { deliveryId: 'o-1', payload: fixture('azure-devops/workitem-updated-sample.json') });
  const older = await handleAzureDevOpsEvent(catalog, { deliveryId: 'o-2', payload: fixture('azure-devops/workitem-updated.json') });
  const created = await handleAzureDevOpsEvent(catalog, { deliveryId: 'o-3', payload: fixture('azure-devops/workitem-created.json') });
  assert.is((await catalog.get('workitem:fabrikam-web/wi-5'))?.spec.state, 'Resolved');
  assert.equal(older.upserted, []);
  assert.match(older.skipped[0]!, /revision 2 of work item 5 is not newer than the stored revision 3/);
  assert.match(created.skipped[0]!, /revision 1 of work item 5 is not newer than the stored revision 3/);
});

test('an update delivered after the deletion of its revision does not bring the item back; a restore does', async () => {
  const catalog = await freshCatalog();
  const key = 'workitem:fabrikam-web/wi-5';
  await handleAzureDevOpsEvent(catalog, { deliveryId: 'd-1', payload: fixture('azure-devops/workitem-created.json') });
  const deleted = fixture('azure-devops/workitem-created.json');
  Object.assign(deleted, { eventType: 'workitem.deleted', createdDate: '2026-11-25T12:31:00Z' });
  deleted.resource.rev = 3;
  assert.equal((await handleAzureDevOpsEvent(catalog, { deliveryId: 'd-2', payload: deleted })).orphaned, [key]);
  // The update of revision 3 was raised before the deletion but arrives after it.
  const late = await handleAzureDevOpsEvent(catalog, { deliveryId: 'd-3', payload: fixture('azure-devops/workitem-updated-sample.json') });
  assert.match(late.skipped[0]!, /revision 3 of work item 5 is not newer than the stored revision 3/);
  assert.is((await catalog.get(key))?.status?.orphaned, true);
  const restored = structuredClone(deleted);
  restored.eventType = 'workitem.restored';
  assert.equal((await handleAzureDevOpsEvent(catalog, { deliveryId: 'd-4', payload: restored })).upserted, [key]);
  assert.not.ok((await catalog.get(key))?.status?.orphaned);
});

test('a late build.complete of an earlier build does not replace the last run', async () => {
  const catalog = await freshCatalog();
  const newer = fixture('azure-devops/build-complete.json');
  const older = fixture('azure-devops/build-complete.json');
  Object.assign(older.resource, { id: 2727060, buildNumber: '20261125.2', result: 'failed', finishTime: '2026-11-25T07:50:00Z' });
  await handleAzureDevOpsEvent(catalog, { deliveryId: 'o-4', payload: newer });
  const out = await handleAzureDevOpsEvent(catalog, { deliveryId: 'o-5', payload: older });
  const run = await lastRun(catalog, 'pipeline:fabrikam-web/fabrikam-web-ci');
  assert.equal([run?.id, run?.result], ['2727068', 'succeeded']);
  assert.match(out.skipped[0]!, /run 2727060 .* is not newer than the stored run 2727068/);
});

test('two instances applying revisions 2..7 concurrently end at revision 7 (ETag-pinned writes)', async () => {
  // Two services over the same tables: two processes, each with its own index.
  const t = await freshTables();
  const open = () => CatalogService.open({ storage: t.storage, tables: { entities: t.entities, relations: t.relations } });
  const [a, b] = await Promise.all([open(), open()]);
  const base = fixture('azure-devops/workitem-updated-sample.json');
  const payload = (rev: number) => {
    const p = structuredClone(base);
    p.resource.rev = rev;
    p.resource.revision.rev = rev;
    p.resource.revision.fields['System.Title'] = `Checkout fails (rev ${rev})`;
    return p;
  };
  const revs = [7, 3, 6, 2, 5, 4];
  await Promise.all(revs.map((rev, i) => handleAzureDevOpsEvent(i % 2 ? a : b, { deliveryId: `c-${rev}`, payload: payload(rev) })));
  for (const catalog of [a, b]) {
    const wi = await catalog.get('workitem:fabrikam-web/wi-5', { consistent: true });
    assert.is(wi?.metadata.annotations?.['dev.azure.com/rev'], '7');
    assert.is(wi?.spec.title, 'Checkout fails (rev 7)');
  }
});

// ---- 18: events Nexus does not handle are recorded as skipped -----------------------------------

test('git.push and tfvc.checkin are skipped with the reason, visible on the delivery read back', async () => {
  const catalog = await freshCatalog();
  const push = await handleAzureDevOpsEvent(catalog, { deliveryId: 's-1', payload: fixture('azure-devops/git-push.json') });
  assert.equal(push.skipped, ['git.push: not a catalog event']);
  const { azurite } = await import('../../../helpers/azurite.ts');
  const { storageConfig } = await import('../../../../functions/platform/storage-config.ts');
  const id = Math.random().toString(16).slice(2, 10);
  const inbox = await Inbox.open({ storage: storageConfig({ connectionString: (await azurite()).connectionString }), table: `adodlv${id}`, container: `adodlv${id}` });
  for (const [deliveryId, file] of [['s-2', 'git-push.json'], ['s-3', 'tfvc-checkin.json'], ['s-4', 'build-complete.json']] as const) {
    const payload = fixture(`azure-devops/${file}`);
    await inbox.enqueue({ source: 'azure-devops', deliveryId, event: payload.eventType, payload });
  }
  await inbox.enqueue({ source: 'azure-devops', deliveryId: 's-5', event: 'ms.vss-code.git-pullrequest-comment-event', payload: { eventType: 'ms.vss-code.git-pullrequest-comment-event', resource: {} } });
  await inbox.drain(catalogHandlers({ catalog }));
  const st = await inbox.status('azure-devops', 's-2');
  assert.equal([st?.status, st?.skipped, st?.error, st?.event], ['skipped', ['git.push: not a catalog event'], undefined, 'git.push']);
  assert.equal((await inbox.status('azure-devops', 's-3'))?.skipped, ['tfvc.checkin: not a catalog event']);
  assert.is((await inbox.status('azure-devops', 's-3'))?.status, 'skipped');
  assert.equal((await inbox.status('azure-devops', 's-5'))?.skipped, ['ms.vss-code.git-pullrequest-comment-event: not a catalog event']);
  const built = await inbox.status('azure-devops', 's-4');
  assert.equal([built?.status, built?.skipped, built?.findings], ['done', undefined, undefined]);
});

test.run();
