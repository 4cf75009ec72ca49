// The real parts behind the API: storage, the catalog service, the webhook inbox and the handlers
// that drain it. The local server and the Azure Functions app both open this.
import { storageConfig } from '../platform/storage-config.ts';
import { identityConfig, localIssuer, tokenVerifier } from '../platform/identity.ts';
import { webhookSecrets, type ApiDeps } from './deps.ts';
import { CatalogService } from '../catalog/service.ts';
import { Inbox, type DeliveryHandler } from '../catalog/inbox.ts';
import { catalogHandlers } from '../catalog/handlers.ts';
import type { GitHubContentPort } from '../catalog/ingestion/github.ts';
import { Octokit } from '@octokit/rest';
import { RunStore } from '../reconcile/store/runs.ts';
import { recentRunsFrom } from './recent-runs.ts';
import { maskSecrets } from '../platform/logger.ts';

export interface Wiring {
  catalog: CatalogService;
  inbox: Inbox;
  /** Inbox handlers by delivery source ('github', 'azure-devops', ...). */
  handlers: Record<string, DeliveryHandler>;
  close(): Promise<void>;
  /** Extra dependencies handed to route modules. */
  extra?: Record<string, unknown>;
}

/**
 * What each webhook source's deliveries do once drained from the inbox: the catalog's ingestion.
 * (GitOps adds its push/pull_request handling by composing with these.)
 */
export function deliveryHandlers(catalog: CatalogService, env: NodeJS.ProcessEnv = process.env): Record<string, DeliveryHandler> {
  // Reading catalog-info.yaml and CODEOWNERS of pushed commits needs a GitHub token; without one
  // push events still update the repository, and those files are skipped.
  const github = env.NEXUS_GITHUB_TOKEN
    ? new Octokit({ auth: env.NEXUS_GITHUB_TOKEN, ...(env.NEXUS_GITHUB_API_URL ? { baseUrl: env.NEXUS_GITHUB_API_URL } : {}) }).rest
    : undefined;
  return catalogHandlers({ catalog, github: github as GitHubContentPort | undefined });
}

/** Seconds between catalog refreshes: NEXUS_CATALOG_REFRESH_SECONDS (default 5; 0 turns them off). */
export function catalogRefreshSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.NEXUS_CATALOG_REFRESH_SECONDS?.trim();
  if (!raw) return 5;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 3600) {
    throw new Error(`NEXUS_CATALOG_REFRESH_SECONDS: "${raw}" is not a number of seconds between 0 and 3600`);
  }
  return n;
}

/**
 * Keeps the catalog's in-memory index up to date with what other instances (other Functions
 * instances, the CLI) write: reads, search and authorisation all answer from the index.
 */
export function startCatalogRefresh(catalog: CatalogService, env: NodeJS.ProcessEnv = process.env): { stop(): Promise<void> } {
  const seconds = catalogRefreshSeconds(env);
  if (seconds === 0) return { stop: async () => undefined };
  return catalog.startRefresh({
    intervalMs: seconds * 1000,
    onError: (err) => console.error(maskSecrets(`[catalog] refresh failed: ${(err as Error)?.message ?? err}`)),
  });
}

export async function openWiring(env: NodeJS.ProcessEnv = process.env): Promise<Wiring> {
  const storage = storageConfig(env);
  const seconds = catalogRefreshSeconds(env); // a bad value fails before anything is opened
  const [catalog, inbox] = await Promise.all([CatalogService.open({ storage }), Inbox.open({ storage })]);
  const refresh = startCatalogRefresh(catalog, { ...env, NEXUS_CATALOG_REFRESH_SECONDS: String(seconds) });
  return { catalog, inbox, handlers: deliveryHandlers(catalog, env), close: () => refresh.stop() };
}

/**
 * The API's dependencies from a wiring and the environment: identity (Entra, or the local issuer
 * when NEXUS_LOCAL_ISSUER=1) and webhook secrets. The local server and Azure Functions both use it.
 */
export async function apiDeps(wiring: Wiring, env: NodeJS.ProcessEnv = process.env): Promise<ApiDeps> {
  const idCfg = identityConfig(env);
  return {
    ...wiring.extra,
    catalog: wiring.catalog,
    inbox: wiring.inbox,
    verify: tokenVerifier(idCfg),
    localIssuer: idCfg.localIssuer ? await localIssuer(idCfg) : undefined,
    webhookSecrets: webhookSecrets(env),
    recentRuns: (wiring.extra?.recentRuns as ApiDeps['recentRuns']) ?? recentRunsFrom(() => RunStore.open(storageConfig(env))),
  };
}
