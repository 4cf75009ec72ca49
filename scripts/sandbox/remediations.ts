// Policy remediations (Microsoft.PolicyInsights/remediations) at management group, subscription,
// resource group or resource scope: PUT, GET, list, DELETE, cancel and listDeployments, in the shapes
// of api-version 2021-10-01+ (what @azure/arm-policyinsights sends). The sandbox runs no policy
// engine: a PUT turns the assignment's NonCompliant states (set through /_sandbox/compliance) into
// Running deployments; the side door (remediate.ts) writes resources as the policy would.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ArmError, badRequest } from './errors.ts';
import { key, sameType } from './arm-ids.ts';
import { TYPES } from './rules.ts';
import { parseODataFilter } from './policy-insights.ts';
import { Sidecar } from './sidecar.ts';
import type { Body, StoredResource, Tenant } from './tenant.ts';

export const REMEDIATION_TYPE = 'Microsoft.PolicyInsights/remediations';
const PATH = /^(.*)\/providers\/Microsoft\.PolicyInsights\/remediations(?:\/([^/]+)(?:\/(listDeployments|cancel))?)?\/?$/i;
const PAGE_SIZE = 100;

export type RemediationDeploymentStatus = 'Running' | 'Succeeded' | 'Failed' | 'Canceled';

export interface RemediationDeploymentRecord {
  remediatedResourceId: string;
  deploymentId?: string;
  status: RemediationDeploymentStatus;
  resourceLocation: string;
  createdOn: string;
  lastUpdatedOn: string;
}

export interface RemediationRecord {
  id: string;
  scope: string;
  name: string;
  policyAssignmentId: string;
  policyDefinitionReferenceId?: string;
  resourceDiscoveryMode: 'ExistingNonCompliant' | 'ReEvaluateCompliance';
  filters?: { locations?: string[]; resourceIds?: string[] };
  parallelDeployments?: number;
  resourceCount?: number;
  failureThreshold?: { percentage?: number };
  cancelled?: boolean;
  correlationId: string;
  createdBy: string;
  createdByType: 'User' | 'Application';
  createdOn: string;
  lastUpdatedOn: string;
  deployments: RemediationDeploymentRecord[];
}

export function isRemediationsPath(path: string): boolean {
  return /\/providers\/Microsoft\.PolicyInsights\/remediations(\/|$)/i.test(path);
}

/** The sandbox's remediations, keyed by lowercased id; kept beside the tenant's data file. */
export class Remediations {
  private readonly byId: Map<string, RemediationRecord>;
  private readonly file: Sidecar<RemediationRecord[]>;

  constructor(dataFile?: string) {
    this.file = new Sidecar(dataFile, 'remediations');
    this.byId = new Map(this.file.load([]).map((r) => [key(r.id), r]));
  }

  get(id: string): RemediationRecord | undefined {
    return this.byId.get(key(id));
  }

  all(): RemediationRecord[] {
    return [...this.byId.values()];
  }

  put(r: RemediationRecord) {
    this.byId.set(key(r.id), r);
    this.file.save(this.all());
  }

  delete(id: string): boolean {
    const had = this.byId.delete(key(id));
    if (had) this.file.save(this.all());
    return had;
  }
}

// ---------- ARM API ----------

const createBody = z.object({
  properties: z.object({
    policyAssignmentId: z.string().startsWith('/'),
    policyDefinitionReferenceId: z.string().min(1).optional(),
    resourceDiscoveryMode: z.enum(['ExistingNonCompliant', 'ReEvaluateCompliance']).optional(),
    filters: z.object({ locations: z.array(z.string()).max(100).optional(), resourceIds: z.array(z.string()).max(100).optional() }).optional(),
    parallelDeployments: z.number().int().min(1).max(30).optional(),
    resourceCount: z.number().int().min(1).max(50000).optional(),
    failureThreshold: z.object({ percentage: z.number().min(0).max(1).optional() }).optional(),
  }).passthrough(),
}).passthrough();

