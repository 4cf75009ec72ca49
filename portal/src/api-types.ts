// The API's response types, as the API declares them (functions/api/schemas, the same schemas the
// OpenAPI document is made of). Type-only: esbuild erases these exports, so the bundle carries no
// zod and no server code.
export type { EntityPage, ListedEntity, Me, Relation, SearchResult, StoredEntity, Team } from '../../functions/api/schemas/catalog.ts';
export type { Approval, Approved, ChangeSet, GateResult, GateSummary, KillSwitch, Rejected, Run, RunDetail, Stack } from '../../functions/api/schemas/reconcile.ts';
export type { ComplianceView, DriftItem, DriftReport, ScopeCompliance } from '../../functions/api/schemas/drift.ts';
