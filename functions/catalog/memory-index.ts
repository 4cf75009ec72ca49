// The in-memory index of the catalog: every entity by key, sorted keys for paging, sets by kind,
// owner and tag for filters, the relation graph (both directions), identities and search.
// Loaded from the table at start and updated on every write, so reads never wait on storage.
// The parts live in ./index/: search (docs, postings, ranking, query syntax), identities, the
// graph and listing; this class keeps them in step and caches what reads derive from them.
import type { Entity, Relation } from './kinds.ts';
import { entityRefOf } from './refs.ts';
import type { OwnerLookup } from './ownership.ts';
import { searchTokens, summaryOf } from './index/document.ts';
import { RelationGraph } from './index/graph.ts';
import { IdentityIndex } from './index/identity.ts';
import { filteredKeys, listKeys, type ListOptions, type ListSource } from './index/list.ts';
import { searchRequest, searchTerms } from './index/query.ts';
import { SearchIndex } from './index/search.ts';
import type { EntitySummary, Indexed, SearchFilters, SearchResult } from './index/types.ts';

export type { EntitySummary, Facets, Indexed, SearchHit, SearchResult } from './index/types.ts';
export { OID_ANNOTATIONS, userIdentity } from './index/identity.ts';
export { pathValue } from './index/list.ts';
export { tokenize } from './tokenize.ts';
export { entityRefOf };

/** Bounds of the read caches: the entities people look at and the queries they repeat are a fraction. */
const JSON_CACHE_MAX = 50_000;
const SEARCH_CACHE_MAX = 10_000;

export class MemoryIndex implements OwnerLookup {
  private readonly items = new Map<string, Indexed>();
  /** All keys in order, rebuilt lazily after writes (sorting on demand beats inserting 100k times). */
  private sortedCache: string[] | undefined = [];
  private readonly byKind = new Map<string, Set<string>>();
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly byTag = new Map<string, Set<string>>();
  private readonly graph = new RelationGraph((from, type, to) => this.items.get(from)?.declared.some((r) => r.type === type && r.target === to) ?? false);
  private readonly searchIndex = new SearchIndex();
  private readonly identities = new IdentityIndex({ get: (k) => this.items.get(k), users: () => this.byKind.get('user') ?? [] });
  private readonly listSource: ListSource = {
    get: (k) => this.items.get(k),
    withKind: (k) => this.byKind.get(k),
    withOwner: (o) => this.byOwner.get(o),
    withTag: (t) => this.byTag.get(t),
    keysSorted: () => this.keysSorted(),
  };

  /** Counts writes: what was derived from the index before a write is stale after it. */
  private version = 0;
  private readonly relationCache = new Map<string, { version: number; relations: Relation[] }>();
  private readonly jsonCache = new Map<string, { version: number; json: string }>();
  /** Search results by query, valid until the next write (searches repeat far more often than writes). */
  private readonly searchCache = new Map<string, SearchResult>();
  private readonly searchJsonCache = new WeakMap<object, string>();

