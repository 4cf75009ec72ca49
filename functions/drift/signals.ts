// What the drift report is built from, as one small port: the composition root implements it
// with the platform adapters (Resource Graph, Log Analytics, Policy Insights, ARM); tests of the
// pure builder hand it plain values. Each method may fail on its own: the report then names the
// signal as unavailable instead of guessing.

/** A change from the history, in one shape for both sources. */
export interface HistoryChange {
  resourceId: string;
  resourceType?: string;
  changeType: 'Create' | 'Update' | 'Delete' | 'Action';
  at: string;
  changedBy: string;
  changedByType?: string;
  clientType?: string;
  operation?: string;
  correlationId?: string;
  source: 'resource-graph' | 'activity-log';
  /** Changed property paths (dotted), when the source says. */
  paths: string[];
}

export interface PolicyStateRow {
  resourceId: string;
  policyAssignmentId: string;
  complianceState: string;
}

export interface RemediationRow {
  id: string;
  policyAssignmentId: string;
  provisioningState: string;
  /** Resources it deployed to or is deploying to. */
  resourceIds: string[];
}

export interface DeploymentRow {
  id: string;
  name: string;
  provisioningState: string;
  timestamp?: string;
}

export type ArmBody = Record<string, unknown>;

export interface DriftSignals {
  /** Resource Graph change history (resourcechanges and resourcecontainerchanges) at or under the scopes. */
  resourceChanges(scopes: string[], since: string): Promise<HistoryChange[]>;
  /** The Activity Log (Administrative and Policy) of the landing-zone core; absent when no workspace is configured. */
  activityLog?(scopes: string[], since: string): Promise<HistoryChange[]>;
  /** Non-compliant policy states at or under the scopes. */
  nonCompliant(scopes: string[]): Promise<PolicyStateRow[]>;
  remediations(scopes: string[]): Promise<RemediationRow[]>;
  /** ARM deployments Running or Accepted at or under the scopes. */
  runningDeployments(scopes: string[]): Promise<DeploymentRow[]>;
  /** Live bodies by lower-cased id (null: gone). */
  live(resources: { id: string; apiVersion: string }[]): Promise<Map<string, ArmBody | null>>;
}
