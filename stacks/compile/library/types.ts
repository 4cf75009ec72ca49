// The loaded libraries: every definition by name, with the file it came from.
import type { Finding } from '../model.ts';
import type {
  ArchetypeDefinitionFile,
  ArchetypeOverrideFile,
  ArchitectureFile,
  PolicyAssignmentFile,
  PolicyDefinitionFile,
  PolicySetDefinitionFile,
  RoleDefinitionFile,
} from './alz-schemas.ts';
import type { NexusArchetype, NexusArchitecture } from './nexus-schemas.ts';

export interface Located<T> {
  value: T;
  file: string;
  /** The library directory the file belongs to. */
  library: string;
}

export type ArchetypeSource =
  | { kind: 'alz'; name: string; file: string; value: ArchetypeDefinitionFile }
  | { kind: 'alz-override'; name: string; file: string; value: ArchetypeOverrideFile }
  | { kind: 'nexus'; name: string; file: string; value: NexusArchetype };

export type ArchitectureSource =
  | { kind: 'alz'; name: string; file: string; value: ArchitectureFile }
  | { kind: 'nexus'; name: string; file: string; value: NexusArchitecture };

/** One ALZ policy default: which assignment parameters take its value. */
export interface DefaultMapping {
  name: string;
  file: string;
  targets: { assignment: string; parameters: string[] }[];
}

export interface Library {
  /** Library directories in load order (dependencies first). */
  dirs: string[];
  policyDefinitions: Map<string, Located<PolicyDefinitionFile>>;
  policySetDefinitions: Map<string, Located<PolicySetDefinitionFile>>;
  /** Keyed by roleName, the name archetypes use. */
  roleDefinitions: Map<string, Located<RoleDefinitionFile>>;
  policyAssignments: Map<string, Located<PolicyAssignmentFile>>;
  archetypes: Map<string, ArchetypeSource>;
  architectures: Map<string, ArchitectureSource>;
  defaults: Map<string, DefaultMapping>;
  /** Findings raised while loading (duplicate names, skipped documents). */
  findings: Finding[];
  fileCount: number;
}

export function emptyLibrary(): Library {
  return {
    dirs: [],
    policyDefinitions: new Map(),
    policySetDefinitions: new Map(),
    roleDefinitions: new Map(),
    policyAssignments: new Map(),
    archetypes: new Map(),
    architectures: new Map(),
    defaults: new Map(),
    findings: [],
    fileCount: 0,
  };
}
