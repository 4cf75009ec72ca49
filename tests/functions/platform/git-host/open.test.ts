// openGitHost picks the implementation and the credentials from the settings.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TokenCredential } from '@azure/core-auth';
import { GitHostConfigError, gitHostAuth, openGitHost, type GitHostAuth, type GitHostFactories } from '../../../../functions/platform/git-host/open.ts';
import { parseRepoRef, type GitOpsSettings } from '../../../../functions/runtime/config.ts';
import type { GitHost } from '../../../../functions/platform/git-host/types.ts';

function settings(repoId: string, over: Partial<GitOpsSettings> = {}): GitOpsSettings {
  return {
    repo: parseRepoRef(repoId), repoId, branch: 'main', path: '', requireSignedCommits: false,
    cache: { maxBytes: 1, maxSnapshotBytes: 1 }, previewConcurrency: 2, publicUrl: 'http://localhost', ...over,
  };
}

function factories(opened: { provider: string; auth: GitHostAuth }[]): GitHostFactories {
  const make = (provider: string) => (s: GitOpsSettings, auth: GitHostAuth) => {
    opened.push({ provider, auth });
    return { id: s.repoId, repo: s.repo } as GitHost;
  };
  return { github: make('github'), 'azure-devops': make('azure-devops') };
}

const credential: TokenCredential = { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 60_000 }) };

test('GitHub: the App when configured, else the token', async () => {
  const opened: { provider: string; auth: GitHostAuth }[] = [];
  const app = { appId: '1', privateKey: 'KEY', installationId: '7' };
  await openGitHost(settings('github:contoso/landing-zones', { github: { token: 'tok', app } }), factories(opened));
  await openGitHost(settings('github:contoso/landing-zones', { github: { token: 'tok' } }), factories(opened));
  assert.equal(opened, [
    { provider: 'github', auth: { kind: 'github-app', appId: '1', privateKey: 'KEY', installationId: '7' } },
    { provider: 'github', auth: { kind: 'github-token', token: 'tok' } },
  ]);
});

test('Azure DevOps: the PAT when set, else the managed identity', async () => {
  const opened: { provider: string; auth: GitHostAuth }[] = [];
  const host = await openGitHost(settings('azure-devops:contoso/lz/landing-zones', { azureDevOps: { url: 'https://dev.azure.com', pat: 'pat' } }), factories(opened), { credential });
  assert.is(host.id, 'azure-devops:contoso/lz/landing-zones');
  await openGitHost(settings('azure-devops:contoso/lz/landing-zones', { azureDevOps: { url: 'https://dev.azure.com' } }), factories(opened), { credential });
  assert.equal(opened.map((o) => [o.provider, o.auth.kind]), [['azure-devops', 'ado-pat'], ['azure-devops', 'ado-entra']]);
});

test('no credentials: an error naming the variable to set', () => {
  const cases: [GitOpsSettings, string][] = [
    [settings('github:contoso/landing-zones', { github: {} }), 'NEXUS_GITHUB_TOKEN'],
    [settings('azure-devops:contoso/lz/landing-zones', { azureDevOps: { url: 'https://dev.azure.com' } }), 'NEXUS_ADO_PAT'],
  ];
  for (const [s, variable] of cases) {
    try {
      gitHostAuth(s);
      assert.unreachable('expected an error');
    } catch (e) {
      assert.instance(e, GitHostConfigError);
      assert.is((e as GitHostConfigError).variable, variable);
      assert.match((e as Error).message, s.repoId);
    }
  }
});

test('a factory that opens another repository is refused', async () => {
  const wrong: GitHostFactories = { github: () => ({ id: 'github:other/repo' }) as GitHost, 'azure-devops': () => { throw new Error('unused'); } };
  try {
    await openGitHost(settings('github:contoso/landing-zones', { github: { token: 't' } }), wrong);
    assert.unreachable('expected an error');
  } catch (e) {
    assert.match((e as Error).message, /github:other\/repo/);
  }
});

test.run();
