// Reading request bodies safely: one place that limits the size and nesting depth of every JSON
// body the API and its webhooks take, so a hostile body is a 400 or 413 naming the field, never a
// stack overflow (a 500) deep inside validation or storage.
import type { Context, MiddlewareHandler } from 'hono';
import { ProblemError } from './problem.ts';

/** Deeper than any entity, import request or webhook payload we know; far below the stack's limit. */
export const MAX_JSON_DEPTH = 64;
/** Webhook payloads are at most 25 MB (GitHub's limit); the import takes many files at once. */
export const MAX_LARGE_BODY = 26 * 1024 * 1024;
/** Everything else the API takes is one entity or a few fields: an entity row holds at most 1 MiB. */
export const MAX_BODY = 1024 * 1024;

export interface JsonLimits {
  maxBytes?: number;
  maxDepth?: number;
}

/** Media types whose body is JSON (application/json, application/problem+json, ...). */
export function isJsonMediaType(contentType: string | undefined): boolean {
  return /^application\/([\w.-]+\+)?json$/i.test(mediaTypeOf(contentType));
}

export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** How many segments of the path to the too-deep value a problem names (the rest adds nothing). */
const PATH_SHOWN = 4;

/**
 * Where `text` nests containers deeper than `maxDepth`, as a path of keys and indexes (the first
 * few), or undefined. A linear scan without recursion that runs before JSON.parse, so a hostile
 * body is refused before anything is built from it. Malformed text is left to JSON.parse.
 */
export function tooDeep(text: string, maxDepth = MAX_JSON_DEPTH): Array<string | number> | undefined {
  // One frame per open container: its current key (objects) or index (arrays).
  const stack: Array<{ object: boolean; key: string | number; expectKey: boolean }> = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      let end = i + 1;
      while (end < text.length && text.charCodeAt(end) !== 0x22) end += text.charCodeAt(end) === 0x5c /* \ */ ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.object && top.expectKey && stack.length <= PATH_SHOWN) {
        try { top.key = JSON.parse(text.slice(i, end + 1)) as string; } catch { top.key = '?'; }
      }
      i = end;
    } else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) {
      if (stack.length >= maxDepth) return stack.slice(0, PATH_SHOWN).map((f) => f.key);
      stack.push({ object: ch === 0x7b, key: ch === 0x7b ? '' : 0, expectKey: ch === 0x7b });
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) {
      stack.pop();
    } else if (ch === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.object) top.expectKey = true;
      else if (top) top.key = (top.key as number) + 1;
    } else if (ch === 0x3a /* : */) {
      const top = stack[stack.length - 1];
      if (top) top.expectKey = false;
    }
  }
  return undefined;
}

/**
 * Parses JSON text within the limits; a ProblemError naming `field` (or the path below it where
 * the nesting goes too deep) otherwise.
 */
export function parseJsonText(text: string, field = 'body', limits: JsonLimits = {}): unknown {
  const maxBytes = limits.maxBytes ?? MAX_LARGE_BODY;
  const maxDepth = limits.maxDepth ?? MAX_JSON_DEPTH;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    throw new ProblemError(413, `${field}: ${bytes} bytes; at most ${maxBytes} are taken here`, { field });
  }
  const deep = tooDeep(text, maxDepth);
  if (deep) {
    const at = [field, ...deep.map(String).filter((k) => k !== '')].join('.');
    throw new ProblemError(400, `${at}: JSON nested deeper than ${maxDepth} levels`, { field: at });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ProblemError(400, `${field}: not valid JSON (${(err as Error).message})`, { field });
  }
}

/** The most a JSON body on this path may hold. */
function maxBytesFor(path: string): number {
  return path === '/api/v1/import' ? MAX_LARGE_BODY : MAX_BODY;
}

const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function hasBody(c: Context): boolean {
  const length = c.req.header('content-length');
  if (length !== undefined) return length.trim() !== '0';
  return c.req.header('transfer-encoding') !== undefined || c.req.raw.body !== null;
}

/** Where the lazily parsed body's problem is kept for the error handler (see jsonBodies). */
export const BODY_PROBLEM = 'bodyProblem';

/**
 * For the API's own routes (not the webhooks, which read their raw body for the signature): a
 * body must be JSON (415 naming header.content-type otherwise), and whoever reads it with
 * c.req.json() (the routes' zod validators) gets it through parseJsonText. The body is only read
 * when a route asks for it, after the route's own authorisation middleware. The validators turn
 * any failure of json() into a bare "Malformed JSON" 400, so the real problem is kept on the
 * context for the app's error handler.
 */
export function jsonBodies(): MiddlewareHandler {
  return async (c, next) => {
    if (!BODY_METHODS.has(c.req.method) || !c.req.path.startsWith('/api/')) return next();
    const type = c.req.header('content-type');
    if (!isJsonMediaType(type)) {
      if (!hasBody(c)) return next();
      throw new ProblemError(415, `header.content-type: the body must be application/json, not ${mediaTypeOf(type) || 'unnamed'}`, {
        field: 'header.content-type',
      });
    }
    const maxBytes = maxBytesFor(c.req.path);
    // A declared length over the limit is refused before a byte is read.
    if (Number(c.req.header('content-length')) > maxBytes) {
      throw new ProblemError(413, `body: ${c.req.header('content-length')} bytes; at most ${maxBytes} are taken here`, { field: 'body' });
    }
    let parsed: Promise<unknown> | undefined;
    const read = async () => {
      try {
        return parseJsonText(await c.req.text(), 'body', { maxBytes });
      } catch (err) {
        c.set(BODY_PROBLEM as never, err as never);
        throw err;
      }
    };
    Object.defineProperty(c.req, 'json', { configurable: true, value: () => (parsed ??= read()) });
    await next();
  };
}
