// Pull request reviews as an approval source, with a real catalog and the review table in Azurite:
// an approval by a known User on the merged head is a vote with the User's teams when the merge's
// base is what the stack last applied; a review on an older head, an unknown login, one withdrawn
// later, or unreviewed commits riding along give none. And catalog Users by login / e-mail.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { freshCatalog, freshTables } from '../catalog/fresh.ts';
import { catalogUsers, identitiesOf } from '../../../functions/gitops/users.ts';
import { PullRequestReviews, REVIEW_SOURCE } from '../../../functions/gitops/reviews.ts';
import type { CatalogService } from '../../../functions/catalog/service.ts';
import type { ApprovalRecord } from '../../../functions/reconcile/gates/types.ts';
import type { PullRequestEvent, ReviewEvent } from '../../../functions/gitops/types.ts';
import { requirementsMet } from '../../../functions/reconcile/gates/approvals.ts';

const api = { name: 'api' };
const REPO = 'github:contoso/landing-zones';
let catalog: CatalogService;

test.before(async () => {
  catalog = await freshCatalog();
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'Team', metadata: { name: 'platform' }, spec: { members: ['carol'] } }, api);
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'Team', metadata: { name: 'security' }, spec: {} }, api);
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'User', metadata: { name: 'carol' }, spec: { profile: { displayName: 'Carol Smith', email: 'carol@contoso.com' }, githubLogin: 'CarolS', memberOf: ['platform'] } }, api);
  // Claims a team that does not list him: the claim grants nothing.
  await catalog.upsert({ apiVersion: 'nexus/v1', kind: 'User', metadata: { name: 'dave' }, spec: { profile: { email: 'dave@contoso.com' }, githubLogin: 'dave-gh', memberOf: ['security'] } }, api);
});

const sha = () => randomBytes(20).toString('hex');
const pr = (n: number, o: Partial<PullRequestEvent>): PullRequestEvent => ({
  kind: 'pull_request', repo: REPO, number: n, action: 'synchronize', merged: false, draft: false, headSha: sha(), headRef: 'feature', baseRef: 'main', deliveryId: sha(), ...o,
});
const review = (n: number, login: string, commit: string, state: ReviewEvent['state'] = 'approved'): ReviewEvent => ({ kind: 'review', repo: REPO, number: n, state, login, commit, deliveryId: sha() });
// The merge commits' first parents (the base each pull request merged into), as the host says.
const parents = new Map<string, string[]>();
/** A merge commit whose base is `base`. */
const merged = (base: string) => { const m = sha(); parents.set(m, [base, sha()]); return m; };
const request = (commit: string, appliedCommit?: string): ApprovalRecord => ({
  id: 'r1', stack: 'corp', runId: 'r1', status: 'pending', changeSetHash: 'c', desiredStateHash: 'd', liveFingerprint: 'l',
  requirements: [{ rule: 'roles', group: 'platform', approvers: 1 }], commit, appliedCommit, author: 'Mona <mona@contoso.com>', createdAt: '', expiresAt: '', votes: [],
});

async function source(): Promise<PullRequestReviews> {
  const t = await freshTables();
  return PullRequestReviews.open(t.storage, catalogUsers(catalog), async (s) => parents.get(s) ?? [], { table: `prrev${randomBytes(4).toString('hex')}` });
}

test('catalog users: by GitHub login and by e-mail, any case; groups are the teams that list them', () => {
  const users = catalogUsers(catalog);
  const carol = users.byLogin('carols');
  assert.equal(carol, { ref: 'user:default/carol', name: 'Carol Smith', email: 'carol@contoso.com', githubLogin: 'CarolS', groups: ['platform'] });
  assert.equal(users.byEmail('CAROL@contoso.com')?.ref, 'user:default/carol');
  assert.equal(users.byLogin('dave-gh')?.groups, [], 'memberOf alone grants nothing');
  assert.is(users.byLogin('nobody'), undefined);
  assert.is(users.byEmail(''), undefined);
  assert.equal(identitiesOf(carol!).sort(), ['carol', 'carol smith', 'carol@contoso.com', 'carols'].sort());
});

