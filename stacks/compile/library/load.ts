// Loads library directories (ALZ format and Nexus YAML side by side) with their declared dependencies.
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve, sep } from 'node:path';
import { InputError } from '../errors.ts';
import {
  archetypeDefinitionFile,
  archetypeOverrideFile,
  architectureFile,
  libraryMetadataFile,
  policyAssignmentFile,
  policyDefaultValuesFile,
  policyDefinitionFile,
  policySetDefinitionFile,
  roleDefinitionFile,
} from './alz-schemas.ts';
import { nexusArchetype, nexusArchitecture } from './nexus-schemas.ts';
import { parseShape, readDocuments } from './read-file.ts';
import { emptyLibrary, type Library, type Located } from './types.ts';

const ALZ_FILE = /\.alz_(archetype_definition|archetype_override|architecture_definition|policy_assignment|policy_definition|policy_set_definition|role_definition)\.(json|ya?ml)$/i;
const DEFAULTS_FILE = /^alz_policy_default_values\.(json|ya?ml)$/i;
const METADATA_FILE = 'alz_library_metadata.json';
/** Nexus kinds that other parts of Nexus read from the same folders. */
const OTHER_NEXUS_KINDS = new Set(['Guardrails', 'Guardrail', 'GuardrailPolicy', 'Settings']);

/** Loads the libraries in order; each library's dependencies are loaded before it, once. */
export function loadLibraries(dirs: string[]): Library {
  const lib = emptyLibrary();
  const seen = new Set<string>();
  for (const dir of dirs) loadWithDependencies(resolve(dir), lib, seen, []);
  return lib;
}

function loadWithDependencies(dir: string, lib: Library, seen: Set<string>, chain: string[]): void {
  if (!isDirectory(dir)) {
    const from = chain.at(-1);
    throw new InputError(from ? join(from, METADATA_FILE) : dir, from ? 'dependencies' : '', `library directory not found: ${dir}`);
  }
  let real: string;
  try {
    real = realpathSync(dir);
  } catch (err) {
    throw unreadable(dir, err);
  }
  if (seen.has(real)) return;
  seen.add(real);
  const metaFile = join(dir, METADATA_FILE);
  if (existsSync(metaFile)) {
    const [doc] = readDocuments(metaFile);
    const meta = parseShape(libraryMetadataFile, doc, metaFile, 'library metadata file');
    meta.dependencies.forEach((dep, i) => {
      const ref = 'path' in dep ? String(dep.path) : String(dep.custom_url);
      const field = `dependencies[${i}].${'path' in dep ? 'path' : 'custom_url'}`;
      loadWithDependencies(dependencyDir(dir, meta.path, ref, metaFile, field), lib, seen, [...chain, dir]);
    });
  }
  loadDirectory(dir, lib);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
    throw unreadable(path, err);
  }
}

/** A file system error (permissions, I/O) as bad input naming the path, never a stack trace. */
function unreadable(path: string, err: unknown): InputError {
  const e = err as NodeJS.ErrnoException;
  return new InputError(path, '', `cannot read library directory: ${e.code ?? 'error'}${e.code === 'EACCES' || e.code === 'EPERM' ? ' (permission denied)' : ''}`);
}

/** A dependency is a local path: absolute, relative to the library, or relative to the library repository root. */
function dependencyDir(dir: string, ownPath: string | undefined, ref: string, metaFile: string, field: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(ref) && !ref.startsWith('file://')) {
    throw new InputError(metaFile, field, `only local library paths are supported, not ${ref}`);
  }
  const p = ref.replace(/^file:\/\//, '');
  const candidates = isAbsolute(p) ? [p] : [resolve(dir, p)];
  if (!isAbsolute(p) && ownPath) {
    const own = ownPath.split('/').filter(Boolean);
    const parts = dir.split(sep);
    if (own.length && parts.slice(-own.length).join('/') === own.join('/')) {
      candidates.push(resolve(parts.slice(0, -own.length).join(sep) || sep, p));
    }
  }
  const found = candidates.find((c) => isDirectory(c));
  if (!found) throw new InputError(metaFile, field, `no library directory at ${candidates.join(' or ')}`);
  return found;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch (err) {
      throw unreadable(d, err);
    }
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) out.push(full);
    }
  };
  walk(dir);
  return out.sort();
}

function loadDirectory(dir: string, lib: Library): void {
  lib.dirs.push(dir);
  for (const file of listFiles(dir)) {
    const base = basename(file);
    const alz = ALZ_FILE.exec(base);
    if (alz) {
      lib.fileCount++;
      loadAlzFile(alz[1]!.toLowerCase(), file, dir, lib);
    } else if (DEFAULTS_FILE.test(base)) {
      lib.fileCount++;
      loadDefaults(file, lib);
    } else if (/\.ya?ml$/i.test(base)) {
      loadNexusFile(file, dir, lib);
    }
  }
}

