// The Azure DevOps stand-in: real `git clone` / `git push` over its smart HTTP, and the service
// hooks it sends (basic auth with the shared secret, Microsoft's notification shape) to a receiver.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as azdev from 'azure-devops-node-api';
import { startAzureDevOpsStandIn, type AzureDevOpsStandIn } from '../../../scripts/sandbox/azure-devops/server.ts';
import { azureDevOpsEvent } from '../../../functions/gitops/events/azure-devops.ts';

const run = promisify(execFile);
const SECRET = 'hook-secret-1';

interface Received { auth: string; body: any }

let standIn: AzureDevOpsStandIn;
let receiver: Server;
let dataDir: string;
let work: string;
let seeded: string;
const received: Received[] = [];

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', ['-c', 'user.name=Ada Lovelace', '-c', 'user.email=ada@contoso.example', '-c', 'init.defaultBranch=main', ...args], {
    cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' },
  });
  return stdout.trim();
}

test.before(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ auth: String(req.headers.authorization ?? ''), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const port = (receiver.address() as { port: number }).port;
  dataDir = await mkdtemp(join(tmpdir(), 'ado-standin-'));
  work = await mkdtemp(join(tmpdir(), 'ado-work-'));
  standIn = await startAzureDevOpsStandIn({ dataDir, webhook: { url: `http://127.0.0.1:${port}/webhooks/azure-devops`, secret: SECRET } });
  seeded = await standIn.seed('contoso/platform/landing-zones', join(process.cwd(), 'archetypes'));
});

