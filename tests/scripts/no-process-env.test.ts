// The environment is read in one place: the configuration module (functions/runtime/config.ts),
// plus the ARM-REST provider, which runs inside Pulumi's provider process where no configuration
// object reaches it. And functions/ keeps no module-level mutable state (`let` at the top level).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const READS_ENV: ReadonlySet<string> = new Set([
  'functions/runtime/config.ts',
  'stacks/engine/arm-rest-provider.ts',
]);

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (/\.(ts|tsx|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const files = ['functions', 'stacks', 'portal'].flatMap((d) => sources(join(ROOT, d))).map((f) => relative(ROOT, f));

/** Code lines only: comments say `process.env` when they explain why it is not read. */
function codeLines(text: string): Array<{ n: number; line: string }> {
  const out: Array<{ n: number; line: string }> = [];
  let inBlock = false;
  text.split('\n').forEach((raw, i) => {
    let line = raw;
    if (inBlock) {
      const end = line.indexOf('*/');
      if (end < 0) return;
      line = line.slice(end + 2);
      inBlock = false;
    }
    line = line.replace(/\/\*.*?\*\//g, '');
    const start = line.indexOf('/*');
    if (start >= 0) { inBlock = true; line = line.slice(0, start); }
    line = line.replace(/(^|[^:])\/\/.*$/, '$1');
    out.push({ n: i + 1, line });
  });
  return out;
}

test('process.env is read only by the configuration module (and the provider process)', () => {
  assert.ok(files.length > 100, `walked only ${files.length} files`);
  const found = files.filter((f) => !READS_ENV.has(f)).flatMap((f) =>
    codeLines(readFileSync(join(ROOT, f), 'utf8')).filter((l) => /\bprocess\.env\b/.test(l.line)).map((l) => `${f}:${l.n}: ${l.line.trim()}`));
  assert.equal(found, [], `process.env outside functions/runtime/config.ts:\n  ${found.join('\n  ')}`);
});

test('no module-level let in functions/', () => {
  const found = files.filter((f) => f.startsWith('functions/')).flatMap((f) =>
    codeLines(readFileSync(join(ROOT, f), 'utf8')).filter((l) => /^(export\s+)?(let|var)\s/.test(l.line)).map((l) => `${f}:${l.n}: ${l.line.trim()}`));
  assert.equal(found, [], `module-level mutable bindings:\n  ${found.join('\n  ')}`);
});

/** Module-level containers that fill at run time (caches, registries); constant lookup tables are read-only types. */
const MUTABLE_CONTAINER = /^(export\s+)?const\s+\w+\s*=\s*new\s+(Map|Set|WeakMap|WeakSet|Registry)\b/;

test('no module-level caches or registries in functions/ (state lives on objects the composition root makes)', () => {
  const found = files.filter((f) => f.startsWith('functions/')).flatMap((f) =>
    codeLines(readFileSync(join(ROOT, f), 'utf8')).filter((l) => MUTABLE_CONTAINER.test(l.line)).map((l) => `${f}:${l.n}: ${l.line.trim()}`));
  assert.equal(found, [], `module-level mutable containers (type them ReadonlyMap/ReadonlySet if they are constant):\n  ${found.join('\n  ')}`);
});

test('the checks see what they look for', () => {
  assert.equal(codeLines('const a = process.env.X; // process.env\n/* process.env */ let b = 1;').map((l) => l.line.trim()), ['const a = process.env.X;', 'let b = 1;']);
  assert.ok(/^(export\s+)?(let|var)\s/.test('let shared: Promise<void> | undefined;'));
  assert.not.ok(/^(export\s+)?(let|var)\s/.test('  let inner = 1;'));
  assert.ok(MUTABLE_CONTAINER.test('const created = new WeakMap<StorageConfig, Map<string, Promise<void>>>();'));
  assert.not.ok(MUTABLE_CONTAINER.test('const KINDS: ReadonlySet<string> = new Set([\'a\']);'));
});

test.run();
