// Writes of many entities at once: bulkUpsert (seeding: batch transactions, last writer wins) and
// writeAll (imports: each row only if still the version that was authorised, one transaction per
// partition, a PartialWriteError naming what was and was not written). Both are announced in the
// change journal before any row is written.
import type { BatchOp, Row } from '../platform/tables.ts';
import { ConcurrencyError } from '../platform/errors.ts';
import { mapLimit } from '../platform/map-limit.ts';
import { ValidationError, type Entity, type Issue } from './kinds.ts';
import { inverseOf } from './relations.ts';
import { tableKeysOf } from './refs.ts';
import { relRow, rowOf, type CatalogRow, type Declared, type RelationRow } from './store.ts';
import { keyOfParsed, parseEntity, toSource, type StoredDoc } from './documents.ts';
import { PartialWriteError, type SourceArg } from './types.ts';
import type { WriteContext } from './write-context.ts';

type Op<T> = { pk: string; rowKey: string; value?: T };

/** Operations grouped by partition, at most 100 a group; one row once a group (the last operation wins). */
function byPartition<T>(ops: Op<T>[]): Array<{ pk: string; ops: Op<T>[] }> {
  const byPk = new Map<string, Op<T>[]>();
  for (const op of ops) { let l = byPk.get(op.pk); if (!l) byPk.set(op.pk, (l = [])); l.push(op); }
  const chunks: Array<{ pk: string; ops: Op<T>[] }> = [];
  for (const [pk, l] of byPk) {
    const last = [...new Map(l.map((o) => [o.rowKey, o])).values()];
    for (let i = 0; i < last.length; i += 100) chunks.push({ pk, ops: last.slice(i, i + 100) });
  }
  return chunks;
}

export class BulkWrites {
  constructor(private readonly c: WriteContext) {}

  /**
   * Seeds many entities at once (imports, benchmarks): all are validated first, then written with
   * batch transactions (100 rows per partition per request), relations included. Last writer wins:
   * no ETag check against rows already there, so use upsert() for concurrent edits.
   */
  async bulkUpsert(inputs: unknown[], by: SourceArg, opts: { concurrency?: number } = {}): Promise<{ written: number }> {
    const { index, store } = this.c;
    const source = toSource(by);
    const issues: Issue[] = [];
    const docs: Array<{ key: string; doc: StoredDoc; before: Declared }> = [];
    const seen = new Set<string>();
    inputs.forEach((input, i) => {
      try {
        const parsed = parseEntity(input);
        const key = keyOfParsed(parsed);
        if (seen.has(key)) throw new ValidationError([{ path: 'metadata.name', message: `${key} appears twice in this batch` }]);
        seen.add(key);
        const prev = index.getIndexed(key);
        docs.push({ key, doc: this.c.prepare(parsed, source, prev?.entity.status), before: prev?.declared ?? [] });
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        for (const issue of err.issues) issues.push({ path: `[${i}]${issue.path ? `.${issue.path}` : ''}`, message: issue.message });
      }
    });
    if (issues.length) throw new ValidationError(issues);
    const run = (jobs: Array<() => Promise<void>>) => mapLimit(jobs, opts.concurrency ?? 16, (job) => job());

    return this.c.journal.around(docs.map((d) => d.key), async () => {
      const etags = new Map<string, string>();
      // Last writer wins here (no ETag check), so the version follows what this process last saw.
      const versions = new Map(docs.map(({ key }) => [key, (index.getIndexed(key)?.version ?? 0) + 1]));
      const entityOps = docs.map(({ key, doc }) => ({ ...tableKeysOf(key), key, value: rowOf(doc, versions.get(key)!) }));
      const keyOfRow = new Map(entityOps.map((o) => [`${o.pk}|${o.rk}`, o.key]));
      await run(byPartition(entityOps.map((o) => ({ pk: o.pk, rowKey: o.rk, value: o.value }))).map((chunk) => async () => {
        const res = await store.entities.batch(chunk.pk, chunk.ops.map((o) => ({ op: 'upsert' as const, rowKey: o.rowKey, value: o.value! })));
        for (const r of res) etags.set(keyOfRow.get(`${chunk.pk}|${r.rowKey}`)!, r.etag ?? '');
      }));

      const relOps: Op<RelationRow>[] = [];
      for (const { key, doc, before } of docs) {
        const id = (r: { type: string; target: string }) => `${r.type}|${r.target}`;
        const now = new Set(doc.declared.map(id));
        for (const r of doc.declared) {
          relOps.push({ ...relRow(key, r.type, r.target), value: { type: r.type, target: r.target, origin: key } });
          relOps.push({ ...relRow(r.target, inverseOf(r.type), key), value: { type: inverseOf(r.type), target: key, origin: key } });
        }
        for (const r of before.filter((b) => !now.has(id(b)))) {
          relOps.push(relRow(key, r.type, r.target));
          relOps.push(relRow(r.target, inverseOf(r.type), key));
        }
      }
      await run(byPartition(relOps).map((chunk) => async () => {
        const deletes = chunk.ops.filter((o) => !o.value);
        const upserts = chunk.ops.filter((o) => o.value);
        if (upserts.length) await store.rels.batch(chunk.pk, upserts.map((o) => ({ op: 'upsert' as const, rowKey: o.rowKey, value: o.value! })));
        // Deletes go one by one: a batch fails as a whole when one row is already gone.
        for (const o of deletes) await store.rels.delete(chunk.pk, o.rowKey);
      }));

      for (const { key, doc } of docs) index.put({ key, entity: doc.entity, etag: etags.get(key) ?? '', declared: doc.declared, version: versions.get(key) });
      return { written: docs.length };
    });
  }

