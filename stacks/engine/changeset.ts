// The engine's output contract: a preview (or refresh, or up) turned into typed changes.

export type ChangeOp =
  | 'same' | 'create' | 'update' | 'replace' | 'delete' | 'read'
  | 'create-replacement' | 'delete-replaced' | 'import' | 'refresh' | 'discard';

export interface PropertyDiff {
  /** Property path, e.g. `properties.parameters.effect.value`. */
  path: string;
  kind: 'add' | 'update' | 'delete';
  old?: unknown;
  new?: unknown;
}

export interface ResourceChange {
  op: ChangeOp;
  urn: string;
  /** Pulumi type token, e.g. `azure-native:authorization:PolicyAssignment` or the dynamic type. */
  type: string;
  /** ARM type and id when known (from the DesiredState), for guardrails. */
  armType?: string;
  armId?: string;
  /** ARM scope the change touches (guardrails are checked against this). */
  scope?: string;
  changedKeys: string[];
  diffs: PropertyDiff[];
}

export interface Diagnostic {
  severity: 'debug' | 'info' | 'info#err' | 'warning' | 'error';
  message: string;
  urn?: string;
}

export interface ChangeSummary {
  create: number; update: number; replace: number; delete: number; same: number;
  [op: string]: number;
}

export interface ChangeSet {
  stack: string;
  kind: 'preview' | 'up' | 'refresh' | 'refresh-preview';
  summary: ChangeSummary;
  changes: ResourceChange[];
  diagnostics: Diagnostic[];
  policyEvents: { policyName: string; message: string; enforcementLevel: string; urn?: string }[];
  /** Counts that the engine's own summary event reported, to cross-check the per-resource events. */
  engineSummary?: Record<string, number>;
  /** Unknown (computed) values in properties, by URN and path. */
  unknowns: { urn: string; path: string }[];
}
