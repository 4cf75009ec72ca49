// The catalog's integrity through the API, as an attacker tried it: claims on repositories,
// spoofed relations, memberships that are shown but grant nothing, prototype-named relation
// types and owner filters that cannot be parsed. Real app, real catalog in Azurite, local tokens.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { harness, service, type Harness } from './harness.ts';
import { handleGitHubEvent } from '../../../functions/catalog/ingestion/github.ts';

const t = suite<{ h: Harness; admin: string; dev: string; lead: string; outsider: string }>('catalog integrity');

const examples = createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: Array<Record<string, any>> }>;
const deploymentStatus = () => structuredClone(examples.find((e) => e.name === 'deployment_status')!.examples.find((p) => p.deployment_status.state === 'success')!);

async function json(res: Response) {
  return res.json() as Promise<any>;
}

t.before(async (ctx) => {
  ctx.h = await harness();
  ctx.admin = await ctx.h.token('root', ['Admin']);
  ctx.dev = await ctx.h.token('dana', ['Developer']);
  ctx.lead = await ctx.h.token('lee', ['TeamLead']);
  ctx.outsider = await ctx.h.token('otto', ['TeamLead']);
  const team = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'nexus/v1', kind: 'Team', metadata: { name }, spec });
  const user = (name: string, spec: Record<string, unknown> = {}) => ({ apiVersion: 'nexus/v1', kind: 'User', metadata: { name }, spec });
  for (const body of [
    team('platform', { members: ['user:otto'] }),
    team('devs', { owner: 'team:devs', members: ['user:dana', 'user:lee'] }),
    team('victims', { owner: 'team:platform', members: ['user:otto'] }),
    user('dana'), user('lee'), user('otto'),
    user('claimer', { memberOf: ['team:victims'] }),
    service('victim-api', 'team:victims'),
    service('dev-api', 'team:devs'),
  ]) {
    const res = await ctx.h.call('PUT', `/api/v1/entities/${body.kind.toLowerCase()}/default/${body.metadata.name}`, { token: ctx.admin, body });
    assert.is(res.status, 201, await res.clone().text());
  }
});

t('a Developer cannot claim a repository slug through PUT; deployments reach the Service ingestion owns', async ({ h, dev, admin }) => {
  const payload = deploymentStatus();
  const slug = payload.repository.full_name as string;
  const hijack = service('probe-slug-hijack', 'team:devs');
  (hijack.metadata as Record<string, unknown>).annotations = { 'github.com/project-slug': slug };
  const res = await h.call('PUT', '/api/v1/entities/service/default/probe-slug-hijack', { token: dev, body: hijack });
  assert.is(res.status, 201, await res.clone().text());
  // The claim is not kept: only Admin and ingestion set it (the same rule as import).
  assert.is((await json(res)).metadata.annotations?.['github.com/project-slug'], undefined);
  // Nor can a later PUT add it to an existing entity.
  const again = await h.call('PUT', '/api/v1/entities/service/default/probe-slug-hijack', { token: dev, body: hijack });
  assert.is(again.status, 200);
  assert.is((await json(again)).metadata.annotations?.['github.com/project-slug'], undefined);

  await handleGitHubEvent({ catalog: h.catalog, trustedRepos: [] }, { event: 'deployment_status', deliveryId: 'd-1', payload });
  const mine = await h.catalog.get('service:default/probe-slug-hijack');
  assert.is(mine?.spec.deployments, undefined, 'the Developer\'s Service received no deployment');
  const real = await h.catalog.get('service:codertocat/hello-world');
  assert.ok(real?.spec.deployments, 'the repository\'s own Service received it');

  // An Admin's claim made before ingestion does not take the deployments from the Service ingestion owns.
  const adminClaim = service('admin-claim', 'team:devs');
  (adminClaim.metadata as Record<string, unknown>).annotations = { 'github.com/project-slug': slug };
  assert.is((await h.call('PUT', '/api/v1/entities/service/default/admin-claim', { token: admin, body: adminClaim })).status, 201);
  const next = deploymentStatus();
  next.deployment_status.environment = 'staging';
  await handleGitHubEvent({ catalog: h.catalog, trustedRepos: [] }, { event: 'deployment_status', deliveryId: 'd-2', payload: next });
  assert.is((await h.catalog.get('service:default/admin-claim'))?.spec.deployments, undefined);
  assert.ok(((await h.catalog.get('service:codertocat/hello-world'))?.spec.deployments as Record<string, unknown>).staging);
});

