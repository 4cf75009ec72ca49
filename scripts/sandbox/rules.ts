// What ARM checks and fills in for each resource type on write, and how each type is returned.
import { randomUUID } from 'node:crypto';
import { ArmError, badRequest } from './errors.ts';
import { key, sameType, MG_TYPE, SUB_TYPE, RG_TYPE, type ArmRef } from './arm-ids.ts';
import { publicBody, type Body, type StoredResource, type Tenant } from './tenant.ts';

const PA = 'Microsoft.Authorization/policyAssignments';
const PD = 'Microsoft.Authorization/policyDefinitions';
const PSD = 'Microsoft.Authorization/policySetDefinitions';
const RD = 'Microsoft.Authorization/roleDefinitions';
const RA = 'Microsoft.Authorization/roleAssignments';
const PE = 'Microsoft.Authorization/policyExemptions';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const TYPES = { PA, PD, PSD, RD, RA, PE };

/** Fields a client sends back from a GET that the server owns. */
function clientBody(b: Body): Body {
  const { id: _i, name: _n, type: _t, systemData: _s, ...rest } = b ?? {};
  return rest;
}

function requireObject(v: unknown, field: string) {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw badRequest('InvalidRequestContent', `The request content is invalid: '${field}' must be an object.`);
  }
}

/** The parent scope of a new resource must exist; ARM names the missing one. */
function requireScope(t: Tenant, ref: ArmRef) {
  if (ref.parent === '') {
    throw badRequest('InvalidScope', `Resources of type '${ref.type}' cannot be created at the tenant scope ('${ref.id}').`);
  }
  if (t.get(ref.parent)) return;
  const p = ref.parent;
  if (/^\/subscriptions\/[^/]+$/i.test(p)) throw new ArmError(404, 'SubscriptionNotFound', `The subscription '${p.split('/')[2]}' could not be found.`);
  if (/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+$/i.test(p))
    throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${p.split('/')[4]}' could not be found.`);
  if (/^\/providers\/Microsoft\.Management\/managementGroups\/[^/]+$/i.test(p))
    throw new ArmError(404, 'ManagementGroupNotFound', `The management group '${p.split('/').pop()}' could not be found.`);
  throw new ArmError(404, 'ParentResourceNotFound', `Can not perform requested operation on nested resource. Parent resource '${p}' not found.`);
}

/** A policy or role definition is usable from a scope when it lives at or above that scope. */
function visibleFrom(t: Tenant, def: StoredResource, scope: string): boolean {
  return def.parent === '' || t.isWithin(scope, def.parent);
}

function resolveDefinition(t: Tenant, id: string, scope: string): StoredResource | undefined {
  const def = t.get(id);
  if (!def || !(sameType(def.type, PD) || sameType(def.type, PSD))) return undefined;
  return visibleFrom(t, def, scope) ? def : undefined;
}

