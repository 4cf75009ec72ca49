// The GitHub stand-in over Git's smart HTTP protocol: real `git clone` / `git push`, and the signed
// `push` webhooks GitHub would send for them (checked with @octokit/webhooks' verify).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFixture, runGit, type Fixture } from './github-fixture.ts';

let fx: Fixture;
const ZERO = '0000000000000000000000000000000000000000';

test.before(async () => {
  fx = await startFixture();
});
test.after(async () => {
  await fx.stop();
});

test('clone, commit, push: one signed push webhook with GitHub fields, forced=false', async () => {
  const dir = await fx.clone('alice');
  const before = (await runGit(dir, ['rev-parse', 'HEAD'])).trim();
  writeFileSync(join(dir, 'corp', 'archetype.json'), JSON.stringify({ name: 'corp', policies: ['deny-public-ip'] }) + '\n');
  writeFileSync(join(dir, 'online.json'), '{}\n');
  await runGit(dir, ['add', '-A']);
  await runGit(dir, ['commit', '-qm', 'corp: deny public IPs']);
  const after = (await runGit(dir, ['rev-parse', 'HEAD'])).trim();
  await runGit(dir, ['push', '--quiet', 'origin', 'main']);

  const d = await fx.receiver.next((r) => r.event === 'push' && r.payload.after === after, 'the push webhook');
  assert.ok(d.verified, 'X-Hub-Signature-256 verifies with the secret');
  assert.match(d.id, /^[0-9a-f-]{36}$/, 'X-GitHub-Delivery is a UUID');
  const p = d.payload;
  assert.is(p.ref, 'refs/heads/main');
  assert.is(p.before, before);
  assert.equal([p.created, p.deleted, p.forced], [false, false, false]);
  assert.equal(p.pusher, { name: 'alice', email: 'alice@contoso.com' });
  assert.is(p.sender.login, 'alice');
  assert.is(p.repository.full_name, 'contoso/landing-zones');
  assert.is(p.repository.name, 'landing-zones');
  assert.is(p.repository.owner.login, 'contoso');
  assert.is(p.repository.default_branch, 'main');
  assert.is(p.commits.length, 1);
  const c = p.commits[0];
  assert.is(c.id, after);
  assert.is(c.message, 'corp: deny public IPs');
  assert.equal(c.author, { name: 'Alice Adams', email: 'alice@contoso.com', username: 'alice' });
  assert.equal(c.added, ['online.json']);
  assert.equal(c.modified, ['corp/archetype.json']);
  assert.equal(c.removed, []);
  assert.is(p.head_commit.id, after);
  await fx.gh.idle(); // the receiver records a delivery before its answer reaches the stand-in
  assert.ok(fx.gh.deliveries.some((x) => x.id === d.id && x.status === 'delivered'), 'the delivery is kept with its status');
});

test('a force push says forced=true; a new branch created=true; deleting it deleted=true', async () => {
  const dir = await fx.clone('bob');
  writeFileSync(join(dir, 'x.txt'), 'one\n');
  await runGit(dir, ['add', '-A']);
  await runGit(dir, ['commit', '-qm', 'one'], { name: 'Bob Brown', email: 'bob@contoso.com' });
  await runGit(dir, ['push', '--quiet', 'origin', 'main']);
  const first = await fx.receiver.next((r) => r.event === 'push' && r.payload.pusher.name === 'bob', 'the first push');
  assert.is(first.payload.forced, false);

  writeFileSync(join(dir, 'x.txt'), 'two\n');
  await runGit(dir, ['commit', '-qam', 'one, rewritten', '--amend'], { name: 'Bob Brown', email: 'bob@contoso.com' });
  await runGit(dir, ['push', '--quiet', '--force', 'origin', 'main']);
  const forced = await fx.receiver.next((r) => r.event === 'push' && r.payload.before === first.payload.after, 'the forced push');
  assert.ok(forced.verified);
  assert.is(forced.payload.forced, true);
  assert.is(forced.payload.commits.length, 1, 'only the rewritten commit is new');

  await runGit(dir, ['push', '--quiet', 'origin', 'HEAD:refs/heads/feature/temp']);
  const created = await fx.receiver.next((r) => r.event === 'push' && r.payload.ref === 'refs/heads/feature/temp', 'the branch creation');
  assert.equal([created.payload.created, created.payload.deleted, created.payload.forced, created.payload.before], [true, false, false, ZERO]);
  assert.is(created.payload.commits.length, 0, 'no commit is new to the repository');

  await runGit(dir, ['push', '--quiet', 'origin', ':refs/heads/feature/temp']);
  const deleted = await fx.receiver.next((r) => r.event === 'push' && r.payload.ref === 'refs/heads/feature/temp', 'the branch deletion');
  assert.equal([deleted.payload.created, deleted.payload.deleted, deleted.payload.after], [false, true, ZERO]);
  assert.is(deleted.payload.head_commit, null);
});

