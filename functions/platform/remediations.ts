// Policy remediations (and the per-resource deployments of each) at management group, subscription
// or resource group scope, through @azure/arm-policyinsights. Drift leaves every resource a
// remediation changed, or has a task for, to the policy: Nexus never reverts a remediation.
import type { PolicyInsightsClient, Remediation, RemediationDeployment } from '@azure/arm-policyinsights';
import { policyScope } from './policy-insights.ts';
import { mapLimit } from './map-limit.ts';

export interface RemediationResource {
  resourceId: string;
  /** Running, Succeeded, Failed, Canceled... as Policy Insights says. */
  status: string;
  deploymentId?: string;
  createdOn?: string;
  lastUpdatedOn?: string;
}

export interface RemediationTask {
  id: string;
  name: string;
  /** The scope the remediation lives at (from its id). */
  scope: string;
  policyAssignmentId: string;
  policyDefinitionReferenceId?: string;
  /** Accepted, Evaluating, Succeeded, Failed, Canceled... */
  provisioningState: string;
  correlationId?: string;
  createdOn?: string;
  lastUpdatedOn?: string;
  deployments: RemediationResource[];
  /** More deployments than `maxDeployments` were listed; the rest were not read. */
  deploymentsTruncated?: boolean;
}

export interface RemediationQuery {
  /** The composition root's client (functions/runtime/nexus.ts). */
  client: PolicyInsightsClient;
  /** OData filter of the list, e.g. `PolicyAssignmentId eq '<id>'`. */
  filter?: string;
  /** List each remediation's deployments too (default true). */
  deployments?: boolean;
  /** Caps (defaults 500 remediations per scope, 1000 deployments per remediation). */
  maxRemediations?: number;
  maxDeployments?: number;
  concurrency?: number;
}

export interface RemediationsResult {
  remediations: RemediationTask[];
  /** A cap was hit somewhere: the list is not complete. */
  truncated: boolean;
}

const REMEDIATION_ID = /^(.*)\/providers\/Microsoft\.PolicyInsights\/remediations\/([^/]+)$/i;

/**
 * Remediations at each scope, with their deployments; deduplicated by id (a listing may include
 * remediations of child scopes). Errors name the scope.
 */
export async function remediationsAt(scopes: string | string[], q: RemediationQuery): Promise<RemediationsResult> {
  const list = typeof scopes === 'string' ? [scopes] : scopes;
  const maxRemediations = q.maxRemediations ?? 500;
  const byId = new Map<string, Remediation>();
  let truncated = false;
  for (const scope of list) {
    const s = policyScope(scope);
    const options = { queryOptions: { filter: q.filter } };
    const ops = q.client.remediations;
    // Subscription and resource group scopes go through the resource-scope operations: the same
    // URL, without binding the shared client to one subscription.
    const pages = s.kind === 'managementGroup' ? ops.listForManagementGroup(s.name, options) : ops.listForResource(scope.replace(/^\/+|\/+$/g, ''), options);
    let n = 0;
    try {
      for await (const r of pages) {
        if (++n > maxRemediations) {
          truncated = true;
          break;
        }
        if (r.id) byId.set(r.id.toLowerCase(), r);
      }
    } catch (e) {
      throw new Error(`remediations at '${scope}': ${(e as Error).message}`, { cause: e });
    }
  }
  const tasks = await mapLimit([...byId.values()], q.concurrency ?? 4, async (r) => {
    const task = toTask(r);
    if (q.deployments === false) return task;
    const { deployments, truncated: cut } = await deploymentsOf(task, q);
    if (cut) truncated = true;
    return { ...task, deployments, ...(cut ? { deploymentsTruncated: true } : {}) };
  });
  return { remediations: tasks, truncated };
}

async function deploymentsOf(task: RemediationTask, q: RemediationQuery): Promise<{ deployments: RemediationResource[]; truncated: boolean }> {
  const max = q.maxDeployments ?? 1000;
  const s = policyScope(task.scope);
  const ops = q.client.remediations;
  const pages = s.kind === 'managementGroup'
    ? ops.listDeploymentsAtManagementGroup(s.name, task.name)
    : ops.listDeploymentsAtResource(task.scope.replace(/^\/+|\/+$/g, ''), task.name);
  const out: RemediationResource[] = [];
  try {
    for await (const d of pages) {
      if (out.length >= max) return { deployments: out, truncated: true };
      const r = toResource(d);
      if (r) out.push(r);
    }
  } catch (e) {
    throw new Error(`deployments of remediation '${task.id}': ${(e as Error).message}`, { cause: e });
  }
  return { deployments: out, truncated: false };
}

function toTask(r: Remediation): RemediationTask {
  const m = REMEDIATION_ID.exec(r.id ?? '');
  return {
    id: r.id ?? '',
    name: r.name ?? m?.[2] ?? '',
    scope: m?.[1] ?? '',
    policyAssignmentId: r.policyAssignmentId ?? '',
    ...(r.policyDefinitionReferenceId ? { policyDefinitionReferenceId: r.policyDefinitionReferenceId } : {}),
    provisioningState: r.provisioningState ?? 'Unknown',
    ...(r.correlationId ? { correlationId: r.correlationId } : {}),
    ...(r.createdOn ? { createdOn: iso(r.createdOn) } : {}),
    ...(r.lastUpdatedOn ? { lastUpdatedOn: iso(r.lastUpdatedOn) } : {}),
    deployments: [],
  };
}

function toResource(d: RemediationDeployment): RemediationResource | undefined {
  if (!d.remediatedResourceId) return undefined;
  return {
    resourceId: d.remediatedResourceId,
    status: d.status ?? 'Unknown',
    ...(d.deploymentId ? { deploymentId: d.deploymentId } : {}),
    ...(d.createdOn ? { createdOn: iso(d.createdOn) } : {}),
    ...(d.lastUpdatedOn ? { lastUpdatedOn: iso(d.lastUpdatedOn) } : {}),
  };
}

const iso = (d: Date | string) => (d instanceof Date ? d.toISOString() : String(d));

/**
 * Resources a remediation changed or has a task for (lowercased id -> the remediation), the set
 * drift leaves to the policy.
 */
export function remediatedResources(tasks: RemediationTask[]): Map<string, { remediationId: string; policyAssignmentId: string; status: string }> {
  const out = new Map<string, { remediationId: string; policyAssignmentId: string; status: string }>();
  for (const t of tasks) {
    for (const d of t.deployments) {
      out.set(d.resourceId.toLowerCase(), { remediationId: t.id, policyAssignmentId: t.policyAssignmentId, status: d.status });
    }
  }
  return out;
}
