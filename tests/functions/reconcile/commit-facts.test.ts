// Commit facts: every commit since the stack's last applied commit (from this repository), their
// authors (with catalog aliases) kept from approving, where the new commit stands, and each
// commit's signature verdict, from real SSH-signed commits and the real verifier.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllowedSigners, verifyCommit } from '../../../functions/gitops/signatures/verify.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { commitFacts } from '../../../functions/reconcile/commit-facts.ts';
import type { CommitPort } from '../../../functions/reconcile/deps.ts';
import { openStores, type ReconcileStores } from '../../../functions/reconcile/store/index.ts';
import { azurite } from '../../helpers/azurite.ts';
import { LocalGitHost, LocalGitRepo } from '../../helpers/local-git-host.ts';

const REPO = 'github:contoso/landing-zones';
let stores: ReconcileStores;
let repo: LocalGitRepo;
let host: LocalGitHost;
let key: string;
const stack = `facts-${Date.now().toString(36)}`;

function port(p: Partial<CommitPort> = {}): CommitPort {
  return { repoId: REPO, history: (b, h) => (b ? host.compare(b, h) : host.commit(h).then((c) => ({ status: 'ahead' as const, commits: [c], truncated: false }))), requireSigned: false, verify: async () => ({ ok: true }), ...p };
}

const signed = (k: string) => ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${k}`, '-c', 'commit.gpgsign=true'];

test.before(async () => {
  const az = await azurite();
  stores = await openStores(storageConfig({ connectionString: az.connectionString }));
  repo = await LocalGitRepo.create();
  host = new LocalGitHost(repo.bare);
  const dir = mkdtempSync(join(tmpdir(), 'nexus-keys-'));
  key = join(dir, 'alice');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice', '-f', key]);
});

test('authors of every commit since the applied one, with catalog aliases; signatures verified per commit', async () => {
  repo.write({ 'a.txt': '1\n' });
  const applied = await repo.commit('applied', { author: { name: 'Carol', email: 'carol@contoso.com' } });
  await stores.runs.updateStack(stack, (s) => ({ ...s, lastAppliedCommit: applied, lastAppliedSource: REPO }));
  repo.write({ 'a.txt': '2\n' });
  const c1 = await repo.commit('alice signs', { author: { name: 'Alice', email: 'alice@contoso.com' }, extraArgs: signed(key) });
  repo.write({ 'a.txt': '3\n' });
  const c2 = await repo.commit('bob does not', { author: { name: 'Bob', email: 'bob@contoso.com' } });

  const signers = await parseAllowedSigners(`alice@contoso.com namespaces="git" ${readFileSync(`${key}.pub`, 'utf8').trim()}\n`);
  const found = await commitFacts({ stores, commits: port({ requireSigned: true, verify: (c) => verifyCommit(c, signers), aliases: async (ids) => (ids.includes('bob@contoso.com') ? ['bobby'] : []) }) }, stack, c2);
  assert.ok(found);
  assert.equal([found!.facts.applied, found!.facts.commit, found!.facts.ancestry], [applied, c2, 'ahead']);
  assert.equal(found!.facts.commits.map((c) => c.sha), [c1, c2]);
  assert.equal(found!.authors, ['Alice <alice@contoso.com>', 'Bob <bob@contoso.com>']);
  for (const id of ['alice@contoso.com', 'alice', 'bob@contoso.com', 'bob', 'bobby']) assert.ok(found!.identities.includes(id), id);
  assert.not.ok(found!.identities.includes('carol'), 'the applied commit\'s author wrote nothing new');
  assert.equal(found!.facts.commits.map((c) => c.verdict?.ok), [true, false]);
  const bad = found!.facts.commits[1].verdict;
  assert.is(bad && !bad.ok && bad.reason, 'no-signature');
});

test('an older commit is behind the applied one; a commit applied from elsewhere is no base', async () => {
  const head = (await repo.git('rev-parse', 'HEAD')).trim();
  const first = (await repo.git('rev-list', '--max-parents=0', 'HEAD')).trim();
  await stores.runs.updateStack(stack, (s) => ({ ...s, lastAppliedCommit: head, lastAppliedSource: REPO }));
  const older = await commitFacts({ stores, commits: port() }, stack, first);
  assert.is(older!.facts.ancestry, 'behind');
  const same = await commitFacts({ stores, commits: port() }, stack, head);
  assert.is(same!.facts.ancestry, 'identical');
  assert.ok(same!.identities.includes('bob'), 'a re-apply still keeps the commit\'s author from approving it');
  await stores.runs.updateStack(stack, (s) => ({ ...s, lastAppliedSource: 'github:contoso/other' }));
  const fresh = await commitFacts({ stores, commits: port() }, stack, head);
  assert.equal([fresh!.facts.applied, fresh!.facts.ancestry], [undefined, 'ahead']);
});

test('outside GitOps, or without a commit, there are no facts; an unknown commit fails the run as COMMIT_NOT_FOUND', async () => {
  assert.is(await commitFacts({ stores }, stack, 'x'), undefined);
  assert.is(await commitFacts({ stores, commits: port() }, stack, undefined), undefined);
  try {
    await commitFacts({ stores, commits: port() }, stack, 'f'.repeat(40));
    assert.unreachable('an unknown commit has no facts');
  } catch (err) {
    assert.is((err as { code?: string }).code, 'COMMIT_NOT_FOUND');
  }
});

test.run();
