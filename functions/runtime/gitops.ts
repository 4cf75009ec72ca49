// The composition of GitOps (called by nexus.ts when NEXUS_LANDING_ZONE_REPO is set): the Git
// host and its credentials, the repository as the reconciler's desired-state source, the allowed
// signers, and then, once the reconciler exists, the push driver, pull request previews and
// review approvals behind one inbox entry.
import { DefaultAzureCredential } from '@azure/identity';
import type { DeliveryHandlers } from '../api/wiring.ts';
import { COMMENT_MARKER, renderPreview } from '../gitops/comment/render.ts';
import { PullRequestPreviews } from '../gitops/pull-requests.ts';
import type { PullRequestReviews } from '../gitops/reviews.ts';
import { identitiesOf, type UserDirectory } from '../gitops/users.ts';
import { GitOpsDriver } from '../gitops/driver.ts';
import { GitOps } from '../gitops/gitops.ts';
import { readAllowedSigners } from '../gitops/allowed-signers-source.ts';
import { repoSourceFromSettings, type RepoDesiredSource } from '../gitops/repo-source.ts';
import { mergeAllowedSigners, parseAllowedSigners, verifyCommit, type AllowedSigners } from '../gitops/signatures/verify.ts';
import { GitOpsStore } from '../gitops/store.ts';
import type { ArmConfig } from '../platform/arm.ts';
import { AzureDevOpsHost } from '../platform/git-host/azure-devops.ts';
import { GitHubHost } from '../platform/git-host/github.ts';
import { openGitHost, type GitHostFactories } from '../platform/git-host/open.ts';
import type { GitHost } from '../platform/git-host/types.ts';
import type { Logger } from '../platform/logger.ts';
import type { StorageConfig } from '../platform/storage-config.ts';
import { azureArchetypeCompiler } from '../reconcile/compile-archetypes.ts';
import type { ReconcileDeps } from '../reconcile/deps.ts';
import type { ReconcileService } from '../reconcile/service.ts';
import type { GitOpsSettings, NexusConfig } from './config.ts';

/** The hosts Nexus speaks to, with the credentials gitHostAuth chose. */
export const GIT_HOSTS: GitHostFactories = {
  github: (s, auth) => {
    if (s.repo.provider !== 'github') throw new Error(`${s.repoId} is not a GitHub repository`);
    const a = auth.kind === 'github-app'
      ? { app: { appId: auth.appId, privateKey: auth.privateKey, installationId: auth.installationId } }
      : auth.kind === 'github-token' ? { token: auth.token } : undefined;
    return new GitHubHost({ owner: s.repo.owner, repo: s.repo.repo }, { auth: a, baseUrl: s.github?.apiUrl });
  },
  'azure-devops': (s, auth) => {
    if (s.repo.provider !== 'azure-devops') throw new Error(`${s.repoId} is not an Azure DevOps repository`);
    return new AzureDevOpsHost({
      repo: s.repo, baseUrl: s.azureDevOps?.url ?? 'https://dev.azure.com',
      pat: auth.kind === 'ado-pat' ? auth.pat : undefined,
      credential: auth.kind === 'ado-entra' ? auth.credential : undefined,
    });
  },
};

/** What GitOps needs before the reconciler exists: the host, the source, the signers. */
export interface GitOpsSource {
  settings: GitOpsSettings;
  host: GitHost;
  source: RepoDesiredSource;
  signers: AllowedSigners;
  /** The reconciler's deps from the repository (compile at a commit, the tracked head, commit facts). */
  reconcileDeps(aliases?: (ids: string[]) => Promise<string[]>): Partial<ReconcileDeps>;
}

export async function openGitOpsSource(config: NexusConfig, arm: ArmConfig): Promise<GitOpsSource | undefined> {
  const settings = config.gitops;
  if (!settings) return undefined;
  const needsEntra = settings.repo.provider === 'azure-devops' && !settings.azureDevOps?.pat;
  const host = await openGitHost(settings, GIT_HOSTS, needsEntra ? { credential: new DefaultAzureCredential() } : {});
  const source = repoSourceFromSettings(settings, host, azureArchetypeCompiler({ env: config.engine.env, arm }));
  const text = await readAllowedSigners(settings);
  const signers = text ? mergeAllowedSigners(await parseAllowedSigners(text, { source: settings.allowedSignersFile ? 'NEXUS_ALLOWED_SIGNERS(_FILE)' : 'NEXUS_ALLOWED_SIGNERS' })) : mergeAllowedSigners();
  return {
    settings, host, source, signers,
    reconcileDeps: (aliases) => ({
      compile: async (commit) => (await source.compile(commit)).state,
      trackedCommit: () => source.head(),
      // Authors come from the repository's commits (commit facts), never from this package's checkout.
      commitAuthor: undefined,
      commits: {
        repoId: settings.repoId,
        history: (base, head) => source.history(base, head),
        requireSigned: settings.requireSignedCommits,
        verify: (commit) => verifyCommit(commit, signers),
        aliases,
      },
    }),
  };
}

/** More identities for the people behind these: catalog Users found by e-mail or GitHub login. */
export function catalogAliases(users: UserDirectory): (ids: string[]) => Promise<string[]> {
  return async (ids) => ids.flatMap((id) => {
    const u = id.includes('@') ? users.byEmail(id) : users.byLogin(id);
    return u ? identitiesOf(u) : [];
  });
}

/** GitOps's inbox entry, push driver and pull request previews, over the reconciler that now exists. */
export async function startGitOps(
  src: GitOpsSource, ports: { reconcile: ReconcileService; storage: StorageConfig; logger: Logger; reviews?: PullRequestReviews },
): Promise<GitOps> {
  const store = await GitOpsStore.open(ports.storage);
  const { reconcile, logger } = ports;
  const driver = new GitOpsDriver({ store, logger, concurrency: reconcile.deps.concurrency, reconcile: (req) => reconcile.reconciler.reconcile(req) });
  const previews = new PullRequestPreviews({
    host: src.host, source: src.source, branch: src.settings.branch, concurrency: src.settings.previewConcurrency,
    publicUrl: src.settings.publicUrl, preview: (r) => reconcile.reconciler.previewOnly(r),
    render: (report) => renderPreview(report), marker: COMMENT_MARKER, logger,
  });
  return new GitOps({
    repoId: src.settings.repoId, branch: src.settings.branch,
    push: { source: src.source, runs: reconcile.stores.runs, audit: reconcile.stores.audit },
    store, driver, previews, reviews: ports.reviews, now: () => new Date(), logger,
  });
}

/**
 * The inbox's handlers with GitOps beside the catalog's ingestion: a GitHub or Azure DevOps
 * delivery updates the catalog and then, when it is a push, pull request or review of the
 * landing-zone repository, does GitOps's part. Both are idempotent, so a retry after either
 * failed repeats nothing harmful.
 */
export function withGitOps(handlers: DeliveryHandlers, gitops: GitOps | undefined): DeliveryHandlers {
  if (!gitops) return handlers;
  const out: DeliveryHandlers = { ...handlers };
  for (const source of ['github', 'azure-devops'] as const) {
    const catalog = handlers[source];
    out[source] = async (d) => {
      const report = catalog ? await catalog(d) : undefined;
      await gitops.handle(source, d);
      return report;
    };
  }
  return out;
}
