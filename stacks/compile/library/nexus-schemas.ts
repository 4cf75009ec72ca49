// Nexus's own YAML (apiVersion nexus/v1): kind Archetype and kind Architecture.
import { z } from 'zod';

const name = z.string().min(1);
const guid = (what: string) => z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, `${what} is a GUID`);
const names = z.array(name).default([]);

export const nexusPolicy = z.strictObject({
  name,
  /** A policy or initiative: its name in a library, a built-in GUID, or a full definition id. */
  definition: name,
  displayName: z.string().optional(),
  description: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).default({}),
  enforcementMode: z.enum(['Default', 'DoNotEnforce']).default('Default'),
  nonComplianceMessages: z
    .array(z.strictObject({ message: name, policyDefinitionReferenceId: z.string().optional() }))
    .default([]),
  notScopes: z.array(z.string()).default([]),
  /** Omitted: a managed identity is added when the definition deploys or modifies (DINE/Modify). */
  identity: z.enum(['SystemAssigned', 'None']).optional(),
});

export const nexusPrincipal = z
  .strictObject({
    type: z.enum(['User', 'Group', 'ServicePrincipal']),
    name: z.string().optional(),
    objectId: guid('an object id').optional(),
  })
  .refine((p) => p.name || p.objectId, { message: 'a principal needs a name or an objectId' });

export const nexusRbac = z.strictObject({
  /** Stable name used by overrides; defaults to the role. */
  name: z.string().optional(),
  /** Built-in role name, custom role name from a library, role GUID or role definition id. */
  role: name,
  principals: z.array(nexusPrincipal).min(1),
  condition: z.string().optional(),
  description: z.string().optional(),
});

export const nexusResource = z.strictObject({
  name,
  /** A Pulumi type token, e.g. `azure-native:resources:ResourceGroup`. */
  type: z.string().regex(/^[\w-]+:[\w./-]*:[\w-]+$/, 'expected a Pulumi type token like azure-native:resources:ResourceGroup'),
  inputs: z.record(z.string(), z.unknown()).default({}),
});

/**
 * A policy exemption. Category, name and expiry are checked by the compiler (findings naming the
 * field), not here, so one bad exemption does not stop the whole library from loading.
 */
export const nexusExemption = z.strictObject({
  name,
  /** An assignment name in the effective archetype at this group or above, or a full assignment id. */
  policy: name,
  category: z.string(),
  expiresOn: z.union([z.string(), z.date()]).optional(),
  /** Why the exemption exists (the exemption's description). */
  reason: name,
  displayName: z.string().optional(),
  /** 'group' (the management group, the default), or a subscription or resource group id. */
  scope: z.string().optional(),
  policyDefinitionReferenceIds: z.array(z.string()).optional(),
});

export const nexusOverrides = z.strictObject({
  /** Per inherited assignment: parameters here replace the inherited ones of the same name. */
  policies: z
    .record(
      z.string(),
      z.strictObject({
        parameters: z.record(z.string(), z.unknown()).optional(),
        enforcementMode: z.enum(['Default', 'DoNotEnforce']).optional(),
        nonComplianceMessages: z.array(z.strictObject({ message: name, policyDefinitionReferenceId: z.string().optional() })).optional(),
        notScopes: z.array(z.string()).optional(),
      }),
    )
    .default({}),
  remove: z
    .strictObject({
      policies: names,
      policyDefinitions: names,
      policySetDefinitions: names,
      roleDefinitions: names,
      rbac: names,
      resources: names,
      exemptions: names,
    })
    .default({ policies: [], policyDefinitions: [], policySetDefinitions: [], roleDefinitions: [], rbac: [], resources: [], exemptions: [] }),
});

export const nexusInherit = z.union([
  name.transform((n) => ({ name: n, overrides: undefined })),
  z.strictObject({ name, overrides: nexusOverrides.optional() }),
]);

export const nexusArchetype = z.strictObject({
  apiVersion: z.literal('nexus/v1'),
  kind: z.literal('Archetype'),
  metadata: z.strictObject({ name, description: z.string().optional(), labels: z.record(z.string(), z.string()).optional() }),
  spec: z
    .strictObject({
      inherits: z.array(nexusInherit).default([]),
      policies: z.array(nexusPolicy).default([]),
      policyDefinitions: names,
      policySetDefinitions: names,
      roleDefinitions: names,
      rbac: z.array(nexusRbac).default([]),
      resources: z.array(nexusResource).default([]),
      exemptions: z.array(nexusExemption).default([]),
    })
    .default({ inherits: [], policies: [], policyDefinitions: [], policySetDefinitions: [], roleDefinitions: [], rbac: [], resources: [], exemptions: [] }),
});

export const nexusManagementGroup = z.strictObject({
  id: z.string().regex(/^[\w().-]{1,90}$/, 'a management group id has 1-90 letters, digits, -, _, (, ), .'),
  displayName: z.string().optional(),
  /** Parent group id; omitted or null: a child of the root management group. */
  parent: z.string().nullable().optional(),
  archetypes: z.array(name).optional(),
  exists: z.boolean().optional(),
});

export const nexusSubscription = z.strictObject({
  id: guid('a subscription id'),
  managementGroup: name,
  name: z.string().optional(),
});

export const nexusArchitecture = z.strictObject({
  apiVersion: z.literal('nexus/v1'),
  kind: z.literal('Architecture'),
  metadata: z.strictObject({ name, description: z.string().optional() }),
  spec: z.strictObject({
    /** The tenant root group id (the tenant id). */
    tenantRootId: z.string().optional(),
    /** The existing group the architecture hangs under; defaults to the tenant root. */
    rootManagementGroup: z.string().optional(),
    location: z.string().optional(),
    /** An architecture (e.g. ALZ's `alz`) whose groups this one starts from. */
    extends: z.string().optional(),
    managementGroups: z.array(nexusManagementGroup).default([]),
    subscriptions: z.array(nexusSubscription).default([]),
    policyDefaultValues: z.record(z.string(), z.unknown()).default({}),
    /** Principal names used by archetype rbac, mapped to Entra object ids. */
    principals: z.record(z.string(), guid('an object id')).default({}),
  }),
});

export type NexusArchetype = z.infer<typeof nexusArchetype>;
export type NexusArchitecture = z.infer<typeof nexusArchitecture>;
export type NexusPolicy = z.infer<typeof nexusPolicy>;
export type NexusRbac = z.infer<typeof nexusRbac>;
export type NexusResource = z.infer<typeof nexusResource>;
export type NexusExemption = z.infer<typeof nexusExemption>;
export type NexusOverrides = z.infer<typeof nexusOverrides>;
