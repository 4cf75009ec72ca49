// GitHubHost against the GitHub stand-in (scripts/sandbox/github/): a repository seeded, cloned and
// pushed to with real `git` (one commit SSH-signed), then read back through the adapter, and a pull
// request's comment, check run and reviews written and read through the stand-in's REST routes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { githubEvent } from '../../../../functions/gitops/events/github.ts';
import type { PullRequestEvent, PushEvent } from '../../../../functions/gitops/types.ts';
import { GitHubHost } from '../../../../functions/platform/git-host/github.ts';
import { GitHostUnavailableError, GitRefNotFoundError } from '../../../../functions/platform/git-host/types.ts';
import { ALICE, runGit, startFixture, type Fixture } from '../../../scripts/sandbox/github-fixture.ts';

const MARKER = '<!-- nexus:preview -->';
const LIMITS = { maxBytes: 10_000_000, maxFiles: 1000 };
let fx: Fixture;
let host: GitHubHost;
let seed: string;
let clone: string;
const scratch = mkdtempSync(join(tmpdir(), 'gh-adapter-standin-'));

test.before(async () => {
  fx = await startFixture();
  host = new GitHubHost({ owner: 'contoso', repo: 'landing-zones' }, { baseUrl: fx.gh.apiUrl, auth: { token: fx.gh.token } });
  seed = (await host.branchHead('main'))!;
  clone = await fx.clone('alice');
});
test.after(async () => {
  await fx.stop();
  rmSync(scratch, { recursive: true, force: true });
});

test('branchHead, commit and download of the seeded commit', async () => {
  assert.match(seed, /^[0-9a-f]{40}$/);
  assert.is(await host.branchHead('no-such-branch'), undefined);
  const c = await host.commit(seed);
  assert.equal(c.parents, []);
  assert.is(c.signed, undefined);
  const dir = mkdtempSync(join(scratch, 'dl-'));
  const r = await host.download(seed, '', dir, LIMITS);
  assert.is(r.files, 2);
  assert.equal(readdirSync(dir).sort(), ['README.md', 'corp']);
  assert.equal(JSON.parse(readFileSync(join(dir, 'corp/archetype.json'), 'utf8')).name, 'corp');
  const sub = mkdtempSync(join(scratch, 'dl-'));
  assert.equal(await host.download(seed, 'corp', sub, LIMITS), { files: 1, bytes: r.bytes - '# Landing zones\n'.length });
  assert.equal(readdirSync(sub), ['archetype.json']);
});

