// Writes a throwaway library directory for a test: file name -> content (objects become JSON).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const FIXTURES = new URL('../../fixtures/compile/', import.meta.url).pathname;
export const BASE = join(FIXTURES, 'base');
export const NEXUS = join(FIXTURES, 'nexus');

export function tmpLibrary(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-compile-'));
  for (const [name, content] of Object.entries(files)) {
    const file = join(dir, name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

/** A Nexus architecture on top of the fixture's `small` architecture. */
export function architecture(spec: Record<string, unknown> = {}, name = 'test'): string {
  return JSON.stringify({ apiVersion: 'nexus/v1', kind: 'Architecture', metadata: { name }, spec: { extends: 'small', rootManagementGroup: 'tenant-root', location: 'westeurope', ...spec } });
}
