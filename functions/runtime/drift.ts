// Drift's wiring: the signals' adapters over the composition root's ARM settings, the shipped and
// tenant normalisation rules, the report store, and policy ownership from the desired state.
// openNexus / openReconcile hand the DriftService to the reconciler.
import { policyInsightsClient, resourceGraphClient, type ArmConfig } from '../platform/arm.ts';
import { activityLog } from '../platform/activity-log.ts';
import { changeHistory } from '../platform/change-history.ts';
import { activeDeployments } from '../platform/deployments.ts';
import { liveBodies } from '../platform/live-bodies.ts';
import { logsQueryClient } from '../platform/log-analytics.ts';
import { policyStates } from '../platform/policy-insights.ts';
import { remediationsAt } from '../platform/remediations.ts';
import type { GraphScope } from '../platform/resource-graph.ts';
import type { StorageConfig } from '../platform/storage-config.ts';
import { BuiltinCache, builtinCacheDir, builtinPoliciesDir } from '../../stacks/compile/builtins.ts';
import { judge } from '../drift/normalise/judge.ts';
import { loadRules } from '../drift/normalise/rules.ts';
import { PolicyOwnership, stateDefinitions } from '../drift/ownership.ts';
import { DriftService, type DriftServiceParts } from '../drift/service.ts';
import { planDriftPullRequest } from '../drift/pull-request/plan.ts';
import { exemptionsBranch, planExemptionRemoval } from '../drift/pull-request/exemptions-plan.ts';
import { syncDriftPullRequest } from '../drift/pull-request/sync.ts';
import type { GitOpsSource } from './gitops.ts';
import type { DriftSignals, HistoryChange } from '../drift/signals.ts';
import { DriftStore } from '../drift/store.ts';
import type { NexusConfig } from './config.ts';
import type { DesiredState } from '../../stacks/compile/model.ts';
import type { ComplianceView } from '../drift/model.ts';
import { armAssignmentNames, loadComplianceView, type ComplianceScope } from '../drift/compliance.ts';

export interface DriftParts {
  config: NexusConfig;
  storage: StorageConfig;
  arm: ArmConfig;
}

const MG = /^\/providers\/Microsoft\.Management\/managementGroups\/([^/]+)$/i;
const SUB = /^\/subscriptions\/([^/]+)$/i;

/** Resource Graph's scope for a stack's scopes: its management groups (which cover the subscriptions below) and subscriptions. */
function graphScope(scopes: string[]): GraphScope {
  const managementGroups = scopes.map((s) => MG.exec(s)?.[1]).filter((x): x is string => !!x);
  const subscriptions = scopes.map((s) => SUB.exec(s)?.[1]).filter((x): x is string => !!x);
  return managementGroups.length ? { managementGroups } : { subscriptions };
}

/**
 * A scope that does not exist yet (a stack's first apply creates its group) has no history,
 * states, remediations or deployments: its 404 reads as empty, never as a signal that failed.
 */
async function orEmptyWhenAbsent<T>(f: () => Promise<T[]>): Promise<T[]> {
  try {
    return await f();
  } catch (err) {
    const e = err as { status?: number; statusCode?: number };
    if ((e.status ?? e.statusCode) === 404) return [];
    throw err;
  }
}

/** A stack's management groups when it has any (Policy Insights answers for everything below them), else its subscriptions. */
function topScopes(scopes: string[]): string[] {
  const groups = scopes.filter((s) => MG.test(s));
  return groups.length ? groups : scopes;
}

/** The signals through the real clients (the ARM sandbox locally, Azure in production). */
export function azureSignals(p: DriftParts): DriftSignals {
  const graph = resourceGraphClient(p.arm);
  const insights = policyInsightsClient(p.arm);
  const workspace = p.config.drift.activityLogWorkspaceId;
  const logs = workspace ? logsQueryClient(p.arm, p.config.drift.logAnalyticsEndpoint) : undefined;
  return {
    resourceChanges: (scopes, since) => orEmptyWhenAbsent(async () => (await changeHistory({ client: graph, scope: graphScope(scopes), since })).map((c): HistoryChange => ({
      resourceId: c.resourceId, resourceType: c.resourceType, changeType: c.changeType, at: c.timestamp, changedBy: c.changedBy,
      changedByType: c.changedByType, clientType: c.clientType, operation: c.operation, correlationId: c.correlationId,
      source: 'resource-graph', paths: c.changes.map((x) => x.path),
    }))),
    activityLog: logs && workspace ? async (scopes, since) => (await activityLog({ client: logs, workspaceId: workspace, since, scopes })).map((e): HistoryChange => ({
      resourceId: e.resourceId, changeType: /\/delete$/i.test(e.operation) ? 'Delete' : /\/write$/i.test(e.operation) ? 'Update' : 'Action', at: e.at,
      changedBy: e.caller, operation: e.operation, correlationId: e.correlationId, source: 'activity-log', paths: [],
      changedByType: /@/.test(e.caller) ? 'User' : 'Application', clientType: e.category === 'Policy' ? 'Azure Policy' : undefined,
    })) : undefined,
    nonCompliant: async (scopes) => (await Promise.all(topScopes(scopes).map((s) => orEmptyWhenAbsent(() => policyStates(s, {
      client: insights, filter: "complianceState eq 'NonCompliant'", select: 'resourceId,policyAssignmentId,complianceState', top: 5000,
    }))))).flat().map((s) => ({ resourceId: s.resourceId ?? '', policyAssignmentId: s.policyAssignmentId ?? '', complianceState: s.complianceState ?? '' })),
    remediations: async (scopes) => (await Promise.all(topScopes(scopes).map((sc) => orEmptyWhenAbsent(async () => (await remediationsAt(sc, { client: insights })).remediations)))).flat().map((r) => ({
      id: r.id, policyAssignmentId: r.policyAssignmentId, provisioningState: r.provisioningState, resourceIds: r.deployments.map((d) => d.resourceId),
    })),
    runningDeployments: async (scopes) => (await Promise.all(scopes.map((s) => orEmptyWhenAbsent(async () => (await activeDeployments(s, { cfg: p.arm, descend: false })).deployments)))).flat(),
    live: (resources) => liveBodies(resources, { cfg: p.arm }),
  };
}

