// Azure DevOps service hooks (shaped as Microsoft's service-hook documentation shows them) → GitOps events.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { azureDevOpsEvent, azureDevOpsPushEvents, organisationOf } from '../../../../functions/gitops/events/azure-devops.ts';
import { EventPayloadError } from '../../../../functions/gitops/events/errors.ts';

const fixture = (name: string): any => JSON.parse(readFileSync(join(process.cwd(), 'tests/fixtures/azure-devops', `${name}.json`), 'utf8'));
const REPO = 'azure-devops:contoso/platform/landing-zones';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    assert.instance(err, EventPayloadError);
    return (err as EventPayloadError).field;
  }
  assert.unreachable('expected an EventPayloadError');
}

test('git.push → a push to main with the pusher, before/after and the listed commits', () => {
  const p = fixture('git-push');
  assert.equal(azureDevOpsEvent('git.push', p, 'd-1'), {
    kind: 'push', repo: REPO, branch: 'main',
    before: '7c1e3b2a9d8f4e6c5b4a39281706f5e4d3c2b1a0', after: 'e5f4d3c2b1a09f8e7d6c5b4a3928170654321fed',
    forced: false, deleted: false, pusher: 'priya@contoso.example', pusherEmail: 'priya@contoso.example',
    commits: [{ sha: 'e5f4d3c2b1a09f8e7d6c5b4a3928170654321fed', message: 'Corp archetype: require the cost-center tag' }],
    deliveryId: 'd-1',
  });
});

test('git.push deleting the branch is deleted (never applied); ADO has no force flag: forced stays false', () => {
  const e = azureDevOpsEvent('git.push', fixture('git-push-delete'), 'd-2') as any;
  assert.is(e.deleted, true);
  assert.is(e.forced, false);
  assert.is(e.after, '0'.repeat(40));
});

test('a push moving several refs: the tracked branch when named, else the first branch; all of them on request', () => {
  const p = fixture('git-push-several-refs');
  assert.is((azureDevOpsEvent('git.push', p, 'd-3') as any).branch, 'feature/tags');
  const main = azureDevOpsEvent('git.push', p, 'd-3', { branch: 'main' }) as any;
  assert.is(main.branch, 'main');
  assert.is(main.deliveryId, 'd-3:refs/heads/main');
  const all = azureDevOpsPushEvents(p, 'd-3');
  assert.equal(all.map((e) => e.branch), ['feature/tags', 'main', undefined], 'a tag push has no branch');
  assert.is(new Set(all.map((e) => e.deliveryId)).size, 3);
});

test('the organisation comes from resourceContainers, else the repository URL (dev.azure.com, visualstudio.com, the stand-in)', () => {
  const p = fixture('git-push');
  delete p.resourceContainers;
  assert.is((azureDevOpsEvent('git.push', p, 'x') as any).repo, REPO);
  assert.is(organisationOf('https://contoso.visualstudio.com/DefaultCollection/platform/_git/lz'), 'contoso');
  assert.is(organisationOf('http://127.0.0.1:4567/contoso/'), 'contoso');
  p.resource.repository.remoteUrl = 'not a url';
  delete p.resource.repository.url;
  assert.is(fieldOf(() => azureDevOpsEvent('git.push', p, 'x')), 'body.resource.repository.remoteUrl');
});

test('git.pullrequest.created → opened, with head, base and draft', () => {
  assert.equal(azureDevOpsEvent('git.pullrequest.created', fixture('git-pullrequest-created'), 'd-4'), {
    kind: 'pull_request', repo: REPO, number: 41, action: 'opened', merged: false, draft: false,
    headSha: '1f2e3d4c5b6a79881726354453627180a9b8c7d6', headRef: 'feature/cost-center', baseRef: 'main', deliveryId: 'd-4',
  });
});

