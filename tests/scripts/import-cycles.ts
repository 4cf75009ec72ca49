// Runtime import cycles among the TypeScript sources under some directories. A runtime import is
// one that survives compilation: `import type`, `export type` and imports whose every named
// specifier is `type` are erased (tsx/esbuild drop them), so they cannot create a cycle. Dynamic
// `import()` is lazy and does not take part in module evaluation order, so it is left out too.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const SOURCE = /\.(ts|tsx|mts|cts)$/;
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git']);

/** Every TypeScript source under `dir` (declaration files excluded). */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) {
      if (!SKIP_DIRS.has(name)) out.push(...sourceFiles(full));
    } else if (SOURCE.test(name) && !name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

function typeOnlyNamed(bindings: ts.NamedImportBindings | ts.NamedExportBindings | undefined): boolean {
  return !!bindings && ts.isNamedImports(bindings) ? bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly)
    : !!bindings && ts.isNamedExports(bindings) ? bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly)
    : false;
}

/** The module specifiers of `file`'s runtime (non-type-only, static) imports and re-exports. */
export function runtimeSpecifiers(file: string, text = readFileSync(file, 'utf8')): string[] {
  return specifiers(file, text, false);
}

/**
 * The module specifiers of every static import and re-export of `file`, type-only ones too: a
 * cycle of types is no runtime hazard, but two modules that need each other's declarations are
 * one module in two files (e.g. an app and the route modules it mounts).
 */
export function allSpecifiers(file: string, text = readFileSync(file, 'utf8')): string[] {
  return specifiers(file, text, true);
}

function specifiers(file: string, text: string, types: boolean): string[] {
  const kind = file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, kind);
  const out: string[] = [];
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      const clause = st.importClause;
      // `import 'x'` is a side effect import: always runtime.
      if (!types && clause && (clause.isTypeOnly || (!clause.name && typeOnlyNamed(clause.namedBindings)))) continue;
      out.push(st.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) {
      if (!types && (st.isTypeOnly || typeOnlyNamed(st.exportClause))) continue;
      out.push(st.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(st) && (types || !st.isTypeOnly) && ts.isExternalModuleReference(st.moduleReference)) {
      const e = st.moduleReference.expression;
      if (ts.isStringLiteral(e)) out.push(e.text);
    }
  }
  return out;
}

/** A relative specifier to the source file it names, or undefined (packages, assets, missing files). */
function resolveSpecifier(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  const candidates = [base];
  // NodeNext style: `./x.js` names `./x.ts` (or `.tsx`), `.mjs` names `.mts`, `.cjs` names `.cts`.
  const js = /\.(m|c)?js$/.exec(base);
  if (js) candidates.push(`${base.slice(0, js.index)}.${js[1] ?? ''}ts`, `${base.slice(0, js.index)}.tsx`);
  if (!extname(base)) candidates.push(`${base}.ts`, `${base}.tsx`, join(base, 'index.ts'), join(base, 'index.tsx'));
  return candidates.find((c) => SOURCE.test(c) && isFile(c));
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The runtime import graph of every source under `dirs`, following imports wherever they lead. */
export function runtimeGraph(dirs: string[]): Map<string, string[]> {
  return importGraph(dirs, runtimeSpecifiers);
}

/** The import graph of every source under `dirs` by `specifiersOf` (runtime, or all imports). */
export function importGraph(dirs: string[], specifiersOf: (file: string) => string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const todo = dirs.flatMap(sourceFiles);
  while (todo.length) {
    const file = todo.pop()!;
    if (graph.has(file)) continue;
    const deps = [...new Set(specifiersOf(file).map((s) => resolveSpecifier(file, s)).filter((f): f is string => !!f))].sort();
    graph.set(file, deps);
    todo.push(...deps.filter((d) => !graph.has(d)));
  }
  return graph;
}

/**
 * One cycle per strongly connected component of more than one module (or a module importing
 * itself), as `a -> b -> a` with paths relative to `root`, sorted. Iterative Tarjan: no recursion
 * limit on deep graphs.
 */
export function importCycles(graph: Map<string, string[]>, root: string): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const sccs: string[][] = [];
  let next = 0;
  for (const start of [...graph.keys()].sort()) {
    if (index.has(start)) continue;
    const work: { node: string; i: number }[] = [{ node: start, i: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const top = work[work.length - 1]!;
      const deps = graph.get(top.node) ?? [];
      if (top.i < deps.length) {
        const d = deps[top.i++]!;
        if (!index.has(d)) {
          index.set(d, next);
          low.set(d, next++);
          stack.push(d);
          onStack.add(d);
          work.push({ node: d, i: 0 });
        } else if (onStack.has(d)) low.set(top.node, Math.min(low.get(top.node)!, index.get(d)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1]!.node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) === index.get(top.node)) {
        const scc: string[] = [];
        let n: string;
        do {
          n = stack.pop()!;
          onStack.delete(n);
          scc.push(n);
        } while (n !== top.node);
        if (scc.length > 1 || (graph.get(top.node) ?? []).includes(top.node)) sccs.push(scc);
      }
    }
  }
  return sccs.map((scc) => cycleIn(scc, graph).map((f) => relative(root, f)).join(' -> ')).sort();
}

/** A concrete cycle through the component's first module (by name), found breadth-first. */
function cycleIn(scc: string[], graph: Map<string, string[]>): string[] {
  const members = new Set(scc);
  const start = [...scc].sort()[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  for (let q = 0; q < queue.length; q++) {
    const cur = queue[q]!;
    for (const d of graph.get(cur) ?? []) {
      if (!members.has(d)) continue;
      if (d === start) {
        const path = [start];
        for (let p: string | undefined = cur; p !== undefined && p !== start; p = prev.get(p)) path.splice(1, 0, p);
        return [...path, start];
      }
      if (!prev.has(d)) {
        prev.set(d, cur);
        queue.push(d);
      }
    }
  }
  return [start, start];
}
