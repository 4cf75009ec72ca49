// GitHub webhook payloads → normalised GitOps events, against the real example deliveries of
// @octokit/webhooks-examples (what GitHub sends), plus malformed ones that must name their field.
import { createRequire } from 'node:module';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { githubEvent, githubRepoOf } from '../../../../functions/gitops/events/github.ts';
import { EventPayloadError } from '../../../../functions/gitops/events/errors.ts';
import type { PullRequestEvent, PushEvent, ReviewEvent } from '../../../../functions/gitops/types.ts';

type Example = Record<string, any>;
const require = createRequire(import.meta.url);
// The package holds one entry per event: {name, actions, examples: [payload, ...]}.
const catalog = require('@octokit/webhooks-examples/api.github.com/index.json') as { name: string; examples: Example[] }[];
const examples = (name: string) => catalog.find((e) => e.name === name)!.examples;
const clone = <T>(x: T): T => structuredClone(x);
const pushTo = (ref: string, deleted: boolean) => clone(examples('push').find((p) => p.ref === ref && p.deleted === deleted)!);
const prAction = (action: string) => clone(examples('pull_request').find((p) => p.action === action)!);

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.instance(e, EventPayloadError);
    return (e as EventPayloadError).field;
  }
  throw new Error('no EventPayloadError was thrown');
}

test('a push to a branch', () => {
  const p = pushTo('refs/heads/master', false);
  const e = githubEvent('push', p, 'd-1') as PushEvent;
  assert.equal(e, {
    kind: 'push',
    repo: 'github:Codertocat/Hello-World',
    branch: 'master',
    before: p.before,
    after: p.after,
    forced: false,
    deleted: false,
    pusher: 'Codertocat',
    pusherEmail: p.pusher.email,
    commits: p.commits.map((c: Example) => ({ sha: c.id, message: c.message })),
    deliveryId: 'd-1',
  });
  assert.ok(e.commits.length > 0);
});

test('a forced push is marked forced (the real payload with forced set, as GitHub sends it)', () => {
  // The examples hold no forced push; GitHub's only difference is the flag (and the compare URL).
  const p = pushTo('refs/heads/master', false);
  p.forced = true;
  const e = githubEvent('push', p, 'd-2') as PushEvent;
  assert.is(e.forced, true);
  assert.is(e.branch, 'master');
});

test('a deleted ref, and a tag push, have no branch or are marked deleted', () => {
  const del = githubEvent('push', pushTo('refs/tags/simple-tag', true), 'd-3') as PushEvent;
  assert.is(del.deleted, true);
  assert.is(del.branch, undefined, 'a tag is not a branch');
  assert.is(del.after, '0000000000000000000000000000000000000000');
  assert.equal(del.commits, []);
  const tag = githubEvent('push', pushTo('refs/tags/simple-tag', false), 'd-4') as PushEvent;
  assert.is(tag.branch, undefined);
  assert.is(tag.deleted, false);
  // A deleted branch: the tag deletion's payload on a branch ref.
  const p = pushTo('refs/tags/simple-tag', true);
  p.ref = 'refs/heads/feature/x';
  const branchDel = githubEvent('push', p, 'd-5') as PushEvent;
  assert.is(branchDel.branch, 'feature/x');
  assert.is(branchDel.deleted, true);
});

test('the pusher falls back to the sender login', () => {
  const p = pushTo('refs/heads/master', false);
  p.pusher = { name: '', email: null };
  p.sender.login = 'octo-bot';
  const e = githubEvent('push', p, 'd') as PushEvent;
  assert.is(e.pusher, 'octo-bot');
  assert.is(e.pusherEmail, undefined);
  delete p.sender;
  assert.is(fieldOf(() => githubEvent('push', p, 'd')), 'body.pusher.name');
});

test('pull_request opened, synchronize, ready_for_review, reopened', () => {
  for (const action of ['opened', 'synchronize', 'ready_for_review', 'reopened'] as const) {
    const p = prAction(action);
    const e = githubEvent('pull_request', p, 'd-pr') as PullRequestEvent;
    assert.equal(e, {
      kind: 'pull_request',
      repo: 'github:Codertocat/Hello-World',
      number: 2,
      action,
      merged: false,
      draft: false,
      headSha: p.pull_request.head.sha,
      headRef: 'changes',
      baseRef: 'master',
      deliveryId: 'd-pr',
    }, action);
  }
  const draft = githubEvent('pull_request', prAction('converted_to_draft'), 'd') as PullRequestEvent;
  assert.is(draft.action, 'other');
  assert.is(draft.draft, true);
  assert.is((githubEvent('pull_request', prAction('labeled'), 'd') as PullRequestEvent).action, 'other');
});

