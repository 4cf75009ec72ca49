// The GitHost of the configured landing-zone repository: which implementation (GitHub or Azure
// DevOps) and with which credentials. The implementations are passed in as factories, so this
// module does not import them (the composition root wires functions/platform/git-host/github.ts
// and azure-devops.ts).
import type { TokenCredential } from '@azure/core-auth';
import type { GitOpsSettings } from '../../runtime/config.ts';
import type { GitHost } from './types.ts';

/** How Nexus authenticates to the host, chosen from the settings. */
export type GitHostAuth =
  /** A GitHub App's installation token (minted and renewed from the App's private key). */
  | { kind: 'github-app'; appId: string; privateKey: string; installationId?: string }
  /** A personal or fine-grained token (NEXUS_GITHUB_TOKEN, e.g. a Key Vault reference). */
  | { kind: 'github-token'; token: string }
  /** An Azure DevOps personal access token (NEXUS_ADO_PAT). */
  | { kind: 'ado-pat'; pat: string }
  /** An Entra ID token for Azure DevOps from the managed identity (or any TokenCredential). */
  | { kind: 'ado-entra'; credential: TokenCredential };

export interface OpenGitHostOptions {
  /** Entra credential for Azure DevOps without a PAT (the managed identity in Azure). */
  credential?: TokenCredential;
  /** The fetch the host's HTTP client uses (tests, proxies). */
  fetch?: typeof globalThis.fetch;
}

export type GitHostFactory = (settings: GitOpsSettings, auth: GitHostAuth, opts: OpenGitHostOptions) => GitHost | Promise<GitHost>;

export interface GitHostFactories {
  github: GitHostFactory;
  'azure-devops': GitHostFactory;
}

export class GitHostConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'GitHostConfigError';
  }
}

/**
 * GitHub: the App when its id and key are set (short-lived installation tokens), else the token.
 * Azure DevOps: the PAT when set, else the Entra credential (managed identity).
 */
export function gitHostAuth(settings: GitOpsSettings, opts: OpenGitHostOptions = {}): GitHostAuth {
  if (settings.repo.provider === 'github') {
    const gh = settings.github;
    if (gh?.app) return { kind: 'github-app', appId: gh.app.appId, privateKey: gh.app.privateKey, installationId: gh.app.installationId };
    if (gh?.token) return { kind: 'github-token', token: gh.token };
    throw new GitHostConfigError('NEXUS_GITHUB_TOKEN', `reading ${settings.repoId} needs NEXUS_GITHUB_TOKEN, or NEXUS_GITHUB_APP_ID and NEXUS_GITHUB_APP_PRIVATE_KEY`);
  }
  if (settings.azureDevOps?.pat) return { kind: 'ado-pat', pat: settings.azureDevOps.pat };
  if (opts.credential) return { kind: 'ado-entra', credential: opts.credential };
  throw new GitHostConfigError('NEXUS_ADO_PAT', `reading ${settings.repoId} needs NEXUS_ADO_PAT, or a managed identity with access to the project`);
}

export async function openGitHost(settings: GitOpsSettings, factories: GitHostFactories, opts: OpenGitHostOptions = {}): Promise<GitHost> {
  const auth = gitHostAuth(settings, opts);
  const host = await (settings.repo.provider === 'github' ? factories.github : factories['azure-devops'])(settings, auth, opts);
  if (host.id !== settings.repoId) throw new Error(`the Git host opened ${host.id}, not the configured ${settings.repoId}`);
  return host;
}
