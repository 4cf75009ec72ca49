// Azure's built-in policy and policy set definitions, read from a cache in ARM's shape
// (one JSON file per definition, named by its GUID). Files are read on first use only.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PolicyDefinitionFile, PolicySetDefinitionFile } from './library/alz-schemas.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export function builtinPoliciesDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(REPO_ROOT, env.NEXUS_BUILTIN_POLICIES ?? '../shared/azure-builtin-policies');
}

const BUILTIN_ID = /^\/providers\/Microsoft\.Authorization\/(policyDefinitions|policySetDefinitions)\/([^/]+)$/i;

export function isBuiltinPolicyId(id: string): boolean {
  return BUILTIN_ID.test(id);
}

export type Builtin =
  | { kind: 'policyDefinition'; id: string; file: string; value: PolicyDefinitionFile }
  | { kind: 'policySetDefinition'; id: string; file: string; value: PolicySetDefinitionFile };

export class BuiltinCache {
  private readonly cache = new Map<string, Builtin | null>();
  constructor(readonly dir: string = builtinPoliciesDir()) {}

  /** The built-in with this id, or undefined when the cache does not hold it. */
  get(id: string): Builtin | undefined {
    const key = id.toLowerCase();
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit ?? undefined;
    const m = BUILTIN_ID.exec(id);
    let found: Builtin | null = null;
    if (m) {
      const folder = m[1]!.toLowerCase() === 'policydefinitions' ? 'policyDefinitions' : 'policySetDefinitions';
      const file = join(this.dir, folder, `${m[2]!.toLowerCase()}.json`);
      if (existsSync(file)) {
        try {
          const value = JSON.parse(readFileSync(file, 'utf8'));
          if (value?.properties) {
            found = folder === 'policyDefinitions'
              ? { kind: 'policyDefinition', id, file, value }
              : { kind: 'policySetDefinition', id, file, value };
          }
        } catch {
          // A broken cache entry counts as missing: the caller warns that the built-in is unchecked.
        }
      }
    }
    this.cache.set(key, found);
    return found ?? undefined;
  }
}
