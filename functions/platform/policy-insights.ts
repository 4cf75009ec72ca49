// Policy Insights: the latest policy states and their summary at a management group, subscription
// or resource group scope, through @azure/arm-policyinsights.
import type { PolicyInsightsClient, PolicyState, SummarizeResults } from '@azure/arm-policyinsights';

const client = (c: PolicyInsightsClient) => c;

type Scope =
  | { kind: 'managementGroup'; name: string }
  | { kind: 'subscription'; subscriptionId: string }
  | { kind: 'resourceGroup'; subscriptionId: string; resourceGroup: string };

export function policyScope(scope: string): Scope {
  const mg = /^\/providers\/Microsoft\.Management\/managementGroups\/([^/]+)\/?$/i.exec(scope);
  if (mg) return { kind: 'managementGroup', name: mg[1] };
  const rg = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/?$/i.exec(scope);
  if (rg) return { kind: 'resourceGroup', subscriptionId: rg[1], resourceGroup: rg[2] };
  const sub = /^\/subscriptions\/([^/]+)\/?$/i.exec(scope);
  if (sub) return { kind: 'subscription', subscriptionId: sub[1] };
  throw new Error(`'${scope}' is not a management group, subscription or resource group id`);
}

export interface PolicyStateQuery {
  /** OData filter, e.g. "complianceState eq 'NonCompliant'". */
  filter?: string;
  top?: number;
  orderBy?: string;
  select?: string;
  /** Stop reading after this many states (client side: no page past it is fetched). */
  limit?: number;
  /** The composition root's client (functions/runtime/nexus.ts). */
  client: PolicyInsightsClient;
}

/** The latest policy states under a scope (all pages). */
export async function policyStates(scope: string, q: PolicyStateQuery): Promise<PolicyState[]> {
  const s = policyScope(scope);
  const queryOptions = { filter: q.filter, top: q.top, orderBy: q.orderBy, select: q.select };
  const ps = client(q.client).policyStates;
  const pages =
    s.kind === 'managementGroup' ? ps.listQueryResultsForManagementGroup('latest', s.name, { queryOptions })
      : s.kind === 'subscription' ? ps.listQueryResultsForSubscription('latest', s.subscriptionId, { queryOptions })
        : ps.listQueryResultsForResourceGroup('latest', s.subscriptionId, s.resourceGroup, { queryOptions });
  const out: PolicyState[] = [];
  for await (const st of pages) {
    if (q.limit !== undefined && out.length >= q.limit) break;
    out.push(st);
  }
  return out;
}

/** Policy Insights' own summary (non-compliant resources and policies, per assignment). */
export async function summarizeCompliance(scope: string, opts: { filter?: string; client: PolicyInsightsClient }): Promise<SummarizeResults> {
  const s = policyScope(scope);
  const ps = client(opts.client).policyStates;
  const queryOptions = { filter: opts.filter };
  if (s.kind === 'managementGroup') return ps.summarizeForManagementGroup('latest', s.name, { queryOptions });
  if (s.kind === 'subscription') return ps.summarizeForSubscription('latest', s.subscriptionId, { queryOptions });
  return ps.summarizeForResourceGroup('latest', s.subscriptionId, s.resourceGroup, { queryOptions });
}
