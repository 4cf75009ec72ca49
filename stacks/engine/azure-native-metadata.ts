// What the production provider (@pulumi/azure-native) says about a resource type: its default REST
// API version and the properties whose change makes it replace the resource. The arm-rest backend
// takes both from here so local runs behave as runs against Azure do.
//
// Read from the installed package's generated sources, one module index and one class file per
// type, never by loading the package (it is over 100 MB):
// - `<module>/index.js` names the file of each class (`lazyLoad(exports, ["RoleAssignment"], () => require("./roleAssignment"))`);
// - the class file has its token (`static __pulumiType = '...'`), the API version it calls
//   ("Uses Azure REST API version 2022-04-01.") and, where the SDK forces one, a `replaceOnChanges` option.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { DesiredKind } from '../compile/model.ts';

export interface AzureNativeType {
  /** `azure-native:<module>:<Class>` */
  token: string;
  /** The REST API version azure-native calls for this type. */
  apiVersion: string;
  /**
   * SDK input names whose change makes azure-native replace the resource (besides the path
   * parameters, which are part of the ARM id): the SDK's own `replaceOnChanges` plus the
   * provider's force-new properties (FORCE_NEW below).
   */
  replaceOnChanges: string[];
  /** The class file it was read from, for error messages. */
  file: string;
}

/**
 * The azure-native class that the compiler's Pulumi program (stacks/compile/program.ts) creates for
 * each ARM type it emits (lower-cased); a test holds the two together.
 */
export const ARM_CLASSES: ReadonlyMap<string, string> = new Map([
  ['microsoft.management/managementgroups', 'azure-native:management:ManagementGroup'],
  ['microsoft.management/managementgroups/subscriptions', 'azure-native:management:ManagementGroupSubscription'],
  ['microsoft.authorization/policydefinitions', 'azure-native:authorization:PolicyDefinitionAtManagementGroup'],
  ['microsoft.authorization/policysetdefinitions', 'azure-native:authorization:PolicySetDefinitionAtManagementGroup'],
  ['microsoft.authorization/roledefinitions', 'azure-native:authorization:RoleDefinition'],
  ['microsoft.authorization/policyassignments', 'azure-native:authorization:PolicyAssignment'],
  ['microsoft.authorization/policyexemptions', 'azure-native:authorization:PolicyExemption'],
  ['microsoft.authorization/roleassignments', 'azure-native:authorization:RoleAssignment'],
]);

/** The azure-native token of a DesiredState resource: by ARM type, or its own for a `resource`. */
export function azureNativeToken(kind: DesiredKind, type: string): string {
  if (kind === 'resource') return type;
  const token = ARM_CLASSES.get(type.toLowerCase());
  if (!token) throw new Error(`${type} (${kind}): no azure-native class is known for this ARM type`);
  return token;
}

/**
 * Force-new properties that azure-native decides inside its provider plugin (compiled into the plugin
 * binary, not shipped in the npm package, whose generated classes carry no `replaceOnChanges` for
 * these types). Source: pulumi-azure-native `provider/pkg/gen/replacement.go` (forceNewMap), for the
 * types Nexus creates; the REST specs of those types mark no property create-only (x-ms-mutability).
 * Path parameters (scope, names) are left out: they are part of the ARM id, which replaces on its own.
 */
const FORCE_NEW: ReadonlyMap<string, readonly string[]> = new Map([
  ['azure-native:authorization:RoleAssignment', ['principalId']],
  ['azure-native:resources:ResourceGroup', ['location']],
]);

/** Top-level fields of an ARM body; every other SDK input sits under `properties` (client-flattened). */
const ARM_TOP_LEVEL = new Set(['location', 'identity', 'tags', 'sku', 'kind', 'plan', 'zones', 'extendedLocation', 'managedBy']);

/**
 * Where an SDK input lives in the body the arm-rest backend sends: in an ARM body (the compiler's
 * kinds) at the top or under `properties` (client-flattened); an archetype `resource` keeps all its
 * SDK inputs under `properties`, as the compiler wrote them.
 */
export function bodyPath(input: string, armBody: boolean): string {
  return armBody && ARM_TOP_LEVEL.has(input) ? input : `properties.${input}`;
}

/** The body paths whose change makes azure-native replace a resource of this type. */
export function replacePaths(t: AzureNativeType, armBody: boolean): string[] {
  return t.replaceOnChanges.map((p) => bodyPath(p, armBody));
}

const TOKEN = /^azure-native:([a-z0-9]+):([A-Za-z0-9]+)$/;

function parseToken(token: string): { mod: string; cls: string } {
  const m = TOKEN.exec(token);
  if (!m) throw new Error(`${token} is not an azure-native resource token (azure-native:<module>:<Class>)`);
  return { mod: m[1]!, cls: m[2]! };
}

function packageDir(): string {
  return dirname(createRequire(import.meta.url).resolve('@pulumi/azure-native/package.json'));
}

/** Reads one type's metadata from the package at `dir`. */
export function readAzureNativeType(token: string, dir = packageDir()): AzureNativeType {
  const { mod, cls } = parseToken(token);
  const indexFile = join(dir, mod, 'index.js');
  let index: string;
  try {
    index = readFileSync(indexFile, 'utf8');
  } catch {
    throw new Error(`${token}: @pulumi/azure-native has no module ${mod} (${indexFile})`);
  }
  const lazy = new RegExp(`lazyLoad\\(exports, \\["${cls}"\\], \\(\\) => require\\("\\./([A-Za-z0-9]+)"\\)\\)`).exec(index);
  if (!lazy) throw new Error(`${token}: @pulumi/azure-native's ${mod} module has no resource class ${cls} (${indexFile})`);
  const file = join(dir, mod, `${lazy[1]}.js`);
  const src = readFileSync(file, 'utf8');

  const declared = /static __pulumiType = '([^']+)'/.exec(src)?.[1];
  if (declared !== token) throw new Error(`${token}: ${file} declares the type ${declared ?? '(none)'}`);
  const version = /Uses Azure REST API version (\d{4}-\d{2}-\d{2}(?:-[a-z]+)?)\./.exec(src)?.[1];
  if (!version) throw new Error(`${token}: ${file} does not name the REST API version it uses`);
  const sdkReplace = /replaceOnChanges:\s*\[([^\]]*)\]/.exec(src)?.[1];
  const fromSdk = sdkReplace ? [...sdkReplace.matchAll(/"([^"]+)"/g)].map((m) => m[1]!) : [];

  return { token, apiVersion: version, replaceOnChanges: [...new Set([...fromSdk, ...(FORCE_NEW.get(token) ?? [])])].sort(), file };
}

/** A reader that reads each type once (the caller holds it, so nothing is cached module-wide). */
export function azureNativeTypes(dir?: string): (token: string) => AzureNativeType {
  const seen = new Map<string, AzureNativeType>();
  return (token) => {
    let t = seen.get(token);
    if (!t) {
      t = readAzureNativeType(token, dir);
      seen.set(token, t);
    }
    return t;
  };
}
