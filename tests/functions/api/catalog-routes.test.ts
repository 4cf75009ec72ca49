import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { harness, service, team, type Harness } from './harness.ts';

const t = suite<{ h: Harness; admin: string; alice: string; lead: string; mallory: string }>('catalog routes');

t.before(async (ctx) => {
  ctx.h = await harness();
  ctx.admin = await ctx.h.token('root', ['Admin']);
  ctx.alice = await ctx.h.token('alice', ['Developer'], ['payments']);
  ctx.lead = await ctx.h.token('lena', ['TeamLead'], ['payments']);
  ctx.mallory = await ctx.h.token('mallory', ['Developer'], ['other-team']);
  for (const body of [team('payments', ['user:alice', 'user:lena']), team('other-team')]) {
    const res = await ctx.h.call('PUT', `/api/v1/entities/team/default/${body.metadata.name}`, { token: ctx.admin, body });
    assert.is(res.status, 201, await res.clone().text());
  }
});

async function json(res: Response) {
  return res.json() as Promise<any>;
}

t('an owner creates, reads (with ETag) and replaces an entity', async ({ h, alice }) => {
  const put = await h.call('PUT', '/api/v1/entities/service/default/checkout', { token: alice, body: service('checkout', 'payments') });
  assert.is(put.status, 201, await put.clone().text());
  const get = await h.call('GET', '/api/v1/entities/service/default/checkout', { token: alice });
  assert.is(get.status, 200);
  const etag = get.headers.get('etag');
  assert.ok(etag);
  const body = await json(get);
  assert.is(body.kind, 'Service');
  assert.is(body.spec.owner, 'payments');
  const again = await h.call('PUT', '/api/v1/entities/service/default/checkout', {
    token: alice, body: service('checkout', 'payments', { tier: 'gold' }), headers: { 'if-match': etag! },
  });
  assert.is(again.status, 200);
  // The old ETag is stale now: a writer that read before must not overwrite.
  const stale = await h.call('PUT', '/api/v1/entities/service/default/checkout', {
    token: alice, body: service('checkout', 'payments', { tier: 'bronze' }), headers: { 'if-match': etag! },
  });
  assert.is(stale.status, 412);
  assert.is((await json(await h.call('GET', '/api/v1/entities/service/default/checkout', { token: alice }))).spec.tier, 'gold');
});

t('a Backstage Component is accepted as it is and stored as a Service', async ({ h, alice }) => {
  const component = {
    apiVersion: 'backstage.io/v1alpha1', kind: 'Component',
    metadata: { name: 'storefront', annotations: { 'github.com/project-slug': 'contoso/storefront' } },
    spec: { type: 'website', lifecycle: 'production', owner: 'group:default/payments' },
  };
  const res = await h.call('PUT', '/api/v1/entities/component/default/storefront', { token: alice, body: component });
  assert.is(res.status, 201, await res.clone().text());
  const stored = await json(await h.call('GET', '/api/v1/entities/service/default/storefront', { token: alice }));
  assert.is(stored.kind, 'Service');
  assert.is(stored.apiVersion, 'nexus/v1');
});

t('invalid entities: a problem naming the field, and nothing stored', async ({ h, admin }) => {
  const bad = { apiVersion: 'nexus/v1', kind: 'Incident', metadata: { name: 'inc-1' }, spec: { severity: 'apocalyptic', status: 'open', opened: '2026-01-01T00:00:00Z' } };
  const res = await h.call('PUT', '/api/v1/entities/incident/default/inc-1', { token: admin, body: bad });
  assert.is(res.status, 400);
  assert.is(res.headers.get('content-type'), 'application/problem+json');
  const p = await json(res);
  assert.is(p.field, 'body.spec.severity');
  assert.match(p.detail, /spec\.severity/);
  assert.is((await h.call('GET', '/api/v1/entities/incident/default/inc-1', { token: admin })).status, 404);
  assert.is(h.catalog.index.has('incident:default/inc-1'), false);

  const badName = await json(await h.call('PUT', '/api/v1/entities/service/default/x', { token: admin, body: service('x y', 'payments') }));
  assert.is(badName.status, 400);
  assert.is(badName.field, 'body.metadata.name');

  const mismatch = await json(await h.call('PUT', '/api/v1/entities/service/default/one', { token: admin, body: service('two', 'payments') }));
  assert.is(mismatch.field, 'body.metadata.name');
  const wrongKind = await json(await h.call('PUT', '/api/v1/entities/api/default/one', { token: admin, body: service('one', 'payments') }));
  assert.is(wrongKind.field, 'body.kind');
  const badNamespace = await json(await h.call('PUT', '/api/v1/entities/service/Not_A_Label/one', { token: admin, body: service('one', 'payments') }));
  assert.is(badNamespace.status, 400);

  const notJson = await h.call('PUT', '/api/v1/entities/service/default/one', { token: admin, body: '{"apiVersion":' });
  assert.is(notJson.status, 400);
  assert.is(notJson.headers.get('content-type'), 'application/problem+json');

  const q = await json(await h.call('GET', '/api/v1/entities?limit=0', { token: admin }));
  assert.is(q.status, 400);
  assert.is(q.field, 'query.limit');
});

