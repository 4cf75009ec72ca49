// ARM's generic resource API over the sandbox tenant: PUT, GET, PATCH, DELETE and list.
import { ArmError, badRequest } from './errors.ts';
import { parseArmPath, key, sameType, MG_TYPE, MG_SUB_TYPE, SUB_TYPE, RG_TYPE, type ArmRef } from './arm-ids.ts';
import { deepMerge } from './diff.ts';
import { prepareWrite, present, presentGroupSubscription, checkDelete, TYPES } from './rules.ts';
import { publicBody, type Actor, type Body, type Tenant } from './tenant.ts';

export interface Reply {
  status: number;
  body?: unknown;
}

const PAGE_SIZE = 500;

const NOT_FOUND_CODES: [string, string][] = [
  [MG_TYPE, 'ManagementGroupNotFound'],
  [SUB_TYPE, 'SubscriptionNotFound'],
  [RG_TYPE, 'ResourceGroupNotFound'],
  [TYPES.PA, 'PolicyAssignmentNotFound'],
  [TYPES.PD, 'PolicyDefinitionNotFound'],
  [TYPES.PSD, 'PolicySetDefinitionNotFound'],
  [TYPES.RA, 'RoleAssignmentNotFound'],
  [TYPES.RD, 'RoleDefinitionDoesNotExist'],
  [TYPES.PE, 'PolicyExemptionNotFound'],
];

export function notFoundFor(ref: ArmRef): ArmError {
  const code = NOT_FOUND_CODES.find(([t]) => sameType(t, ref.type))?.[1] ?? 'ResourceNotFound';
  return new ArmError(404, code, `The resource '${ref.id}' of type '${ref.type}' was not found.`);
}

export function handleArm(t: Tenant, method: string, path: string, query: URLSearchParams, body: unknown, actor: Actor, baseUrl: string): Reply {
  const parsed = parseArmPath(path);
  if (parsed.kind === 'invalid') throw badRequest('InvalidResourceId', `The request path is not a valid ARM resource path: ${parsed.reason}.`);
  if (parsed.kind === 'list') {
    if (method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `${method} is not supported on the collection '${path}'.`);
    return list(t, parsed.scope, parsed.type, query, baseUrl, path);
  }
  const ref = parsed.ref;
  if (sameType(ref.type, MG_SUB_TYPE)) return groupSubscription(t, method, ref, actor);
  const operation = `${ref.type}/${method === 'DELETE' ? 'delete' : 'write'}`;
  switch (method) {
    case 'GET': {
      const r = t.get(ref.id);
      if (!r) throw notFoundFor(ref);
      return { status: 200, body: present(t, r) };
    }
    case 'PUT': {
      const existing = t.get(ref.id);
      const stored = prepareWrite(t, ref, (body ?? {}) as Body, existing);
      const { created, resource } = t.write(existing ? { ...ref, id: existing.id, name: existing.name } : ref, stored, actor, operation);
      return { status: created ? 201 : 200, body: present(t, resource) };
    }
    case 'PATCH': {
      const existing = t.get(ref.id);
      if (!existing) throw notFoundFor(ref);
      let patch = (body ?? {}) as Body;
      if (sameType(ref.type, MG_TYPE)) patch = groupPatch(patch);
      const merged = deepMerge(publicBody(existing.body), patch) as Body;
      const stored = prepareWrite(t, ref, merged, existing);
      const { resource } = t.write({ ...ref, id: existing.id, name: existing.name }, stored, actor, operation);
      return { status: 200, body: present(t, resource) };
    }
    case 'DELETE': {
      const existing = t.get(ref.id);
      if (!existing) return { status: 204 };
      checkDelete(t, existing);
      t.remove(existing.id, actor, operation);
      return { status: 200 };
    }
    default:
      throw new ArmError(405, 'MethodNotAllowed', `${method} is not supported on '${path}'.`);
  }
}

