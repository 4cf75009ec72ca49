// Ordering of search hits: scores first, then the names' alphabetical order, then doc id.

/** Bonus for a hit whose whole name is the query, and for one whose name starts with it. */
export const NAME_BONUS = { exact: 20, prefix: 5 } as const;
/** An orphaned entity (its owner is gone) ranks at half its score. */
export const ORPHANED_FACTOR = 0.5;

/**
 * Indexes (into `ids`/`scores`) of the k best scores, best first. Equal scores go in the names'
 * alphabetical order (by their first letters), then by doc id. A heap of k whose root is the worst
 * kept: n matches cost n log k comparisons of numbers only.
 */
export function topK(scores: number[], ids: number[], nameCodes: Float64Array, k: number): number[] {
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
