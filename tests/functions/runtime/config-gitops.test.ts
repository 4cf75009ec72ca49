// The GitOps settings: loadConfig refuses combinations that cannot work, naming the variable to fix,
// never echoes a secret, and turns a good configuration into the typed config.gitops section.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, loadConfig, type Env } from '../../../functions/runtime/config.ts';

const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEsecret-app-key-material-0451\n-----END RSA PRIVATE KEY-----';
const PAT = 'ado-pat-secret-value-8812';

/** The ConfigError loadConfig throws for `env` (fails the test when it returns a config instead). */
function refused(env: Env): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    assert.instance(e, ConfigError);
    return e as ConfigError;
  }
  assert.unreachable(`loadConfig accepted ${JSON.stringify(Object.keys(env))}`);
  throw new Error('unreachable');
}

const variables = (e: ConfigError) => e.problems.map((p) => p.variable).sort();

const github: Env = { NEXUS_LANDING_ZONE_REPO: 'github:contoso/landing-zones', NEXUS_GITHUB_TOKEN: 'ghp_token', NEXUS_GITHUB_WEBHOOK_SECRET: 'hook' };
const ado: Env = { NEXUS_LANDING_ZONE_REPO: 'azure-devops:contoso/platform/landing-zones', NEXUS_ADO_PAT: PAT, NEXUS_ADO_WEBHOOK_SECRET: 'hook' };

test('a GitHub repository without a token or an App is refused, naming NEXUS_LANDING_ZONE_REPO', () => {
  const e = refused({ NEXUS_LANDING_ZONE_REPO: 'github:contoso/landing-zones', NEXUS_GITHUB_WEBHOOK_SECRET: 'hook' });
  assert.equal(variables(e), ['NEXUS_LANDING_ZONE_REPO']);
  assert.match(e.problems[0].message, /NEXUS_GITHUB_TOKEN/);
});

test('an App id without its private key names NEXUS_GITHUB_APP_PRIVATE_KEY', () => {
  const e = refused({ NEXUS_LANDING_ZONE_REPO: 'github:contoso/landing-zones', NEXUS_GITHUB_APP_ID: '123', NEXUS_GITHUB_WEBHOOK_SECRET: 'hook' });
  assert.ok(variables(e).includes('NEXUS_GITHUB_APP_PRIVATE_KEY'), variables(e).join());
});

test('a GitHub repository without the webhook secret names NEXUS_GITHUB_WEBHOOK_SECRET', () => {
  const e = refused({ ...github, NEXUS_GITHUB_WEBHOOK_SECRET: undefined });
  assert.equal(variables(e), ['NEXUS_GITHUB_WEBHOOK_SECRET']);
  // An empty app setting counts as unset.
  assert.equal(variables(refused({ ...github, NEXUS_GITHUB_WEBHOOK_SECRET: '' })), ['NEXUS_GITHUB_WEBHOOK_SECRET']);
});

test('an Azure DevOps repository without the service hook secret names NEXUS_ADO_WEBHOOK_SECRET', () => {
  assert.equal(variables(refused({ ...ado, NEXUS_ADO_WEBHOOK_SECRET: undefined })), ['NEXUS_ADO_WEBHOOK_SECRET']);
});

test('signed commits with Azure DevOps are refused, naming NEXUS_REQUIRE_SIGNED_COMMITS', () => {
  const e = refused({ ...ado, NEXUS_REQUIRE_SIGNED_COMMITS: '1', NEXUS_ALLOWED_SIGNERS: 'a@contoso.com ssh-ed25519 AAAA' });
  assert.equal(variables(e), ['NEXUS_REQUIRE_SIGNED_COMMITS']);
  assert.match(e.problems[0].message, /Azure DevOps/);
});

test('signed commits without allowed signers name NEXUS_ALLOWED_SIGNERS; the file alone is enough', () => {
  assert.equal(variables(refused({ ...github, NEXUS_REQUIRE_SIGNED_COMMITS: 'true' })), ['NEXUS_ALLOWED_SIGNERS']);
  const c = loadConfig({ ...github, NEXUS_REQUIRE_SIGNED_COMMITS: '1', NEXUS_ALLOWED_SIGNERS_FILE: '/etc/nexus/allowed_signers' });
  assert.is(c.gitops?.requireSignedCommits, true);
  assert.is(c.gitops?.allowedSignersFile, '/etc/nexus/allowed_signers');
});

