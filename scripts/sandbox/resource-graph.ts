// Resource Graph over the sandbox tenant: POST /providers/Microsoft.ResourceGraph/resources with
// the request and response shapes of api-version 2021-03-01 (what @azure/arm-resourcegraph sends).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ArmError } from './errors.ts';
import { idParts, sameType, MG_TYPE, SUB_TYPE, RG_TYPE } from './arm-ids.ts';
import { parseKql, run, KqlError } from './kql.ts';
import { TYPES } from './rules.ts';
import { publicBody, type ComplianceRecord, type ResourceChange, type StoredResource, type Tenant } from './tenant.ts';

const DEFAULT_TOP = 100;
const MAX_TOP = 1000;

const request = z.object({
  query: z.string().min(1),
  subscriptions: z.array(z.string()).optional(),
  managementGroups: z.array(z.string()).optional(),
  options: z.object({
    $top: z.number().int().min(1).max(MAX_TOP).optional(),
    $skip: z.number().int().min(0).optional(),
    $skipToken: z.string().optional(),
    resultFormat: z.enum(['table', 'objectArray']).optional(),
    allowPartialScopes: z.boolean().optional(),
    authorizationScopeFilter: z.string().optional(),
  }).optional(),
  facets: z.array(z.unknown()).optional(),
});

type Row = Record<string, unknown>;

function badQuery(message: string): ArmError {
  return new ArmError(400, 'BadRequest', `Query is invalid: ${message}`, [
    { code: 'InvalidQuery', message: 'Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying.' },
    { code: 'ParserFailure', message },
  ]);
}

export function handleResourceGraph(t: Tenant, body: unknown): { status: number; body: unknown } {
  const parsed = request.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ArmError(400, 'BadRequest', `The Resource Graph request is invalid at '${issue.path.join('.')}': ${issue.message}`);
  }
  const req = parsed.data;
  if (req.facets?.length) throw badQuery('facets are not supported by the sandbox');
  let query;
  try {
    query = parseKql(req.query);
  } catch (e) {
    if (e instanceof KqlError) throw badQuery(e.message);
    throw e;
  }
  const table = TABLES[query.table];
  if (!table) throw badQuery(`the table '${query.table}' is not supported by the sandbox (supported: ${Object.keys(TABLES).join(', ')})`);
  for (const mg of req.managementGroups ?? []) {
    if (!t.get(`/providers/${MG_TYPE}/${mg}`)) throw new ArmError(400, 'BadRequest', `The management group '${mg}' in managementGroups does not exist.`);
  }
  const scoped = table(t).filter((r) => inScope(t, r, req.subscriptions, req.managementGroups));
  let rows: Row[];
  try {
    rows = run(query, scoped.map((r) => r.row));
  } catch (e) {
    if (e instanceof KqlError) throw badQuery(e.message);
    throw e;
  }

  const opts = req.options ?? {};
  const top = opts.$top ?? DEFAULT_TOP;
  const fingerprint = createHash('sha256').update(JSON.stringify([req.query, req.subscriptions, req.managementGroups])).digest('base64url').slice(0, 16);
  let offset = opts.$skip ?? 0;
  if (opts.$skipToken) {
    let tok: { o?: unknown; q?: unknown };
    try {
      tok = JSON.parse(Buffer.from(opts.$skipToken, 'base64url').toString('utf8'));
    } catch {
      throw new ArmError(400, 'BadRequest', 'The $skipToken is not one this service issued.');
    }
    if (tok.q !== fingerprint || typeof tok.o !== 'number') {
      throw new ArmError(400, 'BadRequest', 'The $skipToken belongs to a different query or scope.');
    }
    offset = tok.o;
  }
  const page = rows.slice(offset, offset + top);
  const more = offset + top < rows.length;
  const data = opts.resultFormat === 'table' ? asTable(page) : page;
  return {
    status: 200,
    body: {
      totalRecords: rows.length,
      count: page.length,
      resultTruncated: 'false',
      ...(more ? { $skipToken: Buffer.from(JSON.stringify({ o: offset + top, q: fingerprint })).toString('base64url') } : {}),
      data,
      facets: [],
    },
  };
}