test('git.pullrequest.updated: new source commits → synchronize; completed → closed and merged; abandoned → closed', () => {
  assert.is((azureDevOpsEvent('git.pullrequest.updated', fixture('git-pullrequest-updated-source'), 'a') as any).action, 'synchronize');
  const done = azureDevOpsEvent('git.pullrequest.updated', fixture('git-pullrequest-updated-completed'), 'b') as any;
  assert.is(done.action, 'closed');
  assert.is(done.merged, true);
  assert.is(done.mergeCommitSha, 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678');
  const gone = azureDevOpsEvent('git.pullrequest.updated', fixture('git-pullrequest-updated-abandoned'), 'c') as any;
  assert.is(gone.action, 'closed');
  assert.is(gone.merged, false);
  assert.is(gone.mergeCommitSha, undefined);
});

test('only the words before "pull request N" say what happened: a title saying "approved" is no vote', () => {
  const p = fixture('git-pullrequest-updated-source');
  p.message.text = 'Priya Raman updated the source branch of pull request 41 (Use approved SKUs only)';
  p.resource.reviewers[0].vote = 10;
  assert.is((azureDevOpsEvent('git.pullrequest.updated', p, 'h') as any).action, 'synchronize');
  p.message.text = 'Priya Raman updated pull request 41 (Allow new commits to skip the preview)';
  assert.is((azureDevOpsEvent('git.pullrequest.updated', p, 'h') as any).action, 'edited');
});

test('git.pullrequest.merged on an active pull request is a trial merge: other, not merged', () => {
  const e = azureDevOpsEvent('git.pullrequest.merged', fixture('git-pullrequest-merged'), 'd') as any;
  assert.is(e.action, 'other');
  assert.is(e.merged, false);
});

test('a vote of 10 → an approved review by the voter (not the group that votes through them)', () => {
  assert.equal(azureDevOpsEvent('git.pullrequest.updated', fixture('git-pullrequest-updated-approved'), 'e'), {
    kind: 'review', repo: REPO, number: 41, state: 'approved', login: 'tomas@contoso.example', email: 'tomas@contoso.example',
    commit: '1f2e3d4c5b6a79881726354453627180a9b8c7d6', deliveryId: 'e',
  });
  const p = fixture('git-pullrequest-updated-approved');
  p.resource.reviewers[0].vote = -10;
  p.message.text = 'Tomás Ortega rejected pull request 41 (Corp: require the cost-center tag)';
  assert.is((azureDevOpsEvent('git.pullrequest.updated', p, 'f') as any).state, 'changes_requested');
});

test('a vote is credited to the reviewer whose whole name starts the message, the longest such name; none, no review', () => {
  const p = fixture('git-pullrequest-updated-approved');
  const person = (displayName: string, uniqueName: string, vote = 10) => ({ displayName, uniqueName, vote, id: uniqueName });
  p.message.text = 'Alice Chen approved pull request 41 (Corp: require the cost-center tag)';
  p.resource.reviewers = [person('Al', 'al@contoso.example', 0), person('Alice Chen', 'alice@contoso.example'), person('Alice', 'alice2@contoso.example', 0)];
  assert.is((azureDevOpsEvent('git.pullrequest.updated', p, 'g') as any).login, 'alice@contoso.example');

  // "Alice approved": reviewer "Al" is not named (a prefix of a word is no name).
  p.message.text = 'Alice approved pull request 41 (Corp: require the cost-center tag)';
  p.resource.reviewers = [person('Al', 'al@contoso.example'), person('Bo', 'bo@contoso.example')];
  assert.is((azureDevOpsEvent('git.pullrequest.updated', p, 'h') as any).kind, 'pull_request', 'no review from a guess');
  // One reviewer, not the one the message names: no review either.
  p.resource.reviewers = [person('Al', 'al@contoso.example')];
  assert.is((azureDevOpsEvent('git.pullrequest.updated', p, 'i') as any).kind, 'pull_request');
  // ... and credited when the message names them.
  p.message.text = 'Al approved pull request 41 (Corp: require the cost-center tag)';
  assert.equal((azureDevOpsEvent('git.pullrequest.updated', p, 'j') as any).login, 'al@contoso.example');
});

test('other event types are not GitOps events', () => {
  assert.is(azureDevOpsEvent('build.complete', { resource: {} }, 'g'), undefined);
  assert.is(azureDevOpsEvent('git.pullrequest.commented', {}, 'g'), undefined);
});

test('malformed payloads name the field at fault', () => {
  const push = fixture('git-push');
  push.resource.refUpdates[0].newObjectId = 'main';
  assert.is(fieldOf(() => azureDevOpsEvent('git.push', push, 'x')), 'body.resource.refUpdates.0.newObjectId');
  const noRefs = fixture('git-push');
  delete noRefs.resource.refUpdates;
  assert.is(fieldOf(() => azureDevOpsEvent('git.push', noRefs, 'x')), 'body.resource.refUpdates');
  const noPusher = fixture('git-push');
  noPusher.resource.pushedBy = {};
  assert.is(fieldOf(() => azureDevOpsEvent('git.push', noPusher, 'x')), 'body.resource.pushedBy.uniqueName');
  const noProject = fixture('git-push');
  delete noProject.resource.repository.project;
  assert.is(fieldOf(() => azureDevOpsEvent('git.push', noProject, 'x')), 'body.resource.repository.project');
  const pr = fixture('git-pullrequest-created');
  delete pr.resource.lastMergeSourceCommit;
  assert.is(fieldOf(() => azureDevOpsEvent('git.pullrequest.created', pr, 'x')), 'body.resource.lastMergeSourceCommit');
  const prId = fixture('git-pullrequest-created');
  prId.resource.pullRequestId = 'forty-one';
  assert.is(fieldOf(() => azureDevOpsEvent('git.pullrequest.created', prId, 'x')), 'body.resource.pullRequestId');
  const tagPr = fixture('git-pullrequest-created');
  tagPr.resource.sourceRefName = 'refs/tags/v1';
  assert.is(fieldOf(() => azureDevOpsEvent('git.pullrequest.created', tagPr, 'x')), 'body.resource.sourceRefName');
  assert.is(fieldOf(() => azureDevOpsEvent('git.push', null, 'x')), 'body');
});

test.run();
