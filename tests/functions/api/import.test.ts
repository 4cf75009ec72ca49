// POST /api/v1/import: catalog-info files as `nexus catalog import` sends them. Real app, real catalog
// in Azurite, local tokens.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { harness, service, team, uniqueName, type Harness } from './harness.ts';
import { collectImport } from '../../../functions/cli/commands/catalog.ts';
import { backstageCatalog } from '../catalog/backstage-model.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLES = 'tests/fixtures/catalog/backstage-examples';

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

type Sent = Array<{ name: string; content: string }>;
async function importFiles(h: Harness, token: string, files: Sent, assets?: Sent) {
  return h.call('POST', '/api/v1/import', { token, body: { files, ...(assets ? { assets } : {}) } });
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

t('a bad document is refused on its own (file, document, field); a document the importer may not write stops the whole import', async ({ h, leadA }) => {
  const bad = await importFiles(h, leadA, [
    { name: 'one.yaml', content: svc('first-ok', 'team-a') },
    { name: 'two.yaml', content: svc('second-ok', 'team-a') + '---\napiVersion: nexus/v1\nkind: Incident\nmetadata:\n  name: inc-9\nspec:\n  severity: apocalyptic\n' },
  ]);
  assert.is(bad.status, 200, await bad.clone().text());
  const body = await json(bad);
  assert.equal(body.imported.map((i: any) => i.ref).sort(), ['service:default/first-ok', 'service:default/second-ok']);
  assert.is(body.refused.length, 1);
  assert.equal({ file: body.refused[0].file, document: body.refused[0].document, ref: body.refused[0].ref }, { file: 'two.yaml', document: 2, ref: 'incident:default/inc-9' });
  assert.ok(body.refused[0].errors.some((e: any) => e.field === 'spec.severity'), JSON.stringify(body.refused));
  assert.is(await h.catalog.get('incident:inc-9', { consistent: true }), undefined);
  const foreign = await importFiles(h, leadA, [{ name: 'three.yaml', content: svc('third-ok', 'team-a') + '---\n' + svc('not-mine', 'team-b') }]);
  assert.is(foreign.status, 403, await foreign.clone().text());
  assert.is((await json(foreign)).field, 'three.yaml[document 2].spec.owner');
  for (const name of ['third-ok', 'not-mine']) assert.is(await h.catalog.get(`service:${name}`, { consistent: true }), undefined, name);
});

t('the same entity twice in one import: the first is imported, the second refused', async ({ h, leadA }) => {
  const res = await importFiles(h, leadA, [{ name: 'a.yaml', content: svc('twice', 'team-a') }, { name: 'b.yaml', content: svc('Twice', 'team-a') }]);
  assert.is(res.status, 200, await res.clone().text());
  const body = await json(res);
  assert.equal(body.imported.map((i: any) => i.ref), ['service:default/twice']);
  assert.equal(body.refused.map((r: any) => [r.file, r.document, r.ref, r.errors[0].field]), [['b.yaml', 1, 'service:default/twice', 'metadata.name']]);
});

t('YAML alias bombs and over-deep documents: 400 naming the file and document, nothing stored', async ({ h, admin }) => {
  const laughs = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (const [i, c] of ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].entries()) {
    const prev = String.fromCharCode(97 + i);
    laughs.push(`${c}: &${c} [${Array(9).fill(`*${prev}`).join(', ')}]`);
  }
  const bomb = `apiVersion: nexus/v1\nkind: Service\nmetadata:\n  name: bomb-ok\nspec: {}\n---\n${laughs.join('\n')}\n`;
  const res = await importFiles(h, admin, [{ name: 'laughs.yaml', content: bomb }]);
  assert.is(res.status, 400, await res.clone().text());
  const p = await json(res);
  assert.is(p.field, 'laughs.yaml[document 2]');
  assert.match(p.detail, /alias/);
  const deep = `apiVersion: nexus/v1\nkind: Service\nmetadata:\n  name: deep-ok\nspec:\n  x: ${'['.repeat(200)}${']'.repeat(200)}\n`;
  const tooDeep = await importFiles(h, admin, [{ name: 'deep.yaml', content: deep }]);
  assert.is(tooDeep.status, 400, await tooDeep.clone().text());
  const deepProblem = await json(tooDeep);
  assert.is(deepProblem.field, 'deep.yaml[document 1]');
  assert.match(deepProblem.detail, /nested more than 64 levels/);
  for (const name of ['bomb-ok', 'deep-ok']) assert.is(await h.catalog.get(`service:${name}`, { consistent: true }), undefined, name);
});

