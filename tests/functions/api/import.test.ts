// POST /api/v1/import: catalog-info files as `nexus catalog import` sends them. Real app, real catalog
// in Azurite, local tokens.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { harness, service, team, uniqueName, type Harness } from './harness.ts';

const t = suite<{ h: Harness; admin: string; leadA: string; leadB: string }>('import');

const svc = (name: string, owner: string) => `apiVersion: nexus/v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  owner: ${owner}\n`;

async function json(res: Response) {
  return res.json() as Promise<any>;
}

t.before(async (ctx) => {
  ctx.h = await harness();
  ctx.admin = await ctx.h.token('root', ['Admin']);
  ctx.leadA = await ctx.h.token('anna', ['TeamLead']);
  ctx.leadB = await ctx.h.token('bert', ['TeamLead']);
  for (const body of [team('team-a', ['user:anna']), team('team-b', ['user:bert'])]) {
    const res = await ctx.h.call('PUT', `/api/v1/entities/team/default/${body.metadata.name}`, { token: ctx.admin, body });
    assert.is(res.status, 201, await res.clone().text());
  }
});

async function importFiles(h: Harness, token: string, files: Array<{ name: string; content: string }>) {
  return h.call('POST', '/api/v1/import', { token, body: { files } });
}

t('two teams importing a file of the same name do not orphan each other', async ({ h, leadA, leadB }) => {
  assert.is((await importFiles(h, leadA, [{ name: 'catalog-info.yaml', content: svc('alpha', 'team-a') + '---\n' + svc('alpha-two', 'team-a') }])).status, 200);
  assert.is((await importFiles(h, leadB, [{ name: 'catalog-info.yaml', content: svc('beta', 'team-b') }])).status, 200);
  // A's file no longer lists alpha-two: only that is orphaned, B's beta is untouched.
  const again = await importFiles(h, leadA, [{ name: 'catalog-info.yaml', content: svc('alpha', 'team-a') }]);
  assert.is(again.status, 200, await again.clone().text());
  assert.equal((await json(again)).orphaned, ['service:default/alpha-two']);
  assert.is((await h.catalog.get('service:beta'))?.status?.orphaned ?? false, false);
  assert.is((await h.catalog.get('service:alpha'))?.status?.orphaned ?? false, false);
  assert.is((await h.catalog.get('service:alpha-two'))?.status?.orphaned, true);
});

t('orphaning touches only entities the importer may write', async ({ h, leadA }) => {
  assert.is((await importFiles(h, leadA, [{ name: 'svc/catalog-info.yaml', content: svc('handed-over', 'team-a') + '---\n' + svc('kept', 'team-a') }])).status, 200);
  // Handed to team B since (without a new source: the import is still the only one that has it).
  await h.catalog.update('service:handed-over', (cur) => ({ ...cur, spec: { ...cur.spec, owner: 'team-b' } }));
  const res = await importFiles(h, leadA, [{ name: 'svc/catalog-info.yaml', content: svc('kept', 'team-a') }]);
  assert.is(res.status, 200, await res.clone().text());
  assert.equal((await json(res)).orphaned, []);
  assert.is((await h.catalog.get('service:handed-over'))?.status?.orphaned ?? false, false);
});

t('a bad document or a document the importer may not write: nothing of the import is stored', async ({ h, leadA }) => {
  const bad = await importFiles(h, leadA, [
    { name: 'one.yaml', content: svc('first-ok', 'team-a') },
    { name: 'two.yaml', content: svc('second-ok', 'team-a') + '---\napiVersion: nexus/v1\nkind: Incident\nmetadata:\n  name: inc-9\nspec:\n  severity: apocalyptic\n' },
  ]);
  assert.is(bad.status, 400, await bad.clone().text());
  assert.match((await json(bad)).field, /^two\.yaml\[entity 2\]\.spec\.severity/);
  const foreign = await importFiles(h, leadA, [{ name: 'three.yaml', content: svc('third-ok', 'team-a') + '---\n' + svc('not-mine', 'team-b') }]);
  assert.is(foreign.status, 403, await foreign.clone().text());
  for (const name of ['first-ok', 'second-ok', 'third-ok', 'not-mine']) assert.is(await h.catalog.get(`service:${name}`, { consistent: true }), undefined, name);
});

t('a write that fails part-way: the problem says which entities were stored and which not', async ({ h, admin, leadA }) => {
  // A second API instance over the same tables, without refreshes: it changes an entity the first
  // instance has yet to see, so the first one's transaction for that partition is refused.
  const other = await harness({ tables: h.catalog.tableNames() });
  const shared = uniqueName('shared-');
  assert.is((await h.call('PUT', `/api/v1/entities/service/default/${shared}`, { token: admin, body: service(shared, 'team-a') })).status, 201);
  await other.catalog.refresh();
  const changed = await other.call('PUT', `/api/v1/entities/service/default/${shared}`, { token: await other.token('root', ['Admin']), body: service(shared, 'team-a', { tier: 'theirs' }) });
  assert.is(changed.status, 200, await changed.clone().text());
  const apiDoc = `apiVersion: nexus/v1\nkind: API\nmetadata:\n  name: ${shared}-api\nspec:\n  owner: team-a\n  type: openapi\n  lifecycle: production\n  definition: openapi\n`;
  const res = await importFiles(h, leadA, [{ name: 'mixed.yaml', content: apiDoc + '---\n' + svc(shared, 'team-a') }]);
  assert.is(res.status, 409, await res.clone().text());
  const p = await json(res);
  assert.equal(p.written, [{ ref: `api:default/${shared}-api`, file: 'mixed.yaml' }]);
  assert.equal(p.notWritten, [{ ref: `service:default/${shared}`, file: 'mixed.yaml' }]);
  assert.match(p.detail, /1 of 2 entities written/);
  assert.ok(await h.catalog.get(`api:${shared}-api`, { consistent: true }));
  assert.is((await h.catalog.get(`service:${shared}`, { consistent: true }))?.spec.tier, 'theirs', 'the other writer\'s update is not lost');
  // Importing again works (the instance caught up with the other writer).
  const again = await importFiles(h, leadA, [{ name: 'mixed.yaml', content: apiDoc + '---\n' + svc(shared, 'team-a') }]);
  assert.is(again.status, 200, await again.clone().text());
});

t.run();
