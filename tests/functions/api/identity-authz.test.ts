// Who the signed-in user is and which teams they belong to decides what they may write, so neither
// may come from anything the user writes themselves. Real app, real catalog in Azurite, local tokens.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { harness, service, team, type Harness } from './harness.ts';
import { rightsFor } from '../../../functions/api/auth.ts';

const t = suite<{ h: Harness; admin: string; mallory: string }>('identity and membership');

function user(name: string, spec: Record<string, unknown> = {}, annotations?: Record<string, string>) {
  return { apiVersion: 'nexus/v1', kind: 'User', metadata: { name, ...(annotations ? { annotations } : {}) }, spec };
}

async function json(res: Response) {
  return res.json() as Promise<any>;
}

t.before(async (ctx) => {
  ctx.h = await harness();
  ctx.admin = await ctx.h.token('root', ['Admin']);
  ctx.mallory = await ctx.h.token('mallory', ['Developer']);
  for (const body of [team('payments', ['user:alice']), team('mallorys', ['user:mallory'])]) {
    const res = await ctx.h.call('PUT', `/api/v1/entities/team/default/${body.metadata.name}`, { token: ctx.admin, body });
    assert.is(res.status, 201, await res.clone().text());
  }
  const svc = await ctx.h.call('PUT', '/api/v1/entities/service/default/ledger', { token: ctx.admin, body: service('ledger', 'payments') });
  assert.is(svc.status, 201, await svc.clone().text());
});

t('a Developer cannot join a team by writing memberOf on their own User', async ({ h, mallory }) => {
  const res = await h.call('PUT', '/api/v1/entities/user/default/mallory', { token: mallory, body: user('mallory', { memberOf: ['team:payments'] }) });
  assert.is(res.status, 403, await res.clone().text());
  const p = await json(res);
  assert.is(p.field, 'body.spec.memberOf');
  assert.is(await h.catalog.get('user:default/mallory'), undefined);
});

t("a User's own memberOf grants nothing, even when stored; the Team's members list does", async ({ h, admin, mallory }) => {
  // Stored by Admin (say, from an old import): the relation shows, but it is the user's claim only.
  const put = await h.call('PUT', '/api/v1/entities/user/default/mallory', { token: admin, body: user('mallory', { memberOf: ['team:payments'] }) });
  assert.is(put.status, 201, await put.clone().text());
  const rels = await json(await h.call('GET', '/api/v1/entities/user/default/mallory/relations', { token: mallory }));
  assert.ok(rels.items.some((r: any) => r.type === 'memberOf' && r.targetRef === 'team:default/payments'));
  const write = await h.call('PUT', '/api/v1/entities/service/default/ledger', { token: mallory, body: service('ledger', 'payments', { tier: 'mine' }) });
  assert.is(write.status, 403, await write.clone().text());
  const me = await json(await h.call('GET', '/api/v1/me', { token: mallory }));
  assert.equal(me.teams.map((x: any) => x.metadata.name), ['mallorys']);
  // alice is listed by the Team itself: she writes payments' service.
  const alice = await h.token('alice', ['Developer']);
  const ok = await h.call('PUT', '/api/v1/entities/service/default/ledger', { token: alice, body: service('ledger', 'payments', { tier: 'gold' }) });
  assert.is(ok.status, 200, await ok.clone().text());
});

t('a Developer cannot set githubLogin, profile.email or the Entra object id of a User', async ({ h, mallory }) => {
  const cases: Array<[Record<string, unknown>, Record<string, string> | undefined, string]> = [
    [{ githubLogin: 'victim' }, undefined, 'body.spec.githubLogin'],
    [{ profile: { email: 'victim@contoso.com' } }, undefined, 'body.spec.profile.email'],
    [{ entraObjectId: '11111111-2222-3333-4444-555555555555' }, undefined, 'body.spec.entraObjectId'],
    [{}, { 'graph.microsoft.com/user-id': '11111111-2222-3333-4444-555555555555' }, 'body.metadata.annotations.graph.microsoft.com/user-id'],
  ];
  // The stored User is not hers to write: refused from the path, before the body is read.
  const stored = await h.call('PUT', '/api/v1/entities/user/default/mallory', { token: mallory, body: user('mallory', { githubLogin: 'victim' }) });
  assert.is(stored.status, 403, await stored.clone().text());
  assert.is((await json(stored)).field, 'path');
  // A new User: the identity field in the body is what is refused.
  for (const [spec, annotations, field] of cases) {
    const res = await h.call('PUT', '/api/v1/entities/user/default/mallory2', { token: mallory, body: user('mallory2', spec, annotations) });
    assert.is(res.status, 403, `${field}: ${await res.clone().text()}`);
    assert.is((await json(res)).field, field);
  }
  assert.is((await h.catalog.get('user:default/mallory'))!.spec.githubLogin, undefined);
  assert.is(await h.catalog.get('user:default/mallory2'), undefined);
});

