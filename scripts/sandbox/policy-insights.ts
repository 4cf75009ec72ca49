// Policy Insights over the sandbox's compliance states: policyStates/{latest|default}/queryResults
// and /summarize at any scope (management group, subscription, resource group), api-version 2019-10-01+.
import { ArmError, badRequest } from './errors.ts';
import { idParts } from './arm-ids.ts';
import type { ComplianceRecord, Tenant } from './tenant.ts';

const PATH = /^(.*)\/providers\/Microsoft\.PolicyInsights\/policyStates\/([^/]+)\/(queryResults|summarize)\/?$/i;
const PAGE_MAX = 1000;

export function isPolicyInsightsPath(path: string): boolean {
  return /\/providers\/Microsoft\.PolicyInsights\/policyStates\//i.test(path);
}

type State = Record<string, unknown>;

export function handlePolicyInsights(t: Tenant, method: string, path: string, q: URLSearchParams, baseUrl: string): { status: number; body: unknown } {
  const m = PATH.exec(path);
  if (!m) throw badRequest('InvalidPolicyInsightsRequest', `The Policy Insights path '${path}' is not supported by the sandbox (policyStates/{latest|default}/queryResults or /summarize).`);
  const [, scope, resource, action] = m;
  if (!/^(latest|default)$/i.test(resource)) throw badRequest('InvalidPolicyStatesResource', `The policy states resource '${resource}' must be 'latest' or 'default'.`);
  if (method !== 'POST' && !(method === 'GET' && action.toLowerCase() === 'queryresults')) {
    throw new ArmError(405, 'MethodNotAllowed', `${method} is not supported on policyStates/${action}.`);
  }
  const scoped = t.get(scope);
  if (!scoped) throw new ArmError(404, 'ScopeNotFound', `The scope '${scope}' does not exist in the sandbox.`);
  for (const p of ['$apply']) if (q.get(p)) throw badRequest('InvalidQueryParameter', `The query parameter '${p}' is not supported by the sandbox.`);

  let states = t.compliance.filter((c) => t.isWithin(c.resourceId, scoped.id));
  const from = q.get('$from') ? Date.parse(q.get('$from')!) : undefined;
  const to = q.get('$to') ? Date.parse(q.get('$to')!) : undefined;
  if (from !== undefined && Number.isNaN(from)) throw badRequest('InvalidQueryParameter', `$from '${q.get('$from')}' is not a datetime.`);
  if (to !== undefined && Number.isNaN(to)) throw badRequest('InvalidQueryParameter', `$to '${q.get('$to')}' is not a datetime.`);
  if (from !== undefined) states = states.filter((s) => Date.parse(s.timestamp) >= from);
  if (to !== undefined) states = states.filter((s) => Date.parse(s.timestamp) <= to);
  let rows = states.map((s) => policyState(t, s));
  const filter = q.get('$filter');
  if (filter) {
    const pred = parseODataFilter(filter);
    rows = rows.filter(pred);
  }
  const context = `${baseUrl}/providers/Microsoft.PolicyInsights/$metadata#latest`;
  if (action.toLowerCase() === 'summarize') return { status: 200, body: summarize(rows, context, `${baseUrl}${scope}/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults`) };

  const orderby = q.get('$orderby');
  if (orderby) rows = order(rows, orderby);
  else rows.sort((a, b) => String(b.timestamp).localeCompare(String(a.timestamp)) || String(a.resourceId).localeCompare(String(b.resourceId)));
  const total = rows.length;
  const top = q.get('$top') ? Number(q.get('$top')) : undefined;
  if (top !== undefined && !(Number.isInteger(top) && top > 0)) throw badRequest('InvalidQueryParameter', `$top '${q.get('$top')}' must be a positive integer.`);
  const skip = Number(q.get('$skiptoken') ?? 0) || 0;
  // $top limits the whole result; pages are at most PAGE_MAX rows.
  const limit = Math.min(top ?? total, total);
  const pageEnd = Math.min(skip + PAGE_MAX, limit);
  let page = rows.slice(skip, pageEnd);
  const select = q.get('$select');
  if (select) {
    const fields = select.split(',').map((f) => f.trim()).filter(Boolean);
    page = page.map((r) => Object.fromEntries(fields.map((f) => [f, r[f] ?? null])));
  }
  const body: State = { '@odata.context': context, '@odata.count': page.length, value: page };
  if (pageEnd < limit) {
    const next = new URLSearchParams(q);
    next.set('$skiptoken', String(pageEnd));
    body['@odata.nextLink'] = `${baseUrl}${path}?${next}`;
  }
  void total;
  return { status: 200, body };
}

