// The GitHub stand-in's pull requests through @octokit/rest: opened / synchronize / closed /
// reopened / review webhooks, one comment edited in place, check runs, the merge (a real merge
// commit and its push), and the state kept on disk across a restart.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFixture, runGit, type Fixture } from './github-fixture.ts';
import { startGitHubStandIn } from '../../../scripts/sandbox/github/server.ts';

let fx: Fixture;
const repo = { owner: 'contoso', repo: 'landing-zones' };
const BOB = { name: 'Bob Brown', email: 'bob@contoso.com' };

test.before(async () => {
  fx = await startFixture();
});
test.after(async () => {
  await fx.stop();
});

async function branchWithChange(branch: string, file: string): Promise<{ dir: string; sha: string }> {
  const dir = await fx.clone('bob');
  await runGit(dir, ['checkout', '-qb', branch]);
  writeFileSync(join(dir, file), `${file}\n`);
  await runGit(dir, ['add', '-A']);
  await runGit(dir, ['commit', '-qm', `add ${file}`], BOB);
  await runGit(dir, ['push', '--quiet', 'origin', branch]);
  return { dir, sha: (await runGit(dir, ['rev-parse', 'HEAD'])).trim() };
}

test('open, synchronize, comment edited in place, check runs, approve, merge', async () => {
  const { dir, sha } = await branchWithChange('feature/online', 'online.json');
  const bob = fx.octokit('bob');
  const opened = await bob.pulls.create({ ...repo, title: 'Online landing zone', head: 'feature/online', base: 'main', body: 'adds online' });
  assert.is(opened.status, 201);
  const n = opened.data.number;
  assert.is(opened.data.head.sha, sha);
  assert.is(opened.data.user?.login, 'bob');
  const ev = await fx.receiver.next((r) => r.event === 'pull_request' && r.payload.action === 'opened', 'pull_request opened');
  assert.ok(ev.verified);
  assert.is(ev.payload.number, n);
  assert.is(ev.payload.pull_request.head.ref, 'feature/online');
  assert.is(ev.payload.pull_request.base.ref, 'main');
  assert.is(ev.payload.repository.full_name, 'contoso/landing-zones');

  const dup = await bob.pulls.create({ ...repo, title: 'again', head: 'feature/online', base: 'main' }).then(() => 0, (e) => e.status);
  assert.is(dup, 422, 'one open pull request per head and base');

  writeFileSync(join(dir, 'online.json'), '{"v":2}\n');
  await runGit(dir, ['commit', '-qam', 'online v2'], BOB);
  await runGit(dir, ['push', '--quiet', 'origin', 'feature/online']);
  const sha2 = (await runGit(dir, ['rev-parse', 'HEAD'])).trim();
  const sync = await fx.receiver.next((r) => r.event === 'pull_request' && r.payload.action === 'synchronize', 'pull_request synchronize');
  assert.equal([sync.payload.before, sync.payload.after, sync.payload.pull_request.head.sha], [sha, sha2, sha2]);
  const push = fx.receiver.received.find((r) => r.event === 'push' && r.payload.after === sha2);
  assert.ok(push, 'the branch push is delivered too');

  // Nexus's comment: created once, edited in place; the id stays, updated_at moves.
  const o = fx.octokit();
  const c = await o.issues.createComment({ ...repo, issue_number: n, body: '<!-- nexus:preview -->\nfirst' });
  assert.is(c.status, 201);
  assert.is(c.data.user?.login, 'nexus-bot');
  const edited = await o.issues.updateComment({ ...repo, comment_id: c.data.id, body: '<!-- nexus:preview -->\nsecond' });
  assert.is(edited.data.id, c.data.id);
  assert.ok(edited.data.updated_at > c.data.updated_at, 'updated_at moves on an edit');
  assert.is(edited.data.created_at, c.data.created_at);
  const read = await o.issues.getComment({ ...repo, comment_id: c.data.id });
  assert.is(read.data.body, '<!-- nexus:preview -->\nsecond');
  for (let i = 0; i < 3; i++) await bob.issues.createComment({ ...repo, issue_number: n, body: `note ${i}` });
  const all = await o.paginate(o.issues.listComments, { ...repo, issue_number: n, per_page: 2 });
  assert.is(all.length, 4, 'pagination follows the Link header');
  assert.is(all.filter((x) => x.body?.startsWith('<!-- nexus:preview -->')).length, 1);
  const tooLong = await o.issues.createComment({ ...repo, issue_number: n, body: 'x'.repeat(65537) }).then(() => 0, (e) => e.status);
  assert.is(tooLong, 422, "GitHub's 65,536-character limit");

  const run = await o.checks.create({ ...repo, name: 'nexus/preview', head_sha: sha2, status: 'in_progress' });
  assert.is(run.data.status, 'in_progress');
  const done = await o.checks.update({ ...repo, check_run_id: run.data.id, conclusion: 'neutral', output: { title: 'needs approval', summary: 'one stack', text: 'details' } });
  assert.equal([done.data.status, done.data.conclusion], ['completed', 'neutral']);
  const runs = await o.checks.listForRef({ ...repo, ref: 'feature/online', check_name: 'nexus/preview' });
  assert.is(runs.data.total_count, 1);
  assert.is(runs.data.check_runs[0].output.summary, 'one stack');
  const longSummary = await o.checks.update({ ...repo, check_run_id: run.data.id, output: { title: 't', summary: 'x'.repeat(65536) } }).then(() => 0, (e) => e.status);
  assert.is(longSummary, 422, "a check run's summary holds at most 65,535 characters");
  assert.is((await o.checks.get({ ...repo, check_run_id: run.data.id })).data.output.summary, 'one stack', 'a refused update changes nothing');

  // Commit statuses: what a token without check-run rights writes instead.
  const st = await o.repos.createCommitStatus({ ...repo, sha: sha2, state: 'pending', context: 'nexus/preview', description: 'needs approval' });
  assert.is(st.status, 201);
  await o.repos.createCommitStatus({ ...repo, sha: sha2, state: 'success', context: 'nexus/preview' });
  const combined = (await o.repos.getCombinedStatusForRef({ ...repo, ref: 'feature/online' })).data;
  assert.equal([combined.state, combined.total_count, combined.statuses[0].state], ['success', 1, 'success']);
  assert.is((await o.repos.listCommitStatusesForRef({ ...repo, ref: sha2 })).data.length, 2);

  const self = await bob.pulls.createReview({ ...repo, pull_number: n, event: 'APPROVE' }).then(() => 0, (e) => e.status);
  assert.is(self, 422, 'an author cannot approve their own pull request');
  const alice = fx.octokit('alice');
  const rv = await alice.pulls.createReview({ ...repo, pull_number: n, event: 'APPROVE', body: 'ok' });
  assert.is(rv.data.state, 'APPROVED');
  const rev = await fx.receiver.next((r) => r.event === 'pull_request_review', 'pull_request_review submitted');
  assert.equal([rev.payload.action, rev.payload.review.state, rev.payload.review.user.login, rev.payload.review.commit_id], ['submitted', 'approved', 'alice', sha2]);
  assert.is((await o.pulls.listReviews({ ...repo, pull_number: n })).data.length, 1);

  const mainBefore = (await o.repos.getBranch({ ...repo, branch: 'main' })).data.commit.sha;
  const stale = await alice.pulls.merge({ ...repo, pull_number: n, sha }).then(() => 0, (e) => e.status);
  assert.is(stale, 409, 'a merge of a head that moved is refused');
  const merged = await alice.pulls.merge({ ...repo, pull_number: n, sha: sha2 });
  assert.is(merged.data.merged, true);
  const mc = (await o.git.getCommit({ ...repo, commit_sha: merged.data.sha })).data;
  assert.equal(mc.parents.map((p) => p.sha), [mainBefore, sha2]);
  assert.is(mc.author.email, 'alice@contoso.com');
  const mainPush = await fx.receiver.next((r) => r.event === 'push' && r.payload.after === merged.data.sha, 'the push of the merge');
  assert.equal([mainPush.payload.ref, mainPush.payload.before, mainPush.payload.forced, mainPush.payload.pusher.name], ['refs/heads/main', mainBefore, false, 'alice']);
  const closed = await fx.receiver.next((r) => r.event === 'pull_request' && r.payload.action === 'closed', 'pull_request closed');
  assert.equal([closed.payload.pull_request.merged, closed.payload.pull_request.merge_commit_sha], [true, merged.data.sha]);
  const after = (await o.pulls.get({ ...repo, pull_number: n })).data;
  assert.equal([after.state, after.merged, after.merged_by?.login], ['closed', true, 'alice']);
  assert.is((await o.pulls.list({ ...repo, state: 'open' })).data.length, 0);
  assert.is((await o.pulls.list({ ...repo, state: 'closed' })).data.length, 1);
});

