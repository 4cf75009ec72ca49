// Partition and row keys: any string goes in; Azure's forbidden characters are escaped on the
// way in and restored on the way out.

/** Longest key once escaped (Azure: 1 KiB). */
export const MAX_KEY = 1024;

// Forbidden by Azure in keys: / \ # ? and control characters. '~' is our escape character and
// '%' is escaped too because it is decoded twice on some request paths.
const KEY_ESCAPE = /[/\\#?~%\u0000-\u001f\u007f-\u009f]/g;

/** Escapes a string for use as a PartitionKey or RowKey (reversible with untableKey). */
export function tableKey(s: string): string {
  return s.replace(KEY_ESCAPE, (c) => '~' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

export function untableKey(s: string): string {
  return s.replace(/~([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** How errors name a row. */
export function keyText(pk: unknown, rk: unknown): string {
  return `partitionKey '${String(pk)}' rowKey '${String(rk)}'`;
}

/** How errors name a value's type. */
export function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}
