// Small value helpers for the judge: structural equality without serialising, and the value
// transforms rules ask for.

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function isEmptyContainer(v: unknown): boolean {
  if (Array.isArray(v)) return v.length === 0;
  if (isObj(v)) { for (const _ in v) return false; return true; }
  return false;
}

/** Structural equality of JSON data (no serialisation; keys compared exactly). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  for (const k of ak) if (!Object.hasOwn(b, k) || !deepEqual((a as Obj)[k], (b as Obj)[k])) return false;
  return true;
}

const MAX_JSON_STRING = 1024 * 1024;
const MAX_JSON_DEPTH = 64;

function deeperThan(v: unknown, max: number): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (max === 0) return true;
  for (const c of Object.values(v)) if (deeperThan(c, max - 1)) return true;
  return false;
}

/** A string holding a JSON object or array, parsed (within size and depth limits); anything else as is. */
export function parseJsonish(v: unknown): unknown {
  if (typeof v !== 'string' || v.length > MAX_JSON_STRING) return v;
  let i = 0;
  while (i < v.length && (v[i] === ' ' || v[i] === '\n' || v[i] === '\r' || v[i] === '\t')) i++;
  if (v[i] !== '{' && v[i] !== '[') return v;
  try {
    const parsed: unknown = JSON.parse(v);
    return deeperThan(parsed, MAX_JSON_DEPTH) ? v : parsed;
  } catch {
    return v;
  }
}

/** `{ "value": X }` -> X. */
export function unwrapValue(v: unknown): unknown {
  if (!isObj(v)) return v;
  let n = 0;
  for (const _ in v) if (++n > 1) return v;
  return n === 1 && Object.hasOwn(v, 'value') ? v.value : v;
}

/** A number or boolean equal to a string form of it (ARM echoing `"30"` for 30, `"true"` for true). */
export function scalarStringEqual(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b !== 'string') return scalarStringEqual(b, a);
  if (typeof b !== 'string') return false;
  if (typeof a === 'number') return b.trim() !== '' && Number(b) === a;
  if (typeof a === 'boolean') return b.toLowerCase() === (a ? 'true' : 'false');
  return false;
}

/** Look a property up by exact name, then case-insensitively (ARM property names are case-insensitive). */
export function getProp(o: unknown, key: string, lower: string): unknown {
  if (!isObj(o)) return undefined;
  if (Object.hasOwn(o, key)) return o[key];
  for (const k in o) if (Object.hasOwn(o, k) && k.toLowerCase() === lower) return o[k];
  return undefined;
}
