// The real parts behind the API: storage, the catalog service, the webhook inbox and the handlers
// that drain it. The local server and the Azure Functions app both open this.
import { storageConfig } from '../platform/storage-config.ts';
import { CatalogService } from '../catalog/service.ts';
import { Inbox, type DeliveryHandler } from '../catalog/inbox.ts';
import { handleGitHubEvent } from '../catalog/ingestion/github.ts';

export interface Wiring {
  catalog: CatalogService;
  inbox: Inbox;
  /** Inbox handlers by delivery source ('github', 'azure-devops', ...). */
  handlers: Record<string, DeliveryHandler>;
  close(): Promise<void>;
  /** Extra dependencies handed to route modules. */
  extra?: Record<string, unknown>;
}

/** What each webhook source's deliveries do once drained from the inbox. */
export function deliveryHandlers(catalog: CatalogService): Record<string, DeliveryHandler> {
  return {
    github: (d) => handleGitHubEvent({ catalog }, d),
  };
}

export async function openWiring(env: NodeJS.ProcessEnv = process.env): Promise<Wiring> {
  const storage = storageConfig(env);
  const [catalog, inbox] = await Promise.all([CatalogService.open({ storage }), Inbox.open({ storage })]);
  return { catalog, inbox, handlers: deliveryHandlers(catalog), close: async () => undefined };
}
