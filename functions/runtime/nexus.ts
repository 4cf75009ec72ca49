// The one composition root: `openNexus(config)` builds every adapter once (storage, ARM, the
// catalog, the webhook inbox and its handlers, the reconciler, identity, the API) and hands them
// out as ports. Azure Functions (functions/app.ts), `npm run up` (functions/server.ts, local.ts),
// the CLI and the tests are thin entry points over it; no handler knows which one called it.
import { createApp, type ApiApp } from '../api/app.ts';
import type { ApiDeps, InboxPort } from '../api/deps.ts';
import { recentRunsFrom } from '../api/recent-runs.ts';
import { deliveryHandlers, startCatalogRefresh, type DeliveryHandlers } from '../api/wiring.ts';
import { CatalogService, type RecentRunsPort } from '../catalog/service.ts';
import { Inbox } from '../catalog/inbox.ts';
import { armConfig, type ArmConfig } from '../platform/arm.ts';
import { localIssuer, tokenVerifier, type LocalIssuer, type TokenVerifier } from '../platform/identity.ts';
import { createLogger, type Logger } from '../platform/logger.ts';
import { storageConfig, type StorageConfig } from '../platform/storage-config.ts';
import { defaultDeps, type ReconcileDeps, type ReconcileParts } from '../reconcile/deps.ts';
import { Reconciler } from '../reconcile/loop.ts';
import { ReconcileService } from '../reconcile/service.ts';
import { catalogJobs, type Job } from '../jobs.ts';
import { backendSettings } from '../../stacks/engine/backend.ts';
import type { NexusConfig } from './config.ts';
import type { GitOps } from '../gitops/gitops.ts';
import { catalogUsers } from '../gitops/users.ts';
import { PullRequestReviews } from '../gitops/reviews.ts';
import { apiApprovalSource } from '../reconcile/store/approvals.ts';
import { compliancePort, openDrift } from './drift.ts';
import { catalogAliases, openGitOpsSource, startGitOps, withGitOps, type GitOpsSource } from './gitops.ts';

/** What delivery handlers may use: the catalog, and the reconciler (GitOps starts runs from a push). */
export interface NexusPorts {
  config: NexusConfig;
  catalog: CatalogService;
  reconcile: ReconcileService;
  logger: Logger;
  /** GitOps, when a landing-zone repository is configured (NEXUS_LANDING_ZONE_REPO). */
  gitops?: GitOps;
}

/** Single parts a caller (a test, a benchmark, the CLI) replaces; everything else is built. */
export interface NexusOverrides {
  storage?: StorageConfig;
  arm?: ArmConfig;
  logger?: Logger;
  catalog?: CatalogService;
  inbox?: Inbox;
  /** The inbox's handlers, or a function of the ports that makes them (default: the catalog's ingestion). */
  handlers?: DeliveryHandlers | ((ports: NexusPorts) => DeliveryHandlers);
  /** Replaces parts of the reconciler's deps (an engine fake in gate tests, another holder id). */
  reconcileDeps?: Partial<ReconcileDeps>;
  verify?: TokenVerifier;
  recentRuns?: RecentRunsPort;
}

export interface Nexus extends NexusPorts {
  storage: StorageConfig;
  arm: ArmConfig;
  inbox: Inbox;
  handlers: DeliveryHandlers;
  localIssuer?: LocalIssuer;
  /** The API's ports, and the Hono app over them. */
  deps: ApiDeps;
  app: ApiApp;
  /** Called after each new (not duplicate) webhook delivery was queued: the local server drains soon after. */
  onDelivery(listener: () => void): void;
  /** The catalog's background jobs (Resource Graph poll, Pulumi state import), made on first call. */
  jobs(): Promise<Job[]>;
  close(): Promise<void>;
}

/**
 * The reconciler alone over the same parts (the CLI's commands need no catalog); openNexus builds
 * its reconciler through here too, so every runtime wires it the same way.
 */
