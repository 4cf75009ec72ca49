// Backstage's placeholders in catalog files ($text, $json, $yaml), resolved as its
// PlaceholderProcessor does: an object with exactly one `$`-key naming a known resolver and a string
// value is replaced by what that value points at, relative to the file being read. Objects that mix
// `$`-keys with others (or use unknown ones, such as JSON Schema's `$ref`) are left alone, and what a
// placeholder brings in is not searched for more placeholders. Unlike Backstage, a placeholder that
// cannot be resolved does not fail the entity: the field is left empty and recorded as unresolved.
import { posix } from 'node:path';
import { depthOf, readYamlDocuments, YAML_LIMITS } from './yaml-docs.ts';

/** Reads what a placeholder points at. */
export interface ContentReader {
  /** Reads a path inside the import root (posix, as resolved from the file) or an http(s) URL; throws when it cannot. */
  read(target: string): Promise<string>;
  /** Whether this URL may be read (default: no URL is). */
  allowUrl?(url: string): boolean;
}

export const PLACEHOLDER_LIMITS = {
  /** Placeholders in one document. */
  maxPerDocument: 20,
  /** Characters one placeholder may bring in. */
  maxChars: 1_000_000,
  /** Characters all placeholders of one import may bring in. */
  maxTotalChars: 10_000_000,
  /** Nesting depth of what $json and $yaml bring in. */
  maxDepth: YAML_LIMITS.maxDepth,
};

export interface UnresolvedPlaceholder {
  /** The field that held the placeholder, e.g. spec.definition. */
  field: string;
  /** `$text`, `$json` or `$yaml`. */
  placeholder: string;
  target: string;
  reason: string;
}

/** What one import has read so far: shared by all its files, so the limits hold for the whole import. */
export interface PlaceholderBudget {
  chars: number;
  cache: Map<string, string>;
}
export const newBudget = (): PlaceholderBudget => ({ chars: 0, cache: new Map() });

const RESOLVERS: ReadonlySet<string> = new Set(['$text', '$json', '$yaml']);
const isUrl = (s: string) => /^https?:\/\//i.test(s);

export class Unresolvable extends Error {}

/**
 * Where a placeholder's value points, from the file that holds it: a URL (absolute, or relative to a
 * file read from a URL) or a normalised path that must stay inside `root`.
 */
export function placeholderTarget(value: string, fileName: string, root: string): string {
  if (isUrl(value)) return value;
  if (isUrl(fileName)) {
    try { return new URL(value, fileName).toString(); } catch { throw new Unresolvable(`'${value}' is not a URL relative to ${fileName}`); }
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(value)) throw new Unresolvable(`'${value.split(':')[0]}:' targets are not read; give a path relative to the file or an http(s) URL`);
  if (value.startsWith('/')) throw new Unresolvable('an absolute path is outside the import root; give a path relative to the file');
  const resolved = posix.normalize(posix.join(posix.dirname(fileName), value));
  const base = posix.normalize(root || '.');
  const inside = base === '.'
    ? resolved !== '..' && !resolved.startsWith('../') && !resolved.startsWith('/')
    : resolved === base || resolved.startsWith(`${base.replace(/\/+$/, '')}/`);
  if (!inside) throw new Unresolvable(`${resolved} is outside the import root (${base === '.' ? 'the directory of the files imported' : base})`);
  return resolved;
}

export interface ResolveOptions {
  fileName: string;
  /** The directory placeholders may read from (posix); '' means the files' own top directory. */
  root: string;
  reader?: ContentReader;
  budget: PlaceholderBudget;
  limits?: typeof PLACEHOLDER_LIMITS;
}