function policyState(t: Tenant, s: ComplianceRecord): State {
  const pa = t.get(s.policyAssignmentId);
  const def = t.get(s.policyDefinitionId);
  const set = s.policySetDefinitionId ? t.get(s.policySetDefinitionId) : undefined;
  const res = t.get(s.resourceId);
  const p = idParts(s.resourceId);
  const effect = (def?.body.properties?.policyRule?.then?.effect as string | undefined) ?? '';
  return {
    '@odata.id': null,
    timestamp: s.timestamp,
    resourceId: s.resourceId,
    policyAssignmentId: s.policyAssignmentId,
    policyDefinitionId: s.policyDefinitionId,
    effectiveParameters: '',
    isCompliant: s.complianceState === 'Compliant',
    subscriptionId: p.subscriptionId ?? '',
    resourceType: res?.type ?? '',
    resourceLocation: res?.body.location ?? '',
    resourceGroup: p.resourceGroup ?? '',
    resourceTags: JSON.stringify(res?.body.tags ?? {}),
    policyAssignmentName: s.policyAssignmentId.split('/').pop(),
    policyAssignmentOwner: 'tbd',
    policyAssignmentParameters: JSON.stringify(pa?.body.properties?.parameters ?? {}),
    policyAssignmentScope: pa?.parent ?? '',
    policyDefinitionName: s.policyDefinitionId.split('/').pop(),
    policyDefinitionAction: /^\[/.test(effect) ? '' : effect.toLowerCase(),
    policyDefinitionCategory: def?.body.properties?.metadata?.category ?? 'tbd',
    policySetDefinitionId: s.policySetDefinitionId ?? '',
    policySetDefinitionName: s.policySetDefinitionId?.split('/').pop() ?? '',
    policySetDefinitionCategory: set?.body.properties?.metadata?.category ?? '',
    managementGroupIds: t.groupChain(s.resourceId).map((g) => g.split('/').pop()).join(','),
    policyDefinitionReferenceId: s.policyDefinitionReferenceId ?? '',
    complianceState: s.complianceState,
    policyDefinitionGroupNames: [],
  };
}

// ---------- $filter: eq, ne, and, or, not, parentheses over string/boolean fields ----------

type Pred = (r: State) => boolean;

export function parseODataFilter(src: string): Pred {
  const toks = src.match(/'(?:[^']|'')*'|\(|\)|[^\s()]+/g) ?? [];
  let i = 0;
  const fail = (msg: string): never => { throw badRequest('InvalidFilterInQueryString', `$filter '${src}': ${msg}.`); };
  const peek = () => toks[i]?.toLowerCase();
  const or = (): Pred => {
    let l = and();
    while (peek() === 'or') { i++; const a = l, b = and(); l = (r) => a(r) || b(r); }
    return l;
  };
  const and = (): Pred => {
    let l = unary();
    while (peek() === 'and') { i++; const a = l, b = unary(); l = (r) => a(r) && b(r); }
    return l;
  };
  const unary = (): Pred => {
    if (peek() === 'not') { i++; const p = unary(); return (r) => !p(r); }
    if (peek() === '(') { i++; const p = or(); if (toks[i++] !== ')') fail("expected ')'"); return p; }
    const field = toks[i++];
    const op = toks[i++]?.toLowerCase();
    const raw = toks[i++];
    if (!field || !op || raw === undefined) fail('expected FIELD eq|ne VALUE');
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(field)) fail(`'${field}' is not a field name`);
    if (op !== 'eq' && op !== 'ne') fail(`the operator '${op}' is not supported by the sandbox (only eq, ne, and, or, not)`);
    const value: unknown = /^'.*'$/.test(raw) ? raw.slice(1, -1).replace(/''/g, "'") : raw === 'true' ? true : raw === 'false' ? false : fail(`'${raw}' is not a quoted string or boolean`);
    return (r) => {
      const v = r[field];
      const same = typeof value === 'string' ? String(v ?? '').toLowerCase() === value.toLowerCase() : v === value;
      return op === 'eq' ? same : !same;
    };
  };
  const p = or();
  if (i < toks.length) fail(`unexpected '${toks[i]}'`);
  return p;
}

