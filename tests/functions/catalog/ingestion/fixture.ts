// Reads a JSON payload from tests/fixtures/catalog.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/catalog');

export function fixture<T = Record<string, any>>(path: string): T {
  return JSON.parse(readFileSync(join(root, path), 'utf8')) as T;
}
