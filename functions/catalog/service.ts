// The catalog service: validates and stores entities in the `catalog` table, keeps both directions of
// every relation in the `relations` table, and answers reads from a shared in-memory index that is
// loaded at start, updated on every write, and kept in step with other instances through the
// change journal. The table stays the source of truth (ETags on every write).
//
// This class only wires the parts together: store.ts (rows and tables), documents.ts (validation
// and preparing a document), writes.ts and bulk-writes.ts (the write use-cases), queries.ts and
// dashboard.ts (reads), journal.ts and sync.ts (other instances' changes).
import type { Entity, Relation, SourceInfo } from './kinds.ts';
import { MemoryIndex } from './memory-index.ts';
import type { EntityRef } from './refs.ts';
import { CatalogStore, tableNamesOf } from './store.ts';
import { Journal } from './journal.ts';
import { CatalogSync } from './sync.ts';
import { WriteContext } from './write-context.ts';
import { EntityWrites } from './writes.ts';
import { BulkWrites } from './bulk-writes.ts';
import { CatalogQueries } from './queries.ts';
import { dashboard, identify, type Dashboard } from './dashboard.ts';
import type {
  CatalogConfig, CatalogPrincipal, CatalogTables, ListOptions, ListResult, RecentRunsPort, SearchOptions, SearchResult,
  SourceArg, TeamMembership, UpsertOptions,
} from './types.ts';

export { ValidationError, KINDS } from './kinds.ts';
export { ConcurrencyError } from '../platform/errors.ts';
export {
  QueryError, NotFoundError, PartialWriteError, RECENT_RUNS,
  type CatalogConfig, type CatalogPrincipal, type CatalogTables, type ListOptions, type ListResult, type RecentRunsPort,
  type SearchOptions, type SearchResult, type TeamMembership, type UpsertOptions,
} from './types.ts';
export { USER_IDENTITY_FIELDS, userIdentityChanges, sourcesOfEntity, type Sources } from './documents.ts';

export class CatalogService {
  readonly index = new MemoryIndex();
  private readonly writes: EntityWrites;
  private readonly bulk: BulkWrites;
  private readonly queries: CatalogQueries;
  private readonly sync: CatalogSync;

  private constructor(private readonly names: Required<CatalogTables>, store: CatalogStore, journal: Journal, private readonly cfg: CatalogConfig) {
    const now = cfg.now ?? (() => new Date());
    const ctx = new WriteContext(this.index, store, journal, now);
    this.writes = new EntityWrites(ctx);
    this.bulk = new BulkWrites(ctx);
    this.queries = new CatalogQueries(this.index, store);
    this.sync = new CatalogSync({ index: this.index, store, journal, now, busy: (key) => ctx.busy(key) });
  }

  /** The names of the entity, relation and journal tables this service uses. */
  tableNames(): Required<CatalogTables> {
    return { ...this.names };
  }

  /** Opens the tables and loads every entity into the in-memory index. */
  static async open(cfg: CatalogConfig = {}): Promise<CatalogService> {
    const names = tableNamesOf(cfg.tables);
    const [store, journal] = await Promise.all([
      CatalogStore.open(names, cfg.storage),
      Journal.open(names.journal, cfg.storage, cfg.journal, cfg.now),
    ]);
    const svc = new CatalogService(names, store, journal, cfg);
    await svc.reload();
    return svc;
  }

  // ---- other instances' changes ----------------------------------------------------------------

  /** Reads every row again; resolves to how many index entries changed (added, updated or dropped). */
  reload(): Promise<number> {
    return this.sync.reload();
  }

  /** Picks up what other processes wrote since the last look, from the change journal. */
  refresh(): Promise<number> {
    return this.sync.refresh();
  }

  /** Calls refresh() every `intervalMs` (default 5 s) until stopped. */
  startRefresh(opts: { intervalMs?: number; onError?: (err: unknown) => void } = {}): { stop(): Promise<void> } {
    return this.sync.startRefresh(opts);
  }

  // ---- writes ----------------------------------------------------------------------------------

  upsert(input: unknown, by: SourceArg, opts: UpsertOptions = {}): Promise<Entity> {
    return this.writes.upsert(input, by, opts);
  }

  bulkUpsert(inputs: unknown[], by: SourceArg, opts: { concurrency?: number } = {}): Promise<{ written: number }> {
    return this.bulk.bulkUpsert(inputs, by, opts);
  }

  writeAll(items: Array<{ input: unknown; source: SourceArg; etag?: string | null }>): Promise<Entity[]> {
    return this.bulk.writeAll(items);
  }

  validate(input: unknown, by: SourceArg = { name: 'api' }): Entity {
    return this.writes.validate(input, by);
  }

  update(ref: EntityRef | string, fn: (cur: Entity) => unknown, by?: SourceArg): Promise<Entity> {
    return this.writes.update(ref, fn, by);
  }

  delete(ref: EntityRef | string, opts: { ifMatch?: string } = {}): Promise<boolean> {
    return this.writes.delete(ref, opts);
  }

  markMissing(source: SourceInfo, seen: Iterable<string>, opts: { only?: (e: Entity) => boolean } = {}): Promise<string[]> {
    return this.writes.markMissing(source, seen, opts);
  }

  markGone(ref: EntityRef | string, source: SourceInfo): Promise<Entity | undefined> {
    return this.writes.markGone(ref, source);
  }

  // ---- reads -----------------------------------------------------------------------------------

  get(ref: EntityRef | string, opts: { consistent?: boolean } = {}): Promise<Entity | undefined> {
    return this.queries.get(ref, opts);
  }

  getJson(ref: EntityRef | string): Promise<{ json: string; etag: string } | undefined> {
    return this.queries.getJson(ref);
  }

  async list(opts: ListOptions = {}): Promise<ListResult> {
    return this.queries.list(opts);
  }

  relations(ref: EntityRef | string): Promise<Relation[]> {
    return this.queries.relations(ref);
  }

  async search(q: string | ({ q: string } & SearchOptions), opts: SearchOptions = {}): Promise<SearchResult> {
    return this.queries.search(q, opts);
  }

  /** search() as the JSON the API answers with (serialised once per cached result). */
  async searchJson(q: string | ({ q: string } & SearchOptions), opts: SearchOptions = {}): Promise<string> {
    return this.index.resultJson(this.queries.search(q, opts));
  }

  team(name: string): Promise<{
    team: Entity; members: Entity[]; claimedMembers: Entity[]; membership: TeamMembership[];
    children: Entity[]; owned: Entity[]; onCall?: unknown;
  } | undefined> {
    return this.queries.team(name);
  }

  identify(principal: CatalogPrincipal): { user?: string; teams: string[] } {
    return identify(this.index, principal);
  }

  /** Team keys the principal belongs to (see identify). */
  async teamsOf(principal: CatalogPrincipal): Promise<string[]> {
    return identify(this.index, principal).teams;
  }

  me(principal: CatalogPrincipal, opts: { runs?: RecentRunsPort } = {}): Promise<Dashboard> {
    return dashboard(this.index, principal, opts.runs ?? this.cfg.runs);
  }
}