/** Validates a PUT body for the addressed resource and returns the body to store. */
export function prepareWrite(t: Tenant, ref: ArmRef, incoming: Body, existing?: StoredResource): Body {
  requireObject(incoming, 'body');
  const b = clientBody(incoming);
  if (b.properties !== undefined) requireObject(b.properties, 'properties');
  const type = ref.type;

  if (sameType(type, MG_TYPE)) return prepareGroup(t, ref, b, existing);
  if (sameType(type, SUB_TYPE)) {
    return {
      displayName: b.displayName ?? existing?.body.displayName ?? ref.name,
      state: b.state ?? existing?.body.state ?? 'Enabled',
      managementGroupId: existing?.body.managementGroupId ?? t.rootGroupId(),
      ...(b.tags ? { tags: b.tags } : {}),
    };
  }
  requireScope(t, ref);
  if (sameType(type, RG_TYPE)) {
    if (!b.location) throw badRequest('LocationRequired', `The location property is required for resource group '${ref.name}'.`);
    return { ...b, properties: { provisioningState: 'Succeeded' } };
  }
  if (sameType(type, PD)) {
    const p = b.properties ?? {};
    if (!p.policyRule || typeof p.policyRule !== 'object') {
      throw badRequest('InvalidPolicyRule', `The policy definition '${ref.name}' has no policyRule.`);
    }
    return { ...b, properties: { mode: 'Indexed', ...p, policyType: 'Custom' } };
  }
  if (sameType(type, PSD)) {
    const p = b.properties ?? {};
    if (!Array.isArray(p.policyDefinitions) || p.policyDefinitions.length === 0) {
      throw badRequest('InvalidPolicySetDefinitionRequest', `The policy set definition '${ref.name}' must contain at least one policy definition.`);
    }
    for (const [i, d] of p.policyDefinitions.entries()) {
      const id = d?.policyDefinitionId;
      if (typeof id !== 'string') throw badRequest('InvalidRequestContent', `properties.policyDefinitions[${i}].policyDefinitionId is required.`);
      const def = t.get(id);
      if (!def || !sameType(def.type, PD) || !visibleFrom(t, def, ref.parent)) {
        throw badRequest('PolicyDefinitionNotFound', `The policy definition '${id}' referenced by policy set definition '${ref.name}' (properties.policyDefinitions[${i}]) could not be found at or above scope '${ref.parent}'.`);
      }
    }
    return { ...b, properties: { ...p, policyType: 'Custom' } };
  }
  if (sameType(type, PA)) return prepareAssignment(t, ref, b, existing);
  if (sameType(type, RD)) {
    if (!GUID.test(ref.name)) throw badRequest('RoleDefinitionIdMustBeGuid', `The role definition name '${ref.name}' must be a GUID.`);
    const p = b.properties ?? {};
    if (!p.roleName) throw badRequest('InvalidRoleDefinitionRequest', `The role definition '${ref.name}' has no properties.roleName.`);
    return { ...b, properties: { assignableScopes: [ref.parent], permissions: [], ...p, type: 'CustomRole' } };
  }
  if (sameType(type, RA)) return prepareRoleAssignment(t, ref, b, existing);
  if (sameType(type, PE)) return prepareExemption(t, ref, b);
  return b;
}

function prepareGroup(t: Tenant, ref: ArmRef, b: Body, existing?: StoredResource): Body {
  if (ref.parent !== '') throw badRequest('InvalidScope', `Management groups exist only at the tenant scope, not under '${ref.parent}'.`);
  const p = b.properties ?? {};
  const isRoot = key(ref.id) === key(t.rootGroupId());
  let parentId: string | undefined = p.details?.parent?.id ?? existing?.body.properties?.details?.parent?.id ?? t.rootGroupId();
  if (isRoot) parentId = undefined;
  if (parentId) {
    const parent = t.get(parentId);
    if (!parent || !sameType(parent.type, MG_TYPE)) {
      throw badRequest('ParentManagementGroupNotFound', `The parent management group '${parentId}' of '${ref.name}' could not be found.`);
    }
    if (t.groupChain(parent.id).some((g) => key(g) === key(ref.id))) {
      throw badRequest('InvalidManagementGroupParent', `Management group '${ref.name}' cannot be moved under its own descendant '${parent.name}'.`);
    }
    parentId = parent.id;
  }
  return {
    properties: {
      displayName: p.displayName ?? existing?.body.properties?.displayName ?? ref.name,
      details: { parent: parentId ? { id: parentId } : null },
    },
  };
}

function prepareAssignment(t: Tenant, ref: ArmRef, b: Body, existing?: StoredResource): Body {
  const p = b.properties ?? {};
  if (typeof p.policyDefinitionId !== 'string') {
    throw badRequest('InvalidRequestContent', `The policy assignment '${ref.name}' has no properties.policyDefinitionId.`);
  }
  const def = resolveDefinition(t, p.policyDefinitionId, ref.parent);
  if (!def) {
    throw new ArmError(404, 'PolicyDefinitionNotFound', `The policy definition '${p.policyDefinitionId}' of assignment '${ref.name}' could not be found at or above scope '${ref.parent}'.`);
  }
  checkParameters(ref.name, def, p.parameters ?? {});
  const out: Body = { ...b, properties: { enforcementMode: 'Default', ...p, scope: ref.parent } };
  const idType = String(b.identity?.type ?? 'None');
  if (/systemassigned/i.test(idType)) {
    if (!b.location) {
      throw badRequest('PolicyAssignmentMissingLocation', `The policy assignment '${ref.name}' has a managed identity and so needs a location.`);
    }
    out.identity = {
      ...b.identity,
      principalId: existing?.body.identity?.principalId ?? randomUUID(),
      tenantId: t.tenantId,
    };
  } else if (/none/i.test(idType)) {
    delete out.identity;
  }
  return out;
}

