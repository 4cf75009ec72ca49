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
import { DriftService } from '../drift/service.ts';
import type { DriftSignals, HistoryChange } from '../drift/signals.ts';
import { DriftStore } from '../drift/store.ts';
import type { NexusConfig } from './config.ts';

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

/** The signals through the real clients (the ARM sandbox locally, Azure in production). */
export function azureSignals(p: DriftParts): DriftSignals {
  const graph = resourceGraphClient(p.arm);
  const insights = policyInsightsClient(p.arm);
  const workspace = p.config.drift.activityLogWorkspaceId;
  const logs = workspace ? logsQueryClient(p.arm, p.config.drift.logAnalyticsEndpoint) : undefined;
  return {
    resourceChanges: async (scopes, since) => (await changeHistory({ client: graph, scope: graphScope(scopes), since })).map((c): HistoryChange => ({
      resourceId: c.resourceId, resourceType: c.resourceType, changeType: c.changeType, at: c.timestamp, changedBy: c.changedBy,
      changedByType: c.changedByType, clientType: c.clientType, operation: c.operation, correlationId: c.correlationId,
      source: 'resource-graph', paths: c.changes.map((x) => x.path),
    })),
    activityLog: logs && workspace ? async (scopes, since) => (await activityLog({ client: logs, workspaceId: workspace, since, scopes })).map((e): HistoryChange => ({
      resourceId: e.resourceId, changeType: /\/delete$/i.test(e.operation) ? 'Delete' : /\/write$/i.test(e.operation) ? 'Update' : 'Action', at: e.at,
      changedBy: e.caller, operation: e.operation, correlationId: e.correlationId, source: 'activity-log', paths: [],
      changedByType: /@/.test(e.caller) ? 'User' : 'Application', clientType: e.category === 'Policy' ? 'Azure Policy' : undefined,
    })) : undefined,
    nonCompliant: async (scopes) => (await Promise.all(scopes.map((s) => policyStates(s, {
      client: insights, filter: "complianceState eq 'NonCompliant'", select: 'resourceId,policyAssignmentId,complianceState', top: 5000,
    })))).flat().map((s) => ({ resourceId: s.resourceId ?? '', policyAssignmentId: s.policyAssignmentId ?? '', complianceState: s.complianceState ?? '' })),
    remediations: async (scopes) => (await remediationsAt(scopes, { client: insights })).remediations.map((r) => ({
      id: r.id, policyAssignmentId: r.policyAssignmentId, provisioningState: r.provisioningState, resourceIds: r.deployments.map((d) => d.resourceId),
    })),
    runningDeployments: async (scopes) => (await Promise.all(scopes.map((s) => activeDeployments(s, { cfg: p.arm, descend: false })))).flatMap((r) => r.deployments),
    live: (resources) => liveBodies(resources, { cfg: p.arm }),
  };
}

/** The drift service, or undefined when drift signals are turned off (NEXUS_DRIFT=0). */
export async function openDrift(p: DriftParts, over: { signals?: DriftSignals; now?: () => Date; sleep?: (ms: number) => Promise<void> } = {}): Promise<DriftService | undefined> {
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
    now: over.now ?? (() => new Date()),
    sleep: over.sleep,
  });
}
