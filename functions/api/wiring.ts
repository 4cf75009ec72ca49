// The real parts behind the API: storage, the catalog service and the webhook inbox.
import { storageConfig } from '../platform/storage-config.ts';
import { CatalogService } from '../catalog/service.ts';
import type { InboxPort } from './deps.ts';

export interface Wiring {
  catalog: CatalogService;
  inbox?: InboxPort;
  /** Processes queued webhook deliveries; resolves to how many were handled. */
  drain(): Promise<number>;
  close(): Promise<void>;
  /** Extra dependencies handed to route modules. */
  extra?: Record<string, unknown>;
}

export async function openWiring(env: NodeJS.ProcessEnv = process.env): Promise<Wiring> {
  const storage = storageConfig(env);
  const catalog = await CatalogService.open({ storage });
  return {
    catalog,
    drain: async () => 0,
    close: async () => undefined,
  };
}
