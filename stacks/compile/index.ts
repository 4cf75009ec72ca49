// The compiler: libraries -> architecture -> effective archetypes -> placed resources -> DesiredState.
import { resolve } from 'node:path';
import { BuiltinCache, REPO_ROOT, builtinCacheDir, builtinPoliciesDir, type CompileEnv } from './builtins.ts';
import { buildDesiredState, type GroupOutput } from './desired-state.ts';
import { InputError } from './errors.ts';
import { placeExemptions } from './exemptions.ts';
import { buildHierarchy, type Hierarchy, type HierarchyOptions } from './hierarchy.ts';
import { loadLibraries } from './library/load.ts';
import type { Library } from './library/types.ts';
import type { DesiredState, Finding } from './model.ts';
import { Placer, type PlacedGroup } from './placeholders.ts';
import { DefinitionIndex } from './policy-model.ts';
import { resolveGroups, type EffectiveGroup } from './resolve.ts';
import { policyRoleAssignments, rbacRoleAssignments } from './role-assignments.ts';
import { runValidation } from './validate/index.ts';

export type { DesiredState, DesiredResource, Finding, StackPlan } from './model.ts';
export { InputError } from './errors.ts';

export interface CompileOptions extends HierarchyOptions {
  /** Library directories (ALZ format and/or Nexus YAML); default: the ALZ library and archetypes/. */
  libraries?: string[];
  /** Architecture name; default: the default tenant's, or the only one the libraries hold. */
  architecture?: string;
  /** The shipped, read-only built-in policy cache; default NEXUS_BUILTIN_POLICIES. */
  builtinPolicies?: string;
  /** The writable cache of built-ins read from Azure, searched after the shipped one; default NEXUS_BUILTIN_CACHE. */
  builtinCache?: string;
  /** The time exemptions' expiry is judged against; default: now. */
  now?: Date;
}

/** The built-in cache directories of a compilation: shipped first, writable last. */
export function builtinDirs(opts: CompileOptions = {}): { shipped: string; writable: string } {
  return {
    shipped: opts.builtinPolicies ? resolve(opts.builtinPolicies) : builtinPoliciesDir(),
    writable: opts.builtinCache ? resolve(opts.builtinCache) : builtinCacheDir(),
  };
}

export interface Compilation {
  library: Library;
  hierarchy: Hierarchy;
  groups: Map<string, EffectiveGroup>;
  placed: PlacedGroup[];
  index: DefinitionIndex;
  state: DesiredState;
}

export const DEFAULT_ARCHITECTURE = 'nexus-default';

export function alzLibraryDir(env: CompileEnv = {}): string {
  return resolve(REPO_ROOT, env.NEXUS_ALZ_LIBRARY ?? '../shared/alz-library/platform/alz');
}

export function archetypesDir(): string {
  return resolve(REPO_ROOT, 'archetypes');
}

export function defaultLibraries(env: CompileEnv = {}): string[] {
  return [alzLibraryDir(env), archetypesDir()];
}

export function pickArchitecture(lib: Library, requested?: string): string {
  if (requested) return requested;
  if (lib.architectures.has(DEFAULT_ARCHITECTURE)) return DEFAULT_ARCHITECTURE;
  const names = [...lib.architectures.keys()];
  if (names.length === 1) return names[0]!;
  throw new InputError('', 'architecture', names.length ? `several architectures (${names.join(', ')}): pass --architecture` : 'the libraries hold no architecture');
}