/**
 * An exemption names an assignment that exists at or above the exemption's scope, a category ARM
 * knows, a parseable expiry, and (for a set) reference ids of the assigned set.
 */
function prepareExemption(t: Tenant, ref: ArmRef, b: Body): Body {
  const p = b.properties ?? {};
  if (typeof p.policyAssignmentId !== 'string' || !p.policyAssignmentId) {
    throw badRequest('InvalidRequestContent', `The policy exemption '${ref.name}' has no properties.policyAssignmentId.`);
  }
  if (!['waiver', 'mitigated'].includes(String(p.exemptionCategory).toLowerCase())) {
    throw badRequest('InvalidRequestContent', `The policy exemption '${ref.name}' has exemptionCategory '${String(p.exemptionCategory)}'; expected 'Waiver' or 'Mitigated'.`);
  }
  if (p.expiresOn !== undefined && p.expiresOn !== null && (typeof p.expiresOn !== 'string' || Number.isNaN(Date.parse(p.expiresOn)))) {
    throw badRequest('InvalidRequestContent', `The policy exemption '${ref.name}' has an expiresOn that is not a date-time.`);
  }
  const pa = t.get(p.policyAssignmentId);
  if (!pa || !sameType(pa.type, PA)) {
    throw new ArmError(404, 'PolicyAssignmentNotFound', `The policy assignment '${p.policyAssignmentId}' of exemption '${ref.name}' could not be found.`);
  }
  if (!t.isWithin(ref.parent, pa.parent)) {
    throw badRequest('InvalidPolicyExemptionScope', `The policy exemption '${ref.name}' at scope '${ref.parent}' is not at or below the scope '${pa.parent}' of its policy assignment '${pa.name}'.`);
  }
  const refs = p.policyDefinitionReferenceIds;
  if (refs !== undefined && refs !== null) {
    if (!Array.isArray(refs)) throw badRequest('InvalidRequestContent', `properties.policyDefinitionReferenceIds of exemption '${ref.name}' must be an array.`);
    const def = t.get(String(pa.body.properties?.policyDefinitionId ?? ''));
    const known = new Set(
      (def && sameType(def.type, PSD) ? (def.body.properties?.policyDefinitions ?? []) : [])
        .map((m: Body) => String(m?.policyDefinitionReferenceId ?? '').toLowerCase()),
    );
    const bad = refs.filter((r: unknown) => !known.has(String(r).toLowerCase()));
    if (refs.length && bad.length) {
      throw badRequest('PolicyDefinitionReferenceIdNotFound', `The policy definition reference ids ${bad.map((r: unknown) => `'${String(r)}'`).join(', ')} of exemption '${ref.name}' are not in the policy set of assignment '${pa.name}'.`);
    }
  }
  return { ...b, properties: { ...p, policyAssignmentId: pa.id } };
}

function checkParameters(assignment: string, def: StoredResource, given: Body) {
  requireObject(given, 'properties.parameters');
  const declared = def.body.properties?.parameters ?? {};
  const declaredKeys = new Map(Object.keys(declared).map((k) => [k.toLowerCase(), k]));
  for (const [name, v] of Object.entries(given)) {
    if (!declaredKeys.has(name.toLowerCase())) {
      throw badRequest('UndefinedPolicyParameter', `The policy assignment '${assignment}' has the parameter '${name}' which is not defined in '${def.name}'.`);
    }
    if (v === null || typeof v !== 'object' || !('value' in (v as object))) {
      throw badRequest('InvalidPolicyParameters', `The parameter '${name}' of policy assignment '${assignment}' must be an object with a 'value'.`);
    }
  }
  const givenKeys = new Set(Object.keys(given).map((k) => k.toLowerCase()));
  for (const [name, spec] of Object.entries(declared as Record<string, Body>)) {
    if (!givenKeys.has(name.toLowerCase()) && !(spec && 'defaultValue' in spec)) {
      throw badRequest('MissingPolicyParameter', `The policy assignment '${assignment}' does not give the required parameter '${name}' of '${def.name}'.`);
    }
  }
}

