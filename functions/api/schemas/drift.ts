// Response schemas of the drift report and the compliance view (routes/drift.ts), matching the
// domain types they carry (functions/drift/model.ts); the type checks at the end keep them equal.
import { z } from '@hono/zod-openapi';
import type * as model from '../../drift/model.ts';

const Signal = z.enum(['engine', 'change-history', 'activity-log', 'policy-compliance', 'deployments']);
const Kind = z.enum(['configuration', 'compliance', 'policy-owned', 'remediation', 'deployment-in-progress', 'unmanaged-child', 'flapping']);

export const ChangeAttributionSchema = z.object({
  changedBy: z.string(),
  actor: z.enum(['nexus', 'person', 'pipeline', 'policy', 'unknown']),
  clientType: z.string().optional(), operation: z.string().optional(), correlationId: z.string().optional(),
  at: z.string(), source: z.enum(['resource-graph', 'activity-log']),
}).openapi('ChangeAttribution');

export const DriftItemSchema = z.object({
  resourceId: z.string(), resourceType: z.string(), kind: Kind,
  action: z.enum(['remediate', 'report', 'pull-request', 'leave-to-policy', 'wait']),
  properties: z.array(z.object({
    path: z.string().openapi({ example: 'properties.parameters.effect.value' }),
    desired: z.unknown().openapi({ description: 'any JSON value' }),
    live: z.unknown().openapi({ description: 'any JSON value' }),
    changedBy: ChangeAttributionSchema.optional(),
  })),
  diffText: z.string().optional().openapi({ description: "json-diff's colourless rendering of desired -> live" }),
  signals: z.array(Signal), changes: z.array(ChangeAttributionSchema), why: z.string(),
  policyAssignmentId: z.string().optional(),
}).openapi('DriftItem');

export const DriftReportSchema = z.object({
  stack: z.string(), runId: z.string().optional(), at: z.string(),
  mode: z.enum(['remediate', 'report', 'pull-request']),
  items: z.array(DriftItemSchema),
  suppressed: z.array(z.object({ rule: z.string(), count: z.number().int(), examples: z.array(z.string()) })),
  counts: z.object(Object.fromEntries(Kind.options.map((k) => [k, z.number().int().optional()])) as Record<z.infer<typeof Kind>, z.ZodOptional<z.ZodNumber>>),
  unavailable: z.array(z.object({ signal: Signal, error: z.string() })),
  pullRequest: z.object({ number: z.number().int(), url: z.string(), state: z.enum(['opened', 'updated', 'closed', 'unchanged']) }).optional(),
}).openapi('DriftReport');

const AssignmentComplianceSchema = z.object({
  policyAssignmentId: z.string(), name: z.string(),
  compliant: z.number().int(), nonCompliant: z.number().int(), exempt: z.number().int(), other: z.number().int(),
}).openapi('AssignmentCompliance');

export const ScopeComplianceSchema = z.object({
  scope: z.string(), kind: z.enum(['managementGroup', 'subscription']), name: z.string(),
  resources: z.object({ compliant: z.number().int(), nonCompliant: z.number().int(), exempt: z.number().int(), total: z.number().int() }),
  assignments: z.array(AssignmentComplianceSchema),
  worstOffenders: z.array(z.object({ resourceId: z.string(), nonCompliant: z.number().int(), assignments: z.array(z.string()) })),
}).openapi('ScopeCompliance');

export const ComplianceViewSchema = z.object({
  at: z.string(),
  scopes: z.array(ScopeComplianceSchema),
  unavailable: z.array(z.object({ scope: z.string(), error: z.string() })).optional(),
}).openapi('ComplianceView');

// The schemas and the model agree: a required field or a type that differs fails here (an optional
// field the schema leaves out would be dropped from answers: the API's tests, whose sample sets every
// optional field, catch that).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameReport: Same<z.infer<typeof DriftReportSchema>, model.DriftReport> = true;
const sameView: Same<z.infer<typeof ComplianceViewSchema>, model.ComplianceView> = true;
void sameReport;
void sameView;

export type DriftReport = z.infer<typeof DriftReportSchema>;
export type DriftItem = z.infer<typeof DriftItemSchema>;
export type ComplianceView = z.infer<typeof ComplianceViewSchema>;
export type ScopeCompliance = z.infer<typeof ScopeComplianceSchema>;
