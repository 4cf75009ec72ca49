// Teams and Users decide who may write what: creating them, a Team's Entra group and its members
// are Admin's (members: also the TeamLead of the Team's owner). Writes are pinned to the version
// their rights were checked against. Real app, real catalog in Azurite, local tokens.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { harness, service, team, uniqueName, type Harness } from './harness.ts';

const t = suite<{ h: Harness; admin: string; mallory: string; lead: string }>('identity-bearing entities');

t.before(async (ctx) => {
  ctx.h = await harness();
  ctx.admin = await ctx.h.token('root', ['Admin']);
  ctx.mallory = await ctx.h.token('mallory', ['Developer']);
  ctx.lead = await ctx.h.token('lina', ['TeamLead']);
  const bodies = [
    team('mine', ['user:mallory', 'user:lina']),
    { ...team('sub', ['user:sam']), spec: { owner: 'mine', members: ['user:sam'] } },
    service('ledger', 'payments'), // owned by a team that has no entity yet
  ];
  for (const body of bodies) {
    const res = await ctx.h.call('PUT', `/api/v1/entities/${body.kind.toLowerCase()}/default/${body.metadata.name}`, { token: ctx.admin, body });
    assert.is(res.status, 201, await res.clone().text());
  }
});

async function json(res: Response) {
  return res.json() as Promise<any>;
}

t('a member of one team cannot create the Team an owner names and so take what it owns', async ({ h, mallory }) => {
  const body = { apiVersion: 'nexus/v1', kind: 'Team', metadata: { name: 'payments' }, spec: { owner: 'team:mine', entraGroupId: 'g-mallory' } };
  const res = await h.call('PUT', '/api/v1/entities/team/default/payments', { token: mallory, body });
  assert.is(res.status, 403, await res.clone().text());
  assert.is((await json(res)).field, 'body.kind');
  assert.is(await h.catalog.get('team:payments', { consistent: true }), undefined);
  // Her group grants nothing over payments' service.
  const entra = await h.token('mallory', ['Developer'], ['g-mallory']);
  const write = await h.call('PUT', '/api/v1/entities/service/default/ledger', { token: entra, body: service('ledger', 'payments', { tier: 'mine' }) });
  assert.is(write.status, 403, await write.clone().text());
});

t('only Admin creates a User', async ({ h, mallory, admin }) => {
  const bob = { apiVersion: 'nexus/v1', kind: 'User', metadata: { name: 'bob' }, spec: {} };
  const res = await h.call('PUT', '/api/v1/entities/user/default/bob', { token: mallory, body: bob });
  assert.is(res.status, 403, await res.clone().text());
  assert.is((await json(res)).field, 'body.kind');
  assert.is((await h.call('PUT', '/api/v1/entities/user/default/bob', { token: admin, body: bob })).status, 201);
});

t("a Team's members change only with admin rights on it; its Entra group only by Admin", async ({ h, mallory, lead, admin }) => {
  const sub = (spec: Record<string, unknown>) => ({ apiVersion: 'nexus/v1', kind: 'Team', metadata: { name: 'sub' }, spec: { owner: 'mine', members: ['user:sam'], ...spec } });
  // mallory writes what `mine` owns, but a Developer does not hand out membership.
  const join = await h.call('PUT', '/api/v1/entities/team/default/sub', { token: mallory, body: sub({ members: ['user:sam', 'user:mallory'] }) });
  assert.is(join.status, 403, await join.clone().text());
  assert.is((await json(join)).field, 'body.spec.members');
  // Nor through an explicit hasMember relation: membership comes only from spec.members.
  const rel = await h.call('PUT', '/api/v1/entities/team/default/sub', { token: mallory, body: { ...sub({}), relations: [{ type: 'hasMember', targetRef: 'user:mallory' }] } });
  assert.is(rel.status, 400, await rel.clone().text());
  assert.is((await json(rel)).field, 'body.relations.0.type');
  // Other fields she may change.
  const desc = await h.call('PUT', '/api/v1/entities/team/default/sub', { token: mallory, body: sub({ profile: { displayName: 'Sub team' } }) });
  assert.is(desc.status, 200, await desc.clone().text());
  // The owner's TeamLead changes members...
  const added = await h.call('PUT', '/api/v1/entities/team/default/sub', { token: lead, body: sub({ members: ['user:sam', 'user:tom'] }) });
  assert.is(added.status, 200, await added.clone().text());
  // ...but not the Entra group; Admin does.
  const group = await h.call('PUT', '/api/v1/entities/team/default/sub', { token: lead, body: sub({ members: ['user:sam', 'user:tom'], entraGroupId: 'g-lina' }) });
  assert.is(group.status, 403, await group.clone().text());
  assert.is((await json(group)).field, 'body.spec.entraGroupId');
  const byAdmin = await h.call('PUT', '/api/v1/entities/team/default/sub', { token: admin, body: sub({ members: ['user:sam', 'user:tom'], entraGroupId: 'g-sub' }) });
  assert.is(byAdmin.status, 200, await byAdmin.clone().text());
  assert.is((await h.catalog.get('team:sub'))?.spec.entraGroupId, 'g-sub');
});

