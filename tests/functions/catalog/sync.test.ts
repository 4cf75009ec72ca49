// Two catalog instances on one Azurite: what one writes reaches the other's index through the
// change journal, a refresh reads nothing but one range query when nothing changed, and an instance
// that fell behind the journal's retention reloads everything.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freshTables } from './fresh.ts';
import { clock, counting } from './counting.ts';
import { CatalogService } from '../../../functions/catalog/service.ts';
import { Journal, JOURNAL_DEFAULTS } from '../../../functions/catalog/journal.ts';
import { Table } from '../../../functions/platform/tables.ts';
import { tableKeysOf } from '../../../functions/catalog/refs.ts';
import { docOf, rowOf, type CatalogRow } from '../../../functions/catalog/store.ts';

const api = { name: 'api', actor: 'tester' };
const service = (name: string, spec: Record<string, unknown> = {}) => ({ apiVersion: 'nexus/v1', kind: 'Service', metadata: { name }, spec: { lifecycle: 'production', ...spec } });
const { settleMs, overlapMs, retentionMs } = JOURNAL_DEFAULTS;

async function pair() {
  const t = await freshTables();
  const c = clock();
  const tables = { entities: t.entities, relations: t.relations };
  const counted = counting(t.storage);
  const writer = await CatalogService.open({ storage: t.storage, tables, now: c.now });
  const reader = await CatalogService.open({ storage: counted.storage, tables, now: c.now });
  return { t, c, writer, reader, counted, tables };
}

/** Changes a row behind the catalog's back (no journal entry): only a re-read or reload finds it. */
async function rawEdit(t: Awaited<ReturnType<typeof freshTables>>, key: string, edit: (spec: Record<string, unknown>) => void): Promise<void> {
  const rows = await Table.open<CatalogRow>(t.entities, t.storage);
  const { pk, rk } = tableKeysOf(key);
  await rows.update(pk, rk, (cur) => {
    const doc = docOf(cur!);
    edit(doc.entity.spec);
    return rowOf(doc, (cur!.version ?? 0) + 1);
  });
}

test('upserts, updates, deletes, bulk writes, imports and orphaning on one instance reach the other by refresh', async () => {
  const { writer, reader } = await pair();
  await writer.upsert(service('a', { tier: 'one' }), api);
  await writer.upsert(service('b'), api);
  assert.is(await reader.refresh(), 2);
  assert.is((await reader.get('service:a'))?.spec.tier, 'one');
  await writer.update('service:a', (cur) => ({ ...cur, spec: { ...cur.spec, tier: 'two' } }), api);
  await writer.delete('service:b');
  assert.is(await reader.refresh(), 2);
  assert.is((await reader.get('service:a'))?.spec.tier, 'two');
  assert.is(reader.index.has('service:default/b'), false);
  await writer.bulkUpsert([service('c'), service('d')], api);
  await writer.writeAll([{ input: service('e'), source: api }]);
  await writer.markGone('service:a', { name: 'api' });
  assert.is(await reader.refresh(), 4);
  for (const k of ['c', 'd', 'e']) assert.ok(reader.index.has(`service:default/${k}`), k);
  assert.is((await reader.get('service:a'))?.status?.orphaned, true);
  // Search and relations follow the index.
  assert.is((await reader.search('e')).items.some((h) => h.entity.metadata.name === 'e'), true);
});

test('a refresh when nothing changed is one range query that returns nothing', async () => {
  const { c, writer, reader, counted } = await pair();
  await writer.upsert(service('x'), api);
  await reader.refresh();
  // Past the windows the journal reads again (settle and overlap): the entries are behind the cursor.
  c.advance(settleMs + overlapMs + 1000);
  await reader.refresh(); // the settled look
  c.advance(settleMs + overlapMs + 1000);
  await reader.refresh();
  counted.reset();
  c.advance(5000);
  assert.is(await reader.refresh(), 0);
  assert.equal(counted.counts.paths.length, 1, counted.counts.paths.join('\n'));
  assert.match(counted.counts.paths[0]!, /journal\(\)$/);
  assert.is(counted.counts.entities, 0);
  // This instance's own writes cost it no re-read either: its index has them.
  await reader.upsert(service('mine'), api);
  counted.reset();
  assert.is(await reader.refresh(), 0);
  assert.is(counted.counts.paths.filter((p) => !/journal/.test(p)).length, 0, counted.counts.paths.join('\n'));
});