t('rights: non-owners may not write; owners may not give away; delete needs TeamLead of the owner or Admin', async ({ h, alice, lead, mallory, admin }) => {
  assert.is((await h.call('PUT', '/api/v1/entities/service/default/ledger', { token: mallory, body: service('ledger', 'payments') })).status, 403);
  assert.is((await h.call('PUT', '/api/v1/entities/service/default/ledger', { token: alice, body: service('ledger', 'payments') })).status, 201);
  const hijack = await h.call('PUT', '/api/v1/entities/service/default/ledger', { token: mallory, body: service('ledger', 'other-team') });
  assert.is(hijack.status, 403);
  assert.is((await json(await h.call('GET', '/api/v1/entities/service/default/ledger', { token: mallory }))).spec.owner, 'payments');
  const giveAway = await h.call('PUT', '/api/v1/entities/service/default/ledger', { token: alice, body: service('ledger', 'other-team') });
  assert.is(giveAway.status, 403);
  assert.is((await json(giveAway)).field, 'body.spec.owner');
  assert.is((await h.call('DELETE', '/api/v1/entities/service/default/ledger', { token: alice })).status, 403);
  assert.is((await h.call('DELETE', '/api/v1/entities/service/default/ledger', { token: mallory })).status, 403);
  assert.is((await h.call('DELETE', '/api/v1/entities/service/default/ledger', { token: lead })).status, 204);
  assert.is((await h.call('GET', '/api/v1/entities/service/default/ledger', { token: admin })).status, 404);
  assert.is((await h.call('DELETE', '/api/v1/entities/service/default/ledger', { token: admin })).status, 404);
});

t('list: filters by kind, owner, tag and any field; field selection; cursor paging', async ({ h, admin }) => {
  for (const [name, lifecycle] of [['pay-a', 'production'], ['pay-b', 'experimental'], ['pay-c', 'production'], ['pay-d', 'production']]) {
    const res = await h.call('PUT', `/api/v1/entities/service/default/${name}`, { token: admin, body: service(name, 'other-team', { lifecycle }) });
    assert.is(res.status, 201);
  }
  const byField = await json(await h.call('GET', '/api/v1/entities?kind=service&owner=other-team&filter=spec.lifecycle=production&fields=spec.lifecycle', { token: admin }));
  assert.equal(byField.items.map((e: any) => e.metadata.name), ['pay-a', 'pay-c', 'pay-d']);
  assert.equal(byField.items[0], { apiVersion: 'nexus/v1', kind: 'Service', metadata: { name: 'pay-a', namespace: 'default' }, spec: { lifecycle: 'production' } });
  const tagged = await json(await h.call('GET', '/api/v1/entities?tag=java&owner=other-team', { token: admin }));
  assert.is(tagged.items.length, 4);
  const names: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await json(await h.call('GET', `/api/v1/entities?owner=other-team&limit=3${cursor ? `&cursor=${cursor}` : ''}`, { token: admin }));
    names.push(...page.items.map((e: any) => e.metadata.name));
    cursor = page.cursor;
    pages++;
  } while (cursor);
  assert.is(pages, 2);
  assert.equal(names, ['pay-a', 'pay-b', 'pay-c', 'pay-d']);
  const badFilter = await json(await h.call('GET', '/api/v1/entities?filter=nonsense', { token: admin }));
  assert.is(badFilter.field, 'query.filter');
  const badCursor = await h.call('GET', '/api/v1/entities?cursor=zzz', { token: admin });
  assert.is(badCursor.status, 400);
});

