// One compiler for both desired-state sources: the default tenant's options with the archetypes
// read from a given folder (this package's archetypes/, or a repository snapshot), built-ins
// missing from the caches read from ARM, as functions/reconcile/deps.ts compiles today.
import type { DesiredState } from '../../stacks/compile/model.ts';
import { tenantOptionsFor } from '../../stacks/compile/index.ts';
import type { CompileEnv } from '../../stacks/compile/builtins.ts';
import type { ArmConfig } from '../platform/arm.ts';
import { compileWithAzureBuiltins } from '../platform/builtin-policies.ts';

/** The desired state of the default tenant with its archetypes read from `dir`. */
export type CompileArchetypes = (dir: string) => Promise<DesiredState>;

export interface ArchetypeCompilerParts {
  /** The engine's environment record (config.engine.env): library folders, root group, location. */
  env: CompileEnv;
  arm: ArmConfig;
  /** Ids ARM answered 404 for, kept across compiles so a pass does not ask again. */
  unknownToArm?: Set<string>;
}

export function azureArchetypeCompiler(parts: ArchetypeCompilerParts): CompileArchetypes {
  const unknownToArm = parts.unknownToArm ?? new Set<string>();
  return async (dir) => (await compileWithAzureBuiltins(tenantOptionsFor(dir, parts.env), { cfg: parts.arm, unknownToArm })).state;
}