function prepareRoleAssignment(t: Tenant, ref: ArmRef, b: Body, existing?: StoredResource): Body {
  if (!GUID.test(ref.name)) throw badRequest('InvalidRoleAssignmentId', `The role assignment ID '${ref.name}' is not valid. The role assignment ID must be a GUID.`);
  const p = b.properties ?? {};
  if (typeof p.roleDefinitionId !== 'string' || !GUID.test(p.roleDefinitionId.split('/').pop() ?? '')) {
    throw badRequest('InvalidRoleDefinitionId', `The role assignment '${ref.name}' needs properties.roleDefinitionId ending in a role definition GUID.`);
  }
  if (typeof p.principalId !== 'string' || !p.principalId) {
    throw badRequest('InvalidPrincipalId', `The role assignment '${ref.name}' needs properties.principalId.`);
  }
  const roleGuid = (id: string) => id.split('/').pop()!.toLowerCase();
  if (existing) {
    const e = existing.body.properties;
    if (roleGuid(e.roleDefinitionId) !== roleGuid(p.roleDefinitionId) || e.principalId.toLowerCase() !== p.principalId.toLowerCase()) {
      throw badRequest('RoleAssignmentUpdateNotPermitted', `Tenant ID, application ID, principal ID, and scope are not allowed to be updated (role assignment '${ref.name}').`);
    }
  }
  const dup = t.list(ref.parent, RA).find(
    (r) => key(r.id) !== key(ref.id) && roleGuid(r.body.properties.roleDefinitionId) === roleGuid(p.roleDefinitionId) &&
      r.body.properties.principalId.toLowerCase() === p.principalId.toLowerCase(),
  );
  if (dup) throw new ArmError(409, 'RoleAssignmentExists', `The role assignment already exists (as '${dup.name}').`);
  return { ...b, properties: { ...p, scope: ref.parent } };
}

/** Refuses deletes ARM refuses. */
export function checkDelete(t: Tenant, r: StoredResource) {
  if (sameType(r.type, MG_TYPE)) {
    if (key(r.id) === key(t.rootGroupId())) throw badRequest('CannotDeleteRootManagementGroup', 'The tenant root group cannot be deleted.');
    const kids = [...t.childGroups(r.id), ...t.childSubscriptions(r.id)];
    if (kids.length) {
      throw new ArmError(409, 'ManagementGroupHasChildren', `Management group '${r.name}' has children (${kids.map((k) => k.name).join(', ')}); move or delete them first.`);
    }
  }
  if (r.builtIn) throw new ArmError(403, 'AuthorizationFailed', `Built-in definition '${r.name}' cannot be deleted.`);
}

/** The JSON ARM returns for a stored resource. */
export function present(t: Tenant, r: StoredResource): Body {
  if (sameType(r.type, MG_TYPE)) {
    const parentId = r.body.properties?.details?.parent?.id;
    const parent = parentId ? t.get(parentId) : undefined;
    return {
      id: r.id, type: MG_TYPE, name: r.name,
      properties: {
        tenantId: t.tenantId,
        displayName: r.body.properties.displayName,
        details: {
          version: 1, updatedTime: r.updatedAt, updatedBy: 'sandbox',
          parent: parent ? { id: parent.id, name: parent.name, displayName: parent.body.properties.displayName } : null,
        },
      },
    };
  }
  if (sameType(r.type, SUB_TYPE)) {
    return {
      id: r.id, subscriptionId: r.name, tenantId: t.tenantId, displayName: r.body.displayName, state: r.body.state,
      authorizationSource: 'RoleBased', managedByTenants: [],
      subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'Sandbox', spendingLimit: 'Off' },
      ...(r.body.tags ? { tags: r.body.tags } : {}),
    };
  }
  return {
    id: r.id, name: r.name, type: r.type, ...publicBody(r.body),
    systemData: { createdAt: r.createdAt, lastModifiedAt: r.updatedAt },
  };
}

/** The virtual `managementGroups/{mg}/subscriptions/{sub}` resource. */
export function presentGroupSubscription(t: Tenant, mg: StoredResource, sub: StoredResource): Body {
  return {
    id: `${mg.id}/subscriptions/${sub.name}`,
    type: MG_SUB_TYPE_PUBLIC,
    name: sub.name,
    properties: { tenant: t.tenantId, displayName: sub.body.displayName, parent: { id: mg.id }, state: sub.body.state },
  };
}
const MG_SUB_TYPE_PUBLIC = 'Microsoft.Management/managementGroups/subscriptions';