/** The document with its placeholders resolved, and those that could not be. */
export async function resolvePlaceholders(doc: unknown, opts: ResolveOptions): Promise<{ value: unknown; unresolved: UnresolvedPlaceholder[] }> {
  const limits = opts.limits ?? PLACEHOLDER_LIMITS;
  const unresolved: UnresolvedPlaceholder[] = [];
  let count = 0;

  const resolveOne = async (placeholder: string, raw: string): Promise<unknown> => {
    if (++count > limits.maxPerDocument) throw new Unresolvable(`more than ${limits.maxPerDocument} placeholders in one document`);
    const target = placeholderTarget(raw, opts.fileName, opts.root);
    if (isUrl(target) && !opts.reader?.allowUrl?.(target)) throw new Unresolvable('URLs are not read for this import');
    if (!opts.reader) throw new Unresolvable('nothing to read files with for this import');
    let content = opts.budget.cache.get(target);
    if (content === undefined) {
      try {
        content = await opts.reader.read(target);
      } catch (err) {
        throw new Unresolvable(`cannot read ${target}: ${String((err as Error).message ?? err).split('\n')[0]!.slice(0, 200)}`);
      }
      if (content.length > limits.maxChars) throw new Unresolvable(`${target} has ${content.length} characters; a placeholder may bring in at most ${limits.maxChars}`);
      if (opts.budget.chars + content.length > limits.maxTotalChars) throw new Unresolvable(`the import's placeholders would bring in more than ${limits.maxTotalChars} characters`);
      opts.budget.chars += content.length;
      opts.budget.cache.set(target, content);
    }
    if (placeholder === '$text') return content;
    let value: unknown;
    if (placeholder === '$json') {
      try { value = JSON.parse(content); } catch (err) { throw new Unresolvable(`${target} is not JSON: ${(err as Error).message}`); }
    } else {
      const { docs, issues } = readYamlDocuments(content, target);
      if (issues.length) throw new Unresolvable(`${issues[0]!.path}: ${issues[0]!.message}`);
      // Backstage's rule: $yaml reads exactly one document.
      if (docs.length !== 1) throw new Unresolvable(`${target} must hold exactly one YAML document, not ${docs.length}`);
      value = docs[0]!.value;
    }
    if (depthOf(value, limits.maxDepth) > limits.maxDepth) throw new Unresolvable(`${target} is nested more than ${limits.maxDepth} levels deep`);
    return value;
  };

  const walk = async (v: unknown, path: string, inArray: boolean): Promise<unknown> => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      for (const [i, item] of v.entries()) {
        const next = await walk(item, `${path}.${i}`, true);
        if (next !== undefined) out.push(next);
      }
      return out;
    }
    const entries = Object.entries(v as Record<string, unknown>);
    if (!entries.some(([k]) => k.startsWith('$'))) {
      const out: Array<[string, unknown]> = [];
      for (const [k, child] of entries) {
        const next = await walk(child, path ? `${path}.${k}` : k, false);
        if (next !== undefined) out.push([k, next]);
      }
      // fromEntries defines own properties: a `__proto__` key stays data, never a prototype.
      return Object.fromEntries(out);
    }
    const [key, raw] = entries[0]!;
    if (entries.length !== 1 || !RESOLVERS.has(key) || typeof raw !== 'string') return v;
    try {
      return await resolveOne(key, raw);
    } catch (err) {
      if (!(err instanceof Unresolvable)) throw err;
      unresolved.push({ field: path, placeholder: key, target: raw, reason: err.message });
      // Left empty, so the entity is still stored: a text field becomes '' (Backstage requires some,
      // such as an API's definition); other fields, and items of lists, are left out.
      return key === '$text' && !inArray ? '' : undefined;
    }
  };

  return { value: await walk(doc, '', false), unresolved };
}

/** The placeholders of a document, found by the same rules as resolvePlaceholders (for clients that gather their targets). */
export function findPlaceholders(doc: unknown): Array<{ placeholder: string; target: string }> {
  const out: Array<{ placeholder: string; target: string }> = [];
  const stack: unknown[] = [doc];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) { stack.push(...v); continue; }
    const entries = Object.entries(v as Record<string, unknown>);
    if (!entries.some(([k]) => k.startsWith('$'))) { stack.push(...entries.map(([, c]) => c)); continue; }
    const [key, raw] = entries[0]!;
    if (entries.length === 1 && RESOLVERS.has(key) && typeof raw === 'string') out.push({ placeholder: key, target: raw });
  }
  return out;
}