test('pushed commits: compare oldest first, with the SSH signature of the signed one', async () => {
  const keyDir = mkdtempSync(join(scratch, 'key-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', ALICE.email, '-f', join(keyDir, 'id')]);
  writeFileSync(join(clone, 'corp', 'archetype.json'), JSON.stringify({ name: 'corp', policies: ['a'] }) + '\n');
  await runGit(clone, ['commit', '-qam', 'unsigned change']);
  writeFileSync(join(clone, 'README.md'), '# Landing zones\n\nsigned\n');
  await runGit(clone, ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${join(keyDir, 'id')}`, 'commit', '-S', '-qam', 'signed change']);
  await runGit(clone, ['push', '-q', 'origin', 'main']);
  const head = (await runGit(clone, ['rev-parse', 'HEAD'])).trim();
  assert.is(await host.branchHead('main'), head);

  const cmp = await host.compare(seed, head);
  assert.is(cmp.status, 'ahead');
  assert.is(cmp.truncated, false);
  assert.equal(cmp.commits.map((c) => c.message.trim()), ['unsigned change', 'signed change']);
  assert.is(cmp.commits[0].signed, undefined);
  const signed = cmp.commits[1].signed!;
  assert.match(signed.signature, /^-----BEGIN SSH SIGNATURE-----/);
  // The payload is the commit object without its gpgsig header: exactly what `git cat-file` shows minus it.
  const raw = await runGit(clone, ['cat-file', 'commit', head]);
  assert.ok(raw.replace(/^gpgsig [\s\S]*?-----END SSH SIGNATURE-----\n/m, '') === signed.payload, 'payload is the signed commit text');
  assert.equal((await host.commit(head)).signed, signed);
  // The stand-in's signed push delivery normalises to the event the dispatcher acts on.
  const delivery = await fx.receiver.next((r) => r.event === 'push' && r.payload?.after === head, 'the push webhook');
  assert.ok(delivery.verified);
  const ev = githubEvent('push', delivery.payload, delivery.id) as PushEvent;
  assert.equal({ repo: ev.repo, branch: ev.branch, before: ev.before, after: ev.after, forced: ev.forced, deleted: ev.deleted, pusher: ev.pusher, n: ev.commits.length },
    { repo: 'github:contoso/landing-zones', branch: 'main', before: seed, after: head, forced: false, deleted: false, pusher: 'alice', n: 2 });
  assert.is((await host.compare(head, seed)).status, 'behind');
  assert.instance(await host.compare(seed, 'f'.repeat(40)).catch((e) => e), GitRefNotFoundError);
});

test('a pull request: one comment edited in place, one check run updated, reviews', async () => {
  await runGit(clone, ['checkout', '-qb', 'feature/one']);
  writeFileSync(join(clone, 'corp', 'archetype.json'), JSON.stringify({ name: 'corp', policies: ['b'] }) + '\n');
  await runGit(clone, ['commit', '-qam', 'feature']);
  await runGit(clone, ['push', '-q', 'origin', 'feature/one']);
  const opened = await fx.octokit('alice').request('POST /repos/{owner}/{repo}/pulls', { owner: 'contoso', repo: 'landing-zones', title: 'One', head: 'feature/one', base: 'main' });
  const n = opened.data.number;
  const openedHook = await fx.receiver.next((r) => r.event === 'pull_request' && r.payload?.action === 'opened', 'the opened webhook');
  const pe = githubEvent('pull_request', openedHook.payload, openedHook.id) as PullRequestEvent;
  assert.equal([pe.action, pe.number, pe.headRef, pe.baseRef, pe.merged], ['opened', n, 'feature/one', 'main', false]);
  const pr = await host.pullRequest(n);
  assert.equal({ state: pr.state, headRef: pr.headRef, baseRef: pr.baseRef, draft: pr.draft }, { state: 'open', headRef: 'feature/one', baseRef: 'main', draft: false });

  const a = await host.upsertComment(n, MARKER, `${MARKER}\nfirst`);
  const b = await host.upsertComment(n, MARKER, `${MARKER}\nsecond`);
  assert.is(a.created, true);
  assert.equal(b, { id: a.id, created: false });
  const comments = await fx.octokit().request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner: 'contoso', repo: 'landing-zones', issue_number: n });
  assert.equal(comments.data.map((c) => c.body), [`${MARKER}\nsecond`]);

  await host.report(n, { name: 'nexus/preview', commit: pr.headSha, title: 'Previewing', summary: '…' });
  await host.report(n, { name: 'nexus/preview', commit: pr.headSha, conclusion: 'failure', title: 'Blocked', summary: 'UNSIGNED_COMMIT' });
  const runs = await fx.octokit().request('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', { owner: 'contoso', repo: 'landing-zones', ref: pr.headSha });
  assert.is(runs.data.check_runs.length, 1);
  assert.equal([runs.data.check_runs[0].status, runs.data.check_runs[0].conclusion, runs.data.check_runs[0].output.title], ['completed', 'failure', 'Blocked']);

  await fx.octokit('bob').request('POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews', { owner: 'contoso', repo: 'landing-zones', pull_number: n, event: 'APPROVE', commit_id: pr.headSha });
  assert.equal((await host.reviews(n)).map((r) => [r.login, r.state, r.commit]), [['bob', 'approved', pr.headSha]]);
});

test('rate limited by the stand-in: GitHostUnavailableError with Retry-After', async () => {
  fx.gh.failNext({ count: 1, status: 429, retryAfter: 9 });
  const e = await host.commit(seed).catch((x) => x);
  assert.instance(e, GitHostUnavailableError);
  assert.is(e.retryAfterSeconds, 9);
  fx.gh.failNext({ count: 1 });
  assert.instance(await host.branchHead('main').catch((x) => x), GitHostUnavailableError);
  assert.is(await host.branchHead('main'), (await runGit(clone, ['rev-parse', 'main'])).trim());
});

test.run();