test('close and reopen deliver closed (merged=false) and reopened', async () => {
  await branchWithChange('feature/close-me', 'close.txt');
  const o = fx.octokit('bob');
  const pr = (await o.pulls.create({ ...repo, title: 'to close', head: 'contoso:feature/close-me', base: 'main' })).data;
  await fx.receiver.next((r) => r.event === 'pull_request' && r.payload.action === 'opened' && r.payload.number === pr.number, 'opened');
  await o.pulls.update({ ...repo, pull_number: pr.number, state: 'closed' });
  const closed = await fx.receiver.next((r) => r.event === 'pull_request' && r.payload.action === 'closed' && r.payload.number === pr.number, 'closed');
  assert.is(closed.payload.pull_request.merged, false);
  await o.pulls.update({ ...repo, pull_number: pr.number, state: 'open' });
  await fx.receiver.next((r) => r.event === 'pull_request' && r.payload.action === 'reopened' && r.payload.number === pr.number, 'reopened');
});

test('a restart on the same data dir keeps token, pull requests, comments and check runs', async () => {
  const o = fx.octokit();
  const prs = (await o.pulls.list({ ...repo, state: 'all' })).data;
  const firstComments = (await o.issues.listComments({ ...repo, issue_number: prs[prs.length - 1].number })).data;
  await fx.gh.stop();
  const again = await startGitHubStandIn({ dataDir: fx.dataDir });
  try {
    assert.is(again.token, fx.gh.token);
    const { Octokit } = await import('@octokit/rest');
    const o2 = new Octokit({ baseUrl: again.apiUrl, auth: again.token });
    assert.equal((await o2.pulls.list({ ...repo, state: 'all' })).data.map((p) => p.number), prs.map((p) => p.number));
    const comments = (await o2.issues.listComments({ ...repo, issue_number: prs[prs.length - 1].number })).data;
    assert.equal(comments.map((c) => [c.id, c.body]), firstComments.map((c) => [c.id, c.body]));
    const ls = await runGit(fx.dataDir, ['ls-remote', again.gitUrl('contoso', 'landing-zones', 'carol')]);
    assert.match(ls, /refs\/heads\/main/);
  } finally {
    await again.stop();
    fx.gh = await startGitHubStandIn({ dataDir: fx.dataDir });
  }
});

test.run();
