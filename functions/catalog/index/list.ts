// Listing by exact values: filter sets, `where` paths into the entity, and key-ordered paging.
import type { Indexed } from './types.ts';

export interface ListOptions {
  kind?: string;
  owner?: string;
  tag?: string;
  /** Dot paths (`spec.lifecycle`) and the value each must have (case-insensitive; any element of an array). */
  where?: Record<string, string>;
  limit: number;
  /** List keys after this one. */
  after?: string;
  orphaned?: boolean;
}

/** What a listing reads of the index. */
export interface ListSource {
  get(key: string): Indexed | undefined;
  /** Keys of the entities with the value (kind lower-cased); undefined when none has it. */
  withKind(kind: string): Set<string> | undefined;
  withOwner(owner: string): Set<string> | undefined;
  withTag(tag: string): Set<string> | undefined;
  /** Every key, sorted. */
  keysSorted(): string[];
}

/** Candidate sets this small are sorted on their own rather than walking every key. */
const SMALL_SET = 20_000;

export function listKeys(src: ListSource, opts: ListOptions): { keys: string[]; more: boolean } {
  const sets: Set<string>[] = [];
  if (opts.kind) sets.push(src.withKind(opts.kind.toLowerCase()) ?? new Set());
  if (opts.owner) sets.push(src.withOwner(opts.owner) ?? new Set());
  if (opts.tag) sets.push(src.withTag(opts.tag) ?? new Set());
  sets.sort((a, b) => a.size - b.size);
  const where = Object.entries(opts.where ?? {});
  const ok = (k: string) => {
    if (!sets.every((s) => s.has(k))) return false;
    const item = src.get(k)!;
    if (opts.orphaned !== undefined && Boolean(item.entity.status?.orphaned) !== opts.orphaned) return false;
    return where.every(([path, want]) => matches(pathValue(item.entity, path), want));
  };
  // Small candidate sets are sorted directly; otherwise walk the sorted key list from the cursor.
  const source = sets.length && sets[0]!.size < SMALL_SET ? [...sets[0]!].sort() : src.keysSorted();
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

/** Keys in all of the filter sets (kind, owner, tag), sorted; every key when there is no filter. */
export function filteredKeys(src: ListSource, f: { kind?: string; owner?: string; tag?: string }): string[] {
  const filters: Set<string>[] = [];
  if (f.kind) filters.push(src.withKind(f.kind.toLowerCase()) ?? new Set<string>());
  if (f.owner) filters.push(src.withOwner(f.owner) ?? new Set<string>());
  if (f.tag) filters.push(src.withTag(f.tag) ?? new Set<string>());
  filters.sort((a, b) => a.size - b.size);
  return filters.length ? [...filters[0]!].filter((k) => filters.every((s) => s.has(k))).sort() : src.keysSorted();
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

function lowerBound(arr: string[], x: string): number {
  let lo = 0, hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < x) lo = mid + 1; else hi = mid;
  }
  return lo;
}
