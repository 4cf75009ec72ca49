// Response schemas of the reconciler's resources (routes/reconcile.ts), matching the domain types
// they carry: runs (functions/reconcile/store/runs.ts, model.ts), gate verdicts, ChangeSets
// (stacks/engine/changeset.ts), approvals and rate limits (functions/reconcile/gates/types.ts).
import { z } from '@hono/zod-openapi';
import { GATE_NAMES } from '../../reconcile/gates/index.ts';
import { CHANGE_KINDS } from '../../reconcile/scope.ts';

const Gate = z.enum(GATE_NAMES);

/** A gate verdict as a run row keeps it (the full details live in the run's detail). */
export const GateSummarySchema = z.object({
  gate: Gate, pass: z.boolean(), reason: z.string(), hold: z.boolean().optional(), reportOnly: z.boolean().optional(), message: z.string(),
}).openapi('GateSummary');

/** A gate verdict with its details, as the run's detail keeps it. */
export const GateResultSchema = z.object({
  gate: Gate, pass: z.boolean(), reason: z.string(), hold: z.boolean().optional(), reportOnly: z.boolean().optional(),
  details: z.looseObject({ message: z.string() }),
}).openapi('GateResult');

const RunCounts = z.object({ create: z.number(), update: z.number(), replace: z.number(), delete: z.number(), same: z.number() });
const RunTimings = z.object({
  startedAt: z.string(), finishedAt: z.string().optional(),
  compileMs: z.number().optional(), previewMs: z.number().optional(), gatesMs: z.number().optional(),
  applyMs: z.number().optional(), totalMs: z.number().optional(), engineMs: z.number().optional(),
});

const runFields = {
  id: z.string(), stack: z.string(), commit: z.string().optional(), author: z.string().optional(),
  authorSource: z.enum(['git', 'hint']).optional(),
  trigger: z.enum(['timer', 'push', 'manual', 'approval', 'pull-request']),
  requestedBy: z.string().optional(), dryRun: z.boolean(),
  status: z.enum(['running', 'done']),
  decision: z.enum(['applied', 'failed', 'no-change', 'blocked', 'pending-approval', 'report-only', 'dry-run', 'interrupted']).optional(),
  reasons: z.array(z.string()), counts: RunCounts, timings: RunTimings, holderId: z.string(),
  desiredStateHash: z.string().optional(), changeSetHash: z.string().optional(), liveFingerprint: z.string().optional(),
  approvalId: z.string().optional(), error: z.string().optional(),
};

/** A run as listed (RunRow): gate verdicts summarised. */
export const RunSchema = z.object({ ...runFields, gates: z.array(GateSummarySchema) }).openapi('Run');
/** A run as the reconciler records it (RunRecord): gate verdicts with their details. */
export const RunRecordSchema = z.object({ ...runFields, gates: z.array(GateResultSchema) }).openapi('RunRecord');

export const ChangeSetSchema = z.object({
  stack: z.string(),
  kind: z.enum(['preview', 'up', 'refresh', 'refresh-preview']),
  summary: z.record(z.string(), z.number()),
  changes: z.array(z.object({
    op: z.enum(['same', 'create', 'update', 'replace', 'delete', 'read', 'create-replacement', 'delete-replaced', 'import', 'refresh', 'discard']),
    urn: z.string(), type: z.string(), armType: z.string().optional(), armId: z.string().optional(), scope: z.string().optional(),
    changedKeys: z.array(z.string()),
    diffs: z.array(z.object({ path: z.string(), kind: z.enum(['add', 'update', 'delete']), old: z.unknown().optional(), new: z.unknown().optional() })),
  })),
  diagnostics: z.array(z.object({ severity: z.enum(['debug', 'info', 'info#err', 'warning', 'error']), message: z.string(), urn: z.string().optional() })),
  policyEvents: z.array(z.object({ policyName: z.string(), message: z.string(), enforcementLevel: z.string(), urn: z.string().optional() })),
  engineSummary: z.record(z.string(), z.number()).optional(),
  unknowns: z.array(z.object({ urn: z.string(), path: z.string() })),
}).openapi('ChangeSet');

