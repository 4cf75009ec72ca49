// Facet values <-> small numbers, so per-document facet columns are typed arrays of ints.

/** Values are never forgotten: one that nobody has any more counts zero. */
export class Dictionary {
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
    // Values are user text: defined as own properties, a tag named `__proto__` is counted like any other.
    for (const i of found.slice(0, n)) {
      const name = this.names[i]!;
      if (name === '__proto__') Object.defineProperty(out, name, { value: counts[i]!, enumerable: true, writable: true, configurable: true });
      else out[name] = counts[i]!;
    }
    return out;
  }
}
