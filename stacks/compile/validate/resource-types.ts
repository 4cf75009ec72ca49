// spec.resources: every type must be an azure-native resource class the program can create,
// `azure-native:<module>:<Resource>`, and @pulumi/azure-native must export that class. Checked
// against the package's type declarations (a file read per module) rather than by loading the SDK,
// which takes seconds; the program loads the module when it runs.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Finding } from '../model.ts';
import type { ValidationInput } from './index.ts';

const TOKEN = /^azure-native:([a-z0-9]+):([A-Z][A-Za-z0-9]*)$/;

let packageDir: string | null | undefined;
function azureNativeDir(): string | null {
  if (packageDir === undefined) {
    try {
      packageDir = dirname(createRequire(import.meta.url).resolve('@pulumi/azure-native'));
    } catch {
      packageDir = null;
    }
  }
  return packageDir;
}

const moduleExports = new Map<string, Set<string> | null>();
/** Resource classes a module of @pulumi/azure-native exports; null when there is no such module. */
export function azureNativeClasses(mod: string): Set<string> | null | undefined {
  const dir = azureNativeDir();
  if (!dir) return undefined; // the package is not installed: only the shape is checked
  if (!moduleExports.has(mod)) {
    const file = join(dir, mod, 'index.d.ts');
    let classes: Set<string> | null = null;
    if (existsSync(file)) {
      // `export declare const StorageAccount: typeof import("./storageAccount").StorageAccount;` declares a class
      // (functions start lowercase; enums live in types/enums).
      classes = new Set([...readFileSync(file, 'utf8').matchAll(/^export declare const ([A-Z]\w*): typeof import\("\.\/\w+"\)\.\1;$/gm)].map((m) => m[1]!));
    }
    moduleExports.set(mod, classes);
  }
  return moduleExports.get(mod);
}

/** The problem with a type token, or undefined when azure-native has that resource class. */
export function resourceTypeProblem(type: string): string | undefined {
  const m = TOKEN.exec(type);
  if (!m) return `type "${type}" is not an azure-native resource type: expected azure-native:<module>:<Resource>, e.g. azure-native:resources:ResourceGroup`;
  const [, mod, cls] = m;
  const classes = azureNativeClasses(mod!);
  if (classes === null) return `type "${type}": @pulumi/azure-native has no module "${mod}"`;
  if (classes && !classes.has(cls!)) {
    const near = [...classes].filter((c) => c.toLowerCase() === cls!.toLowerCase());
    return `type "${type}": @pulumi/azure-native module "${mod}" has no resource ${cls}${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}`;
  }
  return undefined;
}

export function resourceTypes({ placed, findings }: ValidationInput): void {
  const seen = new Set<string>();
  for (const pg of placed) {
    for (const item of pg.eg.content.resources.values()) {
      const key = `${item.origin.file}|${item.origin.path}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const problem = resourceTypeProblem(item.spec.type);
      if (problem) findings.push(finding(item.origin.file, `${item.origin.path}.type`, `resource "${item.name}": ${problem}`));
    }
  }
}

function finding(file: string, path: string, message: string): Finding {
  return { severity: 'error', code: 'unknown-resource-type', file, path, message };
}
