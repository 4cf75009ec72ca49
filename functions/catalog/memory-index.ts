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
}

// Weight of a word by where it was found: a hit on the name ranks above one in the description.
const W = { name: 10, title: 8, tag: 6, kind: 4, owner: 3, description: 2, spec: 1 };
const SPEC_FIELDS = ['type', 'lifecycle', 'stage', 'region', 'sku', 'state', 'severity', 'status', 'provider', 'language', 'version', 'project', 'resourceGroup', 'summary', 'title', 'assignee', 'sprint'];
const MAX_PREFIX_EXPANSION = 200;

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

function sortedInsert(arr: string[], x: string): void {
  const i = lowerBound(arr, x);
  if (arr[i] !== x) arr.splice(i, 0, x);
}

function sortedRemove(arr: string[], x: string): void {
  const i = lowerBound(arr, x);
  if (arr[i] === x) arr.splice(i, 1);
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
  private readonly sortedKeys: string[] = [];
  private readonly byKind = new Map<string, Set<string>>();
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly byTag = new Map<string, Set<string>>();
  /** key -> relations (type|target -> relation) in both directions. */
  private readonly graph = new Map<string, Map<string, { type: string; target: string }>>();
  // search
  private readonly docs = new Map<string, Doc>();
  private readonly postings = new Map<string, Map<string, number>>();
  private readonly tokens: string[] = [];
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
    else sortedInsert(this.sortedKeys, item.key);
    this.items.set(item.key, item);
    this.indexItem(item);
  }

  remove(key: string): void {
    const old = this.items.get(key);
    if (!old) return;
    this.searchCache.clear();
    this.unindex(old);
    this.items.delete(key);
    sortedRemove(this.sortedKeys, key);
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
    const doc: Doc = { key: item.key, item, tokens, nameLower: e.metadata.name.toLowerCase() };
    this.docs.set(item.key, doc);
    for (const [t, w] of tokens) {
      let p = this.postings.get(t);
      if (!p) {
        this.postings.set(t, (p = new Map()));
        sortedInsert(this.tokens, t);
      }
      p.set(item.key, w);
    }
  }

  private unindexSearch(key: string): void {
    const doc = this.docs.get(key);
    if (!doc) return;
    for (const t of doc.tokens.keys()) {
      const p = this.postings.get(t);
      if (!p) continue;
      p.delete(key);
      if (!p.size) {
        this.postings.delete(t);
        sortedRemove(this.tokens, t);
      }
    }
    this.docs.delete(key);
  }

  /** Scores of the entities matching one query word: the word itself, or words that start with it. */
  private termScores(term: string): Map<string, number> {
    const scores = new Map<string, number>();
    const exact = this.postings.get(term);
    if (exact) for (const [k, w] of exact) scores.set(k, w * 1.0);
    let i = lowerBound(this.tokens, term);
    for (let n = 0; i < this.tokens.length && n < MAX_PREFIX_EXPANSION; i++, n++) {
      const t = this.tokens[i]!;
      if (!t.startsWith(term)) break;
      if (t === term) continue;
      // A prefix match counts less, and less the more of the word is missing.
      const factor = 0.5 + 0.3 * (term.length / t.length);
      for (const [k, w] of this.postings.get(t)!) {
        const s = w * factor;
        if ((scores.get(k) ?? 0) < s) scores.set(k, s);
      }
    }
    return scores;
  }

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

  private runSearch(q: string, opts: { kind?: string; owner?: string; tag?: string }, limit: number, offset: number): { items: SearchHit[]; facets: Facets; total: number } {
    const terms = [...new Set(tokenize(q))];
    const filters: Set<string>[] = [];
    if (opts.kind) filters.push(this.byKind.get(opts.kind.toLowerCase()) ?? new Set<string>());
    if (opts.owner) filters.push(this.byOwner.get(opts.owner) ?? new Set<string>());
    if (opts.tag) filters.push(this.byTag.get(opts.tag) ?? new Set<string>());
    filters.sort((a, b) => a.size - b.size);
    const admitted = (k: string) => filters.every((f) => f.has(k));
    let scored: Array<[string, number]>;
    if (!terms.length) {
      const keys = filters.length ? [...filters[0]!].filter(admitted).sort() : this.sortedKeys;
      scored = keys.map((k) => [k, 0]);
    } else {
      const perTerm = terms.map((t) => this.termScores(t)).sort((a, b) => a.size - b.size);
      const qLower = q.trim().toLowerCase();
      scored = [];
      outer: for (const [k, s0] of perTerm[0]!) {
        if (filters.length && !admitted(k)) continue;
        let s = s0;
        for (let i = 1; i < perTerm.length; i++) {
          const si = perTerm[i]!.get(k);
          if (si === undefined) continue outer;
          s += si;
        }
        const doc = this.docs.get(k)!;
        if (doc.nameLower === qLower) s += 20;
        else if (doc.nameLower.startsWith(qLower)) s += 5;
        if (doc.item.entity.status?.orphaned) s *= 0.5;
        scored.push([k, Math.round(s * 100) / 100]);
      }
      scored.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    }
    const facets: Facets = { kind: {}, owner: {}, tag: {}, lifecycle: {} };
    for (const [k] of scored) {
      const e = this.items.get(k)!.entity;
      facets.kind[e.kind] = (facets.kind[e.kind] ?? 0) + 1;
      if (e.status?.owner) facets.owner[e.status.owner] = (facets.owner[e.status.owner] ?? 0) + 1;
      for (const t of e.metadata.tags ?? []) facets.tag[t] = (facets.tag[t] ?? 0) + 1;
      if (typeof e.spec.lifecycle === 'string') facets.lifecycle[e.spec.lifecycle] = (facets.lifecycle[e.spec.lifecycle] ?? 0) + 1;
    }
    facets.owner = top(facets.owner, 20);
    facets.tag = top(facets.tag, 20);
    return {
      items: scored.slice(offset, offset + limit).map(([k, score]) => ({ entity: this.view(k)!, score })),
      facets,
      total: scored.length,
    };
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
    const source = sets.length && sets[0]!.size < 20_000 ? [...sets[0]!].sort() : this.sortedKeys;
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

function top(counts: Record<string, number>, n: number): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n));
}

export { entityRefOf };
