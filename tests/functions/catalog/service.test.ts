import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freshCatalog, freshTables } from './fresh.ts';
import { CatalogService, ValidationError, ConcurrencyError, PartialWriteError } from '../../../functions/catalog/service.ts';
import type { Entity } from '../../../functions/catalog/kinds.ts';
import { generateEntities } from '../../../scripts/bench/catalog-data.ts';

const api = { name: 'api', actor: 'tester' };

function service(name: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) {
  return { apiVersion: 'nexus/v1', kind: 'Service', metadata: { name, ...metadata }, spec: { lifecycle: 'production', ...spec } };
}

function has(e: Entity | undefined, type: string, target: string, resolved?: boolean): boolean {
  return !!e?.relations.some((r) => r.type === type && r.targetRef === target && (resolved === undefined || r.resolved === resolved));
}

test('stores a nexus/v1 entity with defaults, source, lastSeen and both sides of its relations', async () => {
  const catalog = await freshCatalog();
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'Team', metadata: { name: 'payments' }, spec: {} }, api);
  const stored = await catalog.upsert(service('payments-api', { owner: 'payments', dependsOn: ['service:ledger'] }), api);
  assert.is(stored.metadata.namespace, 'default');
  assert.is(stored.spec.type, 'service');
  assert.is(stored.status?.source.name, 'api');
  assert.ok(stored.status?.lastSeen);
  assert.ok(stored.metadata.etag);
  assert.is(stored.status?.owner, 'team:default/payments');
  assert.ok(has(stored, 'ownedBy', 'team:default/payments', true));
  // ledger does not exist yet: the relation is kept, unresolved.
  assert.ok(has(stored, 'dependsOn', 'service:default/ledger', false));
  const team = await catalog.get('team:default/payments');
  assert.ok(has(team, 'ownerOf', 'service:default/payments-api', true));
  // Both directions are in the relations table.
  const fromTable = await catalog.relations('service:default/payments-api');
  assert.equal(fromTable.map((r) => `${r.type} ${r.targetRef} ${r.resolved}`), [
    'dependsOn service:default/ledger false',
    'ownedBy team:default/payments true',
  ]);
  assert.equal((await catalog.relations('team:default/payments')).map((r) => `${r.type} ${r.targetRef}`), ['ownerOf service:default/payments-api']);
});

test('a dangling relation resolves when its target arrives', async () => {
  const catalog = await freshCatalog();
  await catalog.upsert(service('web', { consumesApis: ['orders'] }), api);
  assert.equal((await catalog.relations('service:default/web')).map((r) => r.resolved), [false]);
  // The inverse row waits in the relations table for the API that does not exist yet.
  assert.equal((await catalog.relations('api:default/orders')).map((r) => `${r.type} ${r.targetRef}`), ['apiConsumedBy service:default/web']);
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'API', metadata: { name: 'orders' }, spec: { type: 'openapi', version: '2.1.0', authScheme: 'oauth2' } }, api);
  assert.equal((await catalog.relations('service:default/web')).map((r) => `${r.type} ${r.targetRef} ${r.resolved}`), ['consumesApi api:default/orders true']);
  const orders = await catalog.get('api:default/orders');
  assert.ok(has(orders, 'apiConsumedBy', 'service:default/web', true));
});

test('dropping a relation removes both rows; a relation both sides declare stays until neither does', async () => {
  const catalog = await freshCatalog();
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'Team', metadata: { name: 'ops' }, spec: { members: ['ann'] } }, api);
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'User', metadata: { name: 'ann' }, spec: { memberOf: ['ops'] } }, api);
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'User', metadata: { name: 'ann' }, spec: {} }, api);
  assert.ok(has(await catalog.get('user:ann'), 'memberOf', 'team:default/ops'), 'the team still lists ann');
  assert.equal((await catalog.relations('user:ann')).map((r) => r.type), ['memberOf']);
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'Team', metadata: { name: 'ops' }, spec: {} }, api);
  assert.equal((await catalog.get('user:ann'))?.relations, []);
  assert.equal(await catalog.relations('user:ann'), []);
  assert.equal(await catalog.relations('team:ops'), []);
});