test('an entry read before its row landed is looked at again once settled', async () => {
  const { t, c, writer, reader, tables } = await pair();
  await writer.upsert(service('slow', { tier: 'before' }), api);
  await reader.refresh();
  // Another writer announces its change, and the row only lands after the reader's first look.
  const other = await Journal.open(`${tables.entities}journal`, t.storage, {}, c.now);
  await other.announce(['service:default/slow']);
  c.advance(100);
  assert.is(await reader.refresh(), 0, 'nothing to take yet');
  await rawEdit(t, 'service:default/slow', (spec) => { spec.tier = 'after'; });
  c.advance(100);
  assert.is(await reader.refresh(), 0, 'looked at once already, not settled');
  // Settled by the writer's clock, which may be up to the overlap behind the reader's: after
  // settleMs alone the writer may still be under way.
  c.advance(settleMs);
  assert.is(await reader.refresh(), 0, 'not settled while the writer\'s clock may lag');
  c.advance(overlapMs);
  assert.is(await reader.refresh(), 1);
  assert.is(reader.index.entity('service:default/slow')?.spec.tier, 'after');
});

test('an entry that lands behind the reader\'s position (the writer\'s clock behind) is still read', async () => {
  const { t, c, reader, tables } = await pair();
  // Later than the reader's settle window, within its overlap.
  const lag = settleMs + overlapMs / 2;
  const behind = clock(c.now().getTime() - lag);
  const lagging = await CatalogService.open({ storage: t.storage, tables, now: behind.now });
  await reader.refresh();
  c.advance(settleMs + 5000);
  await reader.refresh();
  // Its entry is keyed `lag` before the reader's last look, behind its cursor.
  behind.advance(settleMs + 5000);
  await lagging.upsert(service('late'), api);
  assert.is(await reader.refresh(), 1);
  assert.ok(reader.index.has('service:default/late'));
});

test('two writers in the same millisecond both reach the reader', async () => {
  const { t, c, reader, tables } = await pair();
  const [one, two] = await Promise.all([1, 2].map(() => CatalogService.open({ storage: t.storage, tables, now: c.now })));
  await Promise.all([one!.upsert(service('same-1'), api), two!.upsert(service('same-2'), api)]);
  assert.is(await reader.refresh(), 2);
});

test('an instance behind the retention reloads everything, deletes and unjournaled changes included', async () => {
  const { t, c, writer, reader, counted } = await pair();
  await writer.upsert(service('kept', { tier: 'old' }), api);
  await writer.upsert(service('dropped'), api);
  await reader.refresh();
  c.advance(retentionMs);
  // The writer's later entries expire before the reader looks again; so would a change without one.
  await writer.delete('service:dropped');
  await rawEdit(t, 'service:default/kept', (spec) => { spec.tier = 'new'; });
  counted.reset();
  assert.is(await reader.refresh(), 2);
  assert.ok(counted.counts.paths.some((p) => p.endsWith(`/${t.entities}()`)), 'read the entities table');
  assert.is(reader.index.has('service:default/dropped'), false);
  assert.is(reader.index.entity('service:default/kept')?.spec.tier, 'new');
});

test('entries past the retention are deleted, whole partitions at a time', async () => {
  const { t, c, writer, reader, tables } = await pair();
  await writer.upsert(service('old'), api);
  const journal = await Journal.open(`${tables.entities}journal`, t.storage, {}, c.now);
  assert.is((await journal.read(0)).length, 1);
  c.advance(retentionMs + 120_000);
  await writer.upsert(service('new'), api);
  await reader.refresh(); // a reload (behind), then the prune
  await reader.refresh();
  const left = await journal.read(0);
  assert.equal(left.map((e) => e.keys), [['service:default/new']]);
});

test('more changes than reloadAbove in one refresh: a reload instead of one read each', async () => {
  const t = await freshTables();
  const tables = { entities: t.entities, relations: t.relations };
  const counted = counting(t.storage);
  const writer = await CatalogService.open({ storage: t.storage, tables });
  const reader = await CatalogService.open({ storage: counted.storage, tables, journal: { reloadAbove: 5 } });
  await writer.bulkUpsert(Array.from({ length: 12 }, (_, i) => service(`many-${i}`)), api);
  counted.reset();
  assert.is(await reader.refresh(), 12);
  assert.is(reader.index.size, 12);
  assert.ok(counted.counts.requests <= 4, counted.counts.paths.join('\n'));
  // The entries it reloaded for are not reloaded for again.
  counted.reset();
  assert.is(await reader.refresh(), 0);
  assert.equal(counted.counts.paths.filter((p) => !/journal/.test(p)), []);
});

test.run();