t('Backstage-shaped example catalog, sent as `nexus catalog import` sends it: the entities and relations Backstage derives', async ({ h, admin }) => {
  const { files, assets } = await collectImport(join(ROOT, EXAMPLES, 'all.yaml'), ROOT);
  // Every catalog file is sent, and every placeholder target inside the import root; the one outside is not read.
  assert.is(files.length, 37);
  assert.equal(assets.map((a) => a.name.slice(EXAMPLES.length + 1)).sort(), [
    'apis/defs/episode-events.asyncapi.yaml', 'apis/defs/track-catalog.oas.yaml', 'components/runbooks/gateway.json', 'templates/node-service-parameters.yaml',
  ]);
  const res = await importFiles(h, admin, files, assets);
  assert.is(res.status, 200, await res.clone().text());
  const body = await json(res);
  const backstage = backstageCatalog(join(ROOT, EXAMPLES), 'all.yaml');

  // The same entities, and the one document Backstage refuses is refused alone, naming its fields.
  assert.is(backstage.entities.length, 51);
  assert.equal(body.imported.map((i: any) => i.ref).sort(), backstage.entities);
  assert.equal(body.refused.map((r: any) => `${r.file}[document ${r.document}]`), backstage.refused.map((r) => `${EXAMPLES}/${r}`));
  assert.equal(body.refused[0].errors.map((e: any) => e.field).sort(), ['spec.lifecycle', 'spec.owner']);
  assert.is(body.refused[0].ref, 'service:default/broken-widget');
  const kinds: Record<string, number> = {};
  for (const ref of backstage.entities) kinds[ref.slice(0, ref.indexOf(':'))] = (kinds[ref.slice(0, ref.indexOf(':'))] ?? 0) + 1;
  assert.equal(kinds, { airesource: 5, api: 9, azureresource: 3, domain: 3, environment: 2, package: 1, service: 9, system: 5, team: 7, template: 2, user: 5 });

  // The same relations, in both directions, every one resolved.
  const actual: string[] = [];
  for (const ref of backstage.entities) {
    const e = await h.catalog.get(ref);
    for (const r of e!.relations) {
      assert.ok(r.resolved, `${ref} ${r.type} ${r.targetRef} is not resolved`);
      actual.push(`${ref}|${r.type}|${r.targetRef}`);
    }
  }
  assert.equal(actual.sort(), backstage.relations);
  const byType: Record<string, number> = {};
  for (const r of actual) byType[r.split('|')[1]!] = (byType[r.split('|')[1]!] ?? 0) + 1;
  assert.equal(byType, {
    ownedBy: 37, ownerOf: 37, partOf: 20, hasPart: 20, providesApi: 4, apiProvidedBy: 4, consumesApi: 6, apiConsumedBy: 6,
    dependsOn: 11, dependencyOf: 11, memberOf: 7, hasMember: 7, childOf: 5, parentOf: 5, hasSkill: 2, skillOf: 2, hasPlugin: 1, pluginOf: 1,
  });
  // Cross-namespace and mixed-case references: a bare name means the referencing entity's namespace.
  const rels = async (ref: string) => (await h.catalog.get(ref))!.relations.map((r) => `${r.type} ${r.targetRef}`);
  assert.ok((await rels('service:alternative/alt-worker')).includes('dependsOn service:alternative/alt-helper'));
  assert.ok((await rels('service:alternative/alt-worker')).includes('ownedBy team:default/platform'));
  assert.ok((await rels('user:sandbox/guest')).includes('memberOf team:sandbox/sandbox-team'));
  assert.ok((await rels('user:sandbox/guest')).includes('memberOf team:default/audio'));
  assert.ok((await rels('service:default/playbackorder')).includes('partOf service:default/track-service'));
  assert.ok((await rels('service:default/track-service')).includes('dependsOn package:default/audio-codecs'));
  assert.is((await h.catalog.get('service:default/PlaybackOrder'))?.metadata.name, 'PlaybackOrder');

  // Placeholders: resolved relative to their file; the one outside the root and the missing one are recorded, not fatal.
  assert.match(String((await h.catalog.get('api:track-catalog'))!.spec.definition), /^openapi: 3\.0\.3/);
  assert.match(String((await h.catalog.get('api:episode-events'))!.spec.definition), /^asyncapi: 2\.6\.0/);
  assert.equal((await h.catalog.get('service:stream--gateway'))!.spec.runbook, {
    pager: 'infra-ops-primary', steps: ['check the edge pool', 'fail over to the second region'], schema: { $ref: '#/definitions/runbook' },
  });
  const template = (await h.catalog.get('template:node-service'))!;
  assert.is(template.kind, 'Template');
  assert.equal((template.spec.parameters as any[]).map((p) => p.title), ['About the service', 'Where it lives']);
  assert.equal(((await h.catalog.get('template:docs-site'))!.spec.parameters as any)[0].properties.audience, { $ref: '#/definitions/audience' });
  assert.equal(body.unresolved.map((u: any) => [u.ref, u.field, u.placeholder]), [
    ['api:default/legacy-partner', 'spec.definition', '$text'], ['api:default/partner-webhooks', 'spec.definition', '$text'],
  ]);
  assert.match(body.unresolved[0].reason, /outside the import root/);
  assert.match(body.unresolved[1].reason, /not sent with the import/);
  const legacy = (await h.catalog.get('api:legacy-partner'))!;
  assert.is(legacy.spec.definition, '');
  assert.match(legacy.metadata.annotations!['nexus.io/unresolved-placeholders']!, /^spec\.definition: \$text \.\.\/\.\.\/outside-root\.yaml: .*outside the import root/);

  // The newer kinds and API types, kept as Backstage defines them.
  const mcp = (await h.catalog.get('api:catalog-mcp'))!;
  assert.equal([mcp.spec.type, mcp.spec.definition, (mcp.spec.remotes as any[]).length], ['mcp-server', undefined, 2]);
  assert.equal((await h.catalog.get('environment:prod'))!.spec, { lifecycle: 'production', stage: 'production' });
  const rule = (await h.catalog.get('airesource:no-raw-http-rule'))!;
  assert.equal([rule.kind, rule.spec.category], ['AiResource', 'architecture']);
  assert.equal(body.orphaned, []);
  assert.equal(body.orphaningSkipped, []);
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