  /**
   * Writes a set of entities that were validated and authorised against this index (imports):
   * each row only if it is still the version authorised (`etag`; null: it did not exist), by
   * default the version the index has (replace by ETag; insert when new),
   * one Table transaction per partition (up to 100 rows, all or nothing). Should a transaction
   * fail, what earlier ones wrote stays and the PartialWriteError says which entities were
   * written and which not.
   */
  async writeAll(items: Array<{ input: unknown; source: SourceArg; etag?: string | null }>): Promise<Entity[]> {
    const { index, store } = this.c;
    const plans = items.map(({ input, source, etag }) => {
      const parsed = parseEntity(input);
      const key = keyOfParsed(parsed);
      const prev = index.getIndexed(key);
      const doc = this.c.prepare(parsed, toSource(source), prev?.entity.status);
      const version = (prev?.version ?? 0) + 1;
      const { pk, rk } = tableKeysOf(key);
      const value = rowOf(doc, version);
      // The version the caller authorised (`etag`: null when it was new), else the one indexed now.
      const expected = etag !== undefined ? etag : prev?.etag ?? null;
      if (expected === '') throw new ConcurrencyError(`entity ${key}`, key, 'no ETag was authorised for it');
      const op: BatchOp<CatalogRow> = expected !== null ? { op: 'replace', rowKey: rk, value, etag: expected } : { op: 'insert', rowKey: rk, value };
      return { key, pk, rk, op, doc, version, prev, before: prev?.declared ?? [], size: JSON.stringify(value).length };
    });
    const seen = new Set<string>();
    for (const p of plans) {
      if (seen.has(p.key)) throw new ValidationError([{ path: 'metadata.name', message: `${p.key} appears twice` }]);
      seen.add(p.key);
    }
    // One transaction: one partition, at most 100 rows and well under its 4 MB.
    const chunks: Array<typeof plans> = [];
    for (const pk of [...new Set(plans.map((p) => p.pk))].sort()) {
      let cur: typeof plans = [];
      let bytes = 0;
      for (const p of plans.filter((x) => x.pk === pk)) {
        if (cur.length === 100 || (cur.length && bytes + p.size > 3_000_000)) { chunks.push(cur); cur = []; bytes = 0; }
        cur.push(p);
        bytes += p.size;
      }
      if (cur.length) chunks.push(cur);
    }
    await this.c.journal.around(plans.map((p) => p.key), async () => {
      const written: string[] = [];
      for (const [i, chunk] of chunks.entries()) {
        let res: Array<{ rowKey: string; etag?: string }>;
        try {
          res = await store.entities.batch(chunk[0]!.pk, chunk.map((p) => p.op));
        } catch (err) {
          throw new PartialWriteError(written, chunks.slice(i).flat().map((p) => p.key), err);
        }
        // Each row of the transaction is taken back unless its relation rows are all written too.
        const restore = (p: (typeof plans)[number], etag: string) => (p.prev
          ? store.entities.replace({ partitionKey: p.pk, rowKey: p.rk, etag } as Row<CatalogRow>, rowOf({ entity: p.prev.entity, declared: p.prev.declared }, p.version + 1))
          : store.entities.delete(p.pk, p.rk, etag));
        for (const [j, p] of chunk.entries()) {
          const etag = res[j]?.etag ?? '';
          try {
            await store.commitRelations(p.key, p.before, p.doc.declared, this.c.declaredBack(p.key), () => restore(p, etag));
          } catch (err) {
            for (const [k, rest] of chunk.entries()) if (k > j) await restore(rest, res[k]?.etag ?? '').catch(() => undefined);
            throw new PartialWriteError(written, chunks.slice(i).flat().slice(j).map((x) => x.key), err);
          }
          index.put({ key: p.key, entity: p.doc.entity, etag, declared: p.doc.declared, version: p.version });
          written.push(p.key);
        }
      }
    });
    return plans.map((p) => index.view(p.key)!);
  }
}