test('signed commits without any landing-zone repository are refused', () => {
  assert.equal(variables(refused({ NEXUS_REQUIRE_SIGNED_COMMITS: '1', NEXUS_ALLOWED_SIGNERS: 'x' })), ['NEXUS_REQUIRE_SIGNED_COMMITS']);
});

test('a repository id of the wrong shape is named, with the value shown', () => {
  for (const id of ['contoso/landing-zones', 'github:contoso', 'github:contoso/a/b', 'gitlab:contoso/lz', 'azure-devops:contoso/lz', 'github:contoso/lz extra', 'azure-devops:o/p/r/x']) {
    const e = refused({ ...github, NEXUS_LANDING_ZONE_REPO: id });
    assert.equal(variables(e), ['NEXUS_LANDING_ZONE_REPO'], id);
    assert.ok(e.message.includes(id), `${id}: ${e.message}`);
  }
});

test('a branch with .., a leading - or out-of-set characters is named', () => {
  // refs/heads/main would never equal a push's branch (main): the message says to leave the prefix off.
  for (const branch of ['main..x', '..', '-main', '--upload-pack=x', 'feature branch', 'a~1', 'x:y', 'refs/heads/main', 'main/', 'a//b', '.hidden', 'a/.b', 'main.lock']) {
    assert.equal(variables(refused({ ...github, NEXUS_LANDING_ZONE_BRANCH: branch })), ['NEXUS_LANDING_ZONE_BRANCH'], branch);
  }
  assert.is(loadConfig({ ...github, NEXUS_LANDING_ZONE_BRANCH: 'release/2026.12' }).gitops?.branch, 'release/2026.12');
});

test('a path that climbs out of the repository or is absolute is named', () => {
  for (const path of ['../x', 'a/../../x', '..', 'a/..', '/abs', '/']) {
    assert.equal(variables(refused({ ...github, NEXUS_LANDING_ZONE_PATH: path })), ['NEXUS_LANDING_ZONE_PATH'], path);
  }
  // A trailing slash is dropped; dots inside names are not climbing.
  assert.is(loadConfig({ ...github, NEXUS_LANDING_ZONE_PATH: 'platform/archetypes/' }).gitops?.path, 'platform/archetypes');
  assert.is(loadConfig({ ...github, NEXUS_LANDING_ZONE_PATH: 'v1..2/lz' }).gitops?.path, 'v1..2/lz');
});

test('a good GitHub configuration gives the typed section with its defaults', () => {
  const c = loadConfig({ ...github, NEXUS_GITHUB_API_URL: 'http://127.0.0.1:9000/api/v3/', NEXUS_API_URL: 'https://nexus.contoso.com/' });
  assert.equal(c.gitops, {
    repo: { provider: 'github', owner: 'contoso', repo: 'landing-zones' },
    repoId: 'github:contoso/landing-zones',
    branch: 'main',
    path: '',
    github: { apiUrl: 'http://127.0.0.1:9000/api/v3', token: 'ghp_token', app: undefined },
    azureDevOps: undefined,
    requireSignedCommits: false,
    allowedSigners: undefined,
    allowedSignersFile: undefined,
    cache: { dir: undefined, maxBytes: 512 * 1024 * 1024, maxSnapshotBytes: 100 * 1024 * 1024 },
    previewConcurrency: 2,
    publicUrl: 'https://nexus.contoso.com',
  });
  // A GitHub App instead of a token; NEXUS_PUBLIC_URL wins over NEXUS_API_URL.
  const app = loadConfig({
    NEXUS_LANDING_ZONE_REPO: 'github:contoso/landing-zones', NEXUS_GITHUB_WEBHOOK_SECRET: 'hook',
    NEXUS_GITHUB_APP_ID: '42', NEXUS_GITHUB_APP_PRIVATE_KEY: PEM, NEXUS_PUBLIC_URL: 'https://portal.contoso.com',
    NEXUS_GITOPS_CACHE_MB: '64', NEXUS_GITOPS_MAX_SNAPSHOT_MB: '8', NEXUS_GITOPS_CACHE_DIR: '/tmp/lz', NEXUS_PREVIEW_CONCURRENCY: '4',
  }).gitops;
  assert.equal(app?.github, { apiUrl: undefined, token: undefined, app: { appId: '42', privateKey: PEM, installationId: undefined } });
  assert.equal(app?.cache, { dir: '/tmp/lz', maxBytes: 64 * 1024 * 1024, maxSnapshotBytes: 8 * 1024 * 1024 });
  assert.is(app?.previewConcurrency, 4);
  assert.is(app?.publicUrl, 'https://portal.contoso.com');
});