function put<T>(map: Map<string, Located<T>>, key: string, value: T, file: string, library: string, lib: Library, what: string): void {
  const prior = map.get(key);
  if (prior) {
    lib.findings.push({
      severity: 'error',
      code: 'duplicate-name',
      file,
      path: 'name',
      message: `${what} "${key}" is already defined in ${prior.file}`,
    });
    return;
  }
  map.set(key, { value, file, library });
}

function loadAlzFile(kind: string, file: string, dir: string, lib: Library): void {
  const [doc] = readDocuments(file);
  switch (kind) {
    case 'policy_definition': {
      const v = parseShape(policyDefinitionFile, doc, file, 'policy definition');
      return put(lib.policyDefinitions, v.name, v, file, dir, lib, 'policy definition');
    }
    case 'policy_set_definition': {
      const v = parseShape(policySetDefinitionFile, doc, file, 'policy set definition');
      return put(lib.policySetDefinitions, v.name, v, file, dir, lib, 'policy set definition');
    }
    case 'role_definition': {
      const v = parseShape(roleDefinitionFile, doc, file, 'role definition');
      return put(lib.roleDefinitions, v.properties.roleName, v, file, dir, lib, 'role definition');
    }
    case 'policy_assignment': {
      const v = parseShape(policyAssignmentFile, doc, file, 'policy assignment');
      return put(lib.policyAssignments, v.name, v, file, dir, lib, 'policy assignment');
    }
    case 'archetype_definition': {
      const v = parseShape(archetypeDefinitionFile, doc, file, 'archetype definition');
      return addArchetype(lib, { kind: 'alz', name: v.name, file, value: v });
    }
    case 'archetype_override': {
      const v = parseShape(archetypeOverrideFile, doc, file, 'archetype override');
      return addArchetype(lib, { kind: 'alz-override', name: v.name, file, value: v });
    }
    case 'architecture_definition': {
      const v = parseShape(architectureFile, doc, file, 'architecture definition');
      return addArchitecture(lib, { kind: 'alz', name: v.name, file, value: v });
    }
  }
}

function addArchetype(lib: Library, src: Library['archetypes'] extends Map<string, infer S> ? S : never): void {
  const prior = lib.archetypes.get(src.name);
  if (prior) {
    lib.findings.push({ severity: 'error', code: 'duplicate-name', file: src.file, path: src.kind === 'nexus' ? 'metadata.name' : 'name', message: `archetype "${src.name}" is already defined in ${prior.file}` });
    return;
  }
  lib.archetypes.set(src.name, src);
}

function addArchitecture(lib: Library, src: Library['architectures'] extends Map<string, infer S> ? S : never): void {
  const prior = lib.architectures.get(src.name);
  if (prior) {
    lib.findings.push({ severity: 'error', code: 'duplicate-name', file: src.file, path: src.kind === 'nexus' ? 'metadata.name' : 'name', message: `architecture "${src.name}" is already defined in ${prior.file}` });
    return;
  }
  lib.architectures.set(src.name, src);
}

function loadDefaults(file: string, lib: Library): void {
  const [doc] = readDocuments(file);
  const v = parseShape(policyDefaultValuesFile, doc, file, 'policy default values file');
  v.defaults.forEach((d, i) => {
    if (lib.defaults.has(d.default_name)) {
      lib.findings.push({ severity: 'error', code: 'duplicate-name', file, path: `defaults[${i}].default_name`, message: `policy default "${d.default_name}" is already defined in ${lib.defaults.get(d.default_name)!.file}` });
      return;
    }
    lib.defaults.set(d.default_name, {
      name: d.default_name,
      file,
      targets: d.policy_assignments.map((a) => ({ assignment: a.policy_assignment_name, parameters: a.parameter_names })),
    });
  });
}

function loadNexusFile(file: string, dir: string, lib: Library): void {
  const docs = readDocuments(file);
  docs.forEach((doc, i) => {
    if (typeof doc !== 'object' || doc === null || (doc as { apiVersion?: unknown }).apiVersion !== 'nexus/v1') return;
    lib.fileCount++;
    const kind = (doc as { kind?: unknown }).kind;
    const where = docs.length > 1 ? ` (document ${i + 1})` : '';
    if (kind === 'Archetype') {
      const v = parseShape(nexusArchetype, doc, file + where, 'Nexus archetype');
      addArchetype(lib, { kind: 'nexus', name: v.metadata.name, file, value: v });
    } else if (kind === 'Architecture') {
      const v = parseShape(nexusArchitecture, doc, file + where, 'Nexus architecture');
      addArchitecture(lib, { kind: 'nexus', name: v.metadata.name, file, value: v });
    } else if (!OTHER_NEXUS_KINDS.has(String(kind))) {
      lib.findings.push({ severity: 'warning', code: 'unknown-kind', file, path: 'kind', message: `unknown kind "${String(kind)}" for apiVersion nexus/v1; the compiler reads Archetype and Architecture` });
    }
  });
}
