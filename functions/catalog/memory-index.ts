// The in-memory index of the catalog: every entity by key, sorted keys for paging, sets by kind,
// owner and tag for filters, the relation graph (both directions) and an inverted index for search.
// Loaded from the table at start and updated on every write, so reads never wait on storage.
import type { Entity, Relation } from './kinds.ts';
import { inverseOf } from './relations.ts';
import { entityRefOf } from './refs.ts';
import type { OwnerLookup } from './ownership.ts';

export interface Indexed {
  key: string;
  entity: Entity; // without `relations` filled in: those come from the graph
  etag: string;
  /** Declared (outgoing) relations of this entity, as keys. */
  declared: Array<{ type: string; target: string }>;
}

export type SearchHit = {
  entity: Entity;
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
  item: Indexed;
  tokens: Map<string, number>;
  nameLower: string;
  kind: string;
  owner?: string;
  tags: string[];
  lifecycle?: string;
  orphaned: boolean;
}

// Weight of a word by where it was found: a hit on the name ranks above one in the description.
const W = { name: 10, title: 8, tag: 6, kind: 4, owner: 3, description: 2, spec: 1 };
const SPEC_FIELDS = ['type', 'lifecycle', 'stage', 'region', 'sku', 'state', 'severity', 'status', 'provider', 'language', 'version', 'project', 'resourceGroup', 'summary', 'title', 'assignee', 'sprint'];
const MAX_PREFIX_EXPANSION = 200;
const PREFIX_BUCKET = 3;

export function tokenize(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
}

function lowerBound(arr: string[], x: string): number {
  let lo = 0, hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < x) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** The k-th largest value (1-based), by partial selection; -Infinity when there are fewer. */
