// Azure's built-in policy and policy set definitions, read from caches in ARM's shape (one JSON file
// per definition, named by its GUID): the shipped read-only copy first, then a writable cache that
// functions/platform/builtin-policies.ts fills from Azure. Files are read on first use only.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PolicyDefinitionFile, PolicySetDefinitionFile } from './library/alz-schemas.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The settings the compiler's folders may come from (NEXUS_ALZ_LIBRARY, NEXUS_BUILTIN_POLICIES,
 * NEXUS_BUILTIN_CACHE, NEXUS_ROOT_MG, NEXUS_LOCATION...), handed in by the caller: the runtime
 * passes its validated configuration's; without any, the shipped defaults.
 */
export type CompileEnv = Readonly<Record<string, string | undefined>>;

/** The shipped, read-only copy (NEXUS_BUILTIN_POLICIES). */
export function builtinPoliciesDir(env: CompileEnv = {}): string {
  return resolve(REPO_ROOT, env.NEXUS_BUILTIN_POLICIES ?? '../shared/azure-builtin-policies');
}

/** The writable cache of built-ins read from Azure (NEXUS_BUILTIN_CACHE, else ~/.cache/nexus/builtin-policies). */
export function builtinCacheDir(env: CompileEnv = {}): string {
  return resolve(env.NEXUS_BUILTIN_CACHE || join(homedir(), '.cache', 'nexus', 'builtin-policies'));
}

const BUILTIN_ID = /^\/providers\/Microsoft\.Authorization\/(policyDefinitions|policySetDefinitions)\/([^/]+)$/i;

export function isBuiltinPolicyId(id: string): boolean {
  return BUILTIN_ID.test(id);
}

export type BuiltinFolder = 'policyDefinitions' | 'policySetDefinitions';

/** Folder and name of a built-in id, or undefined when the id is not a built-in's. */
export function parseBuiltinId(id: string): { folder: BuiltinFolder; name: string } | undefined {
  const m = BUILTIN_ID.exec(id);
  if (!m) return undefined;
  return { folder: m[1]!.toLowerCase() === 'policydefinitions' ? 'policyDefinitions' : 'policySetDefinitions', name: m[2]! };
}

/** Where a built-in lives inside a cache directory: `<dir>/<folder>/<name lowercased>.json`. */
export function builtinFile(dir: string, folder: BuiltinFolder, name: string): string {
  return join(dir, folder, `${name.toLowerCase()}.json`);
}

export type Builtin =
  | { kind: 'policyDefinition'; id: string; file: string; value: PolicyDefinitionFile }
  | { kind: 'policySetDefinition'; id: string; file: string; value: PolicySetDefinitionFile };

export class BuiltinCache {
  private readonly cache = new Map<string, Builtin | null>();
  private readonly missed = new Map<string, string>();
  /** Directories searched in order; the last one is the writable cache when there are several. */
  readonly dirs: string[];

  constructor(dirs: string | string[] = [builtinPoliciesDir(), builtinCacheDir()]) {
    this.dirs = typeof dirs === 'string' ? [dirs] : dirs;
  }

  /**
   * Ids looked up and found in no directory (original spelling), for fetching them from Azure. A GUID
   * is tried as a set and as a definition; the kind that was found makes the other no miss.
   */
  misses(): string[] {
    const found = new Set([...this.cache].filter(([, v]) => v).map(([k]) => k.slice(k.lastIndexOf('/') + 1)));
    return [...this.missed].filter(([k]) => !found.has(k.slice(k.lastIndexOf('/') + 1))).map(([, id]) => id);
  }

  /** The built-in with this id, or undefined when no cache directory holds it. */
  get(id: string): Builtin | undefined {
    const key = id.toLowerCase();
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit ?? undefined;
    const parsed = parseBuiltinId(id);
    let found: Builtin | null = null;
    if (parsed) {
      for (const dir of this.dirs) {
        found = readBuiltin(builtinFile(dir, parsed.folder, parsed.name), parsed.folder, id);
        if (found) break;
      }
      if (!found) this.missed.set(key, id);
    }
    this.cache.set(key, found);
    return found ?? undefined;
  }
}

function readBuiltin(file: string, folder: BuiltinFolder, id: string): Builtin | null {
  if (!existsSync(file)) return null;
  try {
    const value = JSON.parse(readFileSync(file, 'utf8'));
    if (!value?.properties) return null;
    return folder === 'policyDefinitions' ? { kind: 'policyDefinition', id, file, value } : { kind: 'policySetDefinition', id, file, value };
  } catch {
    // A broken cache entry counts as missing: the caller warns that the built-in is unchecked.
    return null;
  }
}