t('an import cannot create a Team or a User, and nothing of it is stored', async ({ h, lead }) => {
  const content = 'apiVersion: nexus/v1\nkind: Service\nmetadata:\n  name: lina-svc\nspec:\n  owner: mine\n---\n'
    + 'apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: payments\nspec:\n  type: team\n  parent: mine\n  children: []\n  members: [lina]\n';
  const res = await h.call('POST', '/api/v1/import', { token: lead, body: { files: [{ name: 'catalog-info.yaml', content }] } });
  assert.is(res.status, 403, await res.clone().text());
  assert.is((await json(res)).field, 'catalog-info.yaml[document 2].kind');
  assert.is(await h.catalog.get('team:payments'), undefined);
  assert.is(await h.catalog.get('service:lina-svc'), undefined);
});

t("an import keeps a file's own github.com/project-slug only when Admin imports it", async ({ h, lead, admin }) => {
  const file = (name: string) => ({ name: `${name}.yaml`, content: `apiVersion: nexus/v1\nkind: Service\nmetadata:\n  name: ${name}\n  annotations:\n    github.com/project-slug: Contoso/Payments\n    note: kept\nspec:\n  owner: mine\n` });
  assert.is((await h.call('POST', '/api/v1/import', { token: lead, body: { files: [file('by-lead')] } })).status, 200);
  const mine = await h.catalog.get('service:by-lead');
  assert.is(mine?.metadata.annotations?.['github.com/project-slug'], undefined);
  assert.is(mine?.metadata.annotations?.note, 'kept');
  assert.is((await h.call('POST', '/api/v1/import', { token: admin, body: { files: [file('by-admin')] } })).status, 200);
  assert.is((await h.catalog.get('service:by-admin'))?.metadata.annotations?.['github.com/project-slug'], 'Contoso/Payments');
});

t('an If-Match naming another version than the one authorised is a 412, * included', async ({ h, admin, lead }) => {
  const name = uniqueName('svc-');
  assert.is((await h.call('PUT', `/api/v1/entities/service/default/${name}`, { token: admin, body: service(name, 'mine') })).status, 201);
  const bad = await h.call('PUT', `/api/v1/entities/service/default/${name}`, { token: lead, body: service(name, 'mine', { tier: 'x' }), headers: { 'if-match': 'W/"not-the-etag"' } });
  assert.is(bad.status, 412, await bad.clone().text());
  assert.match(bad.headers.get('content-type') ?? '', /application\/problem\+json/);
  const del = await h.call('DELETE', `/api/v1/entities/service/default/${name}`, { token: lead, headers: { 'if-match': 'W/"not-the-etag"' } });
  assert.is(del.status, 412, await del.clone().text());
  assert.ok(await h.catalog.get(`service:${name}`, { consistent: true }));
  const absent = uniqueName('svc-');
  const missing = await h.call('PUT', `/api/v1/entities/service/default/${absent}`, { token: lead, body: service(absent, 'mine'), headers: { 'if-match': '*' } });
  assert.is(missing.status, 412, await missing.clone().text());
  assert.is(await h.catalog.get(`service:${absent}`), undefined);
});

t.run();