  get size(): number {
    return this.items.size;
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  getIndexed(key: string): Indexed | undefined {
    return this.items.get(key);
  }

  entity(key: string): Entity | undefined {
    return this.items.get(key)?.entity;
  }

  /** The entity with its relations (both directions) and etag filled in. */
  view(key: string): Entity | undefined {
    const item = this.items.get(key);
    if (!item) return undefined;
    return { ...item.entity, metadata: { ...item.entity.metadata, etag: item.etag }, relations: this.relationsOf(key) };
  }

  /**
   * Both directions of the entity's relations, sorted, with whether each target exists. Kept until
   * the next write anywhere (a write can add a relation or resolve a target): GETs repeat far more
   * often than writes. Shared between callers: treat as read-only.
   */
  relationsOf(key: string): Relation[] {
    const hit = this.relationCache.get(key);
    if (hit && hit.version === this.version) return hit.relations;
    const rels = this.graph.of(key);
    const relations = rels
      ? [...rels]
        .map((r) => ({ type: r.type, targetRef: r.target, resolved: this.items.has(r.target) }))
        .sort((a, b) => (a.type + a.targetRef).localeCompare(b.type + b.targetRef))
      : [];
    this.relationCache.set(key, { version: this.version, relations });
    return relations;
  }

  /** view() as JSON (what GET by name answers with), kept like the relations until the next write. */
  viewJson(key: string): string | undefined {
    const hit = this.jsonCache.get(key);
    if (hit && hit.version === this.version) return hit.json;
    const view = this.view(key);
    if (!view) return undefined;
    const json = JSON.stringify(view);
    if (this.jsonCache.size >= JSON_CACHE_MAX) this.jsonCache.clear();
    this.jsonCache.set(key, { version: this.version, json });
    return json;
  }

  /** A search result as JSON: serialised once for as long as the result itself is cached. */
  resultJson(result: SearchResult): string {
    let json = this.searchJsonCache.get(result);
    if (json === undefined) this.searchJsonCache.set(result, (json = JSON.stringify(result)));
    return json;
  }

  // ---- writes --------------------------------------------------------------------------------

  /**
   * Adds or replaces the entity; false (and nothing changes) when the index already has a newer
   * version. `force`: what storage holds now (a consistent read), taken whatever the index has.
   */
  put(item: Indexed, opts: { force?: boolean } = {}): boolean {
    const old = this.items.get(item.key);
    if (old && !opts.force && newer(old, item)) return false;
    this.version++;
    this.searchCache.clear();
    if (old) this.unindex(old);
    else this.sortedCache = undefined;
    this.items.set(item.key, item);
    this.indexItem(item);
    return true;
  }

  remove(key: string): void {
    const old = this.items.get(key);
    if (!old) return;
    this.version++;
    this.searchCache.clear();
    this.unindex(old);
    this.items.delete(key);
    this.relationCache.delete(key);
    this.jsonCache.delete(key);
    this.sortedCache = undefined;
  }

  private indexItem(item: Indexed): void {
    const e = item.entity;
    const key = item.key;
    addTo(this.byKind, e.kind.toLowerCase(), key);
    addTo(this.byOwner, e.status?.owner, key);
    for (const t of e.metadata.tags ?? []) addTo(this.byTag, t, key);
    for (const r of item.declared) this.graph.link(key, r.type, r.target);
    this.identities.add(item);
    this.searchIndex.add(key, e, searchTokens(e));
  }

  private unindex(item: Indexed): void {
    const e = item.entity;
    const key = item.key;
    removeFrom(this.byKind, e.kind.toLowerCase(), key);
    removeFrom(this.byOwner, e.status?.owner, key);
    for (const t of e.metadata.tags ?? []) removeFrom(this.byTag, t, key);
    for (const r of item.declared) this.graph.unlink(key, r.type, r.target);
    this.identities.remove(item);
    this.searchIndex.remove(key);
  }

  // ---- search --------------------------------------------------------------------------------

  /** Search results are shared between callers until the next write: treat them as read-only. */
  search(q: string, opts: SearchFilters & { limit?: number; offset?: number } = {}): SearchResult {
    const query = searchRequest(q, opts);
    const cached = this.searchCache.get(query.cacheKey);
    if (cached) return cached;
    const terms = searchTerms(q);
    let result: SearchResult;
    if (terms.length) {
      const { page, facets, total } = this.searchIndex.run({ ...query, terms });
      result = { items: page.map((h) => ({ entity: this.summary(h.key)!, score: h.score })), facets, total };
    } else if (query.text) {
      // Text without a single word (only punctuation) matches nothing.
      result = { items: [], facets: this.searchIndex.emptyFacets(), total: 0 };
    } else {
      // No words at all: the filters alone, in key order.
      const keys = filteredKeys(this.listSource, query.filters);
      result = {
        items: keys.slice(query.offset, query.offset + query.limit).map((k) => ({ entity: this.summary(k)!, score: 0 })),
        facets: this.searchIndex.facetsOf(keys),
        total: keys.length,
      };
    }
    if (this.searchCache.size >= SEARCH_CACHE_MAX) this.searchCache.clear();
    this.searchCache.set(query.cacheKey, result);
    return result;
  }

  /** What a search hit shows: who and what it is, not the whole document (GET has that). */
  summary(key: string): EntitySummary | undefined {
    const item = this.items.get(key);
    return item ? summaryOf(item) : undefined;
  }

  // ---- list ----------------------------------------------------------------------------------

  list(opts: ListOptions): { keys: string[]; more: boolean } {
    return listKeys(this.listSource, opts);
  }

  keysWhere(pred: (item: Indexed) => boolean): string[] {
    const out: string[] = [];
    for (const [k, item] of this.items) if (pred(item)) out.push(k);
    return out;
  }

  ownedBy(owners: string[]): string[] {
    const out = new Set<string>();
    for (const o of owners) for (const k of this.byOwner.get(o) ?? []) out.add(k);
    return [...out].sort();
  }

  private keysSorted(): string[] {
    this.sortedCache ??= [...this.items.keys()].sort();
    return this.sortedCache;
  }

  // ---- OwnerLookup ---------------------------------------------------------------------------

  userByEmail(email: string): string | undefined {
    return this.identities.userByEmail(email);
  }

  userByLogin(login: string): string | undefined {
    return this.identities.userByLogin(login);
  }

  userByOid(oid: string): string | undefined {
    return this.identities.userByOid(oid);
  }

  teamsByEntraGroups(groupIds: string[]): string[] {
    return this.identities.teamsByEntraGroups(groupIds);
  }

  /**
   * Teams a User belongs to for authorisation: only those whose Team entity lists the user
   * (spec.members, written by whoever has rights on the Team). A User's own `memberOf` is shown
   * as a relation but grants nothing: anyone could write it.
   */
  teamsOfUser(userKey: string): string[] {
    const rels = this.graph.of(userKey);
    if (!rels) return [];
    const out: string[] = [];
    for (const r of rels) {
      if (r.type !== 'memberOf') continue;
      const team = this.items.get(r.target);
      if (team?.entity.kind === 'Team' && team.declared.some((d) => d.type === 'hasMember' && d.target === userKey)) out.push(r.target);
    }
    return out.sort();
  }

  /**
   * Teams of the actor behind a write: an Entra object id, a GitHub login (webhook senders), an
   * e-mail, or a User key. Identity fields are written only by Admin or ingestion (USER_IDENTITY_FIELDS).
   */
  teamsOfActor(actor: string): string[] {
    const a = actor.toLowerCase();
    const user = this.identities.userOfActor(a) ?? (a.startsWith('user:') && this.items.has(a) ? a : undefined);
    return user ? this.teamsOfUser(user) : [];
  }
}

/**
 * Whether `a` is a later write of the row than `b`: by creation first (an entity deleted and
 * created again starts counting anew), then by the row's write count.
 */
function newer(a: Indexed, b: Indexed): boolean {
  const ca = a.entity.status?.createdAt ?? '', cb = b.entity.status?.createdAt ?? '';
  if (ca !== cb) return ca > cb;
  return (a.version ?? 0) > (b.version ?? 0);
}

function addTo(map: Map<string, Set<string>>, k: string | undefined, v: string): void {
  if (!k) return;
  let s = map.get(k);
  if (!s) map.set(k, (s = new Set()));
  s.add(v);
}

function removeFrom(map: Map<string, Set<string>>, k: string | undefined, v: string): void {
  if (!k) return;
  const s = map.get(k);
  if (s) { s.delete(v); if (!s.size) map.delete(k); }
}