test('invalid entities are refused with every field named, and nothing is stored', async () => {
  const catalog = await freshCatalog();
  const bad = [
    [{ apiVersion: 'nexus/v1', kind: 'Service', metadata: { name: 'has spaces' }, spec: {} }, 'metadata.name'],
    [{ apiVersion: 'nexus/v1', kind: 'Spaceship', metadata: { name: 'x' }, spec: {} }, 'kind'],
    [{ apiVersion: 'nexus/v1', kind: 'AzureResource', metadata: { name: 'db' }, spec: { region: 'westeurope' } }, 'spec.type'],
    [{ apiVersion: 'nexus/v1', kind: 'Incident', metadata: { name: 'inc-1' }, spec: { severity: 'apocalyptic', status: 'open', opened: '2026-01-01T00:00:00Z' } }, 'spec.severity'],
    [{ apiVersion: 'nexus/v1', kind: 'Service', metadata: { name: 'svc', tags: ['Not_OK'] }, spec: {} }, 'metadata.tags.0'],
    [{ apiVersion: 'nexus/v1', kind: 'Service', metadata: { name: 'svc2', namespace: 'Bad_NS' }, spec: {} }, 'metadata.namespace'],
    // The envelope is fine but one reference is not: still nothing, not even the good relations.
    [service('svc3', { owner: 'payments', dependsOn: ['service:fine', 'service:not ok'] }), 'spec.dependsOn.1'],
  ] as const;
  for (const [input, path] of bad) {
    try {
      await catalog.upsert(input, api);
      assert.unreachable(`accepted ${JSON.stringify(input)}`);
    } catch (err) {
      assert.instance(err, ValidationError);
      assert.ok((err as ValidationError).issues.some((i) => i.path === path), `${path} in ${JSON.stringify((err as ValidationError).issues)}`);
    }
  }
  for (const ref of ['service:svc3', 'service:svc', 'service:svc2']) assert.is(await catalog.get(ref, { consistent: true }), undefined);
  assert.equal(await catalog.relations('service:default/fine'), []);
  assert.equal(await catalog.relations('team:default/payments'), []);
  assert.is(catalog.index.size, 0);
});

test('concurrent writers never lose an update', async () => {
  const t = await freshTables();
  const open = () => CatalogService.open({ storage: t.storage, tables: { entities: t.entities, relations: t.relations } });
  const [a, b] = await Promise.all([open(), open()]);
  await a.upsert(service('busy'), api);
  // Twenty writers across two service instances each add their own tag at the same time.
  await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).update('service:busy', (cur) => ({
    ...cur, metadata: { ...cur.metadata, tags: [...(cur.metadata.tags ?? []), `w${i}`] },
  }), { name: 'api', actor: `writer-${i}` })));
  const final = await a.get('service:busy', { consistent: true });
  assert.equal([...final!.metadata.tags!].sort(), Array.from({ length: 20 }, (_, i) => `w${i}`).sort());
});

test('the index never takes an older version of a row over a newer one (a slower writer, refresh or read)', async () => {
  const t = await freshTables();
  const cfg = { storage: t.storage, tables: { entities: t.entities, relations: t.relations } };
  const catalog = await CatalogService.open(cfg);
  await catalog.upsert(service('versioned', { tier: 'one' }), api);
  const older = structuredClone(catalog.index.getIndexed('service:default/versioned')!);
  await catalog.upsert(service('versioned', { tier: 'two' }), api);
  assert.is(catalog.index.put(older), false);
  assert.is((await catalog.get('service:versioned'))?.spec.tier, 'two');
  assert.is(catalog.index.getIndexed('service:default/versioned')?.version, 2);
  // Deleted and created again by another instance: the new row counts from 1 and still replaces the old.
  const other = await CatalogService.open(cfg);
  await other.delete('service:versioned');
  await other.upsert(service('versioned', { tier: 'three' }), api);
  await catalog.refresh();
  assert.is((await catalog.get('service:versioned'))?.spec.tier, 'three');
});