/** One run with every gate verdict (detailed when the run's detail is kept) and its ChangeSets. */
export const RunDetailSchema = z.object({
  ...runFields,
  gates: z.union([z.array(GateResultSchema), z.array(GateSummarySchema)]),
  preview: ChangeSetSchema.optional(),
  apply: ChangeSetSchema.optional(),
  engineOutput: z.array(z.string()).optional(),
}).openapi('RunDetail');

export const RunPageSchema = z.object({ runs: z.array(RunSchema), cursor: z.string().optional() }).openapi('RunPage');

export const StackSchema = z.object({
  stack: z.string(), lastRunId: z.string().optional(), lastDecision: z.string().optional(), lastRunAt: z.string().optional(),
  currentRunId: z.string().optional(), lastHolderId: z.string().optional(),
  managementGroupId: z.string().optional(), resources: z.number().int().optional(),
}).openapi('Stack');
export const StackListSchema = z.object({ stacks: z.array(StackSchema) });

/** A manual reconcile that waited: the finished run, or why it could not start. */
export const ReconcileResultSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('done'), run: RunRecordSchema }),
  z.object({ status: z.literal('skipped'), stack: z.string(), reason: z.literal('LEASE_HELD'), holder: z.string().optional() }),
]).openapi('ReconcileResult');
export const ReconcileQueuedSchema = z.object({ status: z.literal('queued'), stack: z.string(), dryRun: z.boolean() }).openapi('ReconcileQueued');

export const KillSwitchSchema = z.object({
  on: z.boolean(), source: z.enum(['env', 'settings']).optional(), reason: z.string().optional(), by: z.string().optional(), at: z.string().optional(),
}).openapi('KillSwitch');

export const ApprovalSchema = z.object({
  id: z.string(), stack: z.string(), runId: z.string(),
  status: z.enum(['pending', 'approved', 'rejected', 'expired', 'superseded', 'applied']),
  changeSetHash: z.string(), desiredStateHash: z.string(), liveFingerprint: z.string(),
  requirements: z.array(z.object({ rule: z.string(), group: z.string(), approvers: z.number().int(), raisedBy: z.literal('AUTHOR_UNKNOWN').optional() })),
  commit: z.string().optional(), author: z.string().optional(), requestedBy: z.string().optional(),
  excluded: z.array(z.string()).optional(), reasons: z.array(z.string()).optional(),
  createdAt: z.string(), expiresAt: z.string(),
  votes: z.array(z.object({ by: z.string(), name: z.string().optional(), groups: z.array(z.string()), at: z.string(), source: z.string() })),
  rejectedBy: z.string().optional(), reason: z.string().optional(),
}).openapi('Approval');
export const ApprovalListSchema = z.object({ approvals: z.array(ApprovalSchema) });
export const ApprovedSchema = z.object({ approval: ApprovalSchema, reconcileQueued: z.boolean() });
export const RejectedSchema = z.object({ approval: ApprovalSchema });

export const RateOverrideSchema = z.object({ until: z.string(), reason: z.string(), by: z.string() }).openapi('RateOverride');
export const RateLimitsSchema = z.object({
  counters: z.partialRecord(z.enum(CHANGE_KINDS), z.object({ windowStart: z.string(), count: z.number().int(), cooldownUntil: z.string().optional() })),
  override: RateOverrideSchema.optional(),
}).openapi('RateLimits');
export const OverrideSchema = z.object({ override: RateOverrideSchema });

export type Run = z.infer<typeof RunSchema>;
export type RunDetail = z.infer<typeof RunDetailSchema>;
export type ChangeSet = z.infer<typeof ChangeSetSchema>;
export type GateSummary = z.infer<typeof GateSummarySchema>;
export type GateResult = z.infer<typeof GateResultSchema>;
export type Stack = z.infer<typeof StackSchema>;
export type KillSwitch = z.infer<typeof KillSwitchSchema>;
export type Approval = z.infer<typeof ApprovalSchema>;
export type Approved = z.infer<typeof ApprovedSchema>;
export type Rejected = z.infer<typeof RejectedSchema>;
export type RateLimits = z.infer<typeof RateLimitsSchema>;
