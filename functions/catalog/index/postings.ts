// The inverted index: for each word, the documents that have it and its weight in each, plus the
// words by their first letters for prefix matching.

/** A word's postings packed for scanning: doc ids and the word's weight in each. */
export interface Packed {
  ids: Int32Array;
  w: Float64Array;
}

/** How many longer words one query word may expand to. */
const MAX_PREFIX_EXPANSION = 200;
/** Words are bucketed by their first 1..PREFIX_BUCKET letters. */
const PREFIX_BUCKET = 3;

export class Postings {
  private readonly lists = new Map<string, Map<number, number>>();
  private readonly packed = new Map<string, Packed>();
  private readonly prefixes = new Map<string, Set<string>>();

  /** How many different words are indexed. */
  get words(): number {
    return this.lists.size;
  }

  add(doc: number, tokens: Map<string, number>): void {
    for (const [t, w] of tokens) {
      let p = this.lists.get(t);
      if (!p) {
        this.lists.set(t, (p = new Map()));
        for (let n = 1; n <= PREFIX_BUCKET; n++) {
          if (t.length <= n) break;
          const key = t.slice(0, n);
          let s = this.prefixes.get(key);
          if (!s) this.prefixes.set(key, (s = new Set()));
          s.add(t);
        }
      }
      p.set(doc, w);
      this.packed.delete(t);
    }
  }

  remove(doc: number, tokens: Iterable<string>): void {
    for (const t of tokens) {
      const p = this.lists.get(t);
      if (!p) continue;
      p.delete(doc);
      this.packed.delete(t);
      if (p.size) continue;
      this.lists.delete(t);
      for (let n = 1; n <= PREFIX_BUCKET; n++) {
        if (t.length <= n) break;
        const key = t.slice(0, n);
        const s = this.prefixes.get(key);
        if (s) { s.delete(t); if (!s.size) this.prefixes.delete(key); }
      }
    }
  }

  /** The indexed words a query word matches: itself (factor 1) and longer words starting with it. */
  expand(term: string): Array<[Packed, number]> {
    const out: Array<[Packed, number]> = [];
    const exact = this.packedList(term);
    if (exact) out.push([exact, 1]);
    const bucket = this.prefixes.get(term.slice(0, Math.min(term.length, PREFIX_BUCKET)));
    if (!bucket) return out;
    let n = 0;
    for (const t of bucket) {
      if (t === term || !t.startsWith(term)) continue;
      // A prefix match counts less, and less the more of the word is missing.
      out.push([this.packedList(t)!, 0.5 + 0.3 * (term.length / t.length)]);
      if (++n >= MAX_PREFIX_EXPANSION) break;
    }
    return out;
  }

  /**
   * A word's posting list as two typed arrays (doc ids, weights): scanning them is many times
   * faster than iterating the Map kept for updates. Built on first use, dropped when the word's list changes.
   */
  private packedList(term: string): Packed | undefined {
    let p = this.packed.get(term);
    if (p) return p;
    const m = this.lists.get(term);
    if (!m) return undefined;
    p = { ids: new Int32Array(m.size), w: new Float64Array(m.size) };
    let i = 0;
    for (const [doc, w] of m) { p.ids[i] = doc; p.w[i++] = w; }
    this.packed.set(term, p);
    return p;
  }
}