test('refresh() brings in what another instance wrote', async () => {
  const t = await freshTables();
  const cfg = { storage: t.storage, tables: { entities: t.entities, relations: t.relations } };
  const a = await CatalogService.open(cfg);
  const b = await CatalogService.open(cfg);
  await a.upsert(service('from-a', { owner: 'x' }), api);
  assert.is(b.index.has('service:default/from-a'), false);
  assert.is(await b.refresh(), 1);
  assert.is((await b.search('from-a')).total, 1);
  await a.update('service:from-a', (cur) => ({ ...cur, spec: { ...cur.spec, tier: 'gold' } }), api);
  await b.refresh();
  assert.is((await b.get('service:from-a'))?.spec.tier, 'gold');
  assert.is(await b.refresh(), 0, 'nothing new');
});

test('a write with a stale ETag is refused and changes nothing', async () => {
  const catalog = await freshCatalog();
  const v1 = await catalog.upsert(service('etagged', { tier: 'gold' }), api);
  const v2 = await catalog.upsert(service('etagged', { tier: 'silver' }), api, { ifMatch: v1.metadata.etag });
  assert.is.not(v2.metadata.etag, v1.metadata.etag);
  try {
    await catalog.upsert(service('etagged', { tier: 'bronze' }), api, { ifMatch: v1.metadata.etag });
    assert.unreachable('stale etag accepted');
  } catch (err) {
    assert.instance(err, ConcurrencyError);
  }
  assert.is((await catalog.get('service:etagged', { consistent: true }))?.spec.tier, 'silver');
});

test('list filters by kind, owner, tag and any field, selects fields, and pages with a cursor', async () => {
  const catalog = await freshCatalog();
  for (let i = 0; i < 12; i++) {
    await catalog.upsert(service(`svc-${String(i).padStart(2, '0')}`, { owner: i % 2 ? 'red' : 'blue', lifecycle: i < 4 ? 'experimental' : 'production' }, { tags: i % 3 ? [] : ['java'] }), api);
  }
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'Team', metadata: { name: 'red' }, spec: {} }, api);
  assert.is((await catalog.list({ kind: 'Service', limit: 100 })).items.length, 12);
  assert.is((await catalog.list({ kind: 'team', limit: 100 })).items.length, 1);
  assert.is((await catalog.list({ owner: 'red', limit: 100 })).items.length, 6);
  assert.is((await catalog.list({ owner: 'team:default/blue', tag: 'java', limit: 100 })).items.length, 2);
  assert.is((await catalog.list({ where: { 'spec.lifecycle': 'experimental' }, limit: 100 })).items.length, 4);
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await catalog.list({ kind: 'Service', limit: 5, cursor, fields: ['spec.owner'] });
    for (const item of page.items as Array<{ metadata: { name: string }; spec: { owner: string }; status?: unknown }>) {
      names.push(item.metadata.name);
      assert.ok(item.spec.owner);
      assert.is(item.status, undefined, 'only the selected fields');
    }
    cursor = page.nextCursor;
  } while (cursor);
  assert.equal(names, Array.from({ length: 12 }, (_, i) => `svc-${String(i).padStart(2, '0')}`));
});

test('search ranks name matches first, filters by kind, and gives facets', async () => {
  const catalog = await freshCatalog();
  await catalog.upsert(service('billing', { owner: 'finance' }, { description: 'sends invoices' }), api);
  await catalog.upsert(service('invoice-renderer', { owner: 'finance' }, { tags: ['pdf'] }), api);
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'API', metadata: { name: 'invoices', title: 'Invoices API' }, spec: { type: 'openapi', owner: 'finance' } }, api);
  await catalog.upsert(service('search-ui'), api);
  const res = await catalog.search('invoice');
  assert.is(res.total, 3);
  assert.equal(res.items.map((h) => h.entity.metadata.name), ['invoice-renderer', 'invoices', 'billing']);
  assert.ok(res.items[0]!.score > res.items[2]!.score);
  assert.equal(res.facets.kind, { Service: 2, API: 1 });
  assert.equal(res.facets.owner, { 'team:default/finance': 3 });
  const apis = await catalog.search('invoice', { kind: 'API' });
  assert.equal(apis.items.map((h) => h.entity.kind), ['API']);
  assert.is((await catalog.search('kind:service invoice')).total, 2);
  assert.is((await catalog.search('invoice renderer')).total, 1);
  assert.is((await catalog.search('nothing-like-this')).total, 0);
});