t('relations in both directions; search with facets; team and me', async ({ h, alice, admin }) => {
  assert.is((await h.call('PUT', '/api/v1/entities/service/default/fraud', { token: alice, body: service('fraud', 'payments', { dependsOn: ['service:default/checkout'] }) })).status, 201);
  const rels = await json(await h.call('GET', '/api/v1/entities/service/default/checkout/relations', { token: alice }));
  assert.ok(rels.items.some((r: any) => r.type === 'dependencyOf' && r.targetRef === 'service:default/fraud'));
  assert.ok(rels.items.some((r: any) => r.type === 'ownedBy' && r.targetRef === 'team:default/payments'));
  const fraudRels = await json(await h.call('GET', '/api/v1/entities/service/default/fraud/relations', { token: alice }));
  assert.ok(fraudRels.items.some((r: any) => r.type === 'dependsOn' && r.targetRef === 'service:default/checkout'));
  assert.is((await h.call('GET', '/api/v1/entities/service/default/nope/relations', { token: alice })).status, 404);

  const found = await json(await h.call('GET', '/api/v1/search?q=fraud', { token: alice }));
  assert.is(found.items[0].entity.metadata.name, 'fraud');
  assert.is(found.facets.kind.Service >= 1, true);
  const empty = await json(await h.call('GET', '/api/v1/search?q=', { token: alice }));
  assert.is(empty.field, 'query.q');

  const teamRes = await json(await h.call('GET', '/api/v1/teams/payments', { token: alice }));
  assert.ok(teamRes.owned.some((e: any) => e.metadata.name === 'fraud'));
  assert.is((await h.call('GET', '/api/v1/teams/nobody', { token: alice })).status, 404);
  const me = await json(await h.call('GET', '/api/v1/me', { token: alice }));
  assert.is(me.principal.name, 'alice');
  assert.ok(me.teams.some((e: any) => e.metadata.name === 'payments'));
  assert.ok(me.owned.some((e: any) => e.metadata.name === 'fraud'));
  void admin;
});

t('concurrent writers with If-Match: every update lands, none is lost', async ({ h, admin }) => {
  assert.is((await h.call('PUT', '/api/v1/entities/service/default/hotspot', { token: admin, body: service('hotspot', 'payments') })).status, 201);
  const writers = Array.from({ length: 8 }, (_, i) => `writer-${i}`);
  let conflicts = 0;
  await Promise.all(writers.map(async (tag) => {
    for (;;) {
      const cur = await h.call('GET', '/api/v1/entities/service/default/hotspot', { token: admin });
      const etag = cur.headers.get('etag')!;
      const e = await json(cur);
      const body = { apiVersion: e.apiVersion, kind: e.kind, metadata: { name: e.metadata.name, tags: [...(e.metadata.tags ?? []), tag] }, spec: e.spec };
      const res = await h.call('PUT', '/api/v1/entities/service/default/hotspot', { token: admin, body, headers: { 'if-match': etag } });
      if (res.status === 200) return;
      assert.is(res.status, 412, await res.text());
      conflicts++;
    }
  }));
  const final = await json(await h.call('GET', '/api/v1/entities/service/default/hotspot', { token: admin }));
  for (const w of writers) assert.ok(final.metadata.tags.includes(w), `lost the update of ${w}`);
  assert.ok(conflicts > 0, 'the writers never collided; the test proved nothing');
});

t('OpenAPI document: generated from the route schemas, behind authentication', async ({ h, alice }) => {
  assert.is((await h.call('GET', '/api/v1/openapi.json')).status, 401);
  const doc = await json(await h.call('GET', '/api/v1/openapi.json', { token: alice }));
  assert.is(doc.openapi, '3.1.0');
  for (const p of ['/api/v1/entities', '/api/v1/entities/{kind}/{namespace}/{name}', '/api/v1/entities/{kind}/{namespace}/{name}/relations', '/api/v1/search', '/api/v1/me', '/api/v1/teams/{name}', '/api/v1/import']) {
    assert.ok(doc.paths[p], `missing ${p}`);
  }
  assert.ok(doc.components.schemas.Entity.properties.metadata);
  assert.equal(doc.paths['/webhooks/github'].post.security, []);
  assert.ok(doc.paths['/api/v1/entities'].get.parameters.some((p: any) => p.name === 'cursor'));
});

t.run();
