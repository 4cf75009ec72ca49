// No runtime import cycle among the sources of functions/, stacks/ and portal/: a cycle makes a
// module's exports `undefined` (or a TDZ error) depending on which side is loaded first.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allSpecifiers, importCycles, importGraph, runtimeGraph, runtimeSpecifiers } from './import-cycles.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Cycles known and accepted for now; each entry is one line of importCycles' output. Keep empty. */
const KNOWN: string[] = [];

test('no runtime import cycle under functions/, stacks/ or portal/', () => {
  const graph = runtimeGraph(['functions', 'stacks', 'portal'].map((d) => join(ROOT, d)));
  assert.ok(graph.size > 100, `walked only ${graph.size} modules`);
  const cycles = importCycles(graph, ROOT).filter((c) => !KNOWN.includes(c));
  assert.equal(cycles, [], `runtime import cycles:\n  ${cycles.join('\n  ')}`);
});

test('no import cycle through the API, type-only imports included (the app mounts its route modules; they never import it)', () => {
  const graph = importGraph([join(ROOT, 'functions', 'api')], allSpecifiers);
  const cycles = importCycles(graph, ROOT).filter((c) => c.includes('functions/api/'));
  assert.equal(cycles, [], `import cycles through functions/api:\n  ${cycles.join('\n  ')}`);
});

test('the walker: with types, a type-only back edge is a cycle', () => {
  const dir = tree({
    'app.ts': "import { routes } from './routes.ts';\nexport type App = { routes: typeof routes };\n",
    'routes.ts': "import type { App } from './app.ts';\nexport const routes = (app: App) => app;\n",
  });
  assert.equal(importCycles(runtimeGraph([dir]), dir), []);
  assert.equal(importCycles(importGraph([dir], allSpecifiers), dir), ['app.ts -> routes.ts -> app.ts']);
});

test('the walker: type-only imports and re-exports are erased; others, side-effect imports and re-exports count', () => {
  const f = 'x.ts';
  assert.equal(
    runtimeSpecifiers(
      f,
      [
        "import type { A } from './type-only.ts';",
        "import { type B, type C } from './all-specifiers-typed.ts';",
        "import { type D, e } from './one-value.ts';",
        "import f from './default.ts';",
        "import * as g from './namespace.ts';",
        "import './side-effect.ts';",
        "export type { H } from './export-type.ts';",
        "export { type I } from './export-typed-specifier.ts';",
        "export { j } from './export-value.ts';",
        "export * from './export-star.ts';",
        "const k = () => import('./dynamic.ts');",
      ].join('\n'),
    ),
    ['./one-value.ts', './default.ts', './namespace.ts', './side-effect.ts', './export-value.ts', './export-star.ts'],
  );
});

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-cycles-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

test('the walker finds a cycle through a re-export and a directory, and names it in order', () => {
  const dir = tree({
    'src/a.ts': "import { b } from './b.ts';\nexport const a = b;\n",
    'src/b.ts': "export { c as b } from './lib/c.js';\n",
    'src/lib/c.ts': "import { a } from '../a.ts';\nimport type { T } from '../t.ts';\nexport const c = () => a;\n",
    'src/t.ts': "import { c } from './lib/c.ts';\nexport type T = typeof c;\n",
    'src/self.ts': "import './self.ts';\n",
  });
  assert.equal(importCycles(runtimeGraph([join(dir, 'src')]), dir), ['src/a.ts -> src/b.ts -> src/lib/c.ts -> src/a.ts', 'src/self.ts -> src/self.ts']);
});

test('the walker: a type-only back edge is no cycle', () => {
  const dir = tree({
    'a.ts': "import { b } from './b.ts';\nexport type A = string;\nexport const a = b;\n",
    'b.ts': "import type { A } from './a.ts';\nexport const b: A = 'b';\n",
  });
  assert.equal(importCycles(runtimeGraph([dir]), dir), []);
});

test.run();
