// Property-level differences between two JSON values, as the ChangeSet reports them.
import type { PropertyDiff } from './changeset.ts';

/** What the engine puts in event payloads for values not known until apply. */
export const UNKNOWN = '04da6b54-80e4-46f7-96ec-b56ff0331ba9';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function join(prefix: string, key: string | number): string {
  if (typeof key === 'number') return `${prefix}[${key}]`;
  return prefix ? `${prefix}.${key}` : key;
}

/** ARM ids are case-insensitive, so a change of case only is no change. */
function sameScalar(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string' && /^\/(subscriptions|providers)\//i.test(a)) {
    return a.toLowerCase() === b.toLowerCase();
  }
  return a === b;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!deepEqual(a[k], b[k])) return false;
    return true;
  }
  return sameScalar(a, b);
}

/**
 * Leaf-level differences from `old` to `new`: objects are compared key by key, arrays of equal
 * length element by element, anything else as a whole value.
 */
export function diffValues(old: unknown, next: unknown, prefix = ''): PropertyDiff[] {
  if (deepEqual(old, next)) return [];
  if (isObject(old) && isObject(next)) {
    const out: PropertyDiff[] = [];
    for (const k of new Set([...Object.keys(old), ...Object.keys(next)])) {
      const path = join(prefix, k);
      if (!(k in next)) out.push({ path, kind: 'delete', old: old[k] });
      else if (!(k in old)) out.push({ path, kind: 'add', new: next[k] });
      else out.push(...diffValues(old[k], next[k], path));
    }
    return out;
  }
  if (Array.isArray(old) && Array.isArray(next) && old.length === next.length) {
    return old.flatMap((x, i) => diffValues(x, next[i], join(prefix, i)));
  }
  if (old === undefined) return [{ path: prefix, kind: 'add', new: next }];
  if (next === undefined) return [{ path: prefix, kind: 'delete', old }];
  return [{ path: prefix, kind: 'update', old, new: next }];
}

/** The value at a Pulumi property path such as `properties.parameters["effect"].value` or `a[0].b`. */
export function valueAt(obj: unknown, path: string): unknown {
  const parts = parsePath(path);
  let cur: unknown = obj;
  for (const p of parts) {
    if (cur === null || cur === undefined) return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

/** Splits `a.b[0]["c.d"]` into ['a', 'b', 0, 'c.d']. */
export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path))) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(JSON.parse(`"${m[3]}"`));
  }
  return out;
}

/** Paths whose value is unknown until apply. */
export function unknownPaths(value: unknown, prefix = ''): string[] {
  if (value === UNKNOWN) return [prefix];
  if (Array.isArray(value)) return value.flatMap((v, i) => unknownPaths(v, join(prefix, i)));
  if (isObject(value)) return Object.entries(value).flatMap(([k, v]) => unknownPaths(v, join(prefix, k)));
  return [];
}
