// Who is who in the index: Users by e-mail, login and object id (the first created keeps an
// identity), Teams by Entra group, and team membership only as the Team itself declares it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryIndex, userIdentity } from '../../../../functions/catalog/memory-index.ts';
import { item } from './entities.ts';

const user = (name: string, createdAt: string, spec: Record<string, unknown>, annotations?: Record<string, string>, declared?: Array<{ type: string; target: string }>) =>
  item({ kind: 'User', name, createdAt, spec, annotations, declared });

test('a User is found by e-mail, GitHub login and object id (spec or annotation), in any case', () => {
  const ix = new MemoryIndex();
  ix.put(user('ada', '2026-01-01', { profile: { email: 'Ada@Example.com ' }, githubLogin: 'AdaL', entraObjectId: 'OID-1' }, { 'graph.microsoft.com/user-id': 'oid-2' }));
  assert.is(ix.userByEmail('ada@example.COM'), 'user:default/ada');
  assert.is(ix.userByLogin('adal'), 'user:default/ada');
  assert.is(ix.userByOid('oid-1'), 'user:default/ada');
  assert.is(ix.userByOid('OID-2'), 'user:default/ada');
  assert.is(ix.userByEmail('ada'), undefined, 'never by the local part of an e-mail');
  assert.equal(userIdentity(ix.entity('user:default/ada')!), { emails: ['ada@example.com'], logins: ['adal'], oids: ['oid-1', 'oid-2'] });
});

test('the User created first keeps an identity; when it goes, the next oldest takes over', () => {
  const ix = new MemoryIndex();
  ix.put(user('late', '2026-03-01', { githubLogin: 'shared' }));
  ix.put(user('early', '2026-01-01', { githubLogin: 'shared' }));
  ix.put(user('middle', '2026-02-01', { githubLogin: 'shared' }));
  assert.is(ix.userByLogin('shared'), 'user:default/early');
  // Rewriting the later one does not move the claim.
  ix.put(user('late', '2026-03-01', { githubLogin: 'shared' }), { force: true });
  assert.is(ix.userByLogin('shared'), 'user:default/early');
  ix.remove('user:default/early');
  assert.is(ix.userByLogin('shared'), 'user:default/middle');
  // The holder changes its login: it gives the old one up.
  ix.put(user('middle', '2026-02-01', { githubLogin: 'other' }), { force: true });
  assert.is(ix.userByLogin('shared'), 'user:default/late');
  assert.is(ix.userByLogin('other'), 'user:default/middle');
  ix.remove('user:default/late');
  assert.is(ix.userByLogin('shared'), undefined);
});

test('only Users claim identities', () => {
  const ix = new MemoryIndex();
  ix.put(item({ kind: 'Service', name: 'bot', spec: { githubLogin: 'bot', profile: { email: 'bot@example.com' } } }));
  assert.is(ix.userByLogin('bot'), undefined);
  assert.is(ix.userByEmail('bot@example.com'), undefined);
});

test('Teams by Entra group, in any case; a Team that changes group leaves the old one', () => {
  const ix = new MemoryIndex();
  ix.put(item({ kind: 'Team', name: 'core', spec: { entraGroupId: 'G-1' } }));
  ix.put(item({ kind: 'Team', name: 'web', spec: { entraGroupId: 'g-1' } }));
  ix.put(item({ kind: 'Team', name: 'data', spec: { entraGroupId: 'g-2' } }));
  assert.equal(ix.teamsByEntraGroups(['g-1']).sort(), ['team:default/core', 'team:default/web']);
  assert.equal(ix.teamsByEntraGroups(['G-2', 'g-9']), ['team:default/data']);
  ix.put(item({ kind: 'Team', name: 'web', spec: { entraGroupId: 'g-3' } }), { force: true });
  assert.equal(ix.teamsByEntraGroups(['g-1']), ['team:default/core']);
  ix.remove('team:default/core');
  assert.equal(ix.teamsByEntraGroups(['g-1']), []);
});

test("a User's teams are those that list the User; the User's own memberOf grants nothing", () => {
  const ix = new MemoryIndex();
  const bob = 'user:default/bob';
  ix.put(user('bob', '2026-01-01', { githubLogin: 'bobby', entraObjectId: 'oid-bob' }, undefined, [
    { type: 'memberOf', target: 'team:default/claimed' },
  ]));
  ix.put(item({ kind: 'Team', name: 'real', declared: [{ type: 'hasMember', target: bob }] }));
  ix.put(item({ kind: 'Team', name: 'claimed' }));
  assert.equal(ix.teamsOfUser(bob), ['team:default/real']);
  for (const actor of ['oid-bob', 'BOBBY', bob]) assert.equal(ix.teamsOfActor(actor), ['team:default/real'], actor);
  assert.equal(ix.teamsOfActor('user:default/nobody'), []);
  assert.equal(ix.teamsOfActor('stranger'), []);
  // The Team drops the User: no team left.
  ix.put(item({ kind: 'Team', name: 'real' }), { force: true });
  assert.equal(ix.teamsOfUser(bob), []);
});

test.run();
