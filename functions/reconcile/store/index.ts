// Every store the reconciler uses, opened together against one storage configuration.
import type { StorageConfig } from '../../platform/storage-config.ts';
import { ApprovalStore } from './approvals.ts';
import { AuditLog } from './audit.ts';
import { RateLimitStore } from './ratelimits.ts';
import { RunStore } from './runs.ts';
import { SettingsStore } from './settings.ts';

export interface ReconcileStores {
  cfg: StorageConfig;
  runs: RunStore;
  audit: AuditLog;
  approvals: ApprovalStore;
  settings: SettingsStore;
  rateLimits: RateLimitStore;
}

/** `killSwitch`: NEXUS_KILL_SWITCH forces the kill switch on (config.reconcile.killSwitch). */
export async function openStores(cfg: StorageConfig, opts: { rateLimitsTable?: string; killSwitch?: boolean } = {}): Promise<ReconcileStores> {
  const [runs, audit, approvals, settings, rateLimits] = await Promise.all([
    RunStore.open(cfg), AuditLog.open(cfg), ApprovalStore.open(cfg), SettingsStore.open(cfg, { forced: opts.killSwitch }), RateLimitStore.open(cfg, opts.rateLimitsTable),
  ]);
  return { cfg, runs, audit, approvals, settings, rateLimits };
}

export { ApprovalError, ApprovalStore, apiApprovalSource, actorName, REVIEW_SOURCE, type ApprovalSource } from './approvals.ts';
export { AuditLog, type AuditAction, type AuditEntry } from './audit.ts';
export { RateLimitExceeded, RateLimitStore, OverrideRequestError } from './ratelimits.ts';
export { RunStore, newRunId, type RunDetail, type RunRow, type StackSummary } from './runs.ts';
export { SettingsStore } from './settings.ts';