test('a good Azure DevOps configuration gives the typed section; no repository gives none', () => {
  const c = loadConfig({ ...ado, NEXUS_ADO_URL: 'http://127.0.0.1:9100/', NEXUS_LANDING_ZONE_BRANCH: 'trunk', NEXUS_LANDING_ZONE_PATH: 'lz' });
  assert.equal(c.gitops?.repo, { provider: 'azure-devops', org: 'contoso', project: 'platform', repo: 'landing-zones' });
  assert.is(c.gitops?.repoId, 'azure-devops:contoso/platform/landing-zones');
  assert.is(c.gitops?.branch, 'trunk');
  assert.is(c.gitops?.path, 'lz');
  assert.equal(c.gitops?.azureDevOps, { url: 'http://127.0.0.1:9100', pat: PAT });
  assert.is(c.gitops?.github, undefined);
  assert.is(c.gitops?.publicUrl, 'http://127.0.0.1:7070');
  // Without a PAT: the managed identity (no problem); the default services URL.
  assert.equal(loadConfig({ ...ado, NEXUS_ADO_PAT: undefined }).gitops?.azureDevOps, { url: 'https://dev.azure.com', pat: undefined });
  assert.is(loadConfig({}).gitops, undefined);
});

test('cache bounds out of range are named', () => {
  const e = refused({ ...github, NEXUS_GITOPS_CACHE_MB: '1', NEXUS_GITOPS_MAX_SNAPSHOT_MB: 'lots', NEXUS_PREVIEW_CONCURRENCY: '0' });
  assert.equal(variables(e), ['NEXUS_GITOPS_CACHE_MB', 'NEXUS_GITOPS_MAX_SNAPSHOT_MB', 'NEXUS_PREVIEW_CONCURRENCY']);
});

test('the App private key and the ADO PAT are never echoed in a configuration error', () => {
  const errors = [
    // Schema problems next to the secrets.
    refused({ ...ado, NEXUS_LANDING_ZONE_BRANCH: '-x', NEXUS_GITHUB_APP_PRIVATE_KEY: PEM }),
    refused({ NEXUS_LANDING_ZONE_REPO: 'github:contoso/lz', NEXUS_GITHUB_APP_ID: 'abc', NEXUS_GITHUB_APP_PRIVATE_KEY: PEM, NEXUS_ADO_PAT: PAT }),
    // Combination problems next to the secrets.
    refused({ ...ado, NEXUS_REQUIRE_SIGNED_COMMITS: '1', NEXUS_GITHUB_APP_PRIVATE_KEY: PEM }),
    refused({ NEXUS_LANDING_ZONE_REPO: 'github:contoso/lz', NEXUS_GITHUB_APP_PRIVATE_KEY: PEM, NEXUS_ADO_PAT: PAT }),
  ];
  for (const e of errors) {
    const text = `${e.message}\n${JSON.stringify(e.problems)}\n${e.stack ?? ''}`;
    assert.not.ok(text.includes('secret-app-key-material'), text);
    assert.not.ok(text.includes(PAT), text);
  }
});

test('an empty secret counts as unset, so the missing-credential problem is still named', () => {
  const e = refused({ NEXUS_LANDING_ZONE_REPO: 'github:contoso/lz', NEXUS_GITHUB_APP_ID: '7', NEXUS_GITHUB_APP_PRIVATE_KEY: '', NEXUS_GITHUB_WEBHOOK_SECRET: 'h' });
  assert.equal(variables(e), ['NEXUS_GITHUB_APP_PRIVATE_KEY', 'NEXUS_LANDING_ZONE_REPO']);
});

test.run();
