// Rows as plain JSON objects: top-level string/number/boolean fields are real table properties
// (so filters work on them); objects, arrays and null are stored as JSON text and listed in the
// `_json` property so they come back as they went in. Azure's per-row limits are checked here,
// before a request is sent, with errors that name the field.
import { StorageInputError } from '../errors.ts';
import { kindOf, tableKey, untableKey } from './keys.ts';

export type Row<T> = T & { partitionKey: string; rowKey: string; etag: string; timestamp?: string };

/** The property that lists which properties hold JSON text. */
const JSON_FIELDS = '_json';
/** The row's own fields in Row<T>; never stored as data. */
const META: ReadonlySet<string> = new Set(['partitionKey', 'rowKey', 'etag', 'timestamp']);
const RESERVED: ReadonlySet<string> = new Set(['PartitionKey', 'RowKey', 'Timestamp', JSON_FIELDS]);
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
/** Azure Table allows 64 KiB per string property, i.e. 32K UTF-16 code units. */
const MAX_STRING = 32 * 1024;
/** Azure's limits per entity: 255 properties including the three system ones, and 1 MiB. */
const MAX_PROPERTIES = 252;
const MAX_ENTITY_BYTES = 1024 * 1024;

/**
 * The table properties for a value. `where` names the row in errors
 * ("table 'x': write partitionKey 'a' rowKey 'b'").
 */
export function encodeRow(pk: string, rk: string, value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new StorageInputError(`${where}: the value must be a JSON object, got ${kindOf(value)}`);
  }
  const props: Record<string, unknown> = {};
  const json: string[] = [];
  for (const [name, v] of Object.entries(value)) {
    if (META.has(name) || v === undefined) continue;
    const at = () => `${where}: field '${name}'`;
    if (RESERVED.has(name) || !/^[A-Za-z_][A-Za-z0-9_]{0,254}$/.test(name)) {
      throw new StorageInputError(`${at()} is not a valid column name (letters, digits and _, not starting with a digit; not PartitionKey, RowKey, Timestamp or _json)`);
    }
    let stored: unknown;
    if (typeof v === 'string' || typeof v === 'boolean') {
      stored = v;
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new StorageInputError(`${at()} is ${v}, which JSON cannot hold`);
      // Untyped integers outside Int32 are not accepted as such; say Double explicitly.
      stored = Number.isInteger(v) && (v < INT32_MIN || v > INT32_MAX) ? { value: v, type: 'Double' } : v;
    } else if (typeof v === 'object') {
      stored = JSON.stringify(v);
      json.push(name);
    } else {
      throw new StorageInputError(`${at()} is a ${typeof v}, which is not JSON`);
    }
    if (typeof stored === 'string' && stored.length > MAX_STRING) {
      throw new StorageInputError(`${at()} is ${stored.length} characters; a table column holds at most ${MAX_STRING}. Keep large content in a blob`);
    }
    props[name] = stored;
  }
  if (json.length) props[JSON_FIELDS] = json.join(',');
  const count = Object.keys(props).length;
  if (count > MAX_PROPERTIES) {
    throw new StorageInputError(`${where}: the value has ${count} columns; a table row holds at most ${MAX_PROPERTIES}. Nest related fields in an object (stored as one JSON column)`);
  }
  const bytes = entityBytes(tableKey(pk), tableKey(rk), props);
  if (bytes > MAX_ENTITY_BYTES) {
    throw new StorageInputError(`${where}: the row is about ${bytes} bytes; Azure Table rows hold at most ${MAX_ENTITY_BYTES}. Keep large content in a blob`);
  }
  return props;
}

/** A row as read from the table, back to the JSON object it was written as. */
export function decodeRow<T>(entity: Record<string, unknown>): Row<T> {
  const { partitionKey, rowKey, etag, timestamp, [JSON_FIELDS]: jsonFields, ...rest } = entity;
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(rest)) {
    if (v === null || v === undefined) continue; // a selected column the row does not have
    if (name.startsWith('odata.')) continue; // service metadata, not data
    if (typeof v === 'bigint') out[name] = Number(v);
    else if (v instanceof Date) out[name] = v.toISOString();
    else out[name] = v;
  }
  if (typeof jsonFields === 'string' && jsonFields) {
    for (const name of jsonFields.split(',')) {
      if (typeof out[name] !== 'string') continue;
      try {
        out[name] = JSON.parse(out[name] as string);
      } catch {
        // Written by something else than this module: keep the text rather than lose the row.
      }
    }
  }
  out.partitionKey = untableKey(String(partitionKey ?? ''));
  out.rowKey = untableKey(String(rowKey ?? ''));
  out.etag = String(etag ?? '');
  if (timestamp !== undefined && timestamp !== null) {
    out.timestamp = timestamp instanceof Date ? timestamp.toISOString() : String(timestamp);
  }
  return out as Row<T>;
}

/** The row a write produced, without reading it back. */
export function writtenRow<T extends object>(pk: string, rk: string, etag: string, value: T): Row<T> {
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(value)) {
    if (!META.has(name) && v !== undefined) out[name] = v;
  }
  return { ...out, partitionKey: pk, rowKey: rk, etag } as Row<T>;
}

/** The columns to ask for when a query selects `fields`. `where` names the table in errors. */
export function selectColumns(fields: string[], where: string): string[] {
  for (const f of fields) {
    if (typeof f !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(f)) {
      throw new StorageInputError(`${where}: select field '${f}' is not a column name`);
    }
  }
  // Keys are always returned; the JSON marker is needed to restore the selected JSON columns.
  return [...new Set(['PartitionKey', 'RowKey', 'Timestamp', ...fields.filter((f) => !META.has(f)), JSON_FIELDS])];
}

/** Azure's documented size formula for an entity (strings count two bytes per UTF-16 unit). */
function entityBytes(pk: string, rk: string, props: Record<string, unknown>): number {
  let size = 4 + (pk.length + rk.length) * 2;
  for (const [name, v] of Object.entries(props)) {
    const value = typeof v === 'string' ? 4 + v.length * 2 : typeof v === 'boolean' ? 1 : 8;
    size += 8 + name.length * 2 + value;
  }
  return size;
}
