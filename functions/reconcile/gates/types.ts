// What every gate sees. The loop reads storage first and hands the gates plain values, so the
// gates themselves are pure functions of (context, changeSet).
import type { ChangeSet } from '../../../stacks/engine/changeset.ts';
import type { Guardrails } from '../guardrails.ts';
import type { GateResult, KillSwitchState } from '../model.ts';
import type { ChangeKind, ScopeHierarchy } from '../scope.ts';
import type { CommitFacts } from '../commit-facts.ts';

export interface RateCounter {
  /** Start of the current counting window (ISO time). */
  windowStart: string;
  count: number;
  /** When set and in the future, every apply that changes this kind waits. */
  cooldownUntil?: string;
}

export interface RateOverride {
  until: string;
  reason: string;
  by: string;
}

export interface ApprovalVote {
  by: string;
  name?: string;
  groups: string[];
  at: string;
  source: string;
}

export interface ApprovalRequirement {
  /** The rule that asked for it: a rule name, or `protected-delete`. */
  rule: string;
  group: string;
  approvers: number;
  /** Set when the count was raised because no commit author is known (`AUTHOR_UNKNOWN`). */
  raisedBy?: 'AUTHOR_UNKNOWN';
}

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'superseded' | 'applied';

/** An approval request, pinned to the exact preview it was asked for. */
export interface ApprovalRecord {
  id: string;
  stack: string;
  runId: string;
  status: ApprovalStatus;
  changeSetHash: string;
  desiredStateHash: string;
  liveFingerprint: string;
  requirements: ApprovalRequirement[];
  commit?: string;
  /** GitOps: the stack's last applied commit when the run asked; everything after it up to `commit` is what needs approval. */
  appliedCommit?: string;
  /** The commit's author(s) as Git records them (`Name <email>`), or the trigger's hint. */
  author?: string;
  /** Who asked for the run (never allowed to approve it). */
  requestedBy?: string;
  /** Lower-cased names and emails that may not approve: the commit's author(s) and the requester. */
  excluded?: string[];
  /** Why the request asks for more than the rules do, e.g. `AUTHOR_UNKNOWN`. */
  reasons?: string[];
  createdAt: string;
  expiresAt: string;
  votes: ApprovalVote[];
  rejectedBy?: string;
  reason?: string;
}

export interface GateContext {
  stack: string;
  runId: string;
  now: Date;
  commit?: string;
  author?: string;
  /**
   * No commit author is known (e.g. a deployed package outside Git): nobody can be excluded as the
   * author, so every approval needs at least two distinct approvers.
   */
  authorUnknown?: boolean;
  tenantRootId: string;
  /** Where groups and subscriptions sit (from the desired state), so a deny covers what is below. */
  hierarchy?: ScopeHierarchy;
  /** Role assignment id → the policy assignment whose identity is its principal (lower-cased). */
  policyIdentityPrincipals?: Map<string, string>;
  guardrails: Guardrails;
  killSwitch: KillSwitchState;
  rateLimits: {
    counters: Partial<Record<ChangeKind, RateCounter>>;
    override?: RateOverride;
  };
  /** The latest approval request of this stack, if any. */
  approval?: ApprovalRecord;
  changeSetHash: string;
  desiredStateHash: string;
  liveFingerprint: string;
  /** GitOps: the commits this run would apply since the stack's last applied commit. */
  commits?: CommitFacts;
}

export type Gate = (ctx: GateContext, cs: ChangeSet) => GateResult;