t('an e-mail or login claimed by one User is not taken over by a User written later', async ({ h, admin }) => {
  const victim = await h.call('PUT', '/api/v1/entities/user/default/victim', {
    token: admin, body: user('victim', { githubLogin: 'victim-gh', profile: { email: 'victim@contoso.com' } }),
  });
  assert.is(victim.status, 201);
  // A pushed catalog-info.yaml in some repository (ingestion) names the same login and e-mail.
  await h.catalog.upsert(user('imposter', { githubLogin: 'Victim-GH', profile: { email: 'victim@contoso.com' } }), { name: 'github', scope: 'file:evil/repo/catalog-info.yaml' });
  assert.is(h.catalog.index.userByLogin('victim-gh'), 'user:default/victim');
  assert.is(h.catalog.index.userByEmail('VICTIM@contoso.com'), 'user:default/victim');
  // The victim's sign-in (by e-mail) is still the victim's User.
  const signIn = await h.token('someone-else', ['Developer'], [], { email: 'victim@contoso.com' });
  const me = await json(await h.call('GET', '/api/v1/me', { token: signIn }));
  assert.is(me.user?.metadata.name, 'victim');
  // When the first claimant goes, the next one takes the claim.
  await h.catalog.delete('user:default/victim');
  assert.is(h.catalog.index.userByLogin('victim-gh'), 'user:default/imposter');
});

t("a guest's e-mail local part does not make them the owner of a User-owned entity", async ({ h, admin }) => {
  for (const body of [user('jane', { profile: { email: 'jane@contoso.com' } }), service('jane-notes', 'user:default/jane')]) {
    const res = await h.call('PUT', `/api/v1/entities/${body.kind.toLowerCase()}/default/${body.metadata.name}`, { token: admin, body });
    assert.is(res.status, 201, await res.clone().text());
  }
  const guest = await h.token('guest-7f3a', ['Developer'], [], { email: 'jane@gmail.com' });
  const denied = await h.call('PUT', '/api/v1/entities/service/default/jane-notes', { token: guest, body: service('jane-notes', 'user:default/jane', { tier: 'x' }) });
  assert.is(denied.status, 403, await denied.clone().text());
  // An Entra principal (not the local issuer) named jane with that e-mail is not jane's User either.
  const entraGuest = { id: '9b1c0000-0000-0000-0000-000000000001', name: 'jane', email: 'jane@gmail.com', roles: ['Developer' as const], groups: [] };
  assert.is(h.catalog.identify(entraGuest).user, undefined);
  assert.is(rightsFor(entraGuest, 'user:default/jane', h.catalog.identify(entraGuest)).write, false);
  // Jane signs in with her full e-mail, as her User records it: hers to write.
  const jane = await h.token('4d2e-jane-oid', ['Developer'], [], { email: 'jane@contoso.com' });
  const ok = await h.call('PUT', '/api/v1/entities/service/default/jane-notes', { token: jane, body: service('jane-notes', 'user:default/jane', { tier: 'y' }) });
  assert.is(ok.status, 200, await ok.clone().text());
});

t('a User is found by its Entra object id annotation', async ({ h, admin }) => {
  const oid = '0a0b0c0d-1111-2222-3333-444455556666';
  const res = await h.call('PUT', '/api/v1/entities/user/default/omar', { token: admin, body: user('omar', {}, { 'graph.microsoft.com/user-id': oid }) });
  assert.is(res.status, 201, await res.clone().text());
  const entra = { id: oid, name: 'Omar Q', roles: ['Developer' as const], groups: [] };
  assert.is(h.catalog.identify(entra).user, 'user:default/omar');
  assert.is(rightsFor(entra, 'user:default/omar', h.catalog.identify(entra)).write, true);
  assert.is(rightsFor(entra, 'user:default/jane', h.catalog.identify(entra)).write, false);
});

t.run();