test('a second instance loads the index from the table', async () => {
  const t = await freshTables();
  const cfg = { storage: t.storage, tables: { entities: t.entities, relations: t.relations } };
  const a = await CatalogService.open(cfg);
  await a.upsert(service('persisted', { owner: 'x', dependsOn: ['service:other'] }), api);
  const b = await CatalogService.open(cfg);
  const e = await b.get('service:persisted');
  assert.ok(has(e, 'dependsOn', 'service:default/other', false));
  assert.is((await b.search('persisted')).total, 1);
});

test('entities a source no longer reports are orphaned, not deleted, and come back when seen again', async () => {
  const catalog = await freshCatalog();
  const poll = { name: 'resource-graph', scope: 'sub-1' };
  const res = (name: string) => ({ apiVersion: 'nexus/v1', kind: 'AzureResource', metadata: { name }, spec: { type: 'Microsoft.Storage/storageAccounts' } });
  await catalog.upsert(res('keep'), poll);
  await catalog.upsert(res('gone'), poll);
  // Also reported by another source: orphaned only when every source has lost it.
  await catalog.upsert(res('shared'), poll);
  await catalog.upsert(res('shared'), { name: 'pulumi', scope: 'stack-a' });
  const orphaned = await catalog.markMissing(poll, ['azureresource:default/keep']);
  assert.equal(orphaned, ['azureresource:default/gone']);
  const gone = await catalog.get('azureresource:gone', { consistent: true });
  assert.ok(gone, 'still there');
  assert.is(gone!.status?.orphaned, true);
  assert.ok(gone!.status?.orphanedAt);
  assert.not.ok((await catalog.get('azureresource:shared'))?.status?.orphaned);
  assert.equal((await catalog.list({ orphaned: true, limit: 10 })).items.map((e) => (e as Entity).metadata.name), ['gone']);
  await catalog.upsert(res('gone'), poll);
  assert.not.ok((await catalog.get('azureresource:gone'))?.status?.orphaned);
});

test('ownership: own owner, then CODEOWNERS, then Azure tags, then Entra group membership', async () => {
  const catalog = await freshCatalog();
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'Repository', metadata: { name: 'shop', namespace: 'acme' }, spec: {
    codeowners: [{ pattern: '*', owners: ['@acme/web'] }, { pattern: '/services/cart/', owners: ['@acme/cart-team'] }],
  } }, api);
  const own = await catalog.upsert(service('own', { owner: 'explicit', repository: 'repository:acme/shop' }), api);
  assert.equal([own.status?.owner, own.status?.ownerSource], ['team:default/explicit', 'owner']);
  const co = await catalog.upsert(service('cart', { repository: 'repository:acme/shop' }, { annotations: { 'nexus.io/source-path': 'services/cart/catalog-info.yaml' } }), api);
  assert.equal([co.status?.owner, co.status?.ownerSource], ['team:default/cart-team', 'codeowners']);
  const co2 = await catalog.upsert(service('front', { repository: 'repository:acme/shop' }), api);
  assert.is(co2.status?.owner, 'team:default/web');
  const tagged = await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'AzureResource', metadata: { name: 'kv' }, spec: { type: 'Microsoft.KeyVault/vaults', tags: { Team: 'Data Platform' } } }, api);
  assert.equal([tagged.status?.owner, tagged.status?.ownerSource], ['team:default/data-platform', 'azure-tags']);
  assert.ok(has(tagged, 'ownedBy', 'team:default/data-platform'));
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'Team', metadata: { name: 'sre' }, spec: { entraGroupId: '6f1c0f6e-0000-4000-8000-000000000001' } }, api);
  const entra = await catalog.upsert(service('tool'), { name: 'api', actor: 'someone', groups: ['6F1C0F6E-0000-4000-8000-000000000001'] });
  assert.equal([entra.status?.owner, entra.status?.ownerSource], ['team:default/sre', 'entra']);
  const nobody = await catalog.upsert(service('stray'), api);
  assert.is(nobody.status?.owner, undefined);
});