function kthLargest(values: number[], k: number): number {
  if (values.length < k) return -Infinity;
  const a = Float64Array.from(values);
  let lo = 0, hi = a.length - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1]!;
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i]! > pivot) i++;
      while (a[j]! < pivot) j--;
      if (i <= j) { const t = a[i]!; a[i] = a[j]!; a[j] = t; i++; j--; }
    }
    if (target <= j) hi = j; else if (target >= i) lo = i; else break;
  }
  return a[target]!;
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
    if (cur === null || typeof cur !== 'object') return undefined;
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
  private readonly docIds = new Map<string, number>();
  private readonly free: number[] = [];
  private readonly postings = new Map<string, Map<number, number>>();
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

  relationsOf(key: string): Relation[] {
    const rels = this.graph.get(key);
    if (!rels) return [];
    return [...rels.values()]
      .map((r) => ({ type: r.type, targetRef: r.target, resolved: this.items.has(r.target) }))
      .sort((a, b) => (a.type + a.targetRef).localeCompare(b.type + b.targetRef));
  }

  // ---- writes --------------------------------------------------------------------------------

  /** Search results by query, valid until the next write (searches repeat far more often than writes). */
  private readonly searchCache = new Map<string, { items: SearchHit[]; facets: Facets; total: number }>();

  put(item: Indexed): void {
    this.searchCache.clear();
    const old = this.items.get(item.key);
    if (old) this.unindex(old);
    else this.sortedCache = undefined;
    this.items.set(item.key, item);
    this.indexItem(item);
  }

  remove(key: string): void {
    const old = this.items.get(key);
    if (!old) return;
    this.searchCache.clear();
    this.unindex(old);
    this.items.delete(key);
    this.sortedCache = undefined;
  }

  private indexItem(item: Indexed): void {
    const e = item.entity;
    const key = item.key;
    addTo(this.byKind, e.kind.toLowerCase(), key);
    addTo(this.byOwner, e.status?.owner, key);
    for (const t of e.metadata.tags ?? []) addTo(this.byTag, t, key);
    for (const r of item.declared) this.link(key, r.type, r.target);
    if (e.kind === 'User') {
      const profile = e.spec.profile as { email?: string } | undefined;
      if (profile?.email) this.usersByEmail.set(profile.email.toLowerCase(), key);
      if (typeof e.spec.githubLogin === 'string') this.usersByLogin.set(e.spec.githubLogin.toLowerCase(), key);
    }
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
    if (e.kind === 'User') {
      const profile = e.spec.profile as { email?: string } | undefined;
      if (profile?.email && this.usersByEmail.get(profile.email.toLowerCase()) === key) this.usersByEmail.delete(profile.email.toLowerCase());
      if (typeof e.spec.githubLogin === 'string') this.usersByLogin.delete(e.spec.githubLogin.toLowerCase());
    }
    if (e.kind === 'Team' && typeof e.spec.entraGroupId === 'string') removeFrom(this.teamsByEntra, e.spec.entraGroupId.toLowerCase(), key);
    this.unindexSearch(key);
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
    this.docs[id] = {
      key: item.key, item, tokens, nameLower: e.metadata.name.toLowerCase(),
      kind: e.kind, owner: e.status?.owner, tags: e.metadata.tags ?? [],
      lifecycle: typeof e.spec.lifecycle === 'string' ? e.spec.lifecycle : undefined, orphaned: Boolean(e.status?.orphaned),
    };
    for (const [t, w] of tokens) {
      let p = this.postings.get(t);
      if (!p) {
        this.postings.set(t, (p = new Map()));
        for (let n = 1; n <= PREFIX_BUCKET; n++) if (t.length > n) addTo(this.prefixes, t.slice(0, n), t);
      }
      p.set(id, w);
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
      if (!p.size) {
        this.postings.delete(t);
        for (let n = 1; n <= PREFIX_BUCKET; n++) if (t.length > n) removeFrom(this.prefixes, t.slice(0, n), t);
      }
    }
    this.docs[id] = undefined;
    this.docIds.delete(key);
    this.free.push(id);
  }

  /** The indexed words a query word matches: itself (factor 1) and longer words starting with it. */
  private expand(term: string): Array<[Map<number, number>, number]> {
    const out: Array<[Map<number, number>, number]> = [];
    const exact = this.postings.get(term);
    if (exact) out.push([exact, 1]);
    const bucket = this.prefixes.get(term.slice(0, Math.min(term.length, PREFIX_BUCKET)));
    if (!bucket) return out;
    let n = 0;
    for (const t of bucket) {
      if (t === term || !t.startsWith(term)) continue;
      // A prefix match counts less, and less the more of the word is missing.
      out.push([this.postings.get(t)!, 0.5 + 0.3 * (term.length / t.length)]);
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

  private runSearch(q: string, opts: { kind?: string; owner?: string; tag?: string }, limit: number, offset: number): { items: SearchHit[]; facets: Facets; total: number } {
    const terms = [...new Set(tokenize(q))];
    const filters: Set<string>[] = [];
    if (opts.kind) filters.push(this.byKind.get(opts.kind.toLowerCase()) ?? new Set<string>());
    if (opts.owner) filters.push(this.byOwner.get(opts.owner) ?? new Set<string>());
    if (opts.tag) filters.push(this.byTag.get(opts.tag) ?? new Set<string>());
    filters.sort((a, b) => a.size - b.size);
    const admitted = (k: string) => filters.every((f) => f.has(k));

    // Matches as parallel arrays of doc id and score.
    let ids: number[] = [];
    let scores: number[] = [];
    if (!terms.length) {
      const keys = filters.length ? [...filters[0]!].filter(admitted).sort() : this.keysSorted();
      ids = keys.map((k) => this.docIds.get(k)!);
      scores = ids.map(() => 0);
    } else {
      this.ensureScratch();
      const total = this.scratchScore, best = this.scratchTerm, hits = this.scratchHits, stamp = this.scratchStamp;
      // Each term: the best score of any of its words per doc; a doc must match every term.
      const expanded = terms.map((t) => this.expand(t));
      const touched: number[] = [];
      for (let j = 0; j < expanded.length; j++) {
        const gen = ++this.generation;
        const cur: number[] = [];
        for (const [posting, factor] of expanded[j]!) {
          for (const [doc, w] of posting) {
            if (j > 0 && hits[doc] !== j) continue; // did not match every earlier term
            const s = w * factor;
            if (stamp[doc] !== gen) { stamp[doc] = gen; best[doc] = s; cur.push(doc); } else if (s > best[doc]!) best[doc] = s;
          }
        }
        for (const doc of cur) {
          if (j === 0) { hits[doc] = 1; total[doc] = best[doc]!; touched.push(doc); } else { hits[doc] = j + 1; total[doc]! += best[doc]!; }
        }
      }
      const qLower = q.trim().toLowerCase();
      const m = expanded.length;
      for (const doc of touched) {
        if (hits[doc] !== m) continue;
        const d = this.docs[doc]!;
        if (filters.length && !admitted(d.key)) continue;
        let sc = total[doc]!;
        if (d.nameLower === qLower) sc += 20;
        else if (d.nameLower.startsWith(qLower)) sc += 5;
        if (d.orphaned) sc *= 0.5;
        ids.push(doc);
        scores.push(Math.round(sc * 100) / 100);
      }
      for (const doc of touched) hits[doc] = 0;
      // Only the requested page needs ordering: pick the top offset+limit.
      const want = offset + limit;
      const order = ids.map((_, i) => i);
      const cmp = (a: number, b: number) => scores[b]! - scores[a]! || (this.docs[ids[a]!]!.key < this.docs[ids[b]!]!.key ? -1 : 1);
      let topIdx: number[];
      if (order.length > want * 4) {
        const threshold = kthLargest(scores, want);
        topIdx = order.filter((i) => scores[i]! >= threshold).sort(cmp).slice(0, want);
      } else {
        topIdx = order.sort(cmp).slice(0, want);
      }
      const facets = this.facetsOf(ids);
      return {
        items: topIdx.slice(offset).map((i) => ({ entity: this.view(this.docs[ids[i]!]!.key)!, score: scores[i]! })),
        facets,
        total: ids.length,
      };
    }
    return {
      items: ids.slice(offset, offset + limit).map((doc) => ({ entity: this.view(this.docs[doc]!.key)!, score: 0 })),
      facets: this.facetsOf(ids),
      total: ids.length,
    };
  }

  private facetsOf(ids: number[]): Facets {
    const kind = new Map<string, number>(), owner = new Map<string, number>(), tag = new Map<string, number>(), lifecycle = new Map<string, number>();
    const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
    for (const id of ids) {
      const d = this.docs[id]!;
      inc(kind, d.kind);
      if (d.owner) inc(owner, d.owner);
      for (const t of d.tags) inc(tag, t);
      if (d.lifecycle) inc(lifecycle, d.lifecycle);
    }
    return { kind: Object.fromEntries(kind), owner: top(owner, 20), tag: top(tag, 20), lifecycle: Object.fromEntries(lifecycle) };
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

  /** Teams of a user (by name, e-mail or Entra object id): memberOf on the User, members on the Team. */
  teamsOfActor(actor: string): string[] {
    const a = actor.toLowerCase();
    const user = this.usersByEmail.get(a) ?? this.usersByLogin.get(a)
      ?? (this.items.has(`user:default/${a}`) ? `user:default/${a}` : undefined)
      ?? this.keysWhere((i) => i.entity.kind === 'User' && String(i.entity.spec.entraObjectId ?? '').toLowerCase() === a)[0];
    if (!user) return [];
    const rels = this.graph.get(user);
    return rels ? [...rels.values()].filter((r) => r.type === 'memberOf').map((r) => r.target) : [];
  }
}

function top(counts: Map<string, number>, n: number): Record<string, number> {
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n));
}

export { entityRefOf };
