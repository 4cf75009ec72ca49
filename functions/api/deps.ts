// What the API needs from the rest of Nexus, as small ports. The server (and tests) hand in the
// real catalog service and inbox; the routes never construct storage clients themselves.
import type { TokenVerifier, LocalIssuer } from '../platform/identity.ts';
import type { CatalogService, RecentRunsPort } from '../catalog/service.ts';
import type { ReconcileService } from '../reconcile/service.ts';
import type { WebhookSecretSettings } from '../runtime/config.ts';
import type { GitOpsEventRecord } from '../gitops/store.ts';
import type { ComplianceView, DriftReport } from '../drift/model.ts';

export type { EntityRef } from '../catalog/refs.ts';

/** An entity as the API hands it around (the catalog's Entity, or a Backstage/nexus document on its way in). */
export interface CatalogEntity {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; etag?: string; [k: string]: unknown };
  spec?: Record<string, unknown>;
  relations?: Array<{ type: string; targetRef: string }>;
  status?: { owner?: string; [k: string]: unknown };
}

export interface InboxItem {
  source: 'github' | 'azure-devops' | 'azure-monitor' | 'pagerduty' | 'opsgenie';
  /** The sender's delivery id: the same id twice is queued once. */
  deliveryId: string;
  event: string;
  payload: unknown;
  receivedAt: string;
}

export interface InboxPort {
  enqueue(item: InboxItem): Promise<{ duplicate: boolean }>;
}

/** Each webhook source's secret (config.webhooks.secrets). */
export type WebhookSecrets = WebhookSecretSettings;

/** What the portal page is told about sign-in (config.identity). */
export interface PortalSettings {
  entraTenantId?: string;
  audience?: string;
}

export interface ApiDeps {
  catalog: CatalogService;
  /** Where webhook deliveries are queued; without one, webhooks answer 503. */
  inbox?: InboxPort;
  verify: TokenVerifier;
  /** When the local issuer is on, its JWKS is served at /.well-known/jwks.json. */
  localIssuer?: LocalIssuer;
  webhookSecrets: WebhookSecrets;
  /** Recent reconcile runs for /api/v1/me (functions/api/recent-runs.ts); without it the list is empty. */
  recentRuns?: RecentRunsPort;
  /** The reconciler's API (runs, approvals, kill switch); without it the reconcile routes answer 503. */
  reconcile?: ReconcileService;
  /** Sign-in settings the portal page needs; without them it offers the local issuer only. */
  portal?: PortalSettings;
  /**
   * GitOps's check of a delivery before it is queued: a push or pull request of the landing-zone
   * repository that lacks a field GitOps needs is refused (400 naming it) rather than queued to fail.
   * Throws an error with `status` 400 and `field`.
   */
  /** GitOps's record of deliveries (GET /api/v1/gitops/events); absent without a landing-zone repository. */
  gitopsEvents?: { recent(limit: number): Promise<GitOpsEventRecord[]> };
  /** Drift reports (functions/drift/store.ts): a stack's latest, or the one of a run; without it the drift route answers 503. */
  drift?: { report(stack: string, runId?: string): Promise<DriftReport | undefined> };
  /** The compliance view (functions/drift/compliance.ts) of every scope, or of one; without it /api/v1/compliance answers 503. */
  compliance?: (scope?: string) => Promise<ComplianceView>;
  checkDelivery?(source: 'github' | 'azure-devops', event: string, payload: unknown): void;
}
