// The normaliser's contract: rules as data, applied to a desired and a live ARM body before any
// difference is judged. `nexus drift judge` and the reconciler's drift report use the same judge.

/** One difference left after normalisation. */
export interface Difference {
  path: string;
  desired: unknown;
  live: unknown;
}

/** A path a policy writes (Modify/Append) at or above the resource's scope: owned by the policy. */
export interface OwnedPath {
  /** Dotted ARM body path, e.g. `tags.costCenter`; a trailing `.*` owns a whole object. */
  path: string;
  /** The rule name reported, e.g. `policy-modify:/providers/.../policyAssignments/Inherit-Tags`. */
  owner: string;
}

export interface JudgeInput {
  /** ARM type, e.g. `Microsoft.Storage/storageAccounts` (case-insensitive). */
  resourceType: string;
  /** The ARM body Nexus would PUT. */
  desired: unknown;
  /** The ARM body a GET returns. */
  live: unknown;
  /** The live body captured right after Nexus's last successful apply of this resource. */
  baseline?: unknown;
  /** Properties a policy owns (see ownership); never drift. */
  ownedPaths?: OwnedPath[];
  /** Child resources managed as their own resources, as body paths (e.g. `properties.subnets`). */
  childPaths?: string[];
}

export interface Suppression {
  path: string;
  /** The rule's name, e.g. `read-only:provisioningState`, `baseline-default`, `case-insensitive-id`. */
  rule: string;
}

export interface Judgement {
  verdict: 'drift' | 'noise';
  differences: Difference[];
  suppressed: Suppression[];
  /** Distinct rule names in `suppressed`, sorted. */
  suppressedBy: string[];
}
