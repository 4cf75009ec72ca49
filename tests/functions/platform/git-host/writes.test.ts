// The GitHost port's writes through the real adapters against both stand-ins: commitFiles (add, edit,
// delete; a new branch; a refused non-fast-forward without force; a force move), and pull requests
// found by head, opened once (a second open one for the same branch is refused, as the hosts do),
// edited and closed. The stand-ins keep the commits: a download of the branch sees the files.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as azdev from 'azure-devops-node-api';
import { AzureDevOpsHost } from '../../../../functions/platform/git-host/azure-devops.ts';
import { GitHubHost } from '../../../../functions/platform/git-host/github.ts';
import type { GitHost } from '../../../../functions/platform/git-host/types.ts';
import { startAzureDevOpsStandIn, type AzureDevOpsStandIn } from '../../../../scripts/sandbox/azure-devops/server.ts';
import { startGitHubStandIn, type GitHubStandIn } from '../../../../scripts/sandbox/github/server.ts';

const LIMITS = { maxBytes: 1_000_000, maxFiles: 100 };

async function rejection(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  assert.ok(e instanceof Error, 'expected a rejection');
  return e as Error;
}

function scenario(name: string, start: (data: string, seed: string) => Promise<{ host: GitHost; stop(): Promise<void>; stalePush?(branch: string, base: string): Promise<number | undefined> }>): void {
  const s = suite(name);
  let tmp: string;
  let w: Awaited<ReturnType<typeof start>>;
  let main: string;
  const files = async (sha: string) => {
    const dir = mkdtempSync(join(tmp, 'dl-'));
    await w.host.download(sha, '', dir, LIMITS);
    const out: Record<string, string> = {};
    const walk = (d: string, prefix: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name), `${prefix}${e.name}/`);
        else out[`${prefix}${e.name}`] = readFileSync(join(d, e.name), 'utf8');
      }
    };
    walk(dir, '');
    return out;
  };

  s.before(async () => {
    tmp = mkdtempSync(join(tmpdir(), `git-writes-${name}-`));
    const seed = join(tmp, 'seed');
    mkdirSync(join(seed, 'archetypes'), { recursive: true });
    writeFileSync(join(seed, 'archetypes', 'corp.yaml'), '# corp\nname: corp\n');
    writeFileSync(join(seed, 'README.md'), '# Landing zones\n');
    w = await start(join(tmp, 'data'), seed);
    main = (await w.host.branchHead('main'))!;
  });
  s.after(async () => {
    await w.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  s('commitFiles: a new branch with an edit, an addition and a deletion on top of base', async () => {
    const sha = await w.host.commitFiles({
      branch: 'nexus/drift/corp', base: main, message: 'Drift on corp',
      files: [{ path: 'archetypes/corp.yaml', content: '# corp\nname: corp\neffect: Deny\n' }, { path: 'drift/corp.md', content: '# revert\n' }, { path: 'README.md', content: null }],
    });
    assert.is(await w.host.branchHead('nexus/drift/corp'), sha);
    const c = await w.host.commit(sha);
    assert.equal(c.parents, [main]);
    assert.match(c.message, /^Drift on corp/);
    assert.equal(await files(sha), { 'archetypes/corp.yaml': '# corp\nname: corp\neffect: Deny\n', 'drift/corp.md': '# revert\n' });
    assert.is(await w.host.branchHead('main'), main, 'main did not move');
  });

  s('commitFiles: moving the branch off its history needs force', async () => {
    const before = await w.host.branchHead('nexus/drift/corp');
    const refused = await rejection(w.host.commitFiles({ branch: 'nexus/drift/corp', base: main, message: 'again', files: [{ path: 'drift/corp.md', content: '# other\n' }] }));
    // GitHub answers 422 to a ref update that is not a fast-forward; the ADO adapter refuses before pushing.
    assert.match(refused.message, /not a fast forward|without force/);
    assert.is(await w.host.branchHead('nexus/drift/corp'), before);
    const sha = await w.host.commitFiles({ branch: 'nexus/drift/corp', base: main, message: 'again', files: [{ path: 'drift/corp.md', content: '# other\n' }], force: true });
    assert.is(await w.host.branchHead('nexus/drift/corp'), sha);
    assert.equal(await files(sha), { 'archetypes/corp.yaml': '# corp\nname: corp\n', 'README.md': '# Landing zones\n', 'drift/corp.md': '# other\n' });
  });

  s('commitFiles: a fast-forward needs no force', async () => {
    const c1 = await w.host.commitFiles({ branch: 'ff-a', base: main, message: 'one', files: [{ path: 'one.txt', content: '1\n' }] });
    const c2 = await w.host.commitFiles({ branch: 'ff-b', base: c1, message: 'two', files: [{ path: 'two.txt', content: '2\n' }] });
    // ff-a is at c1, an ancestor of c2: moving it onto a commit on top of c2 drops nothing.
    const c3 = await w.host.commitFiles({ branch: 'ff-a', base: c2, message: 'three', files: [{ path: 'three.txt', content: '3\n' }] });
    assert.equal((await w.host.commit(c3)).parents, [c2]);
    assert.is(await w.host.branchHead('ff-a'), c3);
    assert.equal(Object.keys(await files(c3)).sort(), ['README.md', 'archetypes/corp.yaml', 'one.txt', 'three.txt', 'two.txt']);
  });

  if (name === 'azure-devops') {
    s('a push whose lease is stale is refused (409) and moves nothing', async () => {
      const before = await w.host.branchHead('nexus/drift/corp');
      assert.is(await w.stalePush!('nexus/drift/corp', main), 409);
      assert.is(await w.host.branchHead('nexus/drift/corp'), before);
    });
  }

  s('pull requests: opened once, found by head, edited, closed', async () => {
    assert.is(await w.host.findPullRequest({ head: 'nexus/drift/corp', state: 'all' }), undefined);
    const pr = await w.host.openPullRequest({ head: 'nexus/drift/corp', base: 'main', title: 'Drift on corp', body: 'one' });
    assert.equal({ state: pr.state, headRef: pr.headRef, baseRef: pr.baseRef, body: pr.body, title: pr.title }, { state: 'open', headRef: 'nexus/drift/corp', baseRef: 'main', body: 'one', title: 'Drift on corp' });
    assert.match((await rejection(w.host.openPullRequest({ head: 'nexus/drift/corp', base: 'main', title: 'twice', body: 'two' }))).message, /already exists/);
    assert.is((await w.host.findPullRequest({ head: 'nexus/drift/corp', state: 'open' }))?.number, pr.number);
    assert.is(await w.host.findPullRequest({ head: 'nexus/drift', state: 'all' }), undefined, 'a prefix of the branch is not the branch');
    const edited = await w.host.updatePullRequest(pr.number, { title: 'Drift on corp (2)', body: 'two' });
    assert.equal({ title: edited.title, body: edited.body, state: edited.state }, { title: 'Drift on corp (2)', body: 'two', state: 'open' });
    assert.is((await w.host.updatePullRequest(pr.number, { state: 'closed' })).state, 'closed');
    assert.is(await w.host.findPullRequest({ head: 'nexus/drift/corp', state: 'open' }), undefined);
    assert.is((await w.host.findPullRequest({ head: 'nexus/drift/corp', state: 'all' }))?.state, 'closed');
    assert.ok(await w.host.branchHead('nexus/drift/corp'), 'closing leaves the branch');
  });

  s.run();
}

scenario('github', async (data, seed) => {
  const gh: GitHubStandIn = await startGitHubStandIn({ dataDir: data });
  await gh.seed('contoso/landing-zones', seed);
  return { host: new GitHubHost({ owner: 'contoso', repo: 'landing-zones' }, { baseUrl: gh.apiUrl, auth: { token: gh.token } }), stop: () => gh.stop() };
});

scenario('azure-devops', async (data, seed) => {
  const ado: AzureDevOpsStandIn = await startAzureDevOpsStandIn({ dataDir: data });
  await ado.seed('contoso/platform/landing-zones', seed);
  const repo = { provider: 'azure-devops' as const, org: 'contoso', project: 'platform', repo: 'landing-zones' };
  return {
    host: new AzureDevOpsHost({ repo, baseUrl: ado.url, pat: ado.pat }),
    stop: () => ado.stop(),
    async stalePush(branch, base) {
      const git = await new azdev.WebApi(`${ado.url}/contoso`, azdev.getPersonalAccessTokenHandler(ado.pat)).getGitApi();
      const err = await git.createPush({
        refUpdates: [{ name: `refs/heads/${branch}`, oldObjectId: base }],
        commits: [{ comment: 'late', parents: [base], changes: [{ changeType: 2, item: { path: '/README.md' }, newContent: { content: 'late\n', contentType: 0 } }] }],
      }, 'landing-zones', 'platform').then(() => undefined, (e: { statusCode?: number }) => e);
      return err?.statusCode;
    },
  };
});