function asTable(rows: Row[]) {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const typeOf = (v: unknown) => (typeof v === 'number' ? 'integer' : typeof v === 'boolean' ? 'boolean' : v !== null && typeof v === 'object' ? 'object' : 'string');
  return {
    columns: names.map((name) => ({ name, type: typeOf(rows.find((r) => r[name] !== null && r[name] !== undefined)?.[name]) })),
    rows: rows.map((r) => names.map((n) => r[n] ?? null)),
  };
}

interface ScopedRow {
  /** The id used for scope filtering (the resource a change or state is about). */
  scopeId: string;
  row: Row;
}

function inScope(t: Tenant, r: ScopedRow, subs?: string[], mgs?: string[]): boolean {
  if (subs?.length) {
    const sub = idParts(r.scopeId).subscriptionId?.toLowerCase();
    if (!sub || !subs.some((s) => s.toLowerCase() === sub)) return false;
  }
  if (mgs?.length) {
    return mgs.some((mg) => t.isWithin(r.scopeId, `/providers/${MG_TYPE}/${mg}`));
  }
  return true;
}

const CONTAINER_TYPES = [MG_TYPE, SUB_TYPE, RG_TYPE];
const POLICY_TYPES = [TYPES.PA, TYPES.PD, TYPES.PSD, 'Microsoft.Authorization/policyExemptions'];
const AUTH_TYPES = [TYPES.RA, TYPES.RD];
const isOneOf = (type: string, list: string[]) => list.some((x) => sameType(x, type));

function common(t: Tenant, id: string) {
  const p = idParts(id);
  return {
    tenantId: t.tenantId,
    subscriptionId: p.subscriptionId ?? '',
    resourceGroup: p.resourceGroup?.toLowerCase() ?? '',
    managementGroup: p.managementGroup ?? '',
  };
}

function ancestors(t: Tenant, id: string) {
  return t.groupChain(id).map((g) => {
    const mg = t.get(g)!;
    return { name: mg.name, displayName: mg.body.properties?.displayName };
  });
}

function resourceRow(t: Tenant, r: StoredResource): Row {
  const b = publicBody(r.body);
  return {
    id: r.id, name: r.name, type: r.type.toLowerCase(), ...common(t, r.id),
    kind: b.kind ?? '', location: b.location ?? '', sku: b.sku ?? null, plan: b.plan ?? null,
    properties: b.properties ?? {}, tags: b.tags ?? {}, identity: b.identity ?? null, zones: b.zones ?? null,
    extendedLocation: b.extendedLocation ?? null,
  };
}

function containerRow(t: Tenant, r: StoredResource): Row {
  if (sameType(r.type, MG_TYPE)) {
    const chain = ancestors(t, r.id).slice(1);
    return {
      id: r.id, name: r.name, type: MG_TYPE.toLowerCase(), tenantId: t.tenantId, subscriptionId: '', resourceGroup: '',
      location: '', tags: {},
      properties: { displayName: r.body.properties?.displayName, details: { parent: r.body.properties?.details?.parent ?? null, managementGroupAncestorsChain: chain } },
    };
  }
  if (sameType(r.type, SUB_TYPE)) {
    return {
      id: r.id, name: r.body.displayName, type: SUB_TYPE.toLowerCase(), tenantId: t.tenantId, subscriptionId: r.name, resourceGroup: '',
      location: '', tags: r.body.tags ?? {},
      properties: { state: r.body.state, managementGroupAncestorsChain: ancestors(t, r.id) },
    };
  }
  return { ...resourceRow(t, r), type: 'microsoft.resources/subscriptions/resourcegroups' };
}

