// The in-memory index of the catalog: every entity by key, sorted keys for paging, sets by kind,
// owner and tag for filters, the relation graph (both directions) and an inverted index for search.
// Loaded from the table at start and updated on every write, so reads never wait on storage.
import type { Entity, Relation } from './kinds.ts';
import { inverseOf } from './relations.ts';
import { tokenize } from './tokenize.ts';
import { entityRefOf } from './refs.ts';
import type { OwnerLookup } from './ownership.ts';

export interface Indexed {
  key: string;
  entity: Entity; // without `relations` filled in: those come from the graph
  etag: string;
  /** Declared (outgoing) relations of this entity, as keys. */
  declared: Array<{ type: string; target: string }>;
  /** The table row's write count: an older version never replaces a newer one. */
  version?: number;
}

/** What a search hit carries: enough to list and link the entity; GET by name has the whole of it. */
export interface EntitySummary {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; title?: string; description?: string; tags?: string[]; etag: string };
  spec: { owner?: string; type?: string; lifecycle?: string };
  status?: { owner?: string; orphaned?: boolean };
}

export type SearchHit = {
  entity: EntitySummary;
  score: number;
};

export type Facets = {
  kind: Record<string, number>;
  owner: Record<string, number>;
  tag: Record<string, number>;
  lifecycle: Record<string, number>;
};

interface Doc {
  key: string;
  tokens: Map<string, number>;
  nameLower: string;
  /** Tags after the first two (those live in DocColumns). */
  moreTags?: number[];
}

/**
 * What scoring, filtering and facet counting read of each matching doc, as typed arrays indexed by
 * doc id: a search touches tens of thousands of docs, and reading numbers side by side in memory
 * is many times faster than following a pointer to an object (and its strings) per doc.
 * Facet values are small numbers (see Dictionary); -1 is none.
 */
class DocColumns {
  kind = new Int32Array(0);
  kindLower = new Int32Array(0);
  owner = new Int32Array(0);
  lifecycle = new Int32Array(0);
  tag0 = new Int32Array(0);
  tag1 = new Int32Array(0);
  orphaned = new Uint8Array(0);
  /** The name's first character (lower case). */
  name0 = new Uint16Array(0);
  /** The first letters of the lower-case name as a number, in the names' alphabetical order: orders ties. */
  nameCode = new Float64Array(0);

  ensure(n: number): void {
    if (n <= this.kind.length) return;
    const size = Math.max(1024, n * 2);
    const grow = <T extends Int32Array | Uint8Array | Uint16Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.kind = grow(this.kind); this.kindLower = grow(this.kindLower); this.owner = grow(this.owner);
    this.lifecycle = grow(this.lifecycle); this.tag0 = grow(this.tag0); this.tag1 = grow(this.tag1);
    this.orphaned = grow(this.orphaned); this.nameCode = grow(this.nameCode); this.name0 = grow(this.name0);
  }
}

const NAME_CODE_CHARS = 8;
/** 'abc-1' -> a number that orders like the string's first NAME_CODE_CHARS characters. */
function nameCode(nameLower: string): number {
  let code = 0;
  for (let i = 0; i < NAME_CODE_CHARS; i++) {
    const c = i < nameLower.length ? nameLower.charCodeAt(i) : -1;
    // 0: end of name; then the characters names may have ('-' '.' 0-9 '_' a-z) in code-point order; 39: anything else.
    const v = c < 0 ? 0 : c === 45 ? 1 : c === 46 ? 2 : c >= 48 && c <= 57 ? 3 + c - 48 : c === 95 ? 13 : c >= 97 && c <= 122 ? 14 + c - 97 : 40;
    code = code * 41 + v;
  }
  return code;
}

/** A word's postings packed for scanning: doc ids and the word's weight in each. */
interface Packed {
  ids: Int32Array;
  w: Float64Array;
}

type FacetCounts = { kind: Int32Array; owner: Int32Array; tag: Int32Array; lifecycle: Int32Array };