test('tags: a lightweight and an annotated tag each deliver a push with created=true', async () => {
  const dir = await fx.clone('alice');
  const head = (await runGit(dir, ['rev-parse', 'HEAD'])).trim();
  await runGit(dir, ['tag', 'v1-light']);
  await runGit(dir, ['tag', '-a', '-m', 'release one', 'v1']);
  const tagObject = (await runGit(dir, ['rev-parse', 'v1'])).trim();
  await runGit(dir, ['push', '--quiet', 'origin', 'v1-light', 'v1']);
  const light = await fx.receiver.next((r) => r.event === 'push' && r.payload.ref === 'refs/tags/v1-light', 'the lightweight tag push');
  assert.equal([light.payload.created, light.payload.after, light.payload.head_commit.id], [true, head, head]);
  const annotated = await fx.receiver.next((r) => r.event === 'push' && r.payload.ref === 'refs/tags/v1', 'the annotated tag push');
  assert.equal([annotated.payload.created, annotated.payload.after], [true, tagObject]);
  assert.is(annotated.payload.head_commit.id, head, 'head_commit is the tagged commit');
});

test('a push of 25 commits lists all 25, oldest first (the 20-commit cap is for timeline events, not webhooks)', async () => {
  const dir = await fx.clone('alice');
  for (let i = 0; i < 25; i++) await runGit(dir, ['commit', '-q', '--allow-empty', '-m', `step ${i}`]);
  const after = (await runGit(dir, ['rev-parse', 'HEAD'])).trim();
  await runGit(dir, ['push', '--quiet', 'origin', 'main']);
  const d = await fx.receiver.next((r) => r.event === 'push' && r.payload.after === after, 'the 25-commit push');
  assert.equal(d.payload.commits.map((c: { message: string }) => c.message), Array.from({ length: 25 }, (_, i) => `step ${i}`));
  assert.is(d.payload.head_commit.message, 'step 24');
});

test('git needs the login and a token of that user; a wrong token is refused', async () => {
  const bad = fx.gh.gitUrl('contoso', 'landing-zones', 'carol').replace(/:[^:@/]+@/, ':not-a-token@');
  const err = await runGit(fx.dataDir, ['ls-remote', bad]).then(() => undefined, (e: Error) => e);
  assert.ok(err, 'ls-remote with a bad token fails');
  const ok = await runGit(fx.dataDir, ['ls-remote', fx.gh.gitUrl('contoso', 'landing-zones', 'carol')]);
  assert.match(ok, /refs\/heads\/main/);
});

test('webhooks a listener answers 503 to are retried until delivered, in order', async () => {
  fx.receiver.failNext(2);
  const dir = await fx.clone('carol');
  writeFileSync(join(dir, 'retry.txt'), 'r\n');
  await runGit(dir, ['add', '-A']);
  await runGit(dir, ['commit', '-qm', 'retry'], { name: 'Carol Clark', email: 'carol@contoso.com' });
  await runGit(dir, ['push', '--quiet', 'origin', 'main']);
  const d = await fx.receiver.next((r) => r.event === 'push' && r.payload.pusher.name === 'carol', 'the retried push');
  await fx.gh.idle();
  const kept = fx.gh.deliveries.find((x) => x.id === d.id);
  assert.is(kept?.status, 'delivered');
  assert.is(kept?.attempts, 3);
});

test.run();