/**
 * The pull requests of drift and of expired exemptions, on the landing-zone repository: planned
 * from its files at the run's commit, one per stack each, updated, never duplicated, closed when
 * there is nothing left to propose. Only stacks in `pull-request` mode get a drift pull request.
 */
function proposals(repo: GitOpsSource): NonNullable<DriftServiceParts['proposals']> {
  const base = repo.settings.path.replace(/^\/+|\/+$/g, '');
  const inRepo = (f: string) => (base ? `${base}/${f}` : f);
  return async ({ report, state, commit, guardrails, expired }) => {
    const [drift, exemptions] = await repo.source.withFiles(commit, (dir) => [
      planDriftPullRequest({ report, desired: state, repoDir: dir, guardrails }),
      planExemptionRemoval(report.stack, expired, dir, repo.settings.path),
    ] as const);
    const plan = drift && { ...drift, files: drift.files.map((f) => ({ ...f, path: inRepo(f.path) })) };
    const baseBranch = repo.settings.branch;
    const pullRequest = await syncDriftPullRequest(repo.host, { stack: report.stack, baseBranch, baseCommit: commit, plan });
    const exemptionsPullRequest = await syncDriftPullRequest(repo.host, { stack: report.stack, baseBranch, baseCommit: commit, plan: exemptions, branch: exemptionsBranch(report.stack) });
    return { ...(pullRequest ? { pullRequest } : {}), ...(exemptionsPullRequest ? { exemptionsPullRequest } : {}) };
  };
}

/** The drift service, or undefined when drift signals are turned off (NEXUS_DRIFT=0). */
export async function openDrift(p: DriftParts, over: { signals?: DriftSignals; now?: () => Date; sleep?: (ms: number) => Promise<void>; repo?: GitOpsSource } = {}): Promise<DriftService | undefined> {
  if (!p.config.drift.enabled) return undefined;
  const rules = loadRules({ tenantFile: p.config.drift.rulesFile });
  const env = p.config.engine.env;
  const builtins = new BuiltinCache([builtinPoliciesDir(env), builtinCacheDir(env)]);
  return new DriftService({
    signals: over.signals ?? azureSignals(p),
    store: await DriftStore.open(p.storage),
    judge: (input) => judge(input, rules),
    selfIdentities: p.config.drift.selfIdentities,
    ownership: (state) => {
      const o = new PolicyOwnership(state, stateDefinitions(state, builtins));
      return (r) => o.ownedPaths(r);
    },
    proposals: over.repo ? proposals(over.repo) : undefined,
    now: over.now ?? (() => new Date()),
    sleep: over.sleep,
  });
}

/**
 * The compliance view's scopes: every management group of the desired state (root first) and every
 * subscription it places, or the one scope asked for.
 */
export function complianceScopes(state: DesiredState, scope?: string): ComplianceScope[] {
  if (scope) return [{ scope }];
  const groups = state.resources.filter((r) => r.kind === 'managementGroup').map((r) => ({ scope: r.id, name: String(r.body.properties.displayName ?? r.name) }));
  const root = `/providers/Microsoft.Management/managementGroups/${state.rootManagementGroupId}`;
  if (!groups.some((g) => g.scope.toLowerCase() === root.toLowerCase())) groups.unshift({ scope: root, name: state.rootManagementGroupId });
  const subs = state.resources.filter((r) => r.kind === 'subscriptionPlacement').map((r) => ({ scope: `/subscriptions/${r.name}` }));
  return [...groups, ...subs];
}

/** The compliance port of the API: Policy Insights through the real client, scoped by the desired state. */
export function compliancePort(arm: ArmConfig, compile: () => Promise<DesiredState>): (scope?: string) => Promise<ComplianceView> {
  const client = policyInsightsClient(arm);
  const assignmentNames = armAssignmentNames(arm);
  return async (scope) => loadComplianceView({ client, scopes: complianceScopes(await compile(), scope), assignmentNames });
}
