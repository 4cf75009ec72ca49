// Reads the YAML documents of a catalog file within limits: size, number of documents, nesting
// depth and aliases (a "billion laughs" file expands a few lines into gigabytes). Anything over a
// limit, and any YAML error, is an issue naming the file and the document, never a crash.
import { parseAllDocuments } from 'yaml';
import type { Issue } from '../kinds.ts';

export const YAML_LIMITS = {
  /** Characters of one file. */
  maxChars: 5_000_000,
  /** Documents in one file. */
  maxDocuments: 2_000,
  /** Nesting of mappings and sequences in one document. */
  maxDepth: 64,
  /** Alias nodes in one document (the yaml library's guard against entity expansion). */
  maxAliasCount: 100,
};
export type YamlLimits = typeof YAML_LIMITS;

export interface YamlDocument {
  /** 1-based, as people count documents in a file. */
  index: number;
  value: unknown;
}

/** Depth of nested objects and arrays, counted without recursion (a deep value cannot overflow the stack here). */
export function depthOf(value: unknown, stopAt = Infinity): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > max) max = d + 1;
    if (max > stopAt) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/**
 * The documents of a YAML text with their values; YAML errors and limit breaches come back as
 * issues (`<file>[document n]`), and no document of a file with issues is returned as valid.
 */
export function readYamlDocuments(text: string, fileName: string, limits: YamlLimits = YAML_LIMITS): { docs: YamlDocument[]; issues: Issue[] } {
  if (text.length > limits.maxChars) {
    return { docs: [], issues: [{ path: fileName, message: `the file has ${text.length} characters; at most ${limits.maxChars} are read` }] };
  }
  const issues: Issue[] = [];
  const docs: YamlDocument[] = [];
  let parsed: ReturnType<typeof parseAllDocuments>;
  try {
    parsed = parseAllDocuments(text);
  } catch (err) {
    return { docs: [], issues: [{ path: fileName, message: `YAML: ${(err as Error).message.split('\n')[0]}` }] };
  }
  const list = Array.isArray(parsed) ? parsed : [];
  if (list.length > limits.maxDocuments) {
    return { docs: [], issues: [{ path: fileName, message: `the file has ${list.length} documents; at most ${limits.maxDocuments} are read` }] };
  }
  list.forEach((doc, i) => {
    const where = `${fileName}[document ${i + 1}]`;
    if (doc.errors.length) {
      for (const e of doc.errors) issues.push({ path: where, message: `YAML: ${e.message.split('\n')[0]}` });
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: limits.maxAliasCount });
    } catch (err) {
      // The yaml library refuses alias expansion past maxAliasCount with a ReferenceError.
      const msg = (err as Error).message.split('\n')[0];
      issues.push({ path: where, message: /alias/i.test(msg) ? `YAML: too many aliases (more than ${limits.maxAliasCount}): ${msg}` : `YAML: ${msg}` });
      return;
    }
    if (depthOf(value, limits.maxDepth) > limits.maxDepth) {
      issues.push({ path: where, message: `YAML: nested more than ${limits.maxDepth} levels deep` });
      return;
    }
    docs.push({ index: i + 1, value });
  });
  return { docs, issues };
}
