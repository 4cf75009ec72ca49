// What the API needs from the rest of Nexus, as small ports. The server (and tests) hand in the
// real catalog service and inbox; the routes never construct storage clients themselves.
import type { Principal, TokenVerifier, LocalIssuer } from '../platform/identity.ts';

export interface EntityRef {
  kind: string;
  namespace: string;
  name: string;
}

/** The envelope every catalog entity shares (Backstage's, also used by nexus/v1 kinds). */
export interface CatalogEntity {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  spec?: Record<string, unknown>;
  relations?: Array<{ type: string; targetRef: string; [k: string]: unknown }>;
  [k: string]: unknown;
}

export interface ListQuery {
  kind?: string;
  owner?: string;
  tag?: string;
  /** Any field by dotted path (`spec.lifecycle`) → wanted value. */
  filters?: Record<string, string>;
  /** Dotted paths to return (the envelope's kind and metadata.name/namespace are always kept). */
  fields?: string[];
  limit: number;
  cursor?: string;
}

export interface SearchQuery {
  q: string;
  kind?: string;
  owner?: string;
  tag?: string;
  limit: number;
}

export interface CatalogPort {
  get(ref: EntityRef): Promise<CatalogEntity | undefined>;
  /** Validates the whole entity first; stores nothing when it is invalid (throws with the field). */
  upsert(entity: unknown, by: { source: string; principal?: string }): Promise<CatalogEntity>;
  delete(ref: EntityRef): Promise<boolean>;
  list(query: ListQuery): Promise<{ items: unknown[]; cursor?: string }>;
  relations(ref: EntityRef): Promise<unknown[]>;
  search(query: SearchQuery): Promise<{ items: unknown[]; facets: Record<string, Record<string, number>>; total?: number }>;
  team(name: string): Promise<unknown | undefined>;
  me(principal: Principal): Promise<unknown>;
  /** Team refs the principal is a member of (for ownership checks). */
  teamsOf(principal: Principal): Promise<string[]>;
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
    azureMonitor: v('NEXUS_AZURE_MONITOR_WEBHOOK_SECRET'),
    pagerDuty: v('NEXUS_PAGERDUTY_WEBHOOK_SECRET'),
    opsgenie: v('NEXUS_OPSGENIE_WEBHOOK_SECRET'),
  };
}

export interface ApiDeps {
  catalog: CatalogPort;
  inbox: InboxPort;
  verify: TokenVerifier;
  /** When the local issuer is on, its JWKS is served at /.well-known/jwks.json. */
  localIssuer?: LocalIssuer;
  webhookSecrets: WebhookSecrets;
  /** Other engineers' route modules read what they need from here. */
  [extra: string]: unknown;
}