/** Facet values <-> small numbers. Values are never forgotten: one that nobody has any more counts zero. */
class Dictionary {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];

  get size(): number {
    return this.names.length;
  }

  id(value: string): number {
    let id = this.ids.get(value);
    if (id === undefined) { id = this.names.length; this.ids.set(value, id); this.names.push(value); }
    return id;
  }

  find(value: string): number | undefined {
    return this.ids.get(value);
  }

  /** Counts by value, most first (ties by value), at most n of them. */
  top(counts: Int32Array, n = Infinity): Record<string, number> {
    const found: number[] = [];
    for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) found.push(i);
    found.sort((a, b) => counts[b]! - counts[a]! || (this.names[a]! < this.names[b]! ? -1 : 1));
    const out: Record<string, number> = {};
    for (const i of found.slice(0, n)) out[this.names[i]!] = counts[i]!;
    return out;
  }
}

/** The spec fields a search hit keeps. */
const SUMMARY_SPEC = ['owner', 'type', 'lifecycle'] as const;

// Weight of a word by where it was found: a hit on the name ranks above one in the description.
const W = { name: 10, title: 8, tag: 6, kind: 4, owner: 3, description: 2, spec: 1 };
const SPEC_FIELDS = ['type', 'lifecycle', 'stage', 'region', 'sku', 'state', 'severity', 'status', 'provider', 'language', 'version', 'project', 'resourceGroup', 'summary', 'title', 'assignee', 'sprint'];
const MAX_PREFIX_EXPANSION = 200;
const JSON_CACHE_MAX = 50_000;
const PREFIX_BUCKET = 3;

export { tokenize } from './tokenize.ts';

function lowerBound(arr: string[], x: string): number {
  let lo = 0, hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < x) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/**
 * Indexes (into `ids`/`scores`) of the k best scores, best first. Equal scores go in the names'
 * alphabetical order (by their first letters), then by doc id. A heap of k whose root is the worst
 * kept: n matches cost n log k comparisons of numbers only.
 */
function topK(scores: number[], ids: number[], nameCodes: Float64Array, k: number): number[] {
  const worse = (a: number, b: number) => {
    const sa = scores[a]!, sb = scores[b]!;
    if (sa !== sb) return sa < sb;
    const na = nameCodes[ids[a]!]!, nb = nameCodes[ids[b]!]!;
    return na !== nb ? na > nb : ids[a]! > ids[b]!;
  };
  const heap: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    if (heap.length < k) {
      heap.push(i);
      for (let c = heap.length - 1; c > 0;) {
        const p = (c - 1) >>> 1;
        if (!worse(heap[c]!, heap[p]!)) break;
        [heap[c], heap[p]] = [heap[p]!, heap[c]!];
        c = p;
      }
    } else if (k > 0 && worse(heap[0]!, i)) {
      heap[0] = i;
      for (let p = 0; ;) {
        const l = 2 * p + 1, r = l + 1;
        let w = p;
        if (l < heap.length && worse(heap[l]!, heap[w]!)) w = l;
        if (r < heap.length && worse(heap[r]!, heap[w]!)) w = r;
        if (w === p) break;
        [heap[p], heap[w]] = [heap[w]!, heap[p]!];
        p = w;
      }
    }
  }
  return heap.sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0));
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

/** Reads a dot path (`spec.lifecycle`, `metadata.annotations.x`) out of an entity. */
export function pathValue(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    // Own fields only: a path from a query (`constructor.name`) never reads the prototype.
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function matches(value: unknown, want: string): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return value.some((v) => matches(v, want));
  return String(value).toLowerCase() === want.toLowerCase();
}

