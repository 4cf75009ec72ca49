// Search execution: the documents and the inverted index, and a query run over them (every word
// must match; scores add up per word; filters and facets read the doc columns).
import type { Entity } from '../kinds.ts';
import { DocStore, type FacetCounts } from './docs.ts';
import { Postings, type Packed } from './postings.ts';
import { NAME_BONUS, ORPHANED_FACTOR, topK } from './rank.ts';
import type { SearchQuery } from './query.ts';
import type { Facets, SearchFilters } from './types.ts';

/** One match of a page: the entity's key and its score. */
export type RankedKey = { key: string; score: number };

export class SearchIndex {
  private readonly store = new DocStore();
  private readonly postings = new Postings();
  // Per-doc scratch space reused by every search (generation stamps say which entries are current).
  private scratchScore = new Float64Array(0);
  private scratchTerm = new Float64Array(0);
  private scratchHits = new Int32Array(0);
  private scratchStamp = new Int32Array(0);
  private generation = 0;

  add(key: string, e: Entity, tokens: Map<string, number>): void {
    const id = this.store.add(key, e, tokens);
    this.postings.add(id, tokens);
  }

  remove(key: string): void {
    const gone = this.store.remove(key);
    if (gone) this.postings.remove(gone.id, gone.doc.tokens.keys());
  }

  /** Whether the key has a document (for consistency checks). */
  has(key: string): boolean {
    return this.store.idOf(key) !== undefined;
  }

  /** How many different words are indexed. */
  get words(): number {
    return this.postings.words;
  }

  /** Facets with no match at all (every value known, none counted). */
  emptyFacets(): Facets {
    return this.store.facetsFrom(this.store.facetCounters());
  }

  /** Facets over the given keys (all of them indexed). */
  facetsOf(keys: Iterable<string>): Facets {
    const counts = this.store.facetCounters();
    for (const k of keys) this.store.count(counts, this.store.idOf(k)!);
    return this.store.facetsFrom(counts);
  }

  /** The page of matches of a query with at least one term, best first, the facets and the total. */
  run(query: SearchQuery): { page: RankedKey[]; facets: Facets; total: number } {
    const { terms, filters, limit, offset } = query;
    const store = this.store;
    const { docs, cols: c, facetIds } = store;
    // Filters as facet ids: a filter on a value nobody has matches nothing.
    const kindF = filterId(filters.kind, (v) => facetIds.kindLower.find(v.toLowerCase()));
    const ownerF = filterId(filters.owner, (v) => facetIds.owner.find(v));
    const tagF = filterId(filters.tag, (v) => facetIds.tag.find(v));

    this.ensureScratch();
    const total = this.scratchScore, best = this.scratchTerm, hits = this.scratchHits, stamp = this.scratchStamp;
    // Each term: the best score of any of its words per doc; a doc must match every term. The
    // term with the fewest postings goes first, so later terms only look at its matches.
    const expanded = terms.map((t) => this.postings.expand(t));
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
    const qLower = query.text;
    const m = expanded.length;
    const ids: number[] = [];
    const scores: number[] = [];
    const counts: FacetCounts = store.facetCounters();
    const q0 = qLower.charCodeAt(0);
    for (const doc of touched) {
      if (hits[doc] !== m) continue;
      if (kindF !== -1 && c.kindLower[doc] !== kindF) continue;
      if (ownerF !== -1 && c.owner[doc] !== ownerF) continue;
      if (tagF !== -1 && !store.hasTag(doc, tagF)) continue;
      let sc = total[doc]!;
      // The name bonus needs the name itself: only read when its first letter can match.
      if (c.name0[doc] === q0) {
        const name = docs[doc]!.nameLower;
        if (name === qLower) sc += NAME_BONUS.exact;
        else if (name.startsWith(qLower)) sc += NAME_BONUS.prefix;
      }
      if (c.orphaned[doc]) sc *= ORPHANED_FACTOR;
      ids.push(doc);
      scores.push(Math.round(sc * 100) / 100);
      store.count(counts, doc);
    }
    for (const doc of touched) hits[doc] = 0;

    // Only the requested page needs ordering: the best offset+limit by a bounded heap.
    const top = topK(scores, ids, c.nameCode, offset + limit);
    return {
      page: top.slice(offset).map((i) => ({ key: docs[ids[i]!]!.key, score: scores[i]! })),
      facets: store.facetsFrom(counts),
      total: ids.length,
    };
  }

  private ensureScratch(): void {
    const n = this.store.capacity;
    if (this.scratchScore.length >= n) return;
    const size = Math.max(1024, n * 2);
    this.scratchScore = new Float64Array(size);
    this.scratchTerm = new Float64Array(size);
    this.scratchHits = new Int32Array(size);
    this.scratchStamp = new Int32Array(size);
    this.generation = 0;
  }
}

/** -1: no filter; -2: a value nobody has (matches nothing); else the value's facet id. */
function filterId(value: string | undefined, find: (v: string) => number | undefined): number {
  return value ? find(value) ?? -2 : -1;
}
