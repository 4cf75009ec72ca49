// The compiler's output contract: what the engine runs and what the reconciler reasons about.
// Everything here is plain data (JSON-serialisable) so it can be stored with a run.

export type Severity = 'error' | 'warning' | 'info';

/** A validation finding that names the file and the field at fault. */
export interface Finding {
  severity: Severity;
  /** Path of the input file (library file, archetype YAML), or '' when not tied to one. */
  file: string;
  /** JSONPath-like location inside the file, e.g. `spec.policies[2].parameters.effect`. */
  path: string;
  message: string;
  /** A stable rule id, e.g. `assignment-name-too-long`. */
  code?: string;
}

/** Kinds of resource that the compiler emits, in the order they must be deployed. */
export type DesiredKind =
  | 'managementGroup'
  | 'subscriptionPlacement'
  | 'policyDefinition'
  | 'policySetDefinition'
  | 'roleDefinition'
  | 'policyAssignment'
  | 'policyExemption'
  | 'roleAssignment'
  | 'resource';

export interface DesiredResource {
  /** Stable ARM id, e.g. `/providers/Microsoft.Management/managementGroups/alz/providers/Microsoft.Authorization/policyAssignments/Deploy-ASC-Monitoring`. */
  id: string;
  kind: DesiredKind;
  /** ARM resource type, e.g. `Microsoft.Authorization/policyAssignments`. */
  type: string;
  apiVersion: string;
  /** Last segment of the id (the ARM name). */
  name: string;
  /** ARM scope the resource is deployed at, e.g. `/providers/Microsoft.Management/managementGroups/alz`. */
  scope: string;
  /** Name of the Nexus stack that owns it. */
  stack: string;
  /** The ARM request body (`properties`, plus `identity`/`location` when the type takes them). */
  body: { properties: Record<string, unknown>; identity?: Record<string, unknown>; location?: string };
  /** Ids of resources (in this DesiredState) that must exist first. */
  dependsOn: string[];
  /** Where it came from, for findings and `nexus resolve`. */
  source: { file: string; archetype?: string; managementGroup?: string };
}

export interface StackPlan {
  name: string;
  /** The management group the stack deploys (one stack per group by default). */
  managementGroupId: string;
  /** Ids of the resources in this stack, in dependency order. */
  resourceIds: string[];
}

export interface DesiredState {
  tenantRootId: string;
  rootManagementGroupId: string;
  location: string;
  resources: DesiredResource[];
  stacks: StackPlan[];
  findings: Finding[];
}

/**
 * A value the engine fills in at deploy time from another resource's outputs. The compiler uses it for
 * `properties.principalId` of the role assignments that a policy assignment's managed identity needs:
 * `{ $ref: <policy assignment id>, output: 'identity.principalId' }` (the referenced resource is listed in
 * `dependsOn` and lives in the same stack).
 */
export interface OutputRef {
  $ref: string;
  /** Dotted path into the referenced resource's ARM response body. */
  output: string;
}

export function isOutputRef(v: unknown): v is OutputRef {
  return typeof v === 'object' && v !== null && typeof (v as OutputRef).$ref === 'string' && typeof (v as OutputRef).output === 'string';
}