export function handleRemediations(t: Tenant, store: Remediations, method: string, path: string, q: URLSearchParams, body: unknown,
  principal: string, baseUrl: string): { status: number; body?: unknown } {
  const m = PATH.exec(path);
  if (!m) throw badRequest('InvalidRemediationRequest', `The remediations path '${path}' is not supported by the sandbox.`);
  const [, rawScope, rawName, action] = m;
  const scope = remediationScope(t, rawScope);
  if (!rawName) {
    if (method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `${method} is not supported on the remediations collection.`);
    let items = store.all().filter((r) => t.isWithin(r.scope, scope));
    const filter = q.get('$filter');
    if (filter) {
      const pred = parseODataFilter(filter);
      items = items.filter((r) => pred(filterRow(r)));
    }
    items.sort((a, b) => b.createdOn.localeCompare(a.createdOn) || a.id.localeCompare(b.id));
    return { status: 200, body: page(items.map(presentRemediation), q, baseUrl, path) };
  }
  const name = decodeURIComponent(rawName);
  const id = `${scope}/providers/${REMEDIATION_TYPE}/${name}`;
  const existing = store.get(id);
  const missing = () => new ArmError(404, 'RemediationNotFound', `The remediation '${name}' could not be found at scope '${scope}'.`);
  if (action) {
    if (method !== 'POST') throw new ArmError(405, 'MethodNotAllowed', `${action} is a POST request.`);
    if (!existing) throw missing();
    if (action.toLowerCase() === 'listdeployments') {
      return { status: 200, body: page(existing.deployments.map(presentRemediationDeployment), q, baseUrl, path) };
    }
    const now = new Date().toISOString();
    const cancelled: RemediationRecord = {
      ...existing, cancelled: true, lastUpdatedOn: now,
      deployments: existing.deployments.map((d) => (d.status === 'Running' ? { ...d, status: 'Canceled', lastUpdatedOn: now } : d)),
    };
    store.put(cancelled);
    return { status: 200, body: presentRemediation(cancelled) };
  }
  switch (method) {
    case 'GET':
      if (!existing) throw missing();
      return { status: 200, body: presentRemediation(existing) };
    case 'DELETE':
      if (!existing) return { status: 204 };
      store.delete(existing.id);
      return { status: 200, body: presentRemediation(existing) };
    case 'PUT': {
      const r = create(t, scope, name, body, principal, existing);
      store.put(r);
      return { status: existing ? 200 : 201, body: presentRemediation(r) };
    }
    default:
      throw new ArmError(405, 'MethodNotAllowed', `${method} is not supported on '${path}'.`);
  }
}

function create(t: Tenant, scope: string, name: string, raw: unknown, principal: string, existing?: RemediationRecord): RemediationRecord {
  const parsed = createBody.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badRequest('InvalidRequestContent', `The remediation '${name}' is invalid at '${issue.path.join('.')}': ${issue.message}`);
  }
  const p = parsed.data.properties;
  const pa = assignmentFor(t, p.policyAssignmentId, 'properties.policyAssignmentId');
  if (!t.isWithin(scope, pa.parent)) {
    throw badRequest('InvalidRemediationScope', `The remediation scope '${scope}' is not at or below the scope '${pa.parent}' of policy assignment '${pa.name}'.`);
  }
  const def = t.get(pa.body.properties?.policyDefinitionId ?? '');
  if (def && sameType(def.type, TYPES.PSD) && !p.policyDefinitionReferenceId) {
    throw badRequest('InvalidRemediationRequest', `properties.policyDefinitionReferenceId is required: policy assignment '${pa.name}' assigns a policy set.`);
  }
  if (existing && key(existing.policyAssignmentId) !== key(pa.id)) {
    throw badRequest('InvalidRemediationRequest', `The remediation '${name}' already remediates '${existing.policyAssignmentId}'; properties.policyAssignmentId cannot change.`);
  }
  const now = new Date().toISOString();
  const base: RemediationRecord = existing ?? {
    id: `${scope}/providers/${REMEDIATION_TYPE}/${name}`, scope, name, policyAssignmentId: pa.id,
    resourceDiscoveryMode: 'ExistingNonCompliant', correlationId: randomUUID(),
    createdBy: principal, createdByType: 'Application', createdOn: now, lastUpdatedOn: now,
    deployments: targets(t, scope, pa.id, p).map((res) => ({
      remediatedResourceId: res.id, status: 'Running', resourceLocation: String(res.body.location ?? ''), createdOn: now, lastUpdatedOn: now,
    })),
  };
  return {
    ...base,
    policyDefinitionReferenceId: p.policyDefinitionReferenceId ?? base.policyDefinitionReferenceId,
    resourceDiscoveryMode: p.resourceDiscoveryMode ?? base.resourceDiscoveryMode,
    filters: p.filters ?? base.filters,
    parallelDeployments: p.parallelDeployments ?? base.parallelDeployments,
    resourceCount: p.resourceCount ?? base.resourceCount,
    failureThreshold: p.failureThreshold ?? base.failureThreshold,
    lastUpdatedOn: now,
  };
}

/** The existing resources the assignment reports NonCompliant under the scope, after the filters. */
function targets(t: Tenant, scope: string, assignmentId: string, p: z.infer<typeof createBody>['properties']): StoredResource[] {
  const ids = new Set((p.filters?.resourceIds ?? []).map(key));
  const locations = new Set((p.filters?.locations ?? []).map((l) => l.toLowerCase().replace(/\s+/g, '')));
  const out = new Map<string, StoredResource>();
  for (const c of t.compliance) {
    if (c.complianceState !== 'NonCompliant' || key(c.policyAssignmentId) !== key(assignmentId)) continue;
    if (p.policyDefinitionReferenceId && (c.policyDefinitionReferenceId ?? '').toLowerCase() !== p.policyDefinitionReferenceId.toLowerCase()) continue;
    if (!t.isWithin(c.resourceId, scope)) continue;
    if (ids.size && !ids.has(key(c.resourceId))) continue;
    const res = t.get(c.resourceId);
    if (!res) continue;
    if (locations.size && !locations.has(String(res.body.location ?? '').toLowerCase().replace(/\s+/g, ''))) continue;
    out.set(key(res.id), res);
  }
  return [...out.values()];
}

