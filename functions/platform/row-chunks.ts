// Text too long for one table property, kept in numbered properties of one row (`d0`, `d1`, ...)
// with their count in `chunks`. Used by every table that stores a JSON document in its rows.

/** Characters per property: a string property holds 64 KiB, i.e. 32,768 UTF-16 characters. */
export const ROW_CHUNK_CHARS = 30_000;

export type ChunkedText<P extends string> = { chunks: number } & { [K in `${P}${number}`]?: string };

/** The properties that hold `text`: `chunks` and `<prefix>0..<prefix>n-1`. The empty text is no chunk. */
export function chunkText<P extends string>(prefix: P, text: string): ChunkedText<P> {
  const out: Record<string, string | number> = { chunks: Math.ceil(text.length / ROW_CHUNK_CHARS) };
  for (let i = 0; i * ROW_CHUNK_CHARS < text.length; i++) out[`${prefix}${i}`] = text.slice(i * ROW_CHUNK_CHARS, (i + 1) * ROW_CHUNK_CHARS);
  return out as ChunkedText<P>;
}

export class RowChunkError extends Error {}

/**
 * The text back from a row's chunks. A chunk that is missing (a row written part-way, or by hand)
 * is an error naming the property, rather than text with a hole that fails somewhere later.
 */
export function joinChunks<P extends string>(prefix: P, row: ChunkedText<P>, where: string): string {
  const n = row.chunks;
  if (!Number.isInteger(n) || n < 0) throw new RowChunkError(`${where}: 'chunks' is ${String(n)}, not a count of chunks`);
  let text = '';
  for (let i = 0; i < n; i++) {
    const part = (row as Record<string, unknown>)[`${prefix}${i}`];
    if (typeof part !== 'string') throw new RowChunkError(`${where}: chunk '${prefix}${i}' of ${n} is missing`);
    text += part;
  }
  return text;
}
