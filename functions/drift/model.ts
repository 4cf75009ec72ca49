// Drift's vocabulary: the signals, what a drift is, and the report stored with each run.
// Plain data (JSON) only, so a report can be stored in a blob and served as is by the API.

/** Where a difference was seen. */
export type DriftSignal = 'engine' | 'change-history' | 'activity-log' | 'policy-compliance' | 'deployments';

/**
 * - `configuration`: a managed resource differs from the desired state (after normalisation).
 * - `compliance`: a resource breaks an assigned policy (Policy Insights), the assignment itself is as desired.
 * - `policy-owned`: the differing properties are written by a Modify/Append assignment at or above the scope.
 * - `remediation`: a DeployIfNotExists/Modify remediation deployed or changed it, or has a task for it.
 * - `deployment-in-progress`: an ARM deployment is Running/Accepted on the stack's scope.
 * - `unmanaged-child`: a child Nexus manages as its own resource (a subnet) differs; judged on the child.
 * - `flapping`: the property went back and forth across runs; reported once.
 */
export type DriftKind =
  | 'configuration' | 'compliance' | 'policy-owned' | 'remediation'
  | 'deployment-in-progress' | 'unmanaged-child' | 'flapping';

/** What Nexus recommends (and, per the stack's drift mode, does). */
export type DriftAction = 'remediate' | 'report' | 'pull-request' | 'leave-to-policy' | 'wait';

/** The stack's drift mode (guardrails `drift.mode`, per stack or domain in `drift.stacks`). */
export type DriftMode = 'remediate' | 'report' | 'pull-request';

/** Who made a change, as the change history says, and what kind of actor that is. */
export interface ChangeAttribution {
  changedBy: string;
  /** `nexus`: one of Nexus's own applies (its identity or a correlation id of its runs). */
  actor: 'nexus' | 'person' | 'pipeline' | 'policy' | 'unknown';
  clientType?: string;
  operation?: string;
  correlationId?: string;
  at: string;
  source: 'resource-graph' | 'activity-log';
}

export interface PropertyDrift {
  /** Dotted path in the ARM body, e.g. `properties.parameters.effect.value`, `tags.owner`. */
  path: string;
  desired: unknown;
  live: unknown;
  /** The latest change of this property (or of the resource when the history has no property detail). */
  changedBy?: ChangeAttribution;
}

export interface DriftItem {
  resourceId: string;
  resourceType: string;
  kind: DriftKind;
  action: DriftAction;
  properties: PropertyDrift[];
  /** json-diff's colourless rendering of desired -> live for the differing properties. */
  diffText?: string;
  signals: DriftSignal[];
  /** Every change the history knows for the resource since the last apply, newest first (at most 10). */
  changes: ChangeAttribution[];
  /** Why this kind and action, e.g. `tags.costCenter is written by Modify assignment 'Inherit-Tags'`. */
  why: string;
  /** Policy compliance: the assignment (and counts) for `compliance` items. */
  policyAssignmentId?: string;
}

/** Differences removed before judging, per rule: the noise made visible. */
export interface SuppressionCount {
  rule: string;
  count: number;
  /** A few example paths (at most 5). */
  examples: string[];
}

export interface DriftReport {
  stack: string;
  /** The run the report was made in (absent for `nexus drift` without a run). */
  runId?: string;
  at: string;
  mode: DriftMode;
  items: DriftItem[];
  suppressed: SuppressionCount[];
  /** Counts per kind, for lists and the portal's badges. */
  counts: Partial<Record<DriftKind, number>>;
  /** Signals that could not be read (never silently): name and error. */
  unavailable: { signal: DriftSignal; error: string }[];
  /** The drift pull request opened or updated for this stack, when the mode is `pull-request`. */
  pullRequest?: { number: number; url: string; state: 'opened' | 'updated' | 'closed' | 'unchanged' };
  /** Policy exemptions of the stack past their expiry (a pull request proposes removing them). */
  expiredExemptions?: { id: string; name: string; expiresOn: string; file: string }[];
  /** The pull request proposing to remove the expired exemptions. */
  exemptionsPullRequest?: { number: number; url: string; state: 'opened' | 'updated' | 'closed' | 'unchanged' };
  /** Why a pull request could not be opened or updated (the report itself is complete). */
  pullRequestError?: string;
}

/** Compliance of one assignment at one scope (Policy Insights' latest states). */
export interface AssignmentCompliance {
  policyAssignmentId: string;
  /** The assignment's display name, or its name when it has none. */
  name: string;
  compliant: number;
  nonCompliant: number;
  exempt: number;
  /** Other states (Unknown, Conflict, NotStarted). */
  other: number;
}

/** The compliance of a management group or subscription: counts per assignment and the worst offenders. */
export interface ScopeCompliance {
  scope: string;
  kind: 'managementGroup' | 'subscription';
  name: string;
  /** Resources (distinct) per state: a resource non-compliant with any assignment counts as non-compliant. */
  resources: { compliant: number; nonCompliant: number; exempt: number; total: number };
  /** Sorted by non-compliant count, highest first. */
  assignments: AssignmentCompliance[];
  /** Resources non-compliant with the most assignments, highest first (at most 10). */
  worstOffenders: { resourceId: string; nonCompliant: number; assignments: string[] }[];
}

export interface ComplianceView {
  at: string;
  /** Management groups first (root first), then subscriptions. */
  scopes: ScopeCompliance[];
  /** Signals that could not be read. */
  unavailable?: { scope: string; error: string }[];
}
