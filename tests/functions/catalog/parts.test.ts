// The catalog's parts on their own: row encoding (store.ts), preparing documents (documents.ts),
// and the search box syntax and field projection (queries.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { docOf, itemOf, nextVersion, relPartition, relRow, rowOf, tableNamesOf } from '../../../functions/catalog/store.ts';
import { goneDoc, keyOf, mergeEntity, parseEntity, prepareDoc, userIdentityChanges, type StoredDoc } from '../../../functions/catalog/documents.ts';
import { ownerKeyOf, parseSearchBox, project } from '../../../functions/catalog/queries.ts';
import { MemoryIndex } from '../../../functions/catalog/memory-index.ts';
import { QueryError } from '../../../functions/catalog/types.ts';
import { ValidationError, type Entity } from '../../../functions/catalog/kinds.ts';

const AT = '2026-12-03T12:00:00.000Z';
const svc = (name: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) =>
  parseEntity({ apiVersion: 'nexus/v1', kind: 'Service', metadata: { name, ...metadata }, spec: { lifecycle: 'production', ...spec } });

test('table names: the defaults, and the journal named after the entities table', () => {
  assert.equal(tableNamesOf(), { entities: 'catalog', relations: 'relations', journal: 'catalogjournal' });
  assert.equal(tableNamesOf({ entities: 'cat1', relations: 'rel1' }), { entities: 'cat1', relations: 'rel1', journal: 'cat1journal' });
});

test('a row holds the document in chunks and its filterable columns; docOf and itemOf read it back', () => {
  const doc = prepareDoc(new MemoryIndex(), AT, svc('big', { owner: 'team:ops', notes: 'n'.repeat(70_000) }), { name: 'api' });
  const row = rowOf(doc, 3);
  assert.is(row.chunks, 3);
  assert.equal([row.kind, row.namespace, row.name, row.owner, row.orphaned, row.lastSeen, row.version], ['Service', 'default', 'big', 'team:default/ops', false, AT, 3]);
  assert.equal(docOf(row), JSON.parse(JSON.stringify(doc)));
  const item = itemOf({ ...row, partitionKey: 'service', rowKey: 'default:big', etag: 'W/"1"' });
  assert.is(item?.key, 'service:default/big');
  assert.is(item?.version, 3);
  assert.is(itemOf({ ...row, d1: undefined as unknown as string, partitionKey: 'service', rowKey: 'default:big', etag: 'x' }), undefined, 'a broken row is skipped');
  assert.is(nextVersion(undefined), 1);
  assert.is(nextVersion(row), 4);
});

test('relation rows: partitioned by the entity\'s kind and a stable hash, keyed entity|type|target', () => {
  const r = relRow('service:default/a', 'dependsOn', 'service:default/b');
  assert.is(r.rowKey, 'service:default/a|dependsOn|service:default/b');
  assert.match(r.pk, /^service\.\d+$/);
  assert.is(relPartition('service:default/a'), r.pk);
});

test('prepareDoc stamps source, lastSeen and owner; refuses what is too large, naming the document', () => {
  const doc = prepareDoc(new MemoryIndex(), AT, svc('a', { owner: 'ops' }), { name: 'github', scope: 'org' });
  assert.is(doc.entity.status?.owner, 'team:default/ops');
  assert.is(doc.entity.status?.lastSeen, AT);
  assert.equal(Object.keys((doc.entity.status as unknown as { sources: object }).sources), ['github|org']);
  assert.throws(() => prepareDoc(new MemoryIndex(), AT, svc('huge', { notes: 'x'.repeat(460_000) }), { name: 'api' }), (e: unknown) => e instanceof ValidationError);
});

test('mergeEntity lays the new spec over the old, drops owned fields the source no longer sends, joins tags', () => {
  const before = prepareDoc(new MemoryIndex(), AT, svc('m', { tier: 'gold', environment: 'prod' }, { tags: ['a'] }), { name: 'azure' }).entity;
  const merged = mergeEntity(before, svc('m', { language: 'go' }, { tags: ['b'] }), ['environment']);
  assert.equal([merged.spec.tier, merged.spec.language, merged.spec.environment], ['gold', 'go', undefined]);
  assert.equal(merged.metadata.tags, ['a', 'b']);
});

test('goneDoc orphans an entity only when every source is gone', () => {
  let doc: StoredDoc = prepareDoc(new MemoryIndex(), AT, svc('g'), { name: 'github' });
  doc = prepareDoc(new MemoryIndex(), AT, svc('g'), { name: 'azure' }, doc.entity.status);
  doc = goneDoc(doc, { name: 'github' }, AT);
  assert.is(doc.entity.status?.orphaned, false);
  doc = goneDoc(doc, { name: 'azure' }, '2026-12-04T00:00:00.000Z');
  assert.is(doc.entity.status?.orphaned, true);
  assert.is(doc.entity.status?.orphanedAt, '2026-12-04T00:00:00.000Z');
});

test('keyOf and userIdentityChanges', () => {
  assert.is(keyOf('component:Payments'), 'service:default/payments');
  assert.is(keyOf({ kind: 'Team', namespace: 'default', name: 'Ops' }), 'team:default/ops');
  const user = (spec: Record<string, unknown>) => ({ apiVersion: 'nexus/v1', kind: 'User', metadata: { name: 'u' }, spec }) as unknown as Entity;
  assert.equal(userIdentityChanges(user({ memberOf: ['A', 'b'] }), user({ memberOf: ['B', 'a'] })), []);
  assert.equal(userIdentityChanges(user({}), user({ githubLogin: 'x' })), ['spec.githubLogin']);
});

test('the search box: kind:, owner: and tag: inside the text are filters; an owner there is blamed on q', () => {
  assert.equal(parseSearchBox('kind:service payments tag:java'), { text: '  payments  ', kind: 'service', owner: undefined, ownerField: 'owner', tag: 'java' });
  assert.is(parseSearchBox('owner:ops x', { owner: 'dev' }).owner, 'ops');
  assert.is(parseSearchBox('owner:ops x').ownerField, 'q');
  try {
    ownerKeyOf('no way/at:all/', 'q');
    assert.unreachable('accepted');
  } catch (err) {
    assert.instance(err, QueryError);
    assert.is((err as QueryError).issues[0]?.path, 'q');
  }
});

test('project keeps the identity fields and the paths asked for, and never writes a prototype', () => {
  const e = { apiVersion: 'nexus/v1', kind: 'Service', metadata: { name: 'p', namespace: 'default', title: 'P' }, spec: { tier: 'gold', a: { b: 1 } } } as unknown as Entity;
  assert.equal(project(e, ['spec.tier', 'spec.a.b', 'spec.missing']), { apiVersion: 'nexus/v1', kind: 'Service', metadata: { name: 'p', namespace: 'default' }, spec: { tier: 'gold', a: { b: 1 } } });
  const hostile = JSON.parse('{"apiVersion":"nexus/v1","kind":"Service","metadata":{"name":"h","namespace":"default"},"spec":{"__proto__":{"polluted":true}}}') as Entity;
  const out = project(hostile, ['spec.__proto__.polluted']) as { spec: Record<string, unknown> };
  assert.is(({} as Record<string, unknown>).polluted, undefined);
  assert.ok(Object.hasOwn(out.spec, '__proto__'));
});

test.run();