/** Loads, resolves, validates and compiles; synchronous (file reads only). Throws InputError on bad input. */
export function compile(opts: CompileOptions = {}): Compilation {
  const library = loadLibraries(opts.libraries?.length ? opts.libraries : defaultLibraries());
  const findings: Finding[] = [...library.findings];
  const hierarchy = buildHierarchy(library, pickArchitecture(library, opts.architecture), opts, findings);
  const groups = resolveGroups(library, hierarchy, findings);
  const dirs = builtinDirs(opts);
  const index = new DefinitionIndex(library, new BuiltinCache([dirs.shipped, dirs.writable]));
  const placer = new Placer(library, hierarchy, groups, index, findings);
  const placed = hierarchy.groups.map((g) => placer.place(groups.get(g.id)!));
  const byGroup = new Map(placed.map((pg) => [pg.eg.group.id, pg]));
  const exemptionCtx = { hierarchy, placed: byGroup, index, findings, now: opts.now ?? new Date(), placedIds: new Map<string, string>() };
  const outputs: GroupOutput[] = placed.map((pg) => ({
    placed: pg,
    roleAssignments: [...pg.assignments.flatMap((a) => policyRoleAssignments(a, index, findings)), ...rbacRoleAssignments(pg, hierarchy, placer, findings)],
    exemptions: placeExemptions(pg, exemptionCtx),
  }));
  runValidation({ library, hierarchy, placed, index, findings });
  const state = buildDesiredState(hierarchy, outputs, sortFindings(findings));
  return { library, hierarchy, groups, placed, index, state };
}

const RANK = { error: 0, warning: 1, info: 2 } as const;
function sortFindings(f: Finding[]): Finding[] {
  const seen = new Set<string>();
  return f
    .filter((x) => {
      const k = `${x.severity}|${x.file}|${x.path}|${x.message}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => RANK[a.severity] - RANK[b.severity] || a.file.localeCompare(b.file) || a.path.localeCompare(b.path));
}

/** Fetches built-ins into the writable cache `dir`; returns the ids it wrote and findings for failed requests. */
export type BuiltinFetcher = (ids: string[], dir: string) => Promise<{ fetched: string[]; findings: Finding[] }>;

/**
 * Compiles; when built-ins are in neither cache, fetches them into the writable cache and compiles
 * again. A fetched set's members show up as new misses of the next round, hence several rounds.
 * Built-ins that cannot be fetched stay warnings (`builtin-not-cached`), plus the fetcher's findings.
 */
export async function compileWithBuiltins(opts: CompileOptions, fetch: BuiltinFetcher, maxRounds = 3): Promise<Compilation> {
  const writable = builtinDirs(opts).writable;
  const tried = new Set<string>();
  const extra: Finding[] = [];
  let c = compile(opts);
  for (let round = 0; round < maxRounds; round++) {
    const ids = c.index.builtins.misses().filter((id) => !tried.has(id.toLowerCase()));
    if (!ids.length) break;
    for (const id of ids) tried.add(id.toLowerCase());
    const got = await fetch(ids, writable);
    extra.push(...got.findings);
    if (!got.fetched.length) break;
    c = compile(opts);
  }
  if (extra.length) c.state.findings = sortFindings([...c.state.findings, ...extra]);
  return c;
}

export async function compileTenant(opts: CompileOptions = {}): Promise<DesiredState> {
  return compile(opts).state;
}

/**
 * The shipped tenant: archetypes/ on top of the ALZ library at NEXUS_ALZ_LIBRARY. NEXUS_ROOT_MG (else
 * NEXUS_TENANT_ID, else NEXUS_ARM_TENANT_ID) and NEXUS_LOCATION override the architecture's root group and location.
 */
export function defaultTenantOptions(env: CompileEnv = {}): CompileOptions {
  return tenantOptionsFor(archetypesDir(), env);
}

/**
 * The default tenant's options with the archetypes read from `dir` instead of this package's
 * archetypes/ (the landing-zone repository at a commit, functions/gitops/repo-source.ts).
 */
export function tenantOptionsFor(dir: string, env: CompileEnv = {}): CompileOptions {
  return {
    libraries: [alzLibraryDir(env), resolve(dir)],
    architecture: DEFAULT_ARCHITECTURE,
    // The tenant root group's id is the tenant id (the ARM sandbox publishes its own as NEXUS_ARM_TENANT_ID).
    rootMg: env.NEXUS_ROOT_MG || env.NEXUS_TENANT_ID || env.NEXUS_ARM_TENANT_ID || undefined,
    location: env.NEXUS_LOCATION || undefined,
  };
}

export async function compileDefaultTenant(env: CompileEnv = {}): Promise<DesiredState> {
  return compile(defaultTenantOptions(env)).state;
}
