// What the API needs from the rest of Nexus, as small ports. The server (and tests) hand in the
// real catalog service and inbox; the routes never construct storage clients themselves.
import type { TokenVerifier, LocalIssuer } from '../platform/identity.ts';
import type { CatalogService, RecentRunsPort } from '../catalog/service.ts';

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

export interface WebhookSecrets {
  github?: string;
  azureDevOps?: string;
  azureMonitor?: string;
  pagerDuty?: string;
  opsgenie?: string;
}

export function webhookSecrets(env: NodeJS.ProcessEnv = process.env): WebhookSecrets {
  const v = (k: string) => env[k] || undefined;
  return {
    github: v('NEXUS_GITHUB_WEBHOOK_SECRET'),
    azureDevOps: v('NEXUS_ADO_WEBHOOK_SECRET'),
    // One secret for every alert source (NEXUS_ALERTS_WEBHOOK_SECRET), unless a source has its own.
    azureMonitor: v('NEXUS_AZURE_MONITOR_WEBHOOK_SECRET') ?? v('NEXUS_ALERTS_WEBHOOK_SECRET'),
    pagerDuty: v('NEXUS_PAGERDUTY_WEBHOOK_SECRET') ?? v('NEXUS_ALERTS_WEBHOOK_SECRET'),
    opsgenie: v('NEXUS_OPSGENIE_WEBHOOK_SECRET') ?? v('NEXUS_ALERTS_WEBHOOK_SECRET'),
  };
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
  /** Other engineers' route modules read what they need from here. */
  [extra: string]: unknown;
}