function changeRow(t: Tenant, c: ResourceChange): Row {
  return {
    id: `${c.resourceId}/providers/Microsoft.Resources/changes/${c.changeId}`,
    name: c.changeId,
    type: 'microsoft.resources/changes',
    ...common(t, c.resourceId),
    properties: {
      targetResourceId: c.resourceId,
      targetResourceType: c.resourceType.toLowerCase(),
      changeType: c.changeType,
      changeAttributes: {
        timestamp: c.timestamp, changedBy: c.changedBy, changedByType: c.changedByType, clientType: c.clientType,
        operation: c.operation, correlationId: c.correlationId ?? c.changeId, changesCount: Object.keys(c.changes).length,
        previousResourceSnapshotId: c.before ? `${c.changeId}-before` : null,
        newResourceSnapshotId: c.after ? `${c.changeId}-after` : null,
      },
      // Azure tells changes a caller made (User) from ones the service made (System); all are the caller's here.
      changes: Object.fromEntries(Object.entries(c.changes).map(([k, v]) => [k, { ...v, changeCategory: 'User' }])),
    },
  };
}

export function policyStateRow(t: Tenant, s: ComplianceRecord): Row {
  const pa = t.get(s.policyAssignmentId);
  const res = t.get(s.resourceId);
  const p = idParts(s.resourceId);
  return {
    id: `${s.resourceId}/providers/Microsoft.PolicyInsights/policyStates/${createHash('sha1').update(`${s.policyAssignmentId}|${s.policyDefinitionReferenceId ?? ''}`).digest('hex').slice(0, 24)}`,
    name: s.policyAssignmentId.split('/').pop(),
    type: 'microsoft.policyinsights/policystates',
    ...common(t, s.resourceId),
    properties: {
      timestamp: s.timestamp,
      resourceId: s.resourceId,
      resourceType: (res?.type ?? '').toLowerCase(),
      resourceLocation: res?.body.location ?? '',
      resourceGroup: p.resourceGroup ?? '',
      policyAssignmentId: s.policyAssignmentId,
      policyAssignmentName: s.policyAssignmentId.split('/').pop(),
      policyAssignmentScope: pa?.parent ?? '',
      policyDefinitionId: s.policyDefinitionId,
      policyDefinitionName: s.policyDefinitionId.split('/').pop(),
      policyDefinitionReferenceId: s.policyDefinitionReferenceId ?? '',
      policySetDefinitionId: s.policySetDefinitionId ?? '',
      complianceState: s.complianceState,
      isCompliant: s.complianceState === 'Compliant',
    },
  };
}

const live = (t: Tenant) => [...t.resources.values()];

const TABLES: Record<string, (t: Tenant) => ScopedRow[]> = {
  resources: (t) => live(t).filter((r) => !isOneOf(r.type, [...CONTAINER_TYPES, ...POLICY_TYPES, ...AUTH_TYPES]))
    .map((r) => ({ scopeId: r.id, row: resourceRow(t, r) })),
  resourcecontainers: (t) => live(t).filter((r) => isOneOf(r.type, CONTAINER_TYPES))
    .map((r) => ({ scopeId: r.id, row: containerRow(t, r) })),
  policyresources: (t) => [
    ...live(t).filter((r) => isOneOf(r.type, POLICY_TYPES)).map((r) => ({ scopeId: r.id, row: resourceRow(t, r) })),
    ...t.compliance.map((s) => ({ scopeId: s.resourceId, row: policyStateRow(t, s) })),
  ],
  authorizationresources: (t) => live(t).filter((r) => isOneOf(r.type, AUTH_TYPES))
    .map((r) => ({ scopeId: r.id, row: resourceRow(t, r) })),
  // Azure records changes of tracked resources here; the sandbox records every ARM write, MG-scoped
  // policy and role resources included, because drift detection needs them.
  resourcechanges: (t) => t.changes.filter((c) => !isOneOf(c.resourceType, CONTAINER_TYPES))
    .map((c) => ({ scopeId: c.resourceId, row: changeRow(t, c) })),
  resourcecontainerchanges: (t) => t.changes.filter((c) => isOneOf(c.resourceType, CONTAINER_TYPES))
    .map((c) => ({ scopeId: c.resourceId, row: { ...changeRow(t, c), type: 'microsoft.resources/changes' } })),
};