test('pull_request closed: unmerged, and merged with its merge commit', () => {
  const closed = githubEvent('pull_request', prAction('closed'), 'd') as PullRequestEvent;
  assert.is(closed.action, 'closed');
  assert.is(closed.merged, false);
  assert.is(closed.mergeCommitSha, undefined, 'the trial merge of an unmerged pull request is not a merge');
  const p = prAction('closed');
  p.pull_request.merged = true;
  const merged = githubEvent('pull_request', p, 'd') as PullRequestEvent;
  assert.is(merged.merged, true);
  assert.is(merged.mergeCommitSha, p.pull_request.merge_commit_sha);
});

test('pull_request_review submitted and dismissed', () => {
  const p = clone(examples('pull_request_review').find((x) => x.action === 'submitted')!);
  const e = githubEvent('pull_request_review', p, 'd-r') as ReviewEvent;
  assert.equal(e, { kind: 'review', repo: 'github:Codertocat/Hello-World', number: 2, state: 'commented', login: 'Codertocat', commit: p.review.commit_id, deliveryId: 'd-r' });
  p.review.state = 'APPROVED';
  assert.is((githubEvent('pull_request_review', p, 'd') as ReviewEvent).state, 'approved', 'state is lower-cased');
  const dismissed = githubEvent('pull_request_review', clone(examples('pull_request_review').find((x) => x.action === 'dismissed')!), 'd') as ReviewEvent;
  assert.is(dismissed.state, 'dismissed');
  p.review.state = 'pending';
  assert.is(githubEvent('pull_request_review', p, 'd'), undefined, 'a pending review approves nothing');
  p.review.state = 'approved';
  p.review.user = null;
  assert.is(githubEvent('pull_request_review', p, 'd'), undefined, 'a ghost review approves nothing');
});

test('other events are not GitOps events', () => {
  const checkRun = catalog.find((e) => e.name === 'check_run')!.examples[0];
  assert.is(githubEvent('check_run', checkRun, 'd'), undefined);
  assert.is(githubEvent('ping', {}, 'd'), undefined);
});

test('malformed payloads name the field at fault', () => {
  const noAfter = pushTo('refs/heads/master', false);
  delete noAfter.after;
  assert.is(fieldOf(() => githubEvent('push', noAfter, 'd')), 'body.after');
  try { githubEvent('push', noAfter, 'd'); } catch (e) { assert.match((e as Error).message, /^body\.after: is required/); }

  const badForced = pushTo('refs/heads/master', false);
  badForced.forced = 'yes';
  assert.is(fieldOf(() => githubEvent('push', badForced, 'd')), 'body.forced');

  const badSha = pushTo('refs/heads/master', false);
  badSha.commits[0].id = 'not-a-sha';
  assert.is(fieldOf(() => githubEvent('push', badSha, 'd')), 'body.commits.0.id');

  const noHead = prAction('synchronize');
  delete noHead.pull_request.head.sha;
  assert.is(fieldOf(() => githubEvent('pull_request', noHead, 'd')), 'body.pull_request.head.sha');

  const strNumber = prAction('opened');
  strNumber.number = '2';
  assert.is(fieldOf(() => githubEvent('pull_request', strNumber, 'd')), 'body.number');

  const noRepo = prAction('opened');
  delete noRepo.repository;
  assert.is(fieldOf(() => githubEvent('pull_request', noRepo, 'd')), 'body.repository');

  const noState = clone(examples('pull_request_review')[0]);
  delete noState.review.state;
  assert.is(fieldOf(() => githubEvent('pull_request_review', noState, 'd')), 'body.review.state');

  assert.is(fieldOf(() => githubEvent('push', null, 'd')), 'body');
  assert.is(fieldOf(() => githubEvent('push', 'text', 'd')), 'body');
});

test('githubRepoOf reads the repository cheaply and never throws', () => {
  assert.is(githubRepoOf(pushTo('refs/heads/master', false)), 'github:Codertocat/Hello-World');
  assert.is(githubRepoOf({ repository: { full_name: 7 } }), undefined);
  assert.is(githubRepoOf({ repository: null }), undefined);
  assert.is(githubRepoOf(null), undefined);
  assert.is(githubRepoOf('x'), undefined);
  assert.is(githubRepoOf({}), undefined);
});

test.run();