test.after(async () => {
  await standIn.stop();
  await new Promise<void>((r) => receiver.close(() => r()));
  await rm(dataDir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

test('clone gets the seeded commit with the archetypes at the root; the env names the repository', async () => {
  const dir = join(work, 'clone1');
  await git(work, 'clone', '--quiet', standIn.gitUrl('contoso', 'platform', 'landing-zones'), dir);
  assert.is(await git(dir, 'rev-parse', 'HEAD'), seeded);
  assert.ok((await git(dir, 'ls-files')).split('\n').includes('guardrails.yaml'));
  assert.is(standIn.env.NEXUS_LANDING_ZONE_REPO, 'azure-devops:contoso/platform/landing-zones');
  assert.is(standIn.env.NEXUS_ADO_URL, standIn.url);
});

test('a push delivers one git.push service hook with basic auth, the ref update and the commits', async () => {
  const dir = join(work, 'clone2');
  await git(work, 'clone', '--quiet', standIn.gitUrl('contoso', 'platform', 'landing-zones'), dir);
  await writeFile(join(dir, 'README.md'), 'changed by the test\n');
  await git(dir, 'commit', '--quiet', '-am', 'Edit the README');
  const after = await git(dir, 'rev-parse', 'HEAD');
  const before = await git(dir, 'rev-parse', 'HEAD~1');
  const n = received.length;
  await git(dir, 'push', '--quiet', 'origin', 'main');
  await standIn.settled();
  const mine = received.slice(n);
  assert.is(mine.length, 1, 'one delivery per push');
  const { auth, body } = mine[0];
  assert.is(Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString().split(':')[1], SECRET, 'the password is the shared secret');
  assert.is(body.eventType, 'git.push');
  assert.is(body.publisherId, 'tfs');
  assert.match(body.id, /^[0-9a-f-]{36}$/);
  assert.equal(body.resource.refUpdates, [{ name: 'refs/heads/main', oldObjectId: before, newObjectId: after }]);
  assert.equal(body.resource.commits.map((c: any) => c.commitId), [after]);
  assert.is(body.resource.commits[0].author.email, 'ada@contoso.example');
  assert.is(body.resource.repository.name, 'landing-zones');
  assert.is(body.resource.repository.project.name, 'platform');
  assert.is(body.resource.repository.remoteUrl, `${standIn.url}/contoso/platform/_git/landing-zones`);
  assert.ok(body.resource.pushedBy.uniqueName);
  assert.is(standIn.deliveries.at(-1)?.status, 202, 'the receiver\'s answer is recorded');
  const event = azureDevOpsEvent(body.eventType, body, body.id) as any;
  assert.is(event.repo, 'azure-devops:contoso/platform/landing-zones', 'Nexus reads the organisation from resourceContainers');
  assert.equal([event.branch, event.before, event.after, event.deleted], ['main', before, after, false]);
});

test('git without the PAT is refused; REST without it is 401', async () => {
  const url = `${standIn.url}/contoso/platform/_git/landing-zones`;
  const err = await git(work, 'clone', '--quiet', url, join(work, 'nope')).then(() => undefined, (e) => e);
  assert.ok(err, 'clone without credentials fails');
  const res = await fetch(`${standIn.url}/contoso/platform/_apis/git/repositories/landing-zones/refs`);
  assert.is(res.status, 401);
});

test('pull requests: created, a push to the source branch, a vote and completion each deliver a service hook', async () => {
  const dir = join(work, 'clone3');
  await git(work, 'clone', '--quiet', standIn.gitUrl('contoso', 'platform', 'landing-zones'), dir);
  await git(dir, 'checkout', '--quiet', '-b', 'feature/tags');
  await writeFile(join(dir, 'notes.md'), 'one\n');
  await git(dir, 'add', 'notes.md');
  await git(dir, 'commit', '--quiet', '-m', 'Add notes');
  await git(dir, 'push', '--quiet', 'origin', 'feature/tags');
  await standIn.settled();

  const api = new azdev.WebApi(`${standIn.url}/contoso`, azdev.getPersonalAccessTokenHandler(standIn.pat));
  const g = await api.getGitApi();
  const n = received.length;
  const pr = await g.createPullRequest({ sourceRefName: 'refs/heads/feature/tags', targetRefName: 'refs/heads/main', title: 'Tags' }, 'landing-zones', 'platform');
  assert.ok(pr.pullRequestId);
  await writeFile(join(dir, 'notes.md'), 'two\n');
  await git(dir, 'commit', '--quiet', '-am', 'More notes');
  const head = await git(dir, 'rev-parse', 'HEAD');
  await git(dir, 'push', '--quiet', 'origin', 'feature/tags');
  await g.createPullRequestReviewer({ vote: 10, displayName: 'Grace Hopper', uniqueName: 'grace@contoso.example' } as any, 'landing-zones', pr.pullRequestId!, 'b1c2d3e4-0000-4000-8000-000000000001', 'platform');
  const done = await g.updatePullRequest({ status: 3 /* completed */ }, 'landing-zones', pr.pullRequestId!, 'platform');
  assert.is(done.status, 3);
  await standIn.settled();
  const events = received.slice(n).map((r) => [r.body.eventType, r.body.message.text]);
  assert.equal(events.map((e) => e[0]), [
    'git.pullrequest.created',
    'git.push', 'git.pullrequest.updated', 'git.pullrequest.merged',
    'git.pullrequest.updated',
    'git.pullrequest.updated', 'git.push',
  ]);
  assert.match(events[2][1], /updated the source branch/);
  assert.match(events[4][1], /Grace Hopper approved/);
  assert.match(events[5][1], /completed/);
  const update = received.slice(n)[2].body.resource;
  assert.is(update.lastMergeSourceCommit.commitId, head);
  assert.is(update.reviewers.length, 0);
  const vote = received.slice(n)[4].body.resource;
  assert.equal(vote.reviewers.map((r: any) => [r.uniqueName, r.vote]), [['grace@contoso.example', 10]]);
  const completed = received.slice(n)[5].body.resource;
  assert.is(completed.status, 'completed');
  const parsed = received.slice(n).map((r) => azureDevOpsEvent(r.body.eventType, r.body, r.body.id) as any);
  assert.equal(parsed.map((e) => e.kind === 'review' ? `review:${e.state}:${e.login}` : e.kind === 'push' ? `push:${e.branch}` : `${e.action}${e.merged ? ':merged' : ''}`), [
    'opened', 'push:feature/tags', 'synchronize', 'other', 'review:approved:grace@contoso.example', 'closed:merged', 'push:main',
  ], 'the stand-in\'s hooks read as Nexus reads ADO\'s');
  assert.is(parsed[2].headSha, head);
  const mainPush = received.slice(n)[6].body.resource.refUpdates[0];
  assert.is(mainPush.name, 'refs/heads/main');
  assert.is(mainPush.newObjectId, completed.lastMergeCommit.commitId, 'completion merges into main');
});

test('bad requests name the field', async () => {
  const api = new azdev.WebApi(`${standIn.url}/contoso`, azdev.getPersonalAccessTokenHandler(standIn.pat));
  const g = await api.getGitApi();
  const err = await g.createPullRequest({ sourceRefName: 'main', targetRefName: 'refs/heads/main', title: 'x' }, 'landing-zones', 'platform').then(() => undefined, (e) => e);
  assert.is(err?.statusCode, 400);
  assert.match(err.message, /sourceRefName/);
});

test.run();