test('an approval by a known User on the merged head is a vote with their groups; it meets the requirement', async () => {
  const src = await source();
  const base = sha(), head = sha(), merge = merged(base);
  await src.onPullRequest(pr(7, { action: 'opened', headSha: head }));
  await src.onReview(review(7, 'CarolS', head));
  await src.onReview(review(7, 'dave-gh', head, 'commented'));
  await src.onPullRequest(pr(7, { action: 'closed', merged: true, headSha: head, mergeCommitSha: merge }));
  const votes = await src.votes(request(merge, base));
  assert.equal(votes.map((v) => [v.by, v.name, v.groups, v.source]), [['carol@contoso.com', 'Carol Smith', ['platform'], REVIEW_SOURCE]]);
  assert.ok(requirementsMet({ ...request(merge, base), votes }));
  // Something unreviewed rides along (the stack last applied an older commit than the merge's
  // base), nothing was applied yet, or the run is for the head itself: no votes.
  assert.equal(await src.votes(request(merge, sha())), []);
  assert.equal(await src.votes(request(merge)), []);
  assert.equal(await src.votes(request(head, base)), []);
  // A reviewer named by e-mail (Azure DevOps' unique name) is found too.
  const ado = sha(), adoBase = sha(), adoMerge = merged(adoBase);
  await src.onPullRequest(pr(12, { action: 'opened', headSha: ado }));
  await src.onReview(review(12, 'Carol@Contoso.com', ado));
  await src.onPullRequest(pr(12, { action: 'closed', merged: true, headSha: ado, mergeCommitSha: adoMerge }));
  assert.equal((await src.votes(request(adoMerge, adoBase))).map((v) => v.by), ['carol@contoso.com']);
  // A commit no merged pull request produced has no votes.
  assert.equal(await src.votes(request(sha(), base)), []);
  // A late delivery of an earlier synchronize does not move the merged head.
  await src.onPullRequest(pr(7, { headSha: sha() }));
  assert.is((await src.votes(request(merge, base))).length, 1);
});

test('an approval on an older head does not count: the code changed after it', async () => {
  const src = await source();
  const base = sha(), first = sha(), second = sha(), merge = merged(base);
  await src.onPullRequest(pr(8, { action: 'opened', headSha: first }));
  await src.onReview(review(8, 'CarolS', first));
  await src.onPullRequest(pr(8, { headSha: second }));
  await src.onPullRequest(pr(8, { action: 'closed', merged: true, headSha: second, mergeCommitSha: merge }));
  assert.equal(await src.votes(request(merge, base)), []);
});

test('an unknown login gives no vote; changes requested after an approval withdraw it; not merged: none', async () => {
  const src = await source();
  const base = sha(), head = sha(), merge = merged(base);
  await src.onPullRequest(pr(9, { action: 'opened', headSha: head }));
  await src.onReview(review(9, 'stranger', head));
  await src.onReview(review(9, 'CarolS', head));
  await src.onReview(review(9, 'carols', head, 'changes_requested'));
  await src.onPullRequest(pr(9, { action: 'closed', merged: true, headSha: head, mergeCommitSha: merge }));
  assert.equal(await src.votes(request(merge, base)), []);
  // Closed without merging: its head maps to no approval.
  const other = sha();
  await src.onPullRequest(pr(10, { action: 'opened', headSha: other }));
  await src.onReview(review(10, 'CarolS', other));
  await src.onPullRequest(pr(10, { action: 'closed', merged: false, headSha: other }));
  assert.equal(await src.votes(request(other, base)), []);
});

test('the commit author cannot approve through a review: the request excludes them', async () => {
  const src = await source();
  const base = sha(), head = sha(), merge = merged(base);
  await src.onPullRequest(pr(11, { action: 'opened', headSha: head }));
  await src.onReview(review(11, 'CarolS', head));
  await src.onPullRequest(pr(11, { action: 'closed', merged: true, headSha: head, mergeCommitSha: merge }));
  const votes = await src.votes(request(merge, base));
  assert.is(votes.length, 1);
  assert.is(requirementsMet({ ...request(merge, base), author: 'Carol Smith <carol@contoso.com>', votes }), false);
});

test.run();
