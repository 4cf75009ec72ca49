// Reads one JSON or YAML file; parse errors become an InputError naming the file and the line.
import { readFileSync } from 'node:fs';
import { parseAllDocuments, YAMLParseError } from 'yaml';
import type { ZodType } from 'zod';
import { InputError, fieldPath } from '../errors.ts';

export function isYaml(file: string): boolean {
  return /\.ya?ml$/i.test(file);
}

/** Every document in the file (JSON files hold one). */
export function readDocuments(file: string): unknown[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(file, '', `cannot read file: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  if (!isYaml(file)) {
    try {
      return [JSON.parse(text)];
    } catch (err) {
      throw new InputError(file, '', `broken JSON: ${(err as Error).message}`);
    }
  }
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: unknown[] = [];
  for (const doc of list) {
    const first = doc.errors[0];
    if (first) {
      const line = first instanceof YAMLParseError && first.linePos ? ` at line ${first.linePos[0].line}` : '';
      throw new InputError(file, '', `broken YAML${line}: ${first.message.split('\n')[0]}`);
    }
    const value = doc.toJS({ maxAliasCount: 1000 });
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

/** Parses with a zod schema; the first issue names the field. */
export function parseShape<T>(schema: ZodType<T>, value: unknown, file: string, what: string, prefix = ''): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = [prefix, fieldPath(issue.path)].filter(Boolean).join(prefix && issue.path.length && typeof issue.path[0] === 'number' ? '' : '.');
  throw new InputError(file, field, `not a valid ${what}: ${issue.message}`);
}
