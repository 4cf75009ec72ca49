// The reconciler's own vocabulary: triggers, gate verdicts, decisions and run records.
// Plain data only, so a run can be stored and listed as JSON.
// The gate names come from the one ordered list of gates (gates/index.ts).
import type { GateName } from './gates/index.ts';

export type { GateName };

/** `pull-request`: a lock-free preview of a pull request's head (always a dry run; preview-only.ts). */
export type Trigger = 'timer' | 'push' | 'manual' | 'approval' | 'pull-request';

export interface GateResult {
  gate: GateName;
  pass: boolean;
  /** A stable code, e.g. `KILL_SWITCH`, `SCOPE_DENIED`, `OK`. */
  reason: string;
  /**
   * When a gate fails but an approval could lift it (a protected delete, an approval rule),
   * the run waits in `pending-approval` instead of being blocked.
   */
  hold?: boolean;
  /**
   * When a gate fails and asks for the run to be reported only (preview reliability in
   * report-only mode) rather than blocked.
   */
  reportOnly?: boolean;
  details: { message: string; [k: string]: unknown };
}

/**
 * - `applied`: the change set was applied. `failed`: apply (or preview) failed.
 * - `no-change`: the preview had nothing to do.
 * - `blocked`: a gate refused the apply. `pending-approval`: waiting for approvers.
 * - `report-only`: preview was not trusted enough to apply, reported only.
 * - `dry-run`: gates passed, apply not requested.
 * - `interrupted`: the run's holder lost its lease or died; another holder recorded it.
 */
export type Decision =
  | 'applied' | 'failed' | 'no-change' | 'blocked' | 'pending-approval'
  | 'report-only' | 'dry-run' | 'interrupted';

export type RunStatus = 'running' | 'done';

export interface KillSwitchState {
  on: boolean;
  /** `env` when NEXUS_KILL_SWITCH=1 forces it, `settings` when an Admin turned it on. */
  source?: 'env' | 'settings';
  reason?: string;
  by?: string;
  at?: string;
}

export interface RunCounts {
  create: number; update: number; replace: number; delete: number; same: number;
}

export interface RunTimings {
  startedAt: string;
  finishedAt?: string;
  compileMs?: number;
  previewMs?: number;
  gatesMs?: number;
  applyMs?: number;
  totalMs?: number;
  /** Time spent inside the engine (Pulumi CLI and providers), the rest is Nexus's own. */
  engineMs?: number;
}

export interface RunRecord {
  id: string;
  stack: string;
  commit?: string;
  /** Where the desired state came from: the landing-zone repository's id, or absent for the archetypes folder. */
  source?: string;
  /** GitOps: the commit last applied to the stack when this run started (the new one descends from it). */
  appliedCommit?: string;
  /** GitOps: every commit since `appliedCommit` (oldest first), short ids. */
  commits?: string[];
  /** The commit's author(s) (`Name <email>`), from Git; the trigger's hint only when Git has none. */
  author?: string;
  authorSource?: 'git' | 'hint';
  trigger: Trigger;
  requestedBy?: string;
  dryRun: boolean;
  status: RunStatus;
  decision?: Decision;
  /** Reason codes of the decision, e.g. `["KILL_SWITCH"]`; empty for a clean apply. */
  reasons: string[];
  gates: GateResult[];
  counts: RunCounts;
  timings: RunTimings;
  holderId: string;
  desiredStateHash?: string;
  changeSetHash?: string;
  liveFingerprint?: string;
  /** The run's drift report in brief (the report itself: GET /api/v1/stacks/{stack}/drift?run=<id>). */
  drift?: {
    mode: 'remediate' | 'report' | 'pull-request';
    counts: Partial<Record<string, number>>;
    /** Drifted resources left out of the apply (reported, pull request, policy remediation, flapping). */
    heldBack: number;
    /** Signals that could not be read. */
    unavailable: string[];
  };
  /** Set when the run waits for (or used) an approval. */
  approvalId?: string;
  error?: string;
}