/** The management group PATCH body is flat: { displayName, parentGroupId }. */
function groupPatch(p: Body): Body {
  const out: Body = { ...p };
  if ('displayName' in p || 'parentGroupId' in p) {
    delete out.displayName;
    delete out.parentGroupId;
    out.properties = {
      ...(p.displayName !== undefined ? { displayName: p.displayName } : {}),
      ...(p.parentGroupId !== undefined ? { details: { parent: { id: p.parentGroupId } } } : {}),
    };
  }
  return out;
}

function groupSubscription(t: Tenant, method: string, ref: ArmRef, actor: Actor): Reply {
  const mg = t.get(ref.parent);
  if (!mg || !sameType(mg.type, MG_TYPE)) throw new ArmError(404, 'ManagementGroupNotFound', `The management group '${ref.parent}' could not be found.`);
  const sub = t.get(`/subscriptions/${ref.name}`);
  const inGroup = sub && key(sub.body.managementGroupId ?? t.rootGroupId()) === key(mg.id);
  const subRef: ArmRef = { id: `/subscriptions/${ref.name}`, type: SUB_TYPE, name: ref.name, parent: '' };
  switch (method) {
    case 'GET':
      if (!inGroup) throw new ArmError(404, 'SubscriptionNotFound', `Subscription '${ref.name}' is not under management group '${mg.name}'.`);
      return { status: 200, body: presentGroupSubscription(t, mg, sub) };
    case 'PUT': {
      if (!sub) throw new ArmError(404, 'SubscriptionNotFound', `The subscription '${ref.name}' could not be found.`);
      if (!inGroup) {
        t.write({ ...subRef, id: sub.id }, { ...sub.body, managementGroupId: mg.id }, actor, 'Microsoft.Management/managementGroups/subscriptions/write');
      }
      return { status: 200, body: presentGroupSubscription(t, mg, t.get(sub.id)!) };
    }
    case 'DELETE':
      if (!inGroup) return { status: 204 };
      t.write({ ...subRef, id: sub.id }, { ...sub.body, managementGroupId: t.rootGroupId() }, actor, 'Microsoft.Management/managementGroups/subscriptions/delete');
      return { status: 200 };
    default:
      throw new ArmError(405, 'MethodNotAllowed', `${method} is not supported on '${ref.id}'.`);
  }
}

function list(t: Tenant, scope: string, type: string, query: URLSearchParams, baseUrl: string, path: string): Reply {
  if (query.get('$filter')) throw badRequest('InvalidFilter', `The sandbox does not support $filter on list requests ('${query.get('$filter')}').`);
  let items;
  if (sameType(type, MG_SUB_TYPE)) {
    const mg = t.get(scope);
    if (!mg) throw new ArmError(404, 'ManagementGroupNotFound', `The management group '${scope}' could not be found.`);
    items = t.childSubscriptions(mg.id).map((s) => presentGroupSubscription(t, mg, s));
  } else {
    if (scope !== '' && !t.get(scope)) throw notFoundFor(parseScopeRef(scope));
    items = t.list(scope, type).map((r) => present(t, r));
  }
  items.sort((a, b) => String(a.id).localeCompare(String(b.id)));
  const skip = Number(query.get('$skiptoken') ?? 0) || 0;
  const top = Math.min(Number(query.get('$top') ?? PAGE_SIZE) || PAGE_SIZE, PAGE_SIZE);
  const page = items.slice(skip, skip + top);
  const out: Body = { value: page };
  if (skip + top < items.length) {
    const next = new URLSearchParams(query);
    next.set('$skiptoken', String(skip + top));
    out.nextLink = `${baseUrl}${path}?${next}`;
  }
  return { status: 200, body: out };
}

function parseScopeRef(scope: string): ArmRef {
  const p = parseArmPath(scope);
  if (p.kind === 'item') return p.ref;
  return { id: scope, type: 'scope', name: scope, parent: '' };
}