// ---------- shapes ----------

export function assignmentFor(t: Tenant, id: string, field: string): StoredResource {
  const pa = t.get(id);
  if (!pa || !sameType(pa.type, TYPES.PA)) throw new ArmError(404, 'PolicyAssignmentNotFound', `${field} '${id}' is not a policy assignment in the sandbox.`);
  return pa;
}

export function remediationScope(t: Tenant, scope: string, field = 'scope'): string {
  const r = t.get(scope.replace(/\/+$/, '') || '/');
  if (!r) throw new ArmError(404, 'ScopeNotFound', `The ${field} '${scope || '/'}' does not exist in the sandbox.`);
  return r.id;
}

function provisioningState(r: RemediationRecord): string {
  if (r.deployments.some((d) => d.status === 'Running')) return 'Accepted';
  if (r.cancelled) return 'Canceled';
  if (r.deployments.some((d) => d.status === 'Failed')) return 'Failed';
  return 'Succeeded';
}

export function presentRemediation(r: RemediationRecord): Body {
  const count = (s: RemediationDeploymentStatus) => r.deployments.filter((d) => d.status === s).length;
  return {
    id: r.id, name: r.name, type: REMEDIATION_TYPE,
    properties: {
      policyAssignmentId: r.policyAssignmentId,
      ...(r.policyDefinitionReferenceId ? { policyDefinitionReferenceId: r.policyDefinitionReferenceId } : {}),
      resourceDiscoveryMode: r.resourceDiscoveryMode,
      provisioningState: provisioningState(r),
      createdOn: r.createdOn,
      lastUpdatedOn: r.lastUpdatedOn,
      ...(r.filters ? { filters: r.filters } : {}),
      deploymentStatus: { totalDeployments: r.deployments.length, successfulDeployments: count('Succeeded'), failedDeployments: count('Failed') },
      statusMessage: '',
      correlationId: r.correlationId,
      ...(r.resourceCount !== undefined ? { resourceCount: r.resourceCount } : {}),
      ...(r.parallelDeployments !== undefined ? { parallelDeployments: r.parallelDeployments } : {}),
      ...(r.failureThreshold ? { failureThreshold: r.failureThreshold } : {}),
    },
    systemData: {
      createdBy: r.createdBy, createdByType: r.createdByType, createdAt: r.createdOn,
      lastModifiedBy: r.createdBy, lastModifiedByType: r.createdByType, lastModifiedAt: r.lastUpdatedOn,
    },
  };
}

function presentRemediationDeployment(d: RemediationDeploymentRecord): Body {
  return {
    remediatedResourceId: d.remediatedResourceId,
    ...(d.deploymentId ? { deploymentId: d.deploymentId } : {}),
    status: d.status,
    resourceLocation: d.resourceLocation,
    createdOn: d.createdOn,
    lastUpdatedOn: d.lastUpdatedOn,
  };
}

/** $filter fields as Azure spells them (PolicyAssignmentId ...) and as the properties do. */
function filterRow(r: RemediationRecord): Record<string, unknown> {
  // The filter names the fields: a row without a prototype has no others.
  const row: Record<string, unknown> = Object.create(null);
  const fields: [string, unknown][] = [
    ['PolicyAssignmentId', r.policyAssignmentId],
    ['PolicyDefinitionReferenceId', r.policyDefinitionReferenceId ?? ''],
    ['ProvisioningState', provisioningState(r)],
  ];
  for (const [k, v] of fields) {
    row[k] = v;
    row[k[0].toLowerCase() + k.slice(1)] = v;
  }
  return row;
}

function page(items: Body[], q: URLSearchParams, baseUrl: string, path: string): Body {
  const top = q.get('$top') ? Number(q.get('$top')) : undefined;
  if (top !== undefined && !(Number.isInteger(top) && top > 0)) throw badRequest('InvalidQueryParameter', `$top '${q.get('$top')}' must be a positive integer.`);
  const limit = Math.min(top ?? items.length, items.length);
  const skip = Number(q.get('$skiptoken') ?? 0) || 0;
  const end = Math.min(skip + PAGE_SIZE, limit);
  const body: Body = { value: items.slice(skip, end) };
  if (end < limit) {
    const next = new URLSearchParams(q);
    next.set('$skiptoken', String(end));
    body.nextLink = `${baseUrl}${path}?${next}`;
  }
  return body;
}
