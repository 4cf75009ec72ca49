// The search box's syntax: `kind:service owner:payments tag:java` are filters, the rest is words;
// each word must match (itself, or as the start of a longer word); a page of at most 200 hits.
import { tokenize } from '../tokenize.ts';
import type { SearchFilters } from './types.ts';

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 200;

/** A search as asked: enough to find it in the cache without reading its words. */
export interface SearchRequest {
  /** The text trimmed and lower-cased: what the name bonus compares names with. */
  text: string;
  filters: SearchFilters;
  limit: number;
  offset: number;
  /** Same key, same result (until the next write). */
  cacheKey: string;
}

/** A search as the index runs it. */
export interface SearchQuery extends SearchRequest {
  /** Distinct words of the text (see tokenize), in order of first appearance. */
  terms: string[];
}

export function searchRequest(q: string, opts: SearchFilters & { limit?: number; offset?: number } = {}): SearchRequest {
  const limit = Math.max(1, Math.min(opts.limit ?? DEFAULT_LIMIT, MAX_LIMIT));
  const offset = Math.max(0, opts.offset ?? 0);
  const text = q.trim().toLowerCase();
  return {
    text,
    filters: { kind: opts.kind, owner: opts.owner, tag: opts.tag },
    limit,
    offset,
    cacheKey: JSON.stringify([text, opts.kind, opts.owner, opts.tag, limit, offset]),
  };
}

/** The words of the text (tokenised only on a cache miss: most searches repeat). */
export function searchTerms(q: string): string[] {
  return [...new Set(tokenize(q))];
}

export function parseSearch(q: string, opts: SearchFilters & { limit?: number; offset?: number } = {}): SearchQuery {
  return { ...searchRequest(q, opts), terms: searchTerms(q) };
}

/** Filters written in the box (`kind:`, `owner:`, `tag:`, any case) and the text left once they are taken out. */
export interface BoxFilters {
  text: string;
  kind?: string;
  owner?: string;
  tag?: string;
}

/**
 * Takes `field:value` filters out of the search box; a later one of the same field wins over an
 * earlier one. Values are as written (the service canonicalises kinds and resolves owners).
 */
export function boxFilters(box: string): BoxFilters {
  const out: BoxFilters = { text: '' };
  out.text = box.replace(/\b(kind|owner|tag):(\S+)/gi, (_, f: string, v: string) => {
    const field = f.toLowerCase();
    if (field === 'kind') out.kind = v; else if (field === 'owner') out.owner = v; else out.tag = v;
    return ' ';
  });
  return out;
}
