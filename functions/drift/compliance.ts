// The compliance view: per management group and subscription, compliant / non-compliant / exempt
// counts per policy assignment and the worst offenders, from Policy Insights' latest states.
// `buildComplianceView` is pure (rows in, view out); `loadComplianceView` reads the rows, bounded.
import type { PolicyInsightsClient } from '@azure/arm-policyinsights';
import { policyStates } from '../platform/policy-insights.ts';
import { armRequest, type ArmConfig } from '../platform/arm.ts';
import { mapLimit } from '../platform/map-limit.ts';
import type { AssignmentCompliance, ComplianceView, ScopeCompliance } from './model.ts';

/** One policy state, as much of it as the view needs. */
export interface ComplianceRow {
  resourceId: string;
  policyAssignmentId: string;
  complianceState: string;
  /** The assignment's name (the last segment of its id), as the states carry it. */
  policyAssignmentName?: string;
}

export interface ScopeRows {
  scope: string;
  kind: ScopeCompliance['kind'];
  /** Display name of the group or subscription. */
  name: string;
  rows: ComplianceRow[];
}

/** Worst first: a resource with several states (set members, several assignments) takes the worst. */
const PRECEDENCE = ['NonCompliant', 'Conflict', 'Unknown', 'NotStarted', 'Exempt', 'Compliant'];
const rank = (s: string) => {
  const i = PRECEDENCE.findIndex((p) => p.toLowerCase() === s.toLowerCase());
  return i < 0 ? PRECEDENCE.indexOf('Unknown') : i;
};
const worse = (a: string | undefined, b: string) => (a === undefined || rank(b) < rank(a) ? b : a);

const MAX_OFFENDERS = 10;

/** Pure: the view of each scope from its rows. `names` maps lowercased assignment ids to display names. */
export function buildComplianceView(scopes: ScopeRows[], opts: {
  at: string; names?: ReadonlyMap<string, string>; unavailable?: { scope: string; error: string }[];
}): ComplianceView {
  const ordered = [...scopes.filter((s) => s.kind === 'managementGroup'), ...scopes.filter((s) => s.kind === 'subscription')];
  return {
    at: opts.at,
    scopes: ordered.map((s) => scopeCompliance(s, opts.names)),
    ...(opts.unavailable?.length ? { unavailable: opts.unavailable } : {}),
  };
}

function scopeCompliance(s: ScopeRows, names?: ReadonlyMap<string, string>): ScopeCompliance {
  // assignment -> resource -> worst state; resource -> worst state over assignments.
  const perAssignment = new Map<string, { id: string; stateName?: string; resources: Map<string, string> }>();
  const perResource = new Map<string, { id: string; state?: string; nonCompliant: Set<string> }>();
  for (const r of s.rows) {
    const a = r.policyAssignmentId.toLowerCase();
    const res = r.resourceId.toLowerCase();
    let entry = perAssignment.get(a);
    if (!entry) perAssignment.set(a, (entry = { id: r.policyAssignmentId, resources: new Map() }));
    entry.stateName ??= r.policyAssignmentName || undefined;
    entry.resources.set(res, worse(entry.resources.get(res), r.complianceState));
    let rr = perResource.get(res);
    if (!rr) perResource.set(res, (rr = { id: r.resourceId, nonCompliant: new Set() }));
    rr.state = worse(rr.state, r.complianceState);
    if (r.complianceState.toLowerCase() === 'noncompliant') rr.nonCompliant.add(a);
  }

  const nameOf = (key: string) => {
    const e = perAssignment.get(key)!;
    return names?.get(key) || e.stateName || e.id.split('/').pop() || e.id;
  };
  const assignments: AssignmentCompliance[] = [...perAssignment].map(([key, e]) => {
    const c = { compliant: 0, nonCompliant: 0, exempt: 0, other: 0 };
    for (const state of e.resources.values()) c[bucket(state)]++;
    return { policyAssignmentId: e.id, name: nameOf(key), ...c };
  });
  assignments.sort((a, b) => b.nonCompliant - a.nonCompliant || a.name.localeCompare(b.name) || a.policyAssignmentId.localeCompare(b.policyAssignmentId));

  const resources = { compliant: 0, nonCompliant: 0, exempt: 0, total: perResource.size };
  for (const r of perResource.values()) {
    const b = bucket(r.state!);
    if (b !== 'other') resources[b]++;
  }
  const worstOffenders = [...perResource.values()]
    .filter((r) => r.nonCompliant.size > 0)
    .sort((a, b) => b.nonCompliant.size - a.nonCompliant.size || a.id.localeCompare(b.id))
    .slice(0, MAX_OFFENDERS)
    .map((r) => ({ resourceId: r.id, nonCompliant: r.nonCompliant.size, assignments: [...r.nonCompliant].map((k) => perAssignment.get(k)!.id).sort() }));

  return { scope: s.scope, kind: s.kind, name: s.name, resources, assignments, worstOffenders };
}

