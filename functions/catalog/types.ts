// What the catalog service's callers see: its options, results and errors (the service itself is
// functions/catalog/service.ts, its parts the modules next to it).
import { ConcurrencyError, EntityExistsError } from '../platform/errors.ts';
import type { StorageConfig } from '../platform/storage-config.ts';
import { ValidationError, type Entity, type SourceInfo } from './kinds.ts';
import type { Facets, SearchHit } from './memory-index.ts';
import type { JournalOptions } from './journal.ts';

/** A query (list or search parameters) the catalog cannot run: each issue names the parameter. */
export class QueryError extends ValidationError {
  readonly where = 'query';
}

export class NotFoundError extends Error {
  constructor(readonly key: string) {
    super(`no entity ${key}`);
    this.name = 'NotFoundError';
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

export interface CatalogTables {
  entities: string;
  relations: string;
  /** The change journal other instances refresh from (default: the entities table's name + `journal`). */
  journal?: string;
}

export interface CatalogConfig {
  storage?: StorageConfig;
  /** Table names (tests use their own). */
  tables?: Partial<CatalogTables>;
  runs?: RecentRunsPort;
  now?: () => Date;
  /** How refresh() reads the change journal (windows and retention; defaults suit the 5 s loop). */
  journal?: JournalOptions;
}

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

/** One User's membership of a Team as /teams/{name} lists it. */
export interface TeamMembership {
  user: string;
  /** True when the Team lists the User (spec.members): then it grants the Team's rights. */
  grantsRights: boolean;
  /** `team`: the Team's spec.members; `user`: only the User's own memberOf claims it. */
  declaredBy: 'team' | 'user';
}

/** Who writes: a source as kinds.ts describes it, or the API's shorter form. */
export type SourceArg = SourceInfo | { source: string; principal?: string; groups?: string[] };
