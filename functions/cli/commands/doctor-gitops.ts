// `nexus doctor`'s landing-zone-repository check: with NEXUS_LANDING_ZONE_REPO set, the Git host is
// opened as the runtime opens it (openGitOpsSource) and the tracked branch's head is read, so a
// wrong token, repository or branch shows here rather than at the first reconcile.
import type { NexusConfig } from '../../runtime/config.ts';
import { openGitOpsSource } from '../../runtime/gitops.ts';
import { armConfig } from '../../platform/arm.ts';
import { GitHostUnavailableError, GitRefNotFoundError } from '../../platform/git-host/types.ts';
import type { Check } from './doctor.ts';

const NAME = 'landing-zone-repository';

/** Undefined without config.gitops: the archetypes come from this package's archetypes/ folder. */
export async function checkLandingZoneRepository(config: NexusConfig, timeout: <T>(p: Promise<T>) => Promise<T>): Promise<Check | undefined> {
  const settings = config.gitops;
  if (!settings) return undefined;
  const where = `${settings.repoId}@${settings.branch}`;
  const token = settings.repo.provider === 'github'
    ? 'NEXUS_GITHUB_TOKEN (or NEXUS_GITHUB_APP_ID and NEXUS_GITHUB_APP_PRIVATE_KEY)'
    : 'NEXUS_ADO_PAT (or the managed identity\'s access to the project)';
  try {
    const repo = await openGitOpsSource(config, armConfig(config.arm));
    const head = await timeout(repo!.source.head());
    return { name: NAME, ok: true, detail: `${where} at ${head.slice(0, 7)}` };
  } catch (err) {
    const message = (err as Error).message.split('\n')[0];
    if (err instanceof GitRefNotFoundError) {
      return {
        name: NAME, ok: false, detail: `${where}: ${message}`,
        fix: `set NEXUS_LANDING_ZONE_BRANCH to a branch of ${settings.repoId} (and check NEXUS_LANDING_ZONE_REPO names the repository)`,
      };
    }
    if (err instanceof GitHostUnavailableError) {
      return {
        name: NAME, ok: false, detail: `${where}: ${message}`,
        fix: `the Git host did not answer: check ${settings.repo.provider === 'github' ? 'NEXUS_GITHUB_API_URL' : 'NEXUS_ADO_URL'} and the network, then run doctor again`,
      };
    }
    return {
      name: NAME, ok: false, detail: `${where}: ${message}`,
      fix: `check that ${token} is set and can read ${settings.repoId}, and that NEXUS_LANDING_ZONE_REPO is github:owner/repo or azure-devops:org/project/repo`,
    };
  }
}
