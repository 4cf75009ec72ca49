// Role assignments: the ones DeployIfNotExists and Modify assignments need for their managed identity
// (the definition's roleDefinitionIds at the assignment scope, and at every `assignPermissions` parameter
// value), and the archetypes' own rbac.
import { BUILTIN_ROLES } from './builtin-roles.ts';
import type { Hierarchy } from './hierarchy.ts';
import { authz, GUID, isAssignableScope, mgScope, stableUuid } from './ids.ts';
import type { Finding, OutputRef } from './model.ts';
import type { PlacedAssignment, PlacedGroup, Placer } from './placeholders.ts';
import { assignPermissionValues, canonicalRoleId, parameterValues, roleDefinitionIds, type DefinitionIndex } from './policy-model.ts';

export interface RoleAssignmentPlan {
  id: string;
  name: string;
  scope: string;
  properties: Record<string, unknown>;
  /** Ids in the DesiredState this one waits for (the policy assignment, a custom role). */
  dependsOn: string[];
  source: { file: string; archetype?: string };
}


const ZERO_SUBSCRIPTION = '/subscriptions/00000000-0000-0000-0000-000000000000';

export function policyRoleAssignments(pa: PlacedAssignment, index: DefinitionIndex, findings: Finding[]): RoleAssignmentPlan[] {
  if (!pa.body.identity) return [];
  const def = index.lookup(pa.definitionId);
  if (!def) return [];
  const roles = roleDefinitionIds(def, index);
  if (roles.length === 0) return [];
  const scope = pa.id.slice(0, pa.id.indexOf('/providers/Microsoft.Authorization/'));
  const scopes = [scope];
  const values = parameterValues(def, pa.body.properties.parameters);
  for (const { parameter, value } of assignPermissionValues(def, values, index)) {
    if (!isAssignableScope(value)) continue;
    if (value.toLowerCase().startsWith(ZERO_SUBSCRIPTION)) {
      findings.push({
        severity: 'info',
        code: 'placeholder-permission-scope',
        file: pa.item.bodyAt.file,
        path: `properties.parameters.${parameter}`,
        message: `assignment "${pa.name}" at ${scope}: parameter ${parameter} still holds a placeholder resource id, so no role assignment is made there; set it (a policy default value) to grant remediation access`,
      });
      continue;
    }
    if (!scopes.includes(value)) scopes.push(value);
  }
  const principal: OutputRef = { $ref: pa.id, output: 'identity.principalId' };
  const out: RoleAssignmentPlan[] = [];
  for (const s of scopes) {
    for (const role of roles) {
      const name = stableUuid(pa.id, role, s);
      out.push({
        id: authz(s, 'roleAssignments', name),
        name,
        scope: s,
        properties: { roleDefinitionId: role, principalId: principal, principalType: 'ServicePrincipal', description: `Remediation for policy assignment ${pa.name}` },
        dependsOn: [pa.id],
        source: { file: pa.item.origin.file, archetype: pa.item.origin.archetype },
      });
    }
  }
  return out;
}

/** The archetype's rbac items on one group. */
export function rbacRoleAssignments(pg: PlacedGroup, h: Hierarchy, placer: Placer, findings: Finding[]): RoleAssignmentPlan[] {
  const out: RoleAssignmentPlan[] = [];
  const mgId = pg.eg.group.id;
  for (const item of pg.eg.content.rbac.values()) {
    const r = item.spec;
    const at = item.origin;
    let roleId: string | undefined;
    const deps: string[] = [];
    if (r.role.startsWith('/')) roleId = canonicalRoleId(r.role);
    else if (GUID.test(r.role)) roleId = `/providers/Microsoft.Authorization/roleDefinitions/${r.role.toLowerCase()}`;
    else if (BUILTIN_ROLES[r.role]) roleId = `/providers/Microsoft.Authorization/roleDefinitions/${BUILTIN_ROLES[r.role]}`;
    else {
      const where = placer.deployedAt('roleDefinition', r.role, mgId);
      if (where) {
        roleId = authz(mgScope(where), 'roleDefinitions', stableUuid(where, r.role));
        deps.push(roleId);
      }
    }
    if (!roleId) {
      findings.push({ severity: 'error', code: 'unknown-role', file: at.file, path: `${at.path}.role`, message: `role "${r.role}" is neither a built-in role Nexus knows nor a custom role deployed at "${mgId}" or above` });
      continue;
    }
    r.principals.forEach((p, i) => {
      const objectId = p.objectId ?? (p.name ? h.principals.get(p.name) : undefined);
      if (!objectId) {
        findings.push({ severity: 'error', code: 'unknown-principal', file: at.file, path: `${at.path}.principals[${i}]`, message: `principal "${p.name}" has no object id; give objectId or map the name in the architecture's spec.principals` });
        return;
      }
      const name = stableUuid(pg.scope, roleId!, objectId);
      out.push({
        id: authz(pg.scope, 'roleAssignments', name),
        name,
        scope: pg.scope,
        properties: {
          roleDefinitionId: roleId,
          principalId: objectId,
          principalType: p.type,
          ...(r.description ? { description: r.description } : {}),
          ...(r.condition ? { condition: r.condition, conditionVersion: '2.0' } : {}),
        },
        dependsOn: deps,
        source: { file: at.file, archetype: at.archetype },
      });
    });
  }
  return out;
}
