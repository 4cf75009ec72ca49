// POST /api/v1/import: catalog-info files as `nexus catalog import` sends them. Real app, real catalog
// in Azurite, local tokens.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { harness, team, type Harness } from './harness.ts';

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

t.run();