function order(rows: State[], spec: string): State[] {
  const keys = spec.split(',').map((s) => {
    const [field, dir = 'desc'] = s.trim().split(/\s+/);
    if (!/^(asc|desc)$/i.test(dir)) throw badRequest('InvalidQueryParameter', `$orderby '${spec}': direction must be asc or desc.`);
    return { field, desc: /^desc$/i.test(dir) };
  });
  return [...rows].sort((a, b) => {
    for (const k of keys) {
      const c = String(a[k.field] ?? '').localeCompare(String(b[k.field] ?? ''));
      if (c) return k.desc ? -c : c;
    }
    return 0;
  });
}

// ---------- summarize ----------

const PRECEDENCE = ['NonCompliant', 'Conflict', 'Unknown', 'NotStarted', 'Exempt', 'Compliant'];

function details(rows: State[], keyOf: (r: State) => string) {
  const worst = new Map<string, string>();
  for (const r of rows) {
    const k = keyOf(r);
    const s = String(r.complianceState);
    const cur = worst.get(k);
    if (!cur || PRECEDENCE.indexOf(s) < PRECEDENCE.indexOf(cur)) worst.set(k, s);
  }
  const counts = new Map<string, number>();
  for (const s of worst.values()) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].map(([complianceState, count]) => ({ complianceState, count }));
}

function results(rows: State[], queryResultsUri: string) {
  const nonCompliant = rows.filter((r) => r.complianceState === 'NonCompliant');
  const policyKey = (r: State) => `${r.policyAssignmentId}|${r.policyDefinitionId}|${r.policyDefinitionReferenceId}`.toLowerCase();
  return {
    queryResultsUri,
    nonCompliantResources: new Set(nonCompliant.map((r) => String(r.resourceId).toLowerCase())).size,
    nonCompliantPolicies: new Set(nonCompliant.map(policyKey)).size,
    resourceDetails: details(rows, (r) => String(r.resourceId).toLowerCase()),
    policyDetails: details(rows, policyKey),
    policyGroupDetails: [],
  };
}

function summarize(rows: State[], context: string, queryResultsUri: string) {
  const byAssignment = new Map<string, State[]>();
  for (const r of rows) {
    const k = String(r.policyAssignmentId).toLowerCase();
    byAssignment.set(k, [...(byAssignment.get(k) ?? []), r]);
  }
  const policyAssignments = [...byAssignment.values()].map((group) => {
    const byDef = new Map<string, State[]>();
    for (const r of group) {
      const k = `${r.policyDefinitionId}|${r.policyDefinitionReferenceId}`.toLowerCase();
      byDef.set(k, [...(byDef.get(k) ?? []), r]);
    }
    return {
      policyAssignmentId: group[0].policyAssignmentId,
      policySetDefinitionId: group[0].policySetDefinitionId,
      results: results(group, queryResultsUri),
      policyDefinitions: [...byDef.values()].map((d) => ({
        policyDefinitionId: d[0].policyDefinitionId,
        policyDefinitionReferenceId: d[0].policyDefinitionReferenceId,
        effect: d[0].policyDefinitionAction,
        results: results(d, queryResultsUri),
      })),
      policyGroups: [],
    };
  });
  return {
    '@odata.context': context,
    '@odata.count': 1,
    value: [{ '@odata.id': null, '@odata.context': context, results: results(rows, queryResultsUri), policyAssignments }],
  };
}