test('team() and me() assemble members, owned entities, pull requests and environments', async () => {
  const catalog = await freshCatalog({ runs: { recent: async ({ teams }) => [{ id: 'run-1', teams }] } });
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'Team', metadata: { name: 'payments' }, spec: { members: ['jane'], onCall: { primary: 'jane' } } }, api);
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'User', metadata: { name: 'jane' }, spec: { profile: { email: 'jane@acme.example' }, githubLogin: 'janedoe' } }, api);
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'Environment', metadata: { name: 'prod' }, spec: { stage: 'production', region: 'westeurope' } }, api);
  await catalog.upsert(service('pay', { owner: 'payments', deployedTo: ['prod'] }), api);
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'Repository', metadata: { name: 'other' }, spec: {
    openPullRequests: [{ number: 7, title: 'Fix rounding', author: 'janedoe' }, { number: 8, title: 'Not hers', author: 'bob' }],
  } }, api);
  const team = await catalog.team('payments');
  assert.equal(team!.members.map((m) => m.metadata.name), ['jane']);
  assert.equal(team!.owned.map((m) => m.metadata.name), ['pay']);
  assert.equal(team!.onCall, { primary: 'jane' });
  assert.is(await catalog.team('nope'), undefined);
  const me = await catalog.me({ id: 'oid-1', name: 'Jane', email: 'jane@acme.example', groups: [] });
  assert.is(me.user?.metadata.name, 'jane');
  assert.equal(me.teams.map((t) => t.metadata.name), ['payments']);
  assert.equal(me.owned.map((e) => e.metadata.name), ['pay']);
  assert.equal(me.environments.map((e) => e.metadata.name), ['prod']);
  assert.equal(me.openPullRequests, [{ repository: 'repository:default/other', number: 7, title: 'Fix rounding', author: 'janedoe' }]);
  assert.equal(me.recentRuns, [{ id: 'run-1', teams: ['team:default/payments'] }]);
});

test('delete removes the entity and the relations it declared', async () => {
  const catalog = await freshCatalog();
  await catalog.upsert(service('temp', { dependsOn: ['service:base'] }), api);
  assert.is(await catalog.delete('service:temp'), true);
  assert.is(await catalog.get('service:temp'), undefined);
  assert.equal(await catalog.relations('service:base'), []);
  assert.is(await catalog.delete('service:temp'), false);
});

