// The catalog service: validates and stores entities in the `catalog` table, keeps both directions of
// every relation in the `relations` table, and answers reads from a shared in-memory index that is
// loaded at start and updated on every write. The table stays the source of truth (ETags on every write).
import { Table, odata, tableKey, type BatchOp, type Row } from '../platform/tables.ts';
import { ConcurrencyError, EntityExistsError } from '../platform/errors.ts';
import { mapLimit } from '../platform/map-limit.ts';
import { chunkText, joinChunks } from '../platform/row-chunks.ts';
import type { StorageConfig } from '../platform/storage-config.ts';
import {
  ValidationError, validateEntity, type Entity, type EntityStatus, type Issue, type Relation, type RelationDecl,
  type SourceInfo, canonicalKind, KINDS,
} from './kinds.ts';
import { fromBackstage, isBackstage } from './backstage.ts';
import { declaredRelations, inverseOf } from './relations.ts';
import { resolveOwner } from './ownership.ts';
import { MemoryIndex, OID_ANNOTATIONS, pathValue, type Facets, type Indexed, type SearchHit } from './memory-index.ts';
import { entityRefOf, parseRef, refKey, RefError, tableKeysOf, keyFromTable, toEntityName, type EntityRef } from './refs.ts';

export { ValidationError } from './kinds.ts';

/** A query (list or search parameters) the catalog cannot run: each issue names the parameter. */
export class QueryError extends ValidationError {
  readonly where = 'query';
}
export { ConcurrencyError } from '../platform/errors.ts';

/** One row of the `catalog` table: filterable columns plus the entity document in ≤30K-char chunks. */
interface CatalogRow {
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

interface StoredDoc {
  entity: Entity; // `relations` holds the explicitly declared ones (RelationDecl), as written
  declared: Array<{ type: string; target: string }>;
}

/**
 * One row of the `relations` table. Partition: the entity's kind plus a hash bucket (so bulk writes
 * batch 100 rows at a time and no partition gets hot); row key: `entity|type|target`, so an entity's
 * relations are one range read.
 */
interface RelationRow {
  type: string;
  target: string;
  /** The entity whose declaration produced this row. */
  origin: string;
}

// Azure Tables count strings as UTF-16 (2 bytes a character) and hold at most 1 MiB a row.
const MAX_DOC = 450_000;

/** Recent runs for the personal dashboard, supplied by whoever keeps runs (functions/reconcile). */
export interface RecentRunsPort {
  /**
   * Runs of the given stacks (those the user's teams, or the user, own) and runs the user
   * triggered, newest first. `stacks` are stack names as runs record them.
   */
  recent(opts: { principal: CatalogPrincipal; teams: string[]; stacks: string[]; limit: number }): Promise<unknown[]>;
}

/** How many recent runs the dashboard shows. */
export const RECENT_RUNS = 20;

export interface CatalogPrincipal {
  id: string;
  name: string;
  email?: string;
  groups: string[];
  /** Signed by the local issuer: its subject is the user name (development and tests). */
  local?: boolean;
}

/** User fields that say who someone is (and so what they own): only Admin or ingestion set them. */
export const USER_IDENTITY_FIELDS = ['spec.memberOf', 'spec.githubLogin', 'spec.profile.email', 'spec.entraObjectId', ...OID_ANNOTATIONS.map((a) => `metadata.annotations.${a}`)];

/** The identity fields of a User that `next` sets differently from `before` (a new User: every one it sets). */
export function userIdentityChanges(before: Entity | undefined, next: Pick<Entity, 'kind' | 'metadata' | 'spec'>): string[] {
  if (next.kind !== 'User' && before?.kind !== 'User') return [];
  const value = (e: unknown, path: string): string => {
    if (!e) return '';
    const [root, ...rest] = path.startsWith('metadata.annotations.') ? ['metadata', 'annotations', path.slice('metadata.annotations.'.length)] : path.split('.');
    let cur: unknown = e;
    for (const part of [root, ...rest]) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[part!] : undefined;
    if (cur === undefined || cur === null || (Array.isArray(cur) && !cur.length)) return '';
    return JSON.stringify(Array.isArray(cur) ? cur.map((x) => String(x).toLowerCase()).sort() : String(cur).toLowerCase());
  };
  return USER_IDENTITY_FIELDS.filter((f) => value(before, f) !== value(next, f));
}

export interface CatalogConfig {
  storage?: StorageConfig;
  /** Table names (tests use their own). */
  tables?: { entities?: string; relations?: string };
  runs?: RecentRunsPort;
  now?: () => Date;
  /** Every how many refreshes one also sweeps for deleted rows (default SWEEP_EVERY). */
  sweepEvery?: number;
}

/** Refreshes per sweep for deleted rows: at the default 5 s refresh, about once a minute. */
export const SWEEP_EVERY = 12;

export interface UpsertOptions {
  /** ETag the caller read (HTTP If-Match): the write fails with ConcurrencyError if the entity changed. */
  ifMatch?: string;
  /** '*' (HTTP If-None-Match): only create; the write fails with ConcurrencyError if the entity exists. */
  ifNoneMatch?: '*';
  /** 'replace' (default) stores the entity as given; 'merge' lays it over the stored one (ingestion). */
  mode?: 'replace' | 'merge';
  /**
   * Spec fields the source owns (merge mode): one the new document lacks is removed rather than
   * kept from before, e.g. a resource's environment when its `environment` tag is gone.
   */
  ownedFields?: string[];
}

export interface ListOptions {
  kind?: string;
  owner?: string;
  tag?: string;
  /** Any field by dotted path (`spec.lifecycle`) -> wanted value. */
  where?: Record<string, string>;
  /** Same as `where` (the API's name for it). */
  filters?: Record<string, string>;
  /** Dotted paths to return; apiVersion, kind, metadata.name and metadata.namespace are always kept. */
  fields?: string[];
  orphaned?: boolean;
  limit?: number;
  cursor?: string;
}

export interface ListResult {
  items: Array<Entity | Record<string, unknown>>;
  nextCursor?: string;
  /** The same as nextCursor, for callers that name it so. */
  cursor?: string;
}

export interface SearchOptions {
  kind?: string;
  owner?: string;
  tag?: string;
  limit?: number;
  offset?: number;
}

export interface SearchResult {
  items: SearchHit[];
  facets: Facets;
  total: number;
}

type SourceArg = SourceInfo | { source: string; principal?: string; groups?: string[] };

function toSource(s: SourceArg): SourceInfo {
  if ('name' in s && typeof s.name === 'string') return s;
  const a = s as { source: string; principal?: string; groups?: string[] };
  return { name: a.source, actor: a.principal, groups: a.groups };
}

function sourceKey(s: SourceInfo): string {
  return `${s.name}|${s.scope ?? ''}`;
}

export class CatalogService {
  readonly index = new MemoryIndex();
  private readonly now: () => Date;