t("a Service squatting the repository's name does not receive its deployments; the Repository keeps them", async ({ h, dev }) => {
  const payload = deploymentStatus();
  payload.repository = { ...payload.repository, name: 'squatted', full_name: 'Codertocat/squatted' };
  const squat = { ...service('squatted', 'team:default/devs'), metadata: { name: 'squatted', namespace: 'codertocat' } };
  const res = await h.call('PUT', '/api/v1/entities/service/codertocat/squatted', { token: dev, body: squat });
  assert.is(res.status, 201, await res.clone().text());
  const out = await handleGitHubEvent({ catalog: h.catalog, trustedRepos: [] }, { event: 'deployment_status', deliveryId: 'd-3', payload });
  const svc = await h.catalog.get('service:codertocat/squatted');
  assert.is(svc?.spec.deployments, undefined);
  assert.is(svc?.metadata.annotations?.['github.com/project-slug'], undefined);
  const repo = await h.catalog.get('repository:codertocat/squatted');
  assert.is((repo?.spec.deployments as Record<string, { state: string }>)[payload.deployment_status.environment]?.state, 'success');
  assert.match(out.findings?.join('\n') ?? '', /service:codertocat\/squatted is held by api/);
  // Still not, on the next delivery.
  await handleGitHubEvent({ catalog: h.catalog, trustedRepos: [] }, { event: 'deployment_status', deliveryId: 'd-4', payload });
  assert.is((await h.catalog.get('service:codertocat/squatted'))?.spec.deployments, undefined);
});

t('relations from spec fields fit their kinds too: no dependsOn, affects or system onto a Team or a User', async ({ h, dev }) => {
  for (const [spec, field] of [
    [{ dependsOn: ['team:victims'] }, 'body.spec.dependsOn.0'],
    [{ affects: ['team:victims'] }, 'body.spec.affects.0'],
    [{ system: 'user:otto' }, 'body.spec.system'],
    [{ consumesApis: ['team:victims'] }, 'body.spec.consumesApis.0'],
  ] as const) {
    const res = await h.call('PUT', '/api/v1/entities/service/default/dev-api', { token: dev, body: service('dev-api', 'team:devs', spec) });
    assert.is(res.status, 400, `${JSON.stringify(spec)}: ${await res.clone().text()}`);
    assert.is((await json(res)).field, field);
  }
  assert.not.ok((await h.catalog.relations('team:default/victims')).some((r) => r.targetRef === 'service:default/dev-api'));
});

t('explicit identity and ownership relations are refused; other types must be known and fit the kinds', async ({ h, dev }) => {
  const put = (relations: unknown) => h.call('PUT', '/api/v1/entities/service/default/dev-api', { token: dev, body: { ...service('dev-api', 'team:devs'), relations } });
  for (const type of ['memberOf', 'hasMember', 'ownerOf', 'ownedBy', 'parentOf', 'childOf']) {
    const res = await put([{ type, targetRef: type === 'ownerOf' ? 'service:default/victim-api' : 'team:default/victims' }]);
    assert.is(res.status, 400, `${type}: ${await res.clone().text()}`);
    assert.is((await json(res)).field, 'body.relations.0.type');
  }
  const unknown = await put([{ type: 'worksWith', targetRef: 'service:default/victim-api' }]);
  assert.is(unknown.status, 400);
  assert.match((await json(unknown)).detail, /not a relation type/);
  const wrongKind = await put([{ type: 'providesApi', targetRef: 'team:default/victims' }]);
  assert.is(wrongKind.status, 400);
  assert.is((await json(wrongKind)).field, 'body.relations.0.targetRef');
  // A known type between kinds it joins is fine.
  const ok = await put([{ type: 'dependsOn', targetRef: 'service:default/victim-api' }]);
  assert.is(ok.status, 200, await ok.clone().text());

  // The victims' team shows no trace of the attempts.
  const victims = await json(await h.call('GET', '/api/v1/teams/victims', { token: dev }));
  assert.not.ok(victims.members.some((m: any) => m.metadata.name === 'dev-api'));
  assert.not.ok(victims.owned.some((e: any) => e.metadata.name === 'dev-api'));
  const rels = await json(await h.call('GET', '/api/v1/entities/service/default/victim-api/relations', { token: dev }));
  assert.equal(rels.items.filter((r: any) => r.targetRef === 'service:default/dev-api').map((r: any) => r.type), ['dependencyOf']);
});

t("a team's members are Users", async ({ h, admin }) => {
  const body = { apiVersion: 'nexus/v1', kind: 'Team', metadata: { name: 'devs' }, spec: { owner: 'team:devs', members: ['user:dana', 'user:lee', 'team:victims'] } };
  const res = await h.call('PUT', '/api/v1/entities/team/default/devs', { token: admin, body });
  assert.is(res.status, 400, await res.clone().text());
  assert.is((await json(res)).field, 'body.spec.members.2');
});