export class MemoryIndex implements OwnerLookup {
  private readonly items = new Map<string, Indexed>();
  /** All keys in order, rebuilt lazily after writes (sorting on demand beats inserting 100k times). */
  private sortedCache: string[] | undefined = [];
  private readonly byKind = new Map<string, Set<string>>();
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly byTag = new Map<string, Set<string>>();
  /** key -> relations (type|target -> relation) in both directions. */
  private readonly graph = new Map<string, Map<string, { type: string; target: string }>>();
  // search
  private readonly docs: Array<Doc | undefined> = [];
  private readonly cols = new DocColumns();
  private readonly docIds = new Map<string, number>();
  private readonly free: number[] = [];
  private readonly postings = new Map<string, Map<number, number>>();
  private readonly packed = new Map<string, Packed>();
  private readonly facetIds = { kind: new Dictionary(), kindLower: new Dictionary(), owner: new Dictionary(), tag: new Dictionary(), lifecycle: new Dictionary() };
  /** Words by their first 1..PREFIX_BUCKET letters, for prefix matching. */
  private readonly prefixes = new Map<string, Set<string>>();
  private scratchScore = new Float64Array(0);
  private scratchTerm = new Float64Array(0);
  private scratchHits = new Int32Array(0);
  private scratchStamp = new Int32Array(0);
  private generation = 0;
  // ownership lookups
  private readonly usersByEmail = new Map<string, string>();
  private readonly usersByLogin = new Map<string, string>();
  private readonly usersByOid = new Map<string, string>();
  private readonly teamsByEntra = new Map<string, Set<string>>();

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
    const rels = this.graph.get(key);
    const relations = rels
      ? [...rels.values()]
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
    // Bounded: the entities people look at are a fraction of the catalog.
    if (this.jsonCache.size >= JSON_CACHE_MAX) this.jsonCache.clear();
    this.jsonCache.set(key, { version: this.version, json });
    return json;
  }

  /** Counts writes: what was derived from the index before a write is stale after it. */
  private version = 0;
  private readonly relationCache = new Map<string, { version: number; relations: Relation[] }>();
  private readonly jsonCache = new Map<string, { version: number; json: string }>();

  // ---- writes --------------------------------------------------------------------------------

  /** Search results by query, valid until the next write (searches repeat far more often than writes). */
  private readonly searchCache = new Map<string, { items: SearchHit[]; facets: Facets; total: number }>();
  private readonly searchJsonCache = new WeakMap<object, string>();

  /** A search result as JSON: serialised once for as long as the result itself is cached. */
  resultJson(result: { items: SearchHit[]; facets: Facets; total: number }): string {
    let json = this.searchJsonCache.get(result);
    if (json === undefined) this.searchJsonCache.set(result, (json = JSON.stringify(result)));
    return json;
  }

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
    for (const r of item.declared) this.link(key, r.type, r.target);
    if (e.kind === 'User') this.claimIdentity(item);
    if (e.kind === 'Team' && typeof e.spec.entraGroupId === 'string') addTo(this.teamsByEntra, e.spec.entraGroupId.toLowerCase(), key);
    this.indexSearch(item);
  }

  private unindex(item: Indexed): void {
    const e = item.entity;
    const key = item.key;
    removeFrom(this.byKind, e.kind.toLowerCase(), key);
    removeFrom(this.byOwner, e.status?.owner, key);
    for (const t of e.metadata.tags ?? []) removeFrom(this.byTag, t, key);
    for (const r of item.declared) this.unlink(key, r.type, r.target);
    if (e.kind === 'User') this.releaseIdentity(item);
    if (e.kind === 'Team' && typeof e.spec.entraGroupId === 'string') removeFrom(this.teamsByEntra, e.spec.entraGroupId.toLowerCase(), key);
    this.unindexSearch(key);
  }

  private identityMaps(): Array<[Map<string, string>, (e: Entity) => string[]]> {
    return [[this.usersByEmail, (e) => userIdentity(e).emails], [this.usersByLogin, (e) => userIdentity(e).logins], [this.usersByOid, (e) => userIdentity(e).oids]];
  }

  /**
   * An e-mail, login or object id names one User: the one created first keeps it, so a User
   * written later (say, from a pushed catalog-info.yaml) cannot take over someone's identity.
   */
  private claimIdentity(item: Indexed): void {
    for (const [map, values] of this.identityMaps()) {
      for (const v of values(item.entity)) {
        const holder = map.get(v);
        const other = holder && holder !== item.key ? this.items.get(holder) : undefined;
        if (!other || claimsFirst(item, other)) map.set(v, item.key);
      }
    }
  }

  /** Gives up the item's claims; another User with the same value (the oldest) takes it over. */
  private releaseIdentity(item: Indexed): void {
    for (const [map, values] of this.identityMaps()) {
      for (const v of values(item.entity)) {
        if (map.get(v) !== item.key) continue;
        map.delete(v);
        let next: Indexed | undefined;
        for (const k of this.byKind.get('user') ?? []) {
          const u = k === item.key ? undefined : this.items.get(k);
          if (u && values(u.entity).includes(v) && (!next || claimsFirst(u, next))) next = u;
        }
        if (next) map.set(v, next.key);
      }
    }
  }

  private link(from: string, type: string, to: string): void {
    const add = (a: string, t: string, b: string) => {
      let m = this.graph.get(a);
      if (!m) this.graph.set(a, (m = new Map()));
      m.set(`${t}|${b}`, { type: t, target: b });
    };
    add(from, type, to);
    add(to, inverseOf(type), from);
  }

  private unlink(from: string, type: string, to: string): void {
    const inv = inverseOf(type);
    // Keep the edge when the other side declares the same relation itself (a Team lists its members
    // and each User says memberOf): it goes only when neither side declares it any more.
    if (this.items.get(to)?.declared.some((r) => r.type === inv && r.target === from)) return;
    const del = (a: string, key: string) => {
      const m = this.graph.get(a);
      if (!m) return;
      m.delete(key);
      if (!m.size) this.graph.delete(a);
    };
    del(from, `${type}|${to}`);
    del(to, `${inv}|${from}`);
  }

  // ---- search --------------------------------------------------------------------------------

  private indexSearch(item: Indexed): void {
    const e = item.entity;
    const tokens = new Map<string, number>();
    const add = (text: unknown, weight: number) => {
      if (typeof text !== 'string') return;
      for (const t of tokenize(text)) if ((tokens.get(t) ?? 0) < weight) tokens.set(t, weight);
    };
    add(e.metadata.name, W.name);
    add(e.metadata.title, W.title);
    for (const t of e.metadata.tags ?? []) add(t, W.tag);
    add(e.kind, W.kind);
    add(e.status?.owner?.split('/').pop(), W.owner);
    add(e.metadata.description, W.description);
    for (const f of SPEC_FIELDS) add(e.spec[f], W.spec);
    const id = this.free.pop() ?? this.docs.length;
    this.docIds.set(item.key, id);
    const lifecycle = typeof e.spec.lifecycle === 'string' ? e.spec.lifecycle : undefined;
    const tags = [...new Set(e.metadata.tags ?? [])].map((t) => this.facetIds.tag.id(t));
    const nameLower = e.metadata.name.toLowerCase();
    this.docs[id] = { key: item.key, tokens, nameLower, ...(tags.length > 2 ? { moreTags: tags.slice(2) } : {}) };
    const c = this.cols;
    c.ensure(id + 1);
    c.kind[id] = this.facetIds.kind.id(e.kind);
    c.kindLower[id] = this.facetIds.kindLower.id(e.kind.toLowerCase());
    c.owner[id] = e.status?.owner ? this.facetIds.owner.id(e.status.owner) : -1;
    c.lifecycle[id] = lifecycle ? this.facetIds.lifecycle.id(lifecycle) : -1;
    c.tag0[id] = tags[0] ?? -1;
    c.tag1[id] = tags[1] ?? -1;
    c.orphaned[id] = e.status?.orphaned ? 1 : 0;
    c.nameCode[id] = nameCode(nameLower);
    c.name0[id] = nameLower.charCodeAt(0);
    for (const [t, w] of tokens) {
      let p = this.postings.get(t);
      if (!p) {
        this.postings.set(t, (p = new Map()));
        for (let n = 1; n <= PREFIX_BUCKET; n++) if (t.length > n) addTo(this.prefixes, t.slice(0, n), t);
      }
      p.set(id, w);
      this.packed.delete(t);
    }
  }

  private unindexSearch(key: string): void {
    const id = this.docIds.get(key);
    if (id === undefined) return;
    const doc = this.docs[id]!;
    for (const t of doc.tokens.keys()) {
      const p = this.postings.get(t);
      if (!p) continue;
      p.delete(id);
      this.packed.delete(t);
      if (!p.size) {
        this.postings.delete(t);
        for (let n = 1; n <= PREFIX_BUCKET; n++) if (t.length > n) removeFrom(this.prefixes, t.slice(0, n), t);
      }
    }
    this.docs[id] = undefined;
    this.docIds.delete(key);
    this.free.push(id);
  }

  /**
   * A word's posting list as two typed arrays (doc ids, weights): scanning them is many times
   * faster than iterating the Map kept for updates. Built on first use, dropped when the word's list changes.
   */
  private packedPosting(term: string): Packed | undefined {
    let p = this.packed.get(term);
    if (p) return p;
    const m = this.postings.get(term);
    if (!m) return undefined;
    p = { ids: new Int32Array(m.size), w: new Float64Array(m.size) };
    let i = 0;
    for (const [doc, w] of m) { p.ids[i] = doc; p.w[i++] = w; }
    this.packed.set(term, p);
    return p;
  }

  /** The indexed words a query word matches: itself (factor 1) and longer words starting with it. */
  private expand(term: string): Array<[Packed, number]> {
    const out: Array<[Packed, number]> = [];
    const exact = this.packedPosting(term);
    if (exact) out.push([exact, 1]);
    const bucket = this.prefixes.get(term.slice(0, Math.min(term.length, PREFIX_BUCKET)));
    if (!bucket) return out;
    let n = 0;
    for (const t of bucket) {
      if (t === term || !t.startsWith(term)) continue;
      // A prefix match counts less, and less the more of the word is missing.
      out.push([this.packedPosting(t)!, 0.5 + 0.3 * (term.length / t.length)]);
      if (++n >= MAX_PREFIX_EXPANSION) break;
    }
    return out;
  }

  /** Search results are shared between callers until the next write: treat them as read-only. */
  search(q: string, opts: { kind?: string; owner?: string; tag?: string; limit?: number; offset?: number } = {}): { items: SearchHit[]; facets: Facets; total: number } {
    const limit = Math.max(1, Math.min(opts.limit ?? 20, 200));
    const offset = Math.max(0, opts.offset ?? 0);
    const cacheKey = JSON.stringify([q.trim().toLowerCase(), opts.kind, opts.owner, opts.tag, limit, offset]);
    const cached = this.searchCache.get(cacheKey);
    if (cached) return cached;
    const result = this.runSearch(q, opts, limit, offset);
    if (this.searchCache.size >= 10_000) this.searchCache.clear();
    this.searchCache.set(cacheKey, result);
    return result;
  }

  private ensureScratch(): void {
    if (this.scratchScore.length >= this.docs.length) return;
    const size = Math.max(1024, this.docs.length * 2);
    this.scratchScore = new Float64Array(size);
    this.scratchTerm = new Float64Array(size);
    this.scratchHits = new Int32Array(size);
    this.scratchStamp = new Int32Array(size);
    this.generation = 0;
  }

  /** What a search hit shows: who and what it is, not the whole document (GET has that). */
  summary(key: string): EntitySummary | undefined {
    const item = this.items.get(key);
    if (!item) return undefined;
    const { metadata: m, spec, status } = item.entity;
    const specOut: EntitySummary['spec'] = {};
    for (const f of SUMMARY_SPEC) if (typeof spec[f] === 'string') specOut[f] = spec[f] as string;
    return {
      apiVersion: item.entity.apiVersion,
      kind: item.entity.kind,
      metadata: {
        name: m.name, namespace: m.namespace,
        ...(m.title !== undefined ? { title: m.title } : {}),
        ...(m.description !== undefined ? { description: m.description } : {}),
        ...(m.tags?.length ? { tags: m.tags } : {}),
        etag: item.etag,
      },
      spec: specOut,
      ...(status ? { status: { ...(status.owner ? { owner: status.owner } : {}), ...(status.orphaned ? { orphaned: true } : {}) } } : {}),
    };
  }

  private runSearch(q: string, opts: { kind?: string; owner?: string; tag?: string }, limit: number, offset: number): { items: SearchHit[]; facets: Facets; total: number } {
    const terms = [...new Set(tokenize(q))];
    // No words at all: the filters alone. Text without a single word (only punctuation) matches nothing.
    if (!terms.length) return q.trim() ? { items: [], facets: this.facetsFrom(this.facetCounters()), total: 0 } : this.filterOnly(opts, limit, offset);

    // Filters as facet ids: a filter on a value nobody has matches nothing.
    const kindF = opts.kind ? this.facetIds.kindLower.find(opts.kind.toLowerCase()) ?? -2 : -1;
    const ownerF = opts.owner ? this.facetIds.owner.find(opts.owner) ?? -2 : -1;
    const tagF = opts.tag ? this.facetIds.tag.find(opts.tag) ?? -2 : -1;

    this.ensureScratch();
    const total = this.scratchScore, best = this.scratchTerm, hits = this.scratchHits, stamp = this.scratchStamp;
    // Each term: the best score of any of its words per doc; a doc must match every term. The
    // term with the fewest postings goes first, so later terms only look at its matches.
    const expanded = terms.map((t) => this.expand(t));
    const size = (e: Array<[Packed, number]>) => e.reduce((n, [p]) => n + p.ids.length, 0);
    expanded.sort((a, b) => size(a) - size(b));
    let touched: number[] = [];
    for (let j = 0; j < expanded.length; j++) {
      const gen = ++this.generation;
      const cur: number[] = [];
      for (const [posting, factor] of expanded[j]!) {
        const ids = posting.ids, ws = posting.w;
        for (let x = 0; x < ids.length; x++) {
          const doc = ids[x]!;
          if (j > 0 && hits[doc] !== j) continue; // did not match every earlier term
          const s = ws[x]! * factor;
          if (stamp[doc] !== gen) { stamp[doc] = gen; best[doc] = s; cur.push(doc); } else if (s > best[doc]!) best[doc] = s;
        }
      }
      if (j === 0) {
        for (const doc of cur) { hits[doc] = 1; total[doc] = best[doc]!; }
        touched = cur;
      } else {
        for (const doc of cur) { hits[doc] = j + 1; total[doc]! += best[doc]!; }
      }
    }

    // Matches (doc ids and scores), counted into the facets as they are found.
    const qLower = q.trim().toLowerCase();
    const m = expanded.length;
    const ids: number[] = [];
    const scores: number[] = [];
    const counts = this.facetCounters();
    const c = this.cols;
    const q0 = qLower.charCodeAt(0);
    for (const doc of touched) {
      if (hits[doc] !== m) continue;
      if (kindF !== -1 && c.kindLower[doc] !== kindF) continue;
      if (ownerF !== -1 && c.owner[doc] !== ownerF) continue;
      if (tagF !== -1 && !this.hasTag(doc, tagF)) continue;
      let sc = total[doc]!;
      // The name bonus needs the name itself: only read when its first letter can match.
      if (c.name0[doc] === q0) {
        const name = this.docs[doc]!.nameLower;
        if (name === qLower) sc += 20;
        else if (name.startsWith(qLower)) sc += 5;
      }
      if (c.orphaned[doc]) sc *= 0.5;
      ids.push(doc);
      scores.push(Math.round(sc * 100) / 100);
      this.count(counts, doc);
    }
    for (const doc of touched) hits[doc] = 0;

    // Only the requested page needs ordering: the best offset+limit by a bounded heap.
    const top = topK(scores, ids, c.nameCode, offset + limit);
    return {
      items: top.slice(offset).map((i) => ({ entity: this.summary(this.docs[ids[i]!]!.key)!, score: scores[i]! })),
      facets: this.facetsFrom(counts),
      total: ids.length,
    };
  }

  /** A search without words: everything the filters admit, in key order. */
  private filterOnly(opts: { kind?: string; owner?: string; tag?: string }, limit: number, offset: number): { items: SearchHit[]; facets: Facets; total: number } {
    const filters: Set<string>[] = [];
    if (opts.kind) filters.push(this.byKind.get(opts.kind.toLowerCase()) ?? new Set<string>());
    if (opts.owner) filters.push(this.byOwner.get(opts.owner) ?? new Set<string>());
    if (opts.tag) filters.push(this.byTag.get(opts.tag) ?? new Set<string>());
    filters.sort((a, b) => a.size - b.size);
    const keys = filters.length ? [...filters[0]!].filter((k) => filters.every((f) => f.has(k))).sort() : this.keysSorted();
    const counts = this.facetCounters();
    for (const k of keys) this.count(counts, this.docIds.get(k)!);
    return {
      items: keys.slice(offset, offset + limit).map((k) => ({ entity: this.summary(k)!, score: 0 })),
      facets: this.facetsFrom(counts),
      total: keys.length,
    };
  }

  private facetCounters(): FacetCounts {
    const f = this.facetIds;
    return {
      kind: new Int32Array(f.kind.size), owner: new Int32Array(f.owner.size),
      tag: new Int32Array(f.tag.size), lifecycle: new Int32Array(f.lifecycle.size),
    };
  }

  private hasTag(doc: number, tag: number): boolean {
    return this.cols.tag0[doc] === tag || this.cols.tag1[doc] === tag || (this.docs[doc]!.moreTags?.includes(tag) ?? false);
  }

  private count(f: FacetCounts, doc: number): void {
    const c = this.cols;
    f.kind[c.kind[doc]!]!++;
    const owner = c.owner[doc]!, life = c.lifecycle[doc]!, t0 = c.tag0[doc]!, t1 = c.tag1[doc]!;
    if (owner >= 0) f.owner[owner]!++;
    if (life >= 0) f.lifecycle[life]!++;
    if (t0 >= 0) f.tag[t0]!++;
    if (t1 >= 0) {
      f.tag[t1]!++;
      for (const t of this.docs[doc]!.moreTags ?? []) f.tag[t]!++;
    }
  }

  private facetsFrom(c: FacetCounts): Facets {
    const f = this.facetIds;
    return { kind: f.kind.top(c.kind), owner: f.owner.top(c.owner, 20), tag: f.tag.top(c.tag, 20), lifecycle: f.lifecycle.top(c.lifecycle) };
  }

  private keysSorted(): string[] {
    this.sortedCache ??= [...this.items.keys()].sort();
    return this.sortedCache;
  }

  // ---- list ----------------------------------------------------------------------------------

  list(opts: { kind?: string; owner?: string; tag?: string; where?: Record<string, string>; limit: number; after?: string; orphaned?: boolean }): { keys: string[]; more: boolean } {
    const sets: Set<string>[] = [];
    if (opts.kind) sets.push(this.byKind.get(opts.kind.toLowerCase()) ?? new Set());
    if (opts.owner) sets.push(this.byOwner.get(opts.owner) ?? new Set());
    if (opts.tag) sets.push(this.byTag.get(opts.tag) ?? new Set());
    sets.sort((a, b) => a.size - b.size);
    const where = Object.entries(opts.where ?? {});
    const ok = (k: string) => {
      if (!sets.every((s) => s.has(k))) return false;
      const item = this.items.get(k)!;
      if (opts.orphaned !== undefined && Boolean(item.entity.status?.orphaned) !== opts.orphaned) return false;
      return where.every(([path, want]) => matches(pathValue(item.entity, path), want));
    };
    // Small candidate sets are sorted directly; otherwise walk the sorted key list from the cursor.
    const source = sets.length && sets[0]!.size < 20_000 ? [...sets[0]!].sort() : this.keysSorted();
    let i = opts.after ? lowerBound(source, opts.after) : 0;
    if (opts.after && source[i] === opts.after) i++;
    const keys: string[] = [];
    for (; i < source.length; i++) {
      const k = source[i]!;
      if (!ok(k)) continue;
      if (keys.length === opts.limit) return { keys, more: true };
      keys.push(k);
    }
    return { keys, more: false };
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

  // ---- OwnerLookup ---------------------------------------------------------------------------

  userByEmail(email: string): string | undefined {
    return this.usersByEmail.get(email.toLowerCase());
  }

  userByLogin(login: string): string | undefined {
    return this.usersByLogin.get(login.toLowerCase());
  }

  teamsByEntraGroups(groupIds: string[]): string[] {
    const out = new Set<string>();
    for (const g of groupIds) for (const t of this.teamsByEntra.get(g.toLowerCase()) ?? []) out.add(t);
    return [...out];
  }

  userByOid(oid: string): string | undefined {
    return this.usersByOid.get(oid.toLowerCase());
  }

  /**
   * Teams a User belongs to for authorisation: only those whose Team entity lists the user
   * (spec.members, written by whoever has rights on the Team). A User's own `memberOf` is shown
   * as a relation but grants nothing: anyone could write it.
   */
  teamsOfUser(userKey: string): string[] {
    const rels = this.graph.get(userKey);
    if (!rels) return [];
    const out: string[] = [];
    for (const r of rels.values()) {
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
    const user = this.usersByOid.get(a) ?? this.usersByLogin.get(a) ?? this.usersByEmail.get(a)
      ?? (a.startsWith('user:') && this.items.has(a) ? a : undefined);
    return user ? this.teamsOfUser(user) : [];
  }
}

/** The fields of a User that say who it is: e-mails, GitHub logins and Entra object ids, lower case. */
export function userIdentity(e: Pick<Entity, 'spec' | 'metadata'>): { emails: string[]; logins: string[]; oids: string[] } {
  const str = (v: unknown) => (typeof v === 'string' && v.trim() ? [v.trim().toLowerCase()] : []);
  const profile = e.spec.profile as { email?: unknown } | undefined;
  const ann = e.metadata.annotations ?? {};
  return {
    emails: str(profile?.email),
    logins: str(e.spec.githubLogin),
    oids: [...new Set([...str(e.spec.entraObjectId), ...OID_ANNOTATIONS.flatMap((a) => str(ann[a]))])],
  };
}

/** Annotations that carry a User's Entra object id (Backstage's Microsoft Graph provider writes the first). */
export const OID_ANNOTATIONS = ['graph.microsoft.com/user-id', 'nexus.io/entra-object-id'];

/**
 * Whether `a` is a later write of the row than `b`: by creation first (an entity deleted and
 * created again starts counting anew), then by the row's write count.
 */
function newer(a: Indexed, b: Indexed): boolean {
  const ca = a.entity.status?.createdAt ?? '', cb = b.entity.status?.createdAt ?? '';
  if (ca !== cb) return ca > cb;
  return (a.version ?? 0) > (b.version ?? 0);
}

function claimsFirst(a: Indexed, b: Indexed): boolean {
  const ca = a.entity.status?.createdAt ?? '', cb = b.entity.status?.createdAt ?? '';
  return ca !== cb ? ca < cb : a.key < b.key;
}

export { entityRefOf };
