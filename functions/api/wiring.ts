// The real parts behind the API: storage, the catalog service and the webhook inbox.
import type { CatalogPort, InboxPort } from './deps.ts';

export interface Wiring {
  catalog: CatalogPort;
  inbox: InboxPort;
  /** Processes queued webhook deliveries; resolves to how many were handled. */
  drain(): Promise<number>;
  close(): Promise<void>;
  /** Extra dependencies handed to route modules. */
  extra?: Record<string, unknown>;
}

export async function openWiring(env: NodeJS.ProcessEnv = process.env): Promise<Wiring> {
  void env;
  throw new Error('the catalog service is not wired into the API yet');
}