export async function openReconcile(parts: ReconcileParts, over: Partial<ReconcileDeps> = {}, src?: GitOpsSource | null): Promise<ReconcileService> {
  // With a landing-zone repository, every desired state is compiled from it at a commit.
  const repo = src === null ? undefined : src ?? (await openGitOpsSource(parts.config, parts.arm));
  const drift = 'drift' in over ? over.drift : await openDrift(parts, { repo });
  return new ReconcileService(new Reconciler(await defaultDeps(parts, { ...repo?.reconcileDeps(), drift, ...over })));
}

export async function openNexus(config: NexusConfig, over: NexusOverrides = {}): Promise<Nexus> {
  const storage = over.storage ?? storageConfig(config.storage);
  const arm = over.arm ?? armConfig(config.arm);
  const logger = over.logger ?? createLogger({ level: config.log.level });
  const [catalog, inbox] = await Promise.all([
    over.catalog ?? CatalogService.open({ storage }),
    over.inbox ?? Inbox.open({ storage }),
  ]);
  // GitOps: the landing-zone repository is the desired state; pull request reviews of known
  // catalog Users are approvals; commit authors are matched to Users to keep them from approving.
  const repo = await openGitOpsSource(config, arm);
  const users = catalogUsers(catalog);
  const reviews = repo ? await PullRequestReviews.open(storage, users, async (sha) => (await repo.host.commit(sha)).parents) : undefined;
  const fromRepo: Partial<ReconcileDeps> = repo ? { ...repo.reconcileDeps(catalogAliases(users)), approvalSources: [apiApprovalSource, reviews!] } : {};
  const reconcile = await openReconcile({ config, storage, arm, logger }, { ...fromRepo, ...over.reconcileDeps }, repo ?? null);
  const gitops = repo ? await startGitOps(repo, { reconcile, storage, logger, reviews }) : undefined;
  const ports: NexusPorts = { config, catalog, reconcile, logger, gitops };
  const handlers = typeof over.handlers === 'function'
    ? over.handlers(ports)
    : over.handlers ?? withGitOps(deliveryHandlers(catalog, config.catalog), gitops);

  const issuer = config.identity.localIssuer ? await localIssuer(config.identity) : undefined;
  const verify = over.verify ?? tokenVerifier(config.identity, issuer ? { issuer: Promise.resolve(issuer) } : {});

  const listeners: Array<() => void> = [];
  const queue: InboxPort = {
    enqueue: async (item) => {
      const res = await inbox.enqueue(item);
      if (!res.duplicate) for (const l of listeners) l();
      return res;
    },
  };
  const deps: ApiDeps = {
    catalog,
    inbox: queue,
    verify,
    localIssuer: issuer,
    webhookSecrets: config.webhooks.secrets,
    recentRuns: over.recentRuns ?? recentRunsFrom(async () => reconcile.stores.runs),
    reconcile,
    portal: { entraTenantId: config.identity.tenantId, audience: config.identity.audience },
    gitopsEvents: gitops?.p.store,
    checkDelivery: gitops ? (source, event, payload) => gitops.check(source, event, payload) : undefined,
    drift: reconcile.reconciler.deps.drift ? { report: (stack, runId) => reconcile.reconciler.deps.drift!.stored(stack, runId) } : undefined,
    compliance: compliancePort(arm, () => reconcile.reconciler.deps.compile()),
  };
  const app = createApp(deps);

  const refresh = startCatalogRefresh(catalog, config.catalog.refreshSeconds);
  let jobs: Promise<Job[]> | undefined;
  return {
    ...ports,
    storage,
    arm,
    inbox,
    handlers,
    localIssuer: issuer,
    deps,
    app,
    onDelivery: (listener) => void listeners.push(listener),
    jobs() {
      jobs ??= catalogJobs({ catalog, storage, arm, config, backend: backendSettings(config.engine.env) });
      jobs.catch(() => { jobs = undefined; });
      return jobs;
    },
    close: () => refresh.stop(),
  };
}
