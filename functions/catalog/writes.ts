// Writes of one entity: upsert (create or replace, ETag-conditional), read-modify-write update,
// delete, and a source saying the entity is gone. Each writes the entity row, then both directions
// of its relations (taking the row back should they fail), then the index; each is announced in
// the change journal before it touches the row.
import type { Row } from '../platform/tables.ts';
import { ConcurrencyError } from '../platform/errors.ts';
import { ValidationError, type Entity, type SourceInfo } from './kinds.ts';
import { refKey, tableKeysOf, type EntityRef } from './refs.ts';
import { docOf, nextVersion, rowOf, rowValues, type CatalogRow } from './store.ts';
import {
  goneDoc, keyOf, keyOfParsed, mergeEntity, parseEntity, sourceKey, sourcesOf, toSource, type StoredDoc,
} from './documents.ts';
import { NotFoundError, type SourceArg, type UpsertOptions } from './types.ts';
import type { WriteContext } from './write-context.ts';

export class EntityWrites {
  constructor(private readonly c: WriteContext) {}

  /**
   * Validates the entity completely (envelope, spec, every reference) and only then writes it: the
   * entity row (ETag-conditional), both directions of its relations, and the index. Backstage
   * documents (backstage.io/v1alpha1) are accepted and mapped onto Nexus kinds.
   */
  async upsert(input: unknown, by: SourceArg, opts: UpsertOptions = {}): Promise<Entity> {
    const { index, store } = this.c;
    const source = toSource(by);
    const parsed = parseEntity(input);
    const key = keyOfParsed(parsed);
    const { pk, rk } = tableKeysOf(key);
    let previous: StoredDoc | undefined;
    let written: StoredDoc | undefined;
    let version = 0;
    let previousRow: CatalogRow | undefined;
    const build = (cur: Row<CatalogRow> | undefined): CatalogRow => {
      if (cur && opts.ifNoneMatch === '*') throw new ConcurrencyError(`entity ${key}`, key, 'it exists already (created since it was checked)');
      previous = cur ? docOf(cur) : undefined;
      previousRow = cur ? rowValues(cur) : undefined;
      const base = opts.mode === 'merge' && previous ? mergeEntity(previous.entity, parsed, opts.ownedFields) : parsed;
      const doc = this.c.prepare(base, source, previous?.entity.status);
      written = doc;
      version = nextVersion(cur);
      return rowOf(doc, version);
    };

    await this.c.writeOne(key, async () => {
      let row: Row<CatalogRow>;
      if (opts.ifMatch && opts.ifMatch !== '*') {
        const cur = await store.entities.get(pk, rk);
        if (!cur || cur.etag !== opts.ifMatch) {
          throw new ConcurrencyError(`entity ${key}`, key, cur ? 'it changed since it was read (If-Match does not match its ETag)' : 'it does not exist (If-Match given)');
        }
        row = await store.entities.replace(cur, build(cur));
      } else {
        row = await store.entities.update(pk, rk, build);
      }
      const stored = row;
      await store.commitRelations(key, previous?.declared ?? [], written!.declared, this.c.declaredBack(key), () => (previousRow
        ? store.entities.replace(stored, { ...previousRow, version: version + 1 })
        : store.entities.delete(pk, rk, stored.etag)));
      index.put({ key, entity: written!.entity, etag: row.etag, declared: written!.declared, version });
    });
    if (written!.entity.kind === 'Package') await this.repointComponentRefs(key);
    return index.view(key)!;
  }

  /**
   * A Package arrived: references written as `component:<its name>` (a Backstage library is a
   * Component there) that found no Service of that name now point at it.
   */
  private async repointComponentRefs(pkgKey: string): Promise<void> {
    const { index } = this.c;
    const svcKey = `service:${pkgKey.slice('package:'.length)}`;
    if (index.has(svcKey)) return;
    const origins = new Set(index.relationsOf(svcKey).map((r) => r.targetRef)
      .filter((o) => index.getIndexed(o)?.declared.some((d) => d.target === svcKey)));
    // Re-preparing the entity as it is re-resolves its references (sources and lastSeen stay).
    for (const o of origins) await this.update(o, (cur) => cur);
  }

  /** Checks an entity exactly as upsert would, without writing anything. */
  validate(input: unknown, by: SourceArg = { name: 'api' }): Entity {
    const doc = this.c.prepare(parseEntity(input), toSource(by));
    return { ...doc.entity, relations: doc.declared.map((r) => ({ type: r.type, targetRef: r.target, resolved: this.c.index.has(r.target) })) };
  }

