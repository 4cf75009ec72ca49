// Small HTTP pieces of the REST side: the request as routes see it, replies, body parsing with a
// size bound, GitHub's pagination (per_page / page and a Link header) and field checks that
// answer 422 naming the field, as GitHub does.
import type { IncomingMessage } from 'node:http';
import { StandInError, invalid } from './context.ts';

export interface ApiRequest {
  method: string;
  /** The request URL as the client sent it, against the stand-in's API base. */
  url: URL;
  /** The acting user (the token's owner). */
  login: string;
  body: unknown;
}

export interface Reply {
  status: number;
  body?: unknown;
  raw?: Buffer;
  headers?: Record<string, string>;
}

const MAX_BODY = 8 * 1024 * 1024;

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new StandInError(413, `The request body is larger than ${MAX_BODY} bytes.`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new StandInError(400, 'Problems parsing JSON');
  }
}

export function pageOf<T>(items: T[], url: URL, perPageDefault = 30, perPageMax = 100): { items: T[]; headers: Record<string, string> } {
  const perRaw = url.searchParams.get('per_page');
  const pageRaw = url.searchParams.get('page');
  const per = Math.min(Math.max(perRaw && /^\d+$/.test(perRaw) ? Number(perRaw) : perPageDefault, 1), perPageMax);
  const page = Math.max(pageRaw && /^\d+$/.test(pageRaw) ? Number(pageRaw) : 1, 1);
  const last = Math.max(Math.ceil(items.length / per), 1);
  const link = (p: number, rel: string) => {
    const u = new URL(url);
    u.searchParams.set('per_page', String(per));
    u.searchParams.set('page', String(p));
    return `<${u}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(link(page - 1, 'prev'), link(1, 'first'));
  if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
  return { items: items.slice((page - 1) * per, page * per), headers: links.length ? { link: links.join(', ') } : {} };
}

/** The body as an object with no prototype surprises (own keys only are read). */
export function bodyObject(req: ApiRequest, resource: string): Record<string, unknown> {
  const b = req.body ?? {};
  if (typeof b !== 'object' || Array.isArray(b) || b === null) throw invalid(resource, 'body', 'the request body must be a JSON object');
  return b as Record<string, unknown>;
}

export function field(b: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(b, name) ? b[name] : undefined;
}

export function str(b: Record<string, unknown>, resource: string, name: string, opts: { required?: boolean; max?: number } = {}): string | undefined {
  const v = field(b, name);
  if (v === undefined || v === null) {
    if (opts.required) throw invalid(resource, name, `${name} is required`, 'missing_field');
    return undefined;
  }
  if (typeof v !== 'string') throw invalid(resource, name, `${name} must be a string`);
  if (opts.max !== undefined && v.length > opts.max) throw invalid(resource, name, `${name} is too long (maximum is ${opts.max} characters)`, 'custom');
  return v;
}

export function oneOf<T extends string>(b: Record<string, unknown>, resource: string, name: string, allowed: readonly T[]): T | undefined {
  const v = str(b, resource, name);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw invalid(resource, name, `${name} must be one of ${allowed.join(', ')}`);
  return v as T;
}

export function positiveInt(text: string, what: string): number {
  if (!/^\d{1,12}$/.test(text)) throw new StandInError(404, `Not Found (${what} must be a number)`);
  return Number(text);
}

/** A path segment decoded; bad percent-encoding is the client's 404, never a 500. */
export function dec(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new StandInError(404, 'Not Found (bad percent-encoding in the path)');
  }
}
