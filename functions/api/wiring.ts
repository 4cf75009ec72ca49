// Parts the composition root (functions/runtime/nexus.ts) builds the API's background work from:
// the inbox's delivery handlers and the catalog index refresh.
import { Octokit } from '@octokit/rest';
import type { CatalogService } from '../catalog/service.ts';
import type { DeliveryHandler } from '../catalog/inbox.ts';
import { catalogHandlers } from '../catalog/handlers.ts';
import type { GitHubContentPort } from '../catalog/ingestion/github.ts';
import { maskSecrets } from '../platform/logger.ts';
import type { NexusConfig } from '../runtime/config.ts';

/** Inbox handlers by delivery source ('github', 'azure-devops', ...). */
export type DeliveryHandlers = Record<string, DeliveryHandler>;

/**
 * What each webhook source's deliveries do once drained from the inbox: the catalog's ingestion.
 * (GitOps adds its push/pull_request handling by composing with these; the composition root hands
 * it the reconciler.)
 */
export function deliveryHandlers(catalog: CatalogService, settings: NexusConfig['catalog']): DeliveryHandlers {
  // Reading catalog-info.yaml and CODEOWNERS of pushed commits needs a GitHub token; without one
  // push events still update the repository, and those files are skipped.
  const gh = settings.github;
  const github = gh ? new Octokit({ auth: gh.token, ...(gh.apiUrl ? { baseUrl: gh.apiUrl } : {}) }).rest : undefined;
  return catalogHandlers({ catalog, github: github as GitHubContentPort | undefined, trustedRepos: settings.trustedRepos });
}

/**
 * Keeps the catalog's in-memory index up to date with what other instances (other Functions
 * instances, the CLI) write: reads, search and authorisation all answer from the index.
 * `seconds` is NEXUS_CATALOG_REFRESH_SECONDS; 0 turns it off.
 */
export function startCatalogRefresh(catalog: CatalogService, seconds: number): { stop(): Promise<void> } {
  if (seconds === 0) return { stop: async () => undefined };
  return catalog.startRefresh({
    intervalMs: seconds * 1000,
    onError: (err) => console.error(maskSecrets(`[catalog] refresh failed: ${(err as Error)?.message ?? err}`)),
  });
}
