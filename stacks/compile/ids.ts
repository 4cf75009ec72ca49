// ARM ids, API versions and deterministic names.
import { v5 as uuidv5 } from 'uuid';

export const API_VERSIONS = {
  managementGroup: '2023-04-01',
  subscriptionPlacement: '2023-04-01',
  policyDefinition: '2025-01-01',
  policySetDefinition: '2025-01-01',
  roleDefinition: '2022-05-01-preview',
  policyAssignment: '2025-01-01',
  // Exemptions have only preview versions; this is the one azure-native calls (it has every field the compiler writes).
  policyExemption: '2022-07-01-preview',
  roleAssignment: '2022-04-01',
} as const;

export const mgScope = (id: string) => `/providers/Microsoft.Management/managementGroups/${id}`;
export const authz = (scope: string, type: string, name: string) => `${scope}/providers/Microsoft.Authorization/${type}/${name}`;

/** uuid v5 (URL namespace) of the joined parts, as the ALZ tooling names role definitions. */
export function stableUuid(...parts: string[]): string {
  return uuidv5(parts.join(''), uuidv5.URL);
}

const CUSTOM_DEFINITION_ID = /^\/providers\/Microsoft\.Management\/managementGroups\/[^/]+\/providers\/Microsoft\.Authorization\/(policyDefinitions|policySetDefinitions)\/([^/]+)$/i;

/** `{ kind, name }` for a management-group-scoped (custom) definition id, whatever group it names. */
export function parseCustomDefinitionId(id: string): { kind: 'policyDefinition' | 'policySetDefinition'; name: string } | undefined {
  const m = CUSTOM_DEFINITION_ID.exec(id);
  if (!m) return undefined;
  return { kind: m[1]!.toLowerCase() === 'policydefinitions' ? 'policyDefinition' : 'policySetDefinition', name: m[2]! };
}

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A scope a role can be assigned at: a management group, subscription, resource group or resource id. */
export function isAssignableScope(v: unknown): v is string {
  return typeof v === 'string' && (/^\/subscriptions\/[^/]+(\/|$)/i.test(v) || /^\/providers\/Microsoft\.Management\/managementGroups\/[^/]+$/i.test(v));
}