test('bulkUpsert validates everything first, then writes entities and both sides of relations in batches', async () => {
  const t = await freshTables();
  const cfg = { storage: t.storage, tables: { entities: t.entities, relations: t.relations } };
  const catalog = await CatalogService.open(cfg);
  const bad = [service('fine-one'), service('bad one')];
  try {
    await catalog.bulkUpsert(bad, api);
    assert.unreachable('accepted');
  } catch (err) {
    assert.instance(err, ValidationError);
    assert.equal((err as ValidationError).issues.map((i) => i.path), ['[1].metadata.name']);
  }
  assert.is(catalog.index.size, 0);
  const entities = [...generateEntities(600)];
  assert.equal(await catalog.bulkUpsert(entities, { name: 'bench', scope: 'bench' }), { written: 600 });
  // A fresh instance sees the same, from storage.
  const again = await CatalogService.open(cfg);
  assert.is(again.index.size, 600);
  const svc = entities.find((e) => e.kind === 'Service')! as { metadata: { name: string }; spec: { owner: string } };
  const key = `service:default/${svc.metadata.name}`;
  const rels = await again.relations(key);
  assert.ok(rels.some((r) => r.type === 'ownedBy' && r.targetRef === `team:default/${svc.spec.owner}` && r.resolved));
  assert.ok((await again.relations(`team:default/${svc.spec.owner}`)).some((r) => r.type === 'ownerOf' && r.targetRef === key));
  // Searching many matches ranks and pages them consistently.
  const first = await again.search('payments', { limit: 5 });
  const second = await again.search('payments', { limit: 5, offset: 5 });
  assert.ok(first.total > 10);
  assert.is(first.items.length, 5);
  const scores = [...first.items, ...second.items].map((h) => h.score);
  assert.equal(scores, [...scores].sort((a, b) => b - a));
  assert.is(new Set([...first.items, ...second.items].map((h) => h.entity.metadata.name)).size, 10);
  assert.ok((await again.search('paym')).total >= first.total, 'prefixes match');
  assert.is(Object.values(first.facets.kind).reduce((a, b) => a + b, 0), first.total);
});

test('writeAll writes each row only at the ETag the caller authorised, not the one indexed since', async () => {
  const catalog = await freshCatalog();
  const first = await catalog.upsert(service('pinned'), api);
  // Changed after the caller checked rights against `first` (the index follows the change).
  await catalog.upsert(service('pinned', { tier: 'changed' }), api);
  try {
    await catalog.writeAll([{ input: service('pinned', { tier: 'import' }), source: api, etag: first.metadata.etag! }]);
    assert.unreachable('writeAll wrote over a version nobody authorised');
  } catch (err) {
    assert.is((err as PartialWriteError).conflict, true, String(err));
  }
  // null: authorised as new, so it must not exist.
  try {
    await catalog.writeAll([{ input: service('pinned', { tier: 'import' }), source: api, etag: null }]);
    assert.unreachable('writeAll replaced an entity authorised as new');
  } catch (err) {
    assert.is((err as PartialWriteError).conflict, true, String(err));
  }
  assert.is((await catalog.get('service:pinned', { consistent: true }))?.spec.tier, 'changed');
});

test('a consistent read replaces the index entry with the stored row, whatever the index thinks is newer', async () => {
  const t = await freshTables();
  const tables = { entities: t.entities, relations: t.relations };
  // An instance whose clock runs an hour ahead creates the entity; another deletes and recreates it.
  const ahead = await CatalogService.open({ storage: t.storage, tables, now: () => new Date(Date.now() + 3_600_000) });
  const other = await CatalogService.open({ storage: t.storage, tables });
  await ahead.upsert(service('skewed', { tier: 'old' }), api);
  await other.refresh();
  await other.delete('service:skewed');
  await other.upsert(service('skewed', { tier: 'new' }), api);
  await ahead.refresh();
  assert.is((await ahead.get('service:skewed', { consistent: true }))?.spec.tier, 'new');
  assert.is(ahead.index.entity('service:default/skewed')?.spec.tier, 'new');
});

test('refresh drops what another instance deleted, at the next refresh', async () => {
  const t = await freshTables();
  const tables = { entities: t.entities, relations: t.relations };
  const one = await CatalogService.open({ storage: t.storage, tables });
  const two = await CatalogService.open({ storage: t.storage, tables });
  await one.upsert(service('doomed'), api);
  await one.upsert(service('kept'), api);
  await two.refresh();
  assert.ok(two.index.has('service:default/doomed'));
  await one.delete('service:doomed');
  assert.is(await two.refresh(), 1);
  assert.is(two.index.has('service:default/doomed'), false);
  assert.ok(two.index.has('service:default/kept'));
  // One written here while it refreshes is kept.
  await one.delete('service:kept');
  await Promise.all([two.refresh(), two.upsert(service('fresh'), api)]);
  assert.ok(two.index.has('service:default/fresh'));
  assert.is(two.index.has('service:default/kept'), false);
});

test.run();