t('moving a team in the hierarchy needs admin rights on both teams', async ({ h, dev, lead, admin }) => {
  const devs = (spec: Record<string, unknown>) => ({ apiVersion: 'nexus/v1', kind: 'Team', metadata: { name: 'devs' }, spec: { owner: 'team:devs', members: ['user:dana', 'user:lee'], ...spec } });
  // A member who is not a TeamLead.
  const byMember = await h.call('PUT', '/api/v1/entities/team/default/devs', { token: dev, body: devs({ parent: 'team:victims' }) });
  assert.is(byMember.status, 403, await byMember.clone().text());
  assert.is((await json(byMember)).field, 'body.spec.parent');
  // The team's own TeamLead has no rights on victims, which the link would write onto.
  const byLead = await h.call('PUT', '/api/v1/entities/team/default/devs', { token: lead, body: devs({ parent: 'team:victims' }) });
  assert.is(byLead.status, 403, await byLead.clone().text());
  assert.match((await json(byLead)).detail, /writes onto team:default\/victims/);
  assert.equal((await h.catalog.relations('team:default/victims')).filter((r) => r.type === 'parentOf'), []);
  // Admin may.
  const byAdmin = await h.call('PUT', '/api/v1/entities/team/default/devs', { token: admin, body: devs({ parent: 'team:victims' }) });
  assert.is(byAdmin.status, 200, await byAdmin.clone().text());
});

t('a team lists which memberships grant rights and which are only claimed', async ({ h, admin }) => {
  const victims = await json(await h.call('GET', '/api/v1/teams/victims', { token: admin }));
  assert.equal(victims.members.map((m: any) => m.metadata.name), ['otto']);
  assert.equal(victims.claimedMembers.map((m: any) => m.metadata.name), ['claimer']);
  assert.equal(victims.membership, [
    { user: 'user:default/otto', grantsRights: true, declaredBy: 'team' },
    { user: 'user:default/claimer', grantsRights: false, declaredBy: 'user' },
  ]);
  // What is listed as granting rights is what /me and authorisation use.
  const claimer = await h.token('claimer', ['Developer']);
  assert.equal((await json(await h.call('GET', '/api/v1/me', { token: claimer }))).teams, []);
  const otto = await h.token('otto', ['Developer']);
  assert.ok((await json(await h.call('GET', '/api/v1/me', { token: otto }))).teams.some((e: any) => e.metadata.name === 'victims'));
});

t('relation types named after Object.prototype members are a 400 and store nothing', async ({ h, dev }) => {
  for (const type of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'toLocaleString', '__proto__']) {
    const name = `proto-${type.toLowerCase().replace(/_/g, '')}`;
    const res = await h.call('PUT', `/api/v1/entities/service/default/${name}`, {
      token: dev, body: { ...service(name, 'team:devs'), relations: [{ type, targetRef: 'service:default/victim-api' }] },
    });
    assert.ok(res.status === 400, `${type}: ${res.status} ${await res.clone().text()}`);
    assert.is(await h.catalog.get(`service:default/${name}`, { consistent: true }), undefined);
    assert.equal((await h.catalog.relations(`service:default/${name}`)), []);
  }
  assert.not.ok((await h.catalog.relations('service:default/victim-api')).some((r) => r.targetRef.includes('proto-')));
});

t('an owner filter that cannot be parsed is a 400 naming query.owner (list and search)', async ({ h, dev }) => {
  for (const owner of ['x y', "'", '*', '\u0000', 'a'.repeat(200)]) {
    const list = await h.call('GET', `/api/v1/entities?owner=${encodeURIComponent(owner)}`, { token: dev });
    assert.is(list.status, 400, `list owner=${JSON.stringify(owner)}`);
    assert.is((await json(list)).field, 'query.owner');
    const search = await h.call('GET', `/api/v1/search?q=api&owner=${encodeURIComponent(owner)}`, { token: dev });
    assert.is(search.status, 400, `search owner=${JSON.stringify(owner)}`);
    assert.is((await json(search)).field, 'query.owner');
  }
  const inBox = await h.call('GET', `/api/v1/search?q=${encodeURIComponent('api owner:*')}`, { token: dev });
  assert.is(inBox.status, 400);
  assert.is((await json(inBox)).field, 'query.q');
  // A field filter or projection never reads an object's prototype.
  const proto = await json(await h.call('GET', `/api/v1/entities?filter=${encodeURIComponent('constructor.name=Object')}`, { token: dev }));
  assert.equal(proto.items, []);
  const projected = await json(await h.call('GET', '/api/v1/entities?kind=service&fields=constructor.name,spec.__proto__', { token: dev }));
  assert.ok(projected.items.length > 0);
  for (const e of projected.items) assert.equal(Object.keys(e).sort(), ['apiVersion', 'kind', 'metadata']);
  // A parsable owner still filters.
  const ok = await json(await h.call('GET', '/api/v1/entities?owner=victims', { token: dev }));
  assert.equal(ok.items.map((e: any) => e.metadata.name), ['victim-api']);
});

t.run();
