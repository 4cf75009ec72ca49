// Shapes of the official Azure Landing Zones library files, checked where they are read.
// ARM bodies stay loose (unknown fields pass through untouched); only what the compiler relies on is required.
import { z } from 'zod';

const names = z.array(z.string()).default([]);

export const armPolicyParameter = z.looseObject({
  type: z.string().optional(),
  defaultValue: z.unknown().optional(),
  allowedValues: z.array(z.unknown()).optional(),
  metadata: z.looseObject({ assignPermissions: z.boolean().optional() }).optional(),
});

export const policyDefinitionFile = z.looseObject({
  name: z.string().min(1),
  properties: z.looseObject({
    displayName: z.string().optional(),
    mode: z.string().optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    parameters: z.record(z.string(), armPolicyParameter).optional(),
    policyRule: z.looseObject({ if: z.unknown(), then: z.looseObject({ effect: z.string() }) }),
    version: z.string().optional(),
  }),
});

export const policyDefinitionReference = z.looseObject({
  policyDefinitionId: z.string().min(1),
  policyDefinitionReferenceId: z.string().optional(),
  parameters: z.record(z.string(), z.looseObject({ value: z.unknown() })).optional(),
});

export const policySetDefinitionFile = z.looseObject({
  name: z.string().min(1),
  properties: z.looseObject({
    displayName: z.string().optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    parameters: z.record(z.string(), armPolicyParameter).optional(),
    policyDefinitions: z.array(policyDefinitionReference),
    version: z.string().optional(),
  }),
});

export const roleDefinitionFile = z.looseObject({
  name: z.string().min(1),
  properties: z.looseObject({
    roleName: z.string().min(1),
    description: z.string().optional(),
    permissions: z.array(z.looseObject({})).default([]),
    assignableScopes: z.array(z.string()).default([]),
  }),
});

export const policyAssignmentFile = z.looseObject({
  name: z.string().min(1),
  location: z.string().optional(),
  identity: z.looseObject({ type: z.string() }).optional(),
  properties: z.looseObject({
    displayName: z.string().optional(),
    description: z.string().optional(),
    policyDefinitionId: z.string().min(1),
    parameters: z.record(z.string(), z.looseObject({ value: z.unknown() })).optional(),
    enforcementMode: z.enum(['Default', 'DoNotEnforce']).optional(),
    nonComplianceMessages: z.array(z.looseObject({ message: z.string() })).optional(),
    notScopes: z.array(z.string()).optional(),
    scope: z.string().optional(),
  }),
});

export const archetypeDefinitionFile = z.looseObject({
  name: z.string().min(1),
  policy_assignments: names,
  policy_definitions: names,
  policy_set_definitions: names,
  role_definitions: names,
});

export const archetypeOverrideFile = z.looseObject({
  name: z.string().min(1),
  base_archetype: z.string().min(1),
  policy_assignments_to_add: names,
  policy_assignments_to_remove: names,
  policy_definitions_to_add: names,
  policy_definitions_to_remove: names,
  policy_set_definitions_to_add: names,
  policy_set_definitions_to_remove: names,
  role_definitions_to_add: names,
  role_definitions_to_remove: names,
});

export const architectureFile = z.looseObject({
  name: z.string().min(1),
  management_groups: z.array(
    z.looseObject({
      id: z.string().min(1),
      display_name: z.string().min(1),
      parent_id: z.string().nullable().optional(),
      exists: z.boolean().default(false),
      archetypes: names,
    }),
  ),
});

export const policyDefaultValuesFile = z.looseObject({
  defaults: z.array(
    z.looseObject({
      default_name: z.string().min(1),
      description: z.string().optional(),
      policy_assignments: z.array(
        z.looseObject({ policy_assignment_name: z.string().min(1), parameter_names: z.array(z.string()).min(1) }),
      ),
    }),
  ),
});

export const libraryMetadataFile = z.looseObject({
  name: z.string().optional(),
  display_name: z.string().optional(),
  description: z.string().optional(),
  path: z.string().optional(),
  dependencies: z
    .array(z.union([z.looseObject({ path: z.string().min(1), ref: z.string().optional() }), z.looseObject({ custom_url: z.string().min(1) })]))
    .default([]),
});

export type PolicyDefinitionFile = z.infer<typeof policyDefinitionFile>;
export type PolicySetDefinitionFile = z.infer<typeof policySetDefinitionFile>;
export type RoleDefinitionFile = z.infer<typeof roleDefinitionFile>;
export type PolicyAssignmentFile = z.infer<typeof policyAssignmentFile>;
export type ArchetypeDefinitionFile = z.infer<typeof archetypeDefinitionFile>;
export type ArchetypeOverrideFile = z.infer<typeof archetypeOverrideFile>;
export type ArchitectureFile = z.infer<typeof architectureFile>;
export type PolicyDefaultValuesFile = z.infer<typeof policyDefaultValuesFile>;
export type ArmParameter = z.infer<typeof armPolicyParameter>;