  private constructor(
    private readonly entities: Table<CatalogRow>,
    private readonly rels: Table<RelationRow>,
    private readonly cfg: CatalogConfig,
  ) {
    this.now = cfg.now ?? (() => new Date());
  }

  /** The names of the entity and relation tables this service uses. */
  tableNames(): { entities: string; relations: string } {
    return { entities: this.cfg.tables?.entities ?? 'catalog', relations: this.cfg.tables?.relations ?? 'relations' };
  }

  /** Opens the tables and loads every entity into the in-memory index. */
  static async open(cfg: CatalogConfig = {}): Promise<CatalogService> {
    const [entities, rels] = await Promise.all([
      Table.open<CatalogRow>(cfg.tables?.entities ?? 'catalog', cfg.storage),
      Table.open<RelationRow>(cfg.tables?.relations ?? 'relations', cfg.storage),
    ]);
    const svc = new CatalogService(entities, rels, cfg);
    await svc.reload();
    return svc;
  }

  /** Rebuilds the index from the table (start-up, or after another process wrote). */
  async reload(): Promise<number> {
    let n = 0;
    for await (const row of this.entities.query()) {
      const item = this.itemOf(row);
      if (item) { this.index.put(item); n++; }
      this.noteTimestamp(row.timestamp);
    }
    return n;
  }

  /** Newest row timestamp seen: refresh() reads rows changed since (less a margin for clock skew). */
  private syncedUntil = 0;

  private noteTimestamp(ts: string | undefined): void {
    const t = ts ? Date.parse(ts) : NaN;
    if (!Number.isNaN(t) && t > this.syncedUntil) this.syncedUntil = t;
  }

  private refreshes = 0;

  /**
   * Picks up what other processes wrote (another Functions instance, the CLI) since the last look.
   * A deleted row leaves no timestamp to find, so every `sweepEvery`-th refresh (or `sweep: true`)
   * also reads every row's keys and drops index entries whose rows are gone (a deleted Team's
   * members lose its rights with it). Orphaning is an update, so it shows in every refresh.
   */
  async refresh(opts: { sweep?: boolean } = {}): Promise<number> {
    const sweep = opts.sweep ?? ++this.refreshes % Math.max(1, this.cfg.sweepEvery ?? SWEEP_EVERY) === 0;
    // What the index held before the sweep read the table: only those entries may be dropped.
    const before = sweep ? new Map(this.index.keysWhere(() => true).map((k) => [k, this.index.getIndexed(k)!.etag])) : undefined;
    const since = new Date(Math.max(0, this.syncedUntil - 5_000));
    let n = 0;
    for await (const row of this.entities.query({ filter: odata`Timestamp ge ${since}` })) {
      this.noteTimestamp(row.timestamp);
      const key = keyFromTable(row.partitionKey, row.rowKey);
      if (this.index.getIndexed(key)?.etag === row.etag) continue;
      const item = this.itemOf(row);
      if (item) { this.index.put(item); n++; }
    }
    if (before) n += await this.sweepGone(before);
    return n;
  }

  /** Drops the entries of `before` whose rows no longer exist (unless written here meanwhile). */
  private async sweepGone(before: Map<string, string>): Promise<number> {
    const present = new Set<string>();
    for await (const row of this.entities.query({ select: ['kind'] })) present.add(keyFromTable(row.partitionKey, row.rowKey));
    let n = 0;
    for (const [key, etag] of before) {
      // A write of this process since the snapshot (or under way) is newer than what the sweep read.
      if (present.has(key) || this.writing.has(key) || this.index.getIndexed(key)?.etag !== etag) continue;
      this.index.remove(key);
      n++;
    }
    return n;
  }

