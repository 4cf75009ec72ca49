// Azure built-in policy definitions and set definitions read from ARM into the writable built-in
// cache, in ARM's shape and in the shipped cache's layout (`<dir>/<folder>/<name lowercased>.json`),
// so the compiler checks their parameters and roles like the shipped ones.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { armRequest, type ArmConfig } from './arm.ts';
import { builtinFile, parseBuiltinId } from '../../stacks/compile/builtins.ts';
import { compileWithBuiltins, type Compilation, type CompileOptions } from '../../stacks/compile/index.ts';
import type { Finding } from '../../stacks/compile/model.ts';
import { mapLimit } from './map-limit.ts';

export const BUILTIN_POLICY_API_VERSION = '2023-04-01';
/** Built-in names are GUIDs (a few older ones are words): nothing that could leave the cache folder. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export interface BuiltinFetchResult {
  /** Ids written into the cache. */
  fetched: string[];
  /** Ids ARM does not know (404): they stay `builtin-not-cached` warnings. */
  notFound: string[];
  /** Requests that failed otherwise (auth, throttling, network): warnings naming the request. */
  findings: Finding[];
}

export interface BuiltinFetchOptions {
  cfg: ArmConfig;
  /** Parallel GETs; ARM throttles per principal, so keep it small. */
  concurrency?: number;
  /**
   * Ids ARM answered 404 for, kept by the caller across compiles (the reconciler keeps one), so a
   * reconcile pass does not ask again.
   */
  unknownToArm?: Set<string>;
}

/** GETs each built-in from ARM and writes it into the writable cache `dir`. Never throws for one bad id. */
export async function fetchBuiltinPolicies(ids: string[], dir: string, opts: BuiltinFetchOptions): Promise<BuiltinFetchResult> {
  const out: BuiltinFetchResult = { fetched: [], notFound: [], findings: [] };
  const unique = [...new Map(ids.map((id) => [id.toLowerCase(), id])).values()];
  await mapLimit(unique, opts.concurrency ?? 4, (id) => fetchOne(id, dir, opts.cfg, out));
  return out;
}

async function fetchOne(id: string, dir: string, cfg: ArmConfig, out: BuiltinFetchResult): Promise<void> {
  const parsed = parseBuiltinId(id);
  const warn = (message: string) => out.findings.push({ severity: 'warning', code: 'builtin-fetch-failed', file: '', path: id, message });
  if (!parsed || !SAFE_NAME.test(parsed.name)) return void warn(`not a built-in policy id: ${id}`);
  const path = `/providers/Microsoft.Authorization/${parsed.folder}/${encodeURIComponent(parsed.name)}`;
  const request = `GET ${path}?api-version=${BUILTIN_POLICY_API_VERSION}`;
  let res;
  try {
    res = await armRequest('GET', path, { apiVersion: BUILTIN_POLICY_API_VERSION, cfg });
  } catch (e) {
    return void warn(`${request} failed: ${(e as Error).message}; built-in ${id} stays unchecked`);
  }
  if (res.status === 404) return void out.notFound.push(id);
  const body = res.body as { id?: string; type?: string; name?: string; properties?: Record<string, unknown>; error?: { message?: string } } | undefined;
  if (res.status !== 200 || !body?.properties) {
    const why = body?.error?.message ?? (res.status === 200 ? 'the response has no properties' : `status ${res.status}`);
    return void warn(`${request} returned ${res.status}: ${why}; built-in ${id} stays unchecked`);
  }
  const file = builtinFile(dir, parsed.folder, parsed.name);
  const doc = { id: body.id ?? id, type: body.type ?? `Microsoft.Authorization/${parsed.folder}`, name: body.name ?? parsed.name, properties: body.properties };
  try {
    mkdirSync(dirname(file), { recursive: true });
    // Write then rename: a concurrent compiler never reads half a file.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(doc, null, 1));
    renameSync(tmp, file);
  } catch (e) {
    return void warn(`cannot write built-in cache file ${file}: ${(e as Error).message}`);
  }
  out.fetched.push(id);
}

/**
 * Compiles with built-ins missing from both caches read from ARM (NEXUS_ARM_ENDPOINT, or Azure) into
 * the writable cache, recompiling when anything was fetched. For the reconciler and the CLI.
 */
export function compileWithAzureBuiltins(opts: CompileOptions, fetch: BuiltinFetchOptions): Promise<Compilation> {
  const unknown = fetch.unknownToArm;
  return compileWithBuiltins(opts, async (ids, dir) => {
    const got = await fetchBuiltinPolicies(ids.filter((id) => !unknown?.has(id.toLowerCase())), dir, fetch);
    for (const id of got.notFound) unknown?.add(id.toLowerCase());
    return got;
  });
}