function bucket(state: string): 'compliant' | 'nonCompliant' | 'exempt' | 'other' {
  switch (state.toLowerCase()) {
    case 'compliant': return 'compliant';
    case 'noncompliant': return 'nonCompliant';
    case 'exempt': return 'exempt';
    default: return 'other';
  }
}

// ---------- loading ----------

export interface ComplianceScope {
  /** A management group or subscription id. */
  scope: string;
  /** Display name (default: the id's last segment). */
  name?: string;
}

export interface LoadComplianceOptions {
  /** The composition root's client (functions/runtime/nexus.ts). */
  client: PolicyInsightsClient;
  /** Management groups (root first) and subscriptions under the root. */
  scopes: ComplianceScope[];
  /** Policy states read per scope at most (default 5000); a scope that has more says so in `unavailable`. */
  maxRowsPerScope?: number;
  /** Display names of assignments by id (e.g. from the assignments Nexus deploys); lowercased ids. */
  assignmentNames?: (assignmentIds: string[]) => Promise<ReadonlyMap<string, string>>;
  concurrency?: number;
  now?: () => Date;
}

const SELECT = 'resourceId,policyAssignmentId,policyAssignmentName,complianceState';

export function scopeKind(scope: string): ScopeCompliance['kind'] {
  if (/^\/providers\/Microsoft\.Management\/managementGroups\/[^/]+\/?$/i.test(scope)) return 'managementGroup';
  if (/^\/subscriptions\/[^/]+\/?$/i.test(scope)) return 'subscription';
  throw new Error(`compliance scope '${scope}' is not a management group or subscription id`);
}

/** Reads each scope's latest policy states (capped) and builds the view; a scope that fails is listed in `unavailable`. */
export async function loadComplianceView(opts: LoadComplianceOptions): Promise<ComplianceView> {
  const cap = opts.maxRowsPerScope ?? 5000;
  const unavailable: { scope: string; error: string }[] = [];
  const kinds = opts.scopes.map((s) => ({ ...s, kind: scopeKind(s.scope) }));
  const read = await mapLimit(kinds, opts.concurrency ?? 4, async (s): Promise<ScopeRows | undefined> => {
    try {
      // One more than the cap tells "exactly the cap" from "more than the cap"; read client side,
      // page by page, so no $top limit of the service applies.
      const states = await policyStates(s.scope, { client: opts.client, limit: cap + 1, select: SELECT });
      if (states.length > cap) unavailable.push({ scope: s.scope, error: `more than ${cap} policy states; the counts cover the first ${cap} only` });
      const rows = states.slice(0, cap).flatMap((st): ComplianceRow[] =>
        st.resourceId && st.policyAssignmentId && st.complianceState
          ? [{ resourceId: st.resourceId, policyAssignmentId: st.policyAssignmentId, complianceState: st.complianceState, policyAssignmentName: st.policyAssignmentName }]
          : []);
      return { scope: s.scope, kind: s.kind, name: s.name ?? s.scope.replace(/\/+$/, '').split('/').pop()!, rows };
    } catch (e) {
      unavailable.push({ scope: s.scope, error: (e as Error).message.split('\n')[0] });
      return undefined;
    }
  });
  const scopes = read.filter((s): s is ScopeRows => s !== undefined);
  const order = new Map(opts.scopes.map((s, i) => [s.scope, i]));
  unavailable.sort((a, b) => (order.get(a.scope) ?? 0) - (order.get(b.scope) ?? 0));
  let names: ReadonlyMap<string, string> | undefined;
  if (opts.assignmentNames) {
    const ids = [...new Set(scopes.flatMap((s) => s.rows.map((r) => r.policyAssignmentId.toLowerCase())))];
    try {
      names = await opts.assignmentNames(ids);
    } catch (e) {
      // The counts stand without display names; say why the names are missing.
      unavailable.push({ scope: 'policy assignments', error: `display names: ${(e as Error).message.split('\n')[0]}` });
    }
  }
  return buildComplianceView(scopes, { at: (opts.now?.() ?? new Date()).toISOString(), names, unavailable });
}

/**
 * Display names of assignments read from ARM (GET of each assignment; at most `max`, default 200,
 * the rest keep their names from the states). An assignment that is gone is skipped.
 */
export function armAssignmentNames(cfg: ArmConfig, opts: { max?: number; concurrency?: number } = {}) {
  return async (ids: string[]): Promise<ReadonlyMap<string, string>> => {
    const names = new Map<string, string>();
    await mapLimit(ids.slice(0, opts.max ?? 200), opts.concurrency ?? 8, async (id) => {
      const r = await armRequest('GET', id, { apiVersion: '2022-06-01', cfg });
      if (r.status === 404) return;
      if (r.status !== 200) throw new Error(`GET ${id}: ${r.status} ${r.body?.error?.code ?? ''}`.trim());
      const name = r.body?.properties?.displayName;
      if (typeof name === 'string' && name) names.set(id.toLowerCase(), name);
    });
    return names;
  };
}