  /** Calls refresh() every `intervalMs` (default 5 s) until stopped. */
  startRefresh(opts: { intervalMs?: number; onError?: (err: unknown) => void } = {}): { stop(): Promise<void> } {
    let running: Promise<unknown> = Promise.resolve();
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      running = this.refresh().catch((err) => opts.onError?.(err)).finally(() => { busy = false; });
    }, opts.intervalMs ?? 5000);
    timer.unref();
    return { stop: async () => { clearInterval(timer); await running; } };
  }

  // ---- writes --------------------------------------------------------------------------------

  /**
   * Validates the entity completely (envelope, spec, every reference) and only then writes it: the
   * entity row (ETag-conditional), both directions of its relations, and the index. Backstage
   * documents (backstage.io/v1alpha1) are accepted and mapped onto Nexus kinds.
   */
  async upsert(input: unknown, by: SourceArg, opts: UpsertOptions = {}): Promise<Entity> {
    const source = toSource(by);
    const parsed = this.parse(input);
    const key = refKey({ kind: parsed.kind, namespace: parsed.metadata.namespace, name: parsed.metadata.name });
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
      const doc = this.prepare(base, source, previous?.entity.status);
      written = doc;
      version = nextVersion(cur);
      return rowOf(doc, version);
    };

    await this.serially(key, async () => {
      let row: Row<CatalogRow>;
      if (opts.ifMatch && opts.ifMatch !== '*') {
        const cur = await this.entities.get(pk, rk);
        if (!cur || cur.etag !== opts.ifMatch) {
          throw new ConcurrencyError(`entity ${key}`, key, cur ? 'it changed since it was read (If-Match does not match its ETag)' : 'it does not exist (If-Match given)');
        }
        row = await this.entities.replace(cur, build(cur));
      } else {
        row = await this.entities.update(pk, rk, build);
      }
      const stored = row;
      await this.commitRelations(key, previous?.declared ?? [], written!.declared, () => (previousRow
        ? this.entities.replace(stored, { ...previousRow, version: version + 1 })
        : this.entities.delete(pk, rk, stored.etag)));
      this.index.put({ key, entity: written!.entity, etag: row.etag, declared: written!.declared, version });
    });
    if (written!.entity.kind === 'Package') await this.repointComponentRefs(key);
    return this.index.view(key)!;
  }

  /**
   * A Package arrived: references written as `component:<its name>` (a Backstage library is a
   * Component there) that found no Service of that name now point at it.
   */
  private async repointComponentRefs(pkgKey: string): Promise<void> {
    const svcKey = `service:${pkgKey.slice('package:'.length)}`;
    if (this.index.has(svcKey)) return;
    const origins = new Set(this.index.relationsOf(svcKey).map((r) => r.targetRef)
      .filter((o) => this.index.getIndexed(o)?.declared.some((d) => d.target === svcKey)));
    // Re-preparing the entity as it is re-resolves its references (sources and lastSeen stay).
    for (const o of origins) await this.update(o, (cur) => cur);
  }

  /**
   * Writes of one entity in this process, one after another: each one's relation rows and index
   * entry follow its own table write, so a slower earlier writer never lands after a later one.
   * (Other processes are kept apart by ETags, and the index by the row version.)
   */
  private readonly writing = new Map<string, Promise<unknown>>();

  private serially<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.writing.get(key) ?? Promise.resolve();
    const mine = before.catch(() => undefined).then(fn);
    const tail = mine.catch(() => undefined);
    this.writing.set(key, tail);
    void tail.then(() => { if (this.writing.get(key) === tail) this.writing.delete(key); });
    return mine;
  }

  /**
   * Seeds many entities at once (imports, benchmarks): all are validated first, then written with
   * batch transactions (100 rows per partition per request), relations included. Last writer wins:
   * no ETag check against rows already there, so use upsert() for concurrent edits.
   */
  async bulkUpsert(inputs: unknown[], by: SourceArg, opts: { concurrency?: number } = {}): Promise<{ written: number }> {
    const source = toSource(by);
    const issues: Issue[] = [];
    const docs: Array<{ key: string; doc: StoredDoc; before: Array<{ type: string; target: string }> }> = [];
    const seen = new Set<string>();
    inputs.forEach((input, i) => {
      try {
        const parsed = this.parse(input);
        const key = refKey({ kind: parsed.kind, namespace: parsed.metadata.namespace, name: parsed.metadata.name });
        if (seen.has(key)) throw new ValidationError([{ path: 'metadata.name', message: `${key} appears twice in this batch` }]);
        seen.add(key);
        const prev = this.index.getIndexed(key);
        docs.push({ key, doc: this.prepare(parsed, source, prev?.entity.status), before: prev?.declared ?? [] });
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        for (const issue of err.issues) issues.push({ path: `[${i}]${issue.path ? `.${issue.path}` : ''}`, message: issue.message });
      }
    });
    if (issues.length) throw new ValidationError(issues);

    type Op<T> = { pk: string; rowKey: string; value?: T };
    const group = <T>(ops: Op<T>[]) => {
      const byPk = new Map<string, Op<T>[]>();
      for (const op of ops) { let l = byPk.get(op.pk); if (!l) byPk.set(op.pk, (l = [])); l.push(op); }
      const chunks: Array<{ pk: string; ops: Op<T>[] }> = [];
      for (const [pk, l] of byPk) {
        // One batch may touch a row once: the last operation on a row wins.
        const last = [...new Map(l.map((o) => [o.rowKey, o])).values()];
        for (let i = 0; i < last.length; i += 100) chunks.push({ pk, ops: last.slice(i, i + 100) });
      }
      return chunks;
    };
    const run = (jobs: Array<() => Promise<void>>) => mapLimit(jobs, opts.concurrency ?? 16, (job) => job());

    const etags = new Map<string, string>();
    // Last writer wins here (no ETag check), so the version follows what this process last saw.
    const versions = new Map(docs.map(({ key }) => [key, (this.index.getIndexed(key)?.version ?? 0) + 1]));
    const entityOps = docs.map(({ key, doc }) => ({ ...tableKeysOf(key), key, value: rowOf(doc, versions.get(key)!) }));
    const keyOfRow = new Map(entityOps.map((o) => [`${o.pk}|${o.rk}`, o.key]));
    await run(group(entityOps.map((o) => ({ pk: o.pk, rowKey: o.rk, value: o.value }))).map((chunk) => async () => {
      const res = await this.entities.batch(chunk.pk, chunk.ops.map((o) => ({ op: 'upsert' as const, rowKey: o.rowKey, value: o.value! })));
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
    await run(group(relOps).map((chunk) => async () => {
      const deletes = chunk.ops.filter((o) => !o.value);
      const upserts = chunk.ops.filter((o) => o.value);
      if (upserts.length) await this.rels.batch(chunk.pk, upserts.map((o) => ({ op: 'upsert' as const, rowKey: o.rowKey, value: o.value! })));
      // Deletes go one by one: a batch fails as a whole when one row is already gone.
      for (const o of deletes) await this.rels.delete(chunk.pk, o.rowKey);
    }));

    for (const { key, doc } of docs) this.index.put({ key, entity: doc.entity, etag: etags.get(key) ?? '', declared: doc.declared, version: versions.get(key) });
    return { written: docs.length };
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
    const plans = items.map(({ input, source, etag }) => {
      const parsed = this.parse(input);
      const key = refKey({ kind: parsed.kind, namespace: parsed.metadata.namespace, name: parsed.metadata.name });
      const prev = this.index.getIndexed(key);
      const doc = this.prepare(parsed, toSource(source), prev?.entity.status);
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
    const written: string[] = [];
    for (const [i, chunk] of chunks.entries()) {
      let res: Array<{ rowKey: string; etag?: string }>;
      try {
        res = await this.entities.batch(chunk[0]!.pk, chunk.map((p) => p.op));
      } catch (err) {
        const notWritten = chunks.slice(i).flat().map((p) => p.key);
        throw new PartialWriteError(written, notWritten, err);
      }
      // Each row of the transaction is taken back unless its relation rows are all written too.
      const restore = (p: (typeof plans)[number], etag: string) => (p.prev
        ? this.entities.replace({ partitionKey: p.pk, rowKey: p.rk, etag } as Row<CatalogRow>, rowOf({ entity: p.prev.entity, declared: p.prev.declared }, p.version + 1))
        : this.entities.delete(p.pk, p.rk, etag));
      for (const [j, p] of chunk.entries()) {
        const etag = res[j]?.etag ?? '';
        try {
          await this.commitRelations(p.key, p.before, p.doc.declared, () => restore(p, etag));
        } catch (err) {
          for (const [k, rest] of chunk.entries()) if (k > j) await restore(rest, res[k]?.etag ?? '').catch(() => undefined);
          throw new PartialWriteError(written, chunks.slice(i).flat().slice(j).map((x) => x.key), err);
        }
        this.index.put({ key: p.key, entity: p.doc.entity, etag, declared: p.doc.declared, version: p.version });
        written.push(p.key);
      }
    }
    return plans.map((p) => this.index.view(p.key)!);
  }

  /** Checks an entity exactly as upsert would, without writing anything. */
  validate(input: unknown, by: SourceArg = { name: 'api' }): Entity {
    const doc = this.prepare(this.parse(input), toSource(by));
    return { ...doc.entity, relations: doc.declared.map((r) => ({ type: r.type, targetRef: r.target, resolved: this.index.has(r.target) })) };
  }

  /** Read-modify-write of one entity with retry on conflict: `fn` may run more than once. */
  async update(ref: EntityRef | string, fn: (cur: Entity) => unknown, by?: SourceArg): Promise<Entity> {
    const key = this.keyOf(ref);
    const { pk, rk } = tableKeysOf(key);
    let previous: StoredDoc | undefined;
    let written: StoredDoc | undefined;
    let version = 0;
    let previousRow: CatalogRow | undefined;
    return this.serially(key, async () => {
      const row = await this.entities.update(pk, rk, (cur) => {
        if (!cur) throw new NotFoundError(key);
        previous = docOf(cur);
        previousRow = rowValues(cur);
        const next = this.parse(fn(structuredClone({ ...previous.entity, relations: previous.entity.relations })));
        const nextKey = refKey({ kind: next.kind, namespace: next.metadata.namespace, name: next.metadata.name });
        if (nextKey !== key) throw new ValidationError([{ path: 'metadata.name', message: `an update cannot rename ${key} to ${nextKey}` }]);
        // Without a source (e.g. re-resolving an owner) the entity keeps its sources and lastSeen.
        written = this.prepare(next, by ? toSource(by) : previous.entity.status!.source, previous.entity.status, Boolean(by));
        version = nextVersion(cur);
        return rowOf(written, version);
      });
      await this.commitRelations(key, previous?.declared ?? [], written!.declared, () => this.entities.replace(row, { ...previousRow!, version: version + 1 }));
      this.index.put({ key, entity: written!.entity, etag: row.etag, declared: written!.declared, version });
      return this.index.view(key)!;
    });
  }

  /** Deletes the entity and the relations it declared. Resolves false when it was not there. */
  async delete(ref: EntityRef | string, opts: { ifMatch?: string } = {}): Promise<boolean> {
    const key = this.keyOf(ref);
    const { pk, rk } = tableKeysOf(key);
    return this.serially(key, async () => {
      const cur = await this.entities.get(pk, rk);
      if (!cur) {
        this.index.remove(key);
        return false;
      }
      if (opts.ifMatch && opts.ifMatch !== '*' && opts.ifMatch !== cur.etag) {
        throw new ConcurrencyError(`entity ${key}`, key, 'it changed since it was read (If-Match does not match its ETag)');
      }
      await this.entities.delete(pk, rk, cur.etag);
      const doc = docOf(cur);
      this.index.remove(key);
      await this.syncRelations(key, doc.declared, []);
      return true;
    });
  }

  /**
   * Marks what a full sync of one source no longer saw: the source entry is flagged gone, and an
   * entity that every one of its sources has lost becomes orphaned (kept, never deleted).
   */
  async markMissing(source: SourceInfo, seen: Iterable<string>, opts: { only?: (e: Entity) => boolean } = {}): Promise<string[]> {
    const seenKeys = new Set([...seen].map((k) => this.keyOf(k)));
    const sk = sourceKey(source);
    const candidates = this.index.keysWhere((i) => {
      const entry = sourcesOf(i.entity.status)[sk];
      return !!entry && !entry.gone && !seenKeys.has(i.key) && (!opts.only || opts.only(this.index.view(i.key)!));
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
    const key = this.keyOf(ref);
    const { pk, rk } = tableKeysOf(key);
    const at = this.now().toISOString();
    let doc: StoredDoc | undefined;
    let version = 0;
    return this.serially(key, async () => {
      const row = await this.entities.update(pk, rk, (cur) => {
        if (!cur) return undefined;
        doc = docOf(cur);
        version = nextVersion(cur);
        const status = { ...doc.entity.status! };
        const sources = { ...sourcesOf(status) };
        const sk = sourceKey(source);
        sources[sk] = { ...(sources[sk] ?? { name: source.name, scope: source.scope, lastSeen: status.lastSeen }), gone: true, ref: source.ref };
        const allGone = Object.values(sources).every((s) => s.gone);
        const next: EntityStatus & { sources: Sources } = {
          ...status, sources, orphaned: allGone, orphanedAt: allGone ? status.orphanedAt ?? at : undefined,
        };
        doc = { ...doc, entity: { ...doc.entity, status: next } };
        return rowOf(doc, version);
      });
      if (!row || !doc) return undefined;
      this.index.put({ key, entity: doc.entity, etag: row.etag, declared: doc.declared, version });
      return this.index.view(key);
    });
  }

  // ---- reads ---------------------------------------------------------------------------------

  /** From the index; `consistent` reads the table (the source of truth) and refreshes the index. */
  async get(ref: EntityRef | string, opts: { consistent?: boolean } = {}): Promise<Entity | undefined> {
    let key: string;
    try { key = this.keyOf(ref); } catch (err) { if (err instanceof RefError) return undefined; throw err; }
    if (!opts.consistent) {
      const hit = this.index.view(key);
      if (hit) return hit;
    }
    const { pk, rk } = tableKeysOf(key);
    const row = await this.entities.get(pk, rk);
    if (!row) {
      this.index.remove(key);
      return undefined;
    }
    // The table is the source of truth: its row replaces whatever the index holds (clocks of
    // other instances order createdAt, so newer() alone could keep a stale entry).
    const item = this.itemOf(row);
    if (item) this.index.put(item, { force: true });
    return this.index.view(key);
  }

  /** get() as the JSON the API answers with (serialised once until the next write), and the ETag. */
  async getJson(ref: EntityRef | string): Promise<{ json: string; etag: string } | undefined> {
    let key: string;
    try { key = this.keyOf(ref); } catch (err) { if (err instanceof RefError) return undefined; throw err; }
    if (!this.index.has(key) && !(await this.get(key))) return undefined;
    const json = this.index.viewJson(key);
    return json === undefined ? undefined : { json, etag: this.index.getIndexed(key)!.etag };
  }

  async list(opts: ListOptions = {}): Promise<ListResult> {
    const limit = Math.max(1, Math.min(opts.limit ?? 50, 1000));
    let after: string | undefined;
    if (opts.cursor) {
      after = Buffer.from(opts.cursor, 'base64url').toString('utf8');
      if (!/^[a-z]+:[a-z0-9-]+\/.+$/.test(after)) throw new QueryError([{ path: 'cursor', message: 'is not a cursor this catalog issued' }]);
    }
    const owner = opts.owner ? ownerKeyOf(opts.owner) : undefined;
    const kind = opts.kind ? canonicalKind(opts.kind) ?? opts.kind : undefined;
    const { keys, more } = this.index.list({
      kind, owner, tag: opts.tag, where: { ...opts.filters, ...opts.where }, limit, after, orphaned: opts.orphaned,
    });
    const items = keys.map((k) => project(this.index.view(k)!, opts.fields));
    const nextCursor = more ? Buffer.from(keys[keys.length - 1]!, 'utf8').toString('base64url') : undefined;
    return nextCursor ? { items, nextCursor, cursor: nextCursor } : { items };
  }

  /** Both directions of the entity's relations, from the `relations` table, with whether each target exists. */
  async relations(ref: EntityRef | string): Promise<Relation[]> {
    const key = this.keyOf(ref);
    const out: Relation[] = [];
    // All of an entity's rows share its partition and a row key prefix: one range read.
    const prefix = tableKey(`${key}|`);
    const filter = odata`RowKey ge ${prefix} and RowKey lt ${prefix.slice(0, -1) + '}'}`;
    for await (const row of this.rels.query({ partitionKey: relPartition(key), filter })) {
      out.push({ type: row.type, targetRef: row.target, resolved: this.index.has(row.target) });
    }
    return out.sort((a, b) => (a.type + a.targetRef).localeCompare(b.type + b.targetRef));
  }

  /** One search box across every kind: ranked hits, facets over all matches, the total. */
  async search(q: string | ({ q: string } & SearchOptions), opts: SearchOptions = {}): Promise<SearchResult> {
    const query = typeof q === 'string' ? { q, ...opts } : { ...opts, ...q };
    let text = query.q ?? '';
    // `kind:service owner:payments tag:java rest words` work as filters inside the box too.
    let kind = query.kind, owner = query.owner, tag = query.tag, ownerField = 'owner';
    text = text.replace(/\b(kind|owner|tag):(\S+)/gi, (_, f: string, v: string) => {
      if (f.toLowerCase() === 'kind') kind = v; else if (f.toLowerCase() === 'owner') { owner = v; ownerField = 'q'; } else tag = v;
      return ' ';
    });
    const res = this.index.search(text, {
      kind: kind ? canonicalKind(kind) ?? kind : undefined,
      owner: owner ? ownerKeyOf(owner, ownerField) : undefined,
      tag,
      limit: query.limit,
      offset: query.offset,
    });
    return res;
  }

  /** search() as the JSON the API answers with (serialised once per cached result). */
  async searchJson(q: string | ({ q: string } & SearchOptions), opts: SearchOptions = {}): Promise<string> {
    return this.index.resultJson(await this.search(q, opts));
  }

  /**
   * A team with its members, sub-teams, on-call and everything it owns. `members` are the Users
   * the Team itself lists (spec.members): they get its rights. `claimedMembers` are Users whose
   * own `memberOf` names the Team without the Team listing them: shown, but they grant nothing
   * (anyone could write that). Members through the Team's Entra group are not known here.
   */
  async team(name: string): Promise<{
    team: Entity; members: Entity[]; claimedMembers: Entity[]; membership: TeamMembership[];
    children: Entity[]; owned: Entity[]; onCall?: unknown;
  } | undefined> {
    let key: string;
    try { key = refKey(parseRef(name, { kind: 'team' })); } catch { return undefined; }
    const team = await this.get(key);
    if (!team || team.kind !== 'Team') return undefined;
    const targets = (type: string) => team.relations.filter((r) => r.type === type).map((r) => this.index.view(r.targetRef)).filter((e): e is Entity => !!e);
    const declared = new Set((this.index.getIndexed(key)?.declared ?? []).filter((d) => d.type === 'hasMember').map((d) => d.target));
    const all = targets('hasMember');
    const members = all.filter((u) => declared.has(entityRefOf(u)));
    const claimedMembers = all.filter((u) => !declared.has(entityRefOf(u)));
    const membership: TeamMembership[] = [
      ...members.map((u) => ({ user: entityRefOf(u), grantsRights: true, declaredBy: 'team' as const })),
      ...claimedMembers.map((u) => ({ user: entityRefOf(u), grantsRights: false, declaredBy: 'user' as const })),
    ];
    return {
      team, members, claimedMembers, membership,
      children: targets('parentOf'),
      owned: this.index.ownedBy([key]).map((k) => this.index.view(k)!),
      onCall: team.spec.onCall,
    };
  }

  /**
   * Who the principal is in the catalog and which teams it belongs to. The User is found by a
   * stable identity only: its Entra object id, or its full e-mail as a User records it (identity
   * fields only Admin or ingestion write); never by a display name or an e-mail's local part.
   * Teams come from the token's Entra groups and from Teams listing that User as a member.
   */
  identify(principal: CatalogPrincipal): { user?: string; teams: string[] } {
    const user = this.userKeyOf(principal);
    const teams = new Set<string>(this.index.teamsByEntraGroups(principal.groups ?? []));
    if (user) for (const t of this.index.teamsOfUser(user)) teams.add(t);
    // Local tokens (dev-token --groups) name teams directly; Entra groups are object ids.
    if (principal.local) {
      for (const g of principal.groups ?? []) {
        try {
          teams.add(refKey(parseRef(g, { kind: 'team' })));
        } catch { /* not a team name */ }
      }
    }
    return { ...(user ? { user } : {}), teams: [...teams].sort() };
  }

  /** Team keys the principal belongs to (see identify). */
  async teamsOf(principal: CatalogPrincipal): Promise<string[]> {
    return this.identify(principal).teams;
  }

  /** The personal dashboard: teams, owned entities, recent runs, open pull requests, environments. */
  async me(principal: CatalogPrincipal, opts: { runs?: RecentRunsPort } = {}): Promise<{
    user?: Entity; teams: Entity[]; owned: Entity[]; recentRuns: unknown[]; openPullRequests: unknown[]; environments: Entity[];
  }> {
    const { user: userKey, teams: teamKeys } = this.identify(principal);
    const owners = [...teamKeys, ...(userKey ? [userKey] : [])];
    const owned = this.index.ownedBy(owners);
    const ownedSet = new Set(owned);
    const user = userKey ? this.index.view(userKey) : undefined;
    const logins = new Set([principal.name, principal.email, user?.spec.githubLogin].filter(Boolean).map((s) => String(s).toLowerCase()));
    const openPullRequests: unknown[] = [];
    for (const k of this.index.keysWhere((i) => i.entity.kind === 'Repository')) {
      const repo = this.index.entity(k)!;
      for (const pr of (repo.spec.openPullRequests as Array<{ author?: string }> | undefined) ?? []) {
        if (ownedSet.has(k) || (pr.author && logins.has(pr.author.toLowerCase()))) openPullRequests.push({ repository: k, ...pr });
      }
    }
    const envs = new Set<string>();
    for (const k of owned) {
      const e = this.index.entity(k)!;
      if (e.kind === 'Environment') envs.add(k);
      for (const r of this.index.relationsOf(k)) if (r.type === 'deployedTo') envs.add(r.targetRef);
    }
    const runs = opts.runs ?? this.cfg.runs;
    const recentRuns = runs ? await runs.recent({ principal, teams: teamKeys, stacks: this.stackNames(owned), limit: RECENT_RUNS }) : [];
    return {
      user,
      teams: teamKeys.map((k) => this.index.view(k)!).filter(Boolean),
      owned: owned.map((k) => this.index.view(k)!),
      recentRuns,
      openPullRequests,
      environments: [...envs].sort().map((k) => this.index.view(k)).filter((e): e is Entity => !!e),
    };
  }

  // ---- internals -----------------------------------------------------------------------------

  /**
   * The stack names behind Stack entities, as runs record them: Pulumi ingestion keeps the stack's
   * own spelling in the title (the entity name is its normalised form), so both are tried.
   */
  private stackNames(keys: string[]): string[] {
    const names = new Set<string>();
    for (const k of keys) {
      const e = this.index.entity(k);
      if (e?.kind !== 'Stack') continue;
      names.add(e.metadata.name);
      const title = e.metadata.title;
      if (title && toEntityName(title).toLowerCase() === e.metadata.name.toLowerCase()) names.add(title);
    }
    return [...names];
  }

  private keyOf(ref: EntityRef | string): string {
    if (typeof ref === 'string') return refKey(parseRef(ref));
    return refKey(parseRef(`${ref.kind}:${ref.namespace ?? 'default'}/${ref.name}`));
  }

  private userKeyOf(p: CatalogPrincipal): string | undefined {
    const byOid = p.id ? this.index.userByOid(p.id) : undefined;
    if (byOid) return byOid;
    const byMail = p.email ? this.index.userByEmail(p.email) : undefined;
    if (byMail) return byMail;
    // The local issuer's subject is the user name itself (development and tests only).
    if (p.local && p.id) {
      try { return refKey(parseRef(p.id, { kind: 'user' })); } catch { /* not a valid name */ }
    }
    return undefined;
  }

  /** Envelope + spec validation, Backstage mapping; throws ValidationError naming each field. */
  private parse(input: unknown): Omit<Entity, 'relations'> & { relations: RelationDecl[] } {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new ValidationError([{ path: '', message: 'an entity must be an object with apiVersion, kind, metadata and spec' }]);
    }
    let doc = input;
    if (isBackstage(input)) {
      const mapped = fromBackstage(input);
      if ('location' in mapped) throw new ValidationError([{ path: 'kind', message: 'a Location is an import directive, not an entity: import it as a catalog file' }]);
      doc = mapped.entity;
    }
    return validateEntity(doc);
  }

  /** Resolves the owner and relations, checks every reference, and stamps source and lastSeen. */
  private prepare(e: Omit<Entity, 'relations'> & { relations: RelationDecl[] }, source: SourceInfo, prev?: EntityStatus, touch = true): StoredDoc {
    const issues: Issue[] = [];
    const owned = resolveOwner(e, source, this.index);
    if (typeof e.spec.owner === 'string' && owned.ownerSource !== 'owner') {
      try { parseRef(e.spec.owner, { kind: 'team' }); } catch (err) { issues.push({ path: 'spec.owner', message: (err as Error).message }); }
    }
    const declared = declaredRelations(e, owned.owner, issues, this.index);
    if (issues.length) throw new ValidationError(issues);
    const at = this.now().toISOString();
    const sources = { ...sourcesOf(prev) };
    if (touch || !prev) sources[sourceKey(source)] = stripUndefined({ name: source.name, scope: source.scope, ref: source.ref, lastSeen: at });
    const keep = !touch && prev;
    const status: EntityStatus & { sources: Sources } = {
      ...(keep ? { orphaned: prev.orphaned, orphanedAt: prev.orphanedAt } : {}),
      source: stripUndefined(keep ? prev.source : source),
      lastSeen: keep ? prev.lastSeen : at,
      createdAt: prev?.createdAt ?? at,
      ...(owned.owner ? { owner: owned.owner, ownerSource: owned.ownerSource } : {}),
      sources,
    };
    const entity = { ...e, metadata: { ...e.metadata, etag: undefined }, status } as unknown as Entity;
    delete (entity.metadata as { etag?: string }).etag;
    const doc: StoredDoc = { entity, declared };
    if (JSON.stringify(doc).length > MAX_DOC) {
      throw new ValidationError([{ path: '', message: `the entity is larger than ${MAX_DOC} characters; keep large definitions elsewhere and link them` }]);
    }
    return doc;
  }

  /**
   * The relation rows of an entity row just written. Should they fail part-way (storage), the
   * rows written are taken back and `undo` restores the entity row, so the request leaves nothing
   * half-written; the error goes on to the caller.
   */
  private async commitRelations(key: string, before: Array<{ type: string; target: string }>, after: Array<{ type: string; target: string }>, undo: () => Promise<unknown>): Promise<void> {
    try {
      await this.syncRelations(key, before, after);
    } catch (err) {
      await this.syncRelations(key, after, before).catch(() => undefined);
      await undo().catch(() => undefined);
      throw err;
    }
  }

  /** Writes the difference between the relations an entity declared before and now, both directions. */
  private async syncRelations(key: string, before: Array<{ type: string; target: string }>, after: Array<{ type: string; target: string }>): Promise<void> {
    const id = (r: { type: string; target: string }) => `${r.type}|${r.target}`;
    const afterIds = new Set(after.map(id));
    const beforeIds = new Set(before.map(id));
    const added = after.filter((r) => !beforeIds.has(id(r)));
    const removed = before.filter((r) => !afterIds.has(id(r)))
      // The other side may declare the same relation itself: then the rows stay.
      .filter((r) => !this.index.getIndexed(r.target)?.declared.some((d) => d.type === inverseOf(r.type) && d.target === key));
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

  private itemOf(row: Row<CatalogRow>): Indexed | undefined {
    try {
      const doc = docOf(row);
      return { key: keyFromTable(row.partitionKey, row.rowKey), entity: doc.entity, etag: row.etag, declared: doc.declared, version: row.version ?? 0 };
    } catch {
      return undefined; // a row this version cannot read is skipped rather than failing the start
    }
  }
}

/** Some of a set of writes failed: those in `written` are stored, those in `notWritten` are not. */
export class PartialWriteError extends Error {
  /** True when the entities changed since they were checked (another writer): try again. */
  readonly conflict: boolean;

  constructor(readonly written: string[], readonly notWritten: string[], readonly cause: unknown) {
    const conflict = cause instanceof ConcurrencyError || cause instanceof EntityExistsError;
    super(`${written.length} of ${written.length + notWritten.length} entities written; not written: ${notWritten.join(', ')} (${conflict
      ? 'they changed since they were checked' : (cause as Error)?.message ?? String(cause)})`);
    this.name = 'PartialWriteError';
    this.conflict = conflict;
  }
}

/** One User's membership of a Team as /teams/{name} lists it. */
export interface TeamMembership {
  user: string;
  /** True when the Team lists the User (spec.members): then it grants the Team's rights. */
  grantsRights: boolean;
  /** `team`: the Team's spec.members; `user`: only the User's own memberOf claims it. */
  declaredBy: 'team' | 'user';
}

export class NotFoundError extends Error {
  constructor(readonly key: string) {
    super(`no entity ${key}`);
    this.name = 'NotFoundError';
  }
}

export type Sources = Record<string, { name: string; scope?: string; ref?: string; lastSeen: string; gone?: boolean }>;

const REL_BUCKETS = 16;

function relPartition(key: string): string {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return `${key.slice(0, key.indexOf(':'))}.${(h >>> 0) % REL_BUCKETS}`;
}

function relRow(from: string, type: string, to: string): { pk: string; rowKey: string } {
  return { pk: relPartition(from), rowKey: `${from}|${type}|${to}` };
}

/** Every source that wrote the entity (key `name|scope`), with when it last saw it and whether it is gone. */
export function sourcesOfEntity(e: Pick<Entity, 'status'>): Sources {
  return sourcesOf(e.status);
}

function sourcesOf(status: EntityStatus | undefined): Sources {
  return ((status as { sources?: Sources } | undefined)?.sources) ?? {};
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function nextVersion(cur: CatalogRow | undefined): number {
  return (cur?.version ?? 0) + 1;
}

function rowOf(doc: StoredDoc, version: number): CatalogRow {
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
function rowValues(row: Row<CatalogRow>): CatalogRow {
  const { partitionKey: _p, rowKey: _r, etag: _e, timestamp: _t, ...values } = row as Row<CatalogRow> & { timestamp?: string };
  return values as CatalogRow;
}

function docOf(row: CatalogRow): StoredDoc {
  return JSON.parse(joinChunks('d', row, `catalog row ${row.kind}:${row.namespace}/${row.name}`)) as StoredDoc;
}

/** Ingestion's merge: the new spec's fields over the stored ones; labels, annotations, tags and relations combined. */
function mergeEntity(cur: Entity, next: Omit<Entity, 'relations'> & { relations: RelationDecl[] }, ownedFields: string[] = []): Omit<Entity, 'relations'> & { relations: RelationDecl[] } {
  const spec: Record<string, unknown> = { ...cur.spec, ...stripUndefined(next.spec) };
  for (const f of ownedFields) if (next.spec[f] === undefined) delete spec[f];
  const tags = [...new Set([...(cur.metadata.tags ?? []), ...(next.metadata.tags ?? [])])];
  const rels = new Map<string, RelationDecl>();
  for (const r of [...((cur.relations as unknown as RelationDecl[]) ?? []), ...next.relations]) rels.set(`${r.type}|${r.targetRef}`, { type: r.type, targetRef: r.targetRef });
  return {
    ...next,
    kind: cur.kind === next.kind ? next.kind : next.kind,
    metadata: {
      ...cur.metadata,
      ...stripUndefined(next.metadata),
      labels: { ...cur.metadata.labels, ...next.metadata.labels },
      annotations: { ...cur.metadata.annotations, ...next.metadata.annotations },
      ...(tags.length ? { tags } : {}),
    },
    spec,
    relations: [...rels.values()],
  };
}

/** `fields` projection: dotted paths, the identity fields always kept. */
function project(e: Entity, fields?: string[]): Entity | Record<string, unknown> {
  if (!fields?.length) return e;
  const out: Record<string, unknown> = { apiVersion: e.apiVersion, kind: e.kind, metadata: { name: e.metadata.name, namespace: e.metadata.namespace } };
  for (const path of fields) {
    const v = pathValue(e, path);
    if (v === undefined) continue;
    const parts = path.split('.');
    let cur = out;
    for (let i = 0; i < parts.length - 1; i++) {
      const p = parts[i]!;
      if (typeof cur[p] !== 'object' || cur[p] === null) cur[p] = {};
      cur = cur[p] as Record<string, unknown>;
    }
    cur[parts[parts.length - 1]!] = v;
  }
  return out;
}

/**
 * An owner filter as people write it (`payments`, `team:payments`, `user:default/jane`). One that
 * cannot be parsed fails closed: ignoring it would answer with the whole catalog.
 */
function ownerKeyOf(owner: string, field = 'owner'): string {
  try {
    return refKey(parseRef(owner, { kind: 'team' }));
  } catch (err) {
    throw new QueryError([{ path: field, message: `'${owner.slice(0, 80)}' is not an owner reference (${(err as Error).message})` }]);
  }
}

export { KINDS };
