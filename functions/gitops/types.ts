// GitOps's own vocabulary: the events it acts on (normalised from GitHub and Azure DevOps payloads
// by events/*.ts), and what a pull request preview produces for the comment and the check.
import type { DesiredState, Finding } from '../../stacks/compile/model.ts';
import type { ChangeSet } from '../../stacks/engine/changeset.ts';
import type { CheckConclusion, CommitInfo, GitPerson } from '../platform/git-host/types.ts';
import type { GateResult } from '../reconcile/model.ts';

export interface PushEvent {
  kind: 'push';
  /** `github:owner/repo` or `azure-devops:org/project/repo` (same form as NEXUS_LANDING_ZONE_REPO). */
  repo: string;
  /** Branch name without refs/heads/; undefined for a tag push. */
  branch?: string;
  before: string;
  after: string;
  forced: boolean;
  deleted: boolean;
  /** Host account (GitHub login, ADO unique name). */
  pusher: string;
  pusherEmail?: string;
  /** As the payload lists them (GitHub ≤ 20; ADO none): only a hint, the host's compare is read. */
  commits: Pick<CommitInfo, 'sha' | 'message'>[];
  deliveryId: string;
}

export type PullRequestAction = 'opened' | 'synchronize' | 'reopened' | 'ready_for_review' | 'closed' | 'edited' | 'other';

export interface PullRequestEvent {
  kind: 'pull_request';
  repo: string;
  number: number;
  action: PullRequestAction;
  merged: boolean;
  draft: boolean;
  headSha: string;
  headRef: string;
  baseRef: string;
  mergeCommitSha?: string;
  deliveryId: string;
}

export interface ReviewEvent {
  kind: 'review';
  repo: string;
  number: number;
  /** GitHub `approved`; ADO a vote of 10. */
  state: 'approved' | 'changes_requested' | 'commented' | 'dismissed';
  login: string;
  email?: string;
  commit?: string;
  deliveryId: string;
}

export type GitOpsEvent = PushEvent | PullRequestEvent | ReviewEvent;

/** One stack's part of a pull request preview. */
export interface StackPreview {
  stack: string;
  /** The preview against the live tenant; undefined when it failed (`error`). */
  changeSet?: ChangeSet;
  /** What the gates would do, run in dry-run mode. */
  gates: GateResult[];
  verdict: 'apply' | 'no-change' | 'needs-approval' | 'blocked' | 'error';
  /** For needs-approval: which groups, how many approvers. */
  approvals?: { rule: string; group: string; approvers: number }[];
  /** For blocked/error: the reason codes and text. */
  reasons: string[];
  error?: string;
  /** Drift already present on the stack (a refresh preview's changes). */
  drift?: ChangeSet;
  /** The preview's run (trigger `pull-request`) and its page in the portal. */
  runId?: string;
  runUrl?: string;
}

/** Everything the pull request comment and the check describe. */
export interface PreviewReport {
  repo: string;
  pr: number;
  commit: string;
  /** Compile failed: no stack previews, only findings. */
  compileFailed: boolean;
  findings: Finding[];
  stacks: StackPreview[];
  /** Stacks whose desired state the pull request does not change (folded into one line). */
  unchanged: string[];
  /** A link to the run in the portal. */
  portalUrl?: string;
  /** closed/merged: the comment says queued previews were dropped. */
  closedNote?: string;
  conclusion: CheckConclusion;
  at: string;
}

export type { DesiredState, GitPerson };
