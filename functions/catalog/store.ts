// The catalog's tables: entity rows (filterable columns plus the document in chunks) in `catalog`,
// both directions of every relation in `relations`. Encoding and decoding of rows, and writing the
// relation rows that follow an entity row, all or nothing.
import { Table, odata, tableKey, type Row } from '../platform/tables.ts';
import { chunkText, joinChunks } from '../platform/row-chunks.ts';
import type { StorageConfig } from '../platform/storage-config.ts';
import type { Indexed } from './memory-index.ts';
import { inverseOf } from './relations.ts';
import { keyFromTable } from './refs.ts';
import type { StoredDoc } from './documents.ts';
import type { CatalogTables } from './types.ts';

/** One row of the `catalog` table: filterable columns plus the entity document in ≤30K-char chunks. */
export interface CatalogRow {
  kind: string;
  namespace: string;
  name: string;
  owner?: string;
  orphaned: boolean;
  lastSeen: string;
  /** Counts the row's writes (each ETag-conditional): the index never takes an older version over a newer one. */
  version?: number;
  chunks: number;
  [chunk: `d${number}`]: string;
}

/**
 * One row of the `relations` table. Partition: the entity's kind plus a hash bucket (so bulk writes
 * batch 100 rows at a time and no partition gets hot); row key: `entity|type|target`, so an entity's
 * relations are one range read.
 */
export interface RelationRow {
  type: string;
  target: string;
  /** The entity whose declaration produced this row. */
  origin: string;
}

export type Declared = Array<{ type: string; target: string }>;

/** Table names: the given ones, else `catalog`, `relations` and the entities table's name + `journal`. */
export function tableNamesOf(tables: Partial<CatalogTables> = {}): Required<CatalogTables> {
  const entities = tables.entities ?? 'catalog';
  return { entities, relations: tables.relations ?? 'relations', journal: tables.journal ?? `${entities}journal` };
}

export class CatalogStore {
  private constructor(readonly entities: Table<CatalogRow>, readonly rels: Table<RelationRow>) {}

  static async open(tables: Required<CatalogTables>, storage?: StorageConfig): Promise<CatalogStore> {
    const [entities, rels] = await Promise.all([
      Table.open<CatalogRow>(tables.entities, storage),
      Table.open<RelationRow>(tables.relations, storage),
    ]);
    return new CatalogStore(entities, rels);
  }

  /** Both directions of an entity's relations as stored: one range read of its partition. */
  async relationRows(key: string): Promise<RelationRow[]> {
    const out: RelationRow[] = [];
    const prefix = tableKey(`${key}|`);
    const filter = odata`RowKey ge ${prefix} and RowKey lt ${prefix.slice(0, -1) + '}'}`;
    for await (const row of this.rels.query({ partitionKey: relPartition(key), filter })) out.push(row);
    return out;
  }

  /**
   * The relation rows of an entity row just written. Should they fail part-way (storage), the
   * rows written are taken back and `undo` restores the entity row, so the request leaves nothing
   * half-written; the error goes on to the caller. `declaredBack(target, type)`: whether the other
   * side declares the inverse relation itself (then its rows stay when this side drops it).
   */
  async commitRelations(key: string, before: Declared, after: Declared, declaredBack: (target: string, type: string) => boolean, undo: () => Promise<unknown>): Promise<void> {
    try {
      await this.syncRelations(key, before, after, declaredBack);
    } catch (err) {
      await this.syncRelations(key, after, before, declaredBack).catch(() => undefined);
      await undo().catch(() => undefined);
      throw err;
    }
  }

  /** Writes the difference between the relations an entity declared before and now, both directions. */
  async syncRelations(key: string, before: Declared, after: Declared, declaredBack: (target: string, type: string) => boolean): Promise<void> {
    const id = (r: { type: string; target: string }) => `${r.type}|${r.target}`;
    const afterIds = new Set(after.map(id));
    const beforeIds = new Set(before.map(id));
    const added = after.filter((r) => !beforeIds.has(id(r)));
    const removed = before.filter((r) => !afterIds.has(id(r))).filter((r) => !declaredBack(r.target, inverseOf(r.type)));
    const writes: Array<Promise<unknown>> = [];
    for (const r of added) {
      const out = relRow(key, r.type, r.target), back = relRow(r.target, inverseOf(r.type), key);
      writes.push(this.rels.upsert(out.pk, out.rowKey, { type: r.type, target: r.target, origin: key }));
      writes.push(this.rels.upsert(back.pk, back.rowKey, { type: inverseOf(r.type), target: key, origin: key }));
    }
    for (const r of removed) {
      const out = relRow(key, r.type, r.target), back = relRow(r.target, inverseOf(r.type), key);
      writes.push(this.rels.delete(out.pk, out.rowKey));
      writes.push(this.rels.delete(back.pk, back.rowKey));
    }
    // Every write settles before a failure is reported, so taking them back races none of them.
    const failed = (await Promise.allSettled(writes)).find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }
}

const REL_BUCKETS = 16;

export function relPartition(key: string): string {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return `${key.slice(0, key.indexOf(':'))}.${(h >>> 0) % REL_BUCKETS}`;
}

export function relRow(from: string, type: string, to: string): { pk: string; rowKey: string } {
  return { pk: relPartition(from), rowKey: `${from}|${type}|${to}` };
}

export function nextVersion(cur: CatalogRow | undefined): number {
  return (cur?.version ?? 0) + 1;
}

export function rowOf(doc: StoredDoc, version: number): CatalogRow {
  const text = JSON.stringify(doc);
  const row: CatalogRow = {
    version,
    kind: doc.entity.kind,
    namespace: doc.entity.metadata.namespace,
    name: doc.entity.metadata.name,
    orphaned: Boolean(doc.entity.status?.orphaned),
    lastSeen: doc.entity.status!.lastSeen,
    ...chunkText('d', text),
  };
  if (doc.entity.status?.owner) row.owner = doc.entity.status.owner;
  return row;
}

/** A row's stored values without the table's own fields (keys, ETag, timestamp). */
export function rowValues(row: Row<CatalogRow>): CatalogRow {
  const { partitionKey: _p, rowKey: _r, etag: _e, timestamp: _t, ...values } = row as Row<CatalogRow> & { timestamp?: string };
  return values as CatalogRow;
}

export function docOf(row: CatalogRow): StoredDoc {
  return JSON.parse(joinChunks('d', row, `catalog row ${row.kind}:${row.namespace}/${row.name}`)) as StoredDoc;
}

/** The index entry of a row; undefined for a row this version cannot read (skipped, never fatal). */
export function itemOf(row: Row<CatalogRow>): Indexed | undefined {
  try {
    const doc = docOf(row);
    return { key: keyFromTable(row.partitionKey, row.rowKey), entity: doc.entity, etag: row.etag, declared: doc.declared, version: row.version ?? 0 };
  } catch {
    return undefined;
  }
}