  /** Read-modify-write of one entity with retry on conflict: `fn` may run more than once. */
  async update(ref: EntityRef | string, fn: (cur: Entity) => unknown, by?: SourceArg): Promise<Entity> {
    const { index, store } = this.c;
    const key = keyOf(ref);
    const { pk, rk } = tableKeysOf(key);
    let previous: StoredDoc | undefined;
    let written: StoredDoc | undefined;
    let version = 0;
    let previousRow: CatalogRow | undefined;
    return this.c.writeOne(key, async () => {
      const row = await store.entities.update(pk, rk, (cur) => {
        if (!cur) throw new NotFoundError(key);
        previous = docOf(cur);
        previousRow = rowValues(cur);
        const next = parseEntity(fn(structuredClone({ ...previous.entity, relations: previous.entity.relations })));
        const nextKey = refKey({ kind: next.kind, namespace: next.metadata.namespace, name: next.metadata.name });
        if (nextKey !== key) throw new ValidationError([{ path: 'metadata.name', message: `an update cannot rename ${key} to ${nextKey}` }]);
        // Without a source (e.g. re-resolving an owner) the entity keeps its sources and lastSeen.
        written = this.c.prepare(next, by ? toSource(by) : previous.entity.status!.source, previous.entity.status, Boolean(by));
        version = nextVersion(cur);
        return rowOf(written, version);
      });
      await store.commitRelations(key, previous?.declared ?? [], written!.declared, this.c.declaredBack(key), () => store.entities.replace(row, { ...previousRow!, version: version + 1 }));
      index.put({ key, entity: written!.entity, etag: row.etag, declared: written!.declared, version });
      return index.view(key)!;
    });
  }

  /** Deletes the entity and the relations it declared. Resolves false when it was not there. */
  async delete(ref: EntityRef | string, opts: { ifMatch?: string } = {}): Promise<boolean> {
    const { index, store } = this.c;
    const key = keyOf(ref);
    const { pk, rk } = tableKeysOf(key);
    return this.c.serially(key, async () => {
      const cur = await store.entities.get(pk, rk);
      if (!cur) {
        index.remove(key);
        return false;
      }
      if (opts.ifMatch && opts.ifMatch !== '*' && opts.ifMatch !== cur.etag) {
        throw new ConcurrencyError(`entity ${key}`, key, 'it changed since it was read (If-Match does not match its ETag)');
      }
      return this.c.journal.around([key], async () => {
        await store.entities.delete(pk, rk, cur.etag);
        const doc = docOf(cur);
        index.remove(key);
        await store.syncRelations(key, doc.declared, [], this.c.declaredBack(key));
        return true;
      });
    });
  }

  /**
   * Marks what a full sync of one source no longer saw: the source entry is flagged gone, and an
   * entity that every one of its sources has lost becomes orphaned (kept, never deleted).
   */
  async markMissing(source: SourceInfo, seen: Iterable<string>, opts: { only?: (e: Entity) => boolean } = {}): Promise<string[]> {
    const { index } = this.c;
    const seenKeys = new Set([...seen].map((k) => keyOf(k)));
    const sk = sourceKey(source);
    const candidates = index.keysWhere((i) => {
      const entry = sourcesOf(i.entity.status)[sk];
      return !!entry && !entry.gone && !seenKeys.has(i.key) && (!opts.only || opts.only(index.view(i.key)!));
    });
    const orphaned: string[] = [];
    for (const key of candidates) {
      const e = await this.markGone(key, source);
      if (e?.status?.orphaned) orphaned.push(key);
    }
    return orphaned;
  }

  /** One source says the entity is gone (a repository deleted, a resource removed). */
  async markGone(ref: EntityRef | string, source: SourceInfo): Promise<Entity | undefined> {
    const { index, store } = this.c;
    const key = keyOf(ref);
    const { pk, rk } = tableKeysOf(key);
    const at = this.c.now().toISOString();
    let doc: StoredDoc | undefined;
    let version = 0;
    return this.c.writeOne(key, async () => {
      const row = await store.entities.update(pk, rk, (cur) => {
        if (!cur) return undefined;
        version = nextVersion(cur);
        doc = goneDoc(docOf(cur), source, at);
        return rowOf(doc, version);
      });
      if (!row || !doc) return undefined;
      index.put({ key, entity: doc.entity, etag: row.etag, declared: doc.declared, version });
      return index.view(key);
    });
  }
}
