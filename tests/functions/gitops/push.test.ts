// A push to the landing-zone repository queues exactly the stacks whose desired state differs from
// what their last applied run recorded; force pushes, deletions, other branches and repositories
// are recorded and never queued. Real compile, a real Git repository behind the GitHost port, and
// the real stores in Azurite.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archetypesDir, compileTenant, tenantOptionsFor } from '../../../stacks/compile/index.ts';
import { RepoDesiredSource } from '../../../functions/gitops/repo-source.ts';
import { SnapshotCache } from '../../../functions/gitops/snapshots.ts';
import { handlePush, type PushPorts } from '../../../functions/gitops/push.ts';
import { GitOpsStore } from '../../../functions/gitops/store.ts';
import type { PushEvent } from '../../../functions/gitops/types.ts';
import { createLogger } from '../../../functions/platform/logger.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { desiredStateHash } from '../../../functions/reconcile/hash.ts';
import { openStores, type ReconcileStores } from '../../../functions/reconcile/store/index.ts';
import { azurite } from '../../helpers/azurite.ts';
import { LocalGitHost, LocalGitRepo } from '../../helpers/local-git-host.ts';

const REPO = 'github:contoso/landing-zones';
const env = { ...process.env, NEXUS_ROOT_MG: 'tenant-root' };
const MB = 1024 * 1024;

let stores: ReconcileStores;
let repo: LocalGitRepo;
let source: RepoDesiredSource;
let seed: string;
let names: string[];

async function ports(): Promise<PushPorts> {
  const az = await azurite();
  const cfg = storageConfig({ connectionString: az.connectionString });
  return {
    repoId: REPO, branch: 'main', source, runs: stores.runs, store: await GitOpsStore.open(cfg), audit: stores.audit,
    now: () => new Date(), logger: createLogger({ level: 'silent' }),
  };
}

let n = 0;
function push(after: string, p: Partial<PushEvent> = {}): PushEvent {
  return { kind: 'push', repo: REPO, branch: 'main', before: '0'.repeat(40), after, forced: false, deleted: false, pusher: 'alice', commits: [], deliveryId: `d-${Date.now()}-${n++}`, ...p };
}

/** Records every stack as applied at `commit` from this repository (what a real apply leaves). */
async function markApplied(commit: string): Promise<void> {
  const { state } = await source.compile(commit);
  for (const s of state.stacks) {
    await stores.runs.updateStack(s.name, (cur) => ({ ...cur, lastAppliedCommit: commit, lastAppliedSource: REPO, lastAppliedHash: desiredStateHash(state, s.name) }));
  }
}

test.before(async () => {
  const az = await azurite();
  stores = await openStores(storageConfig({ connectionString: az.connectionString }));
  repo = await LocalGitRepo.create();
  repo.copy(archetypesDir());
  seed = await repo.commit('seed from archetypes/');
  const host = new LocalGitHost(repo.bare);
  const snapshots = new SnapshotCache({ host, path: '', dir: mkdtempSync(join(tmpdir(), 'nexus-push-')), maxBytes: 256 * MB, maxSnapshotBytes: 32 * MB });
  source = new RepoDesiredSource({ host, snapshots, branch: 'main', path: '', compile: async (dir) => compileTenant(tenantOptionsFor(dir, env)) });
  names = (await source.compile(seed)).state.stacks.map((s) => s.name);
  await markApplied(seed);
});

test('an archetype edit queues exactly the stack it changes; a README edit queues none', async () => {
  const p = await ports();
  repo.write({ 'nexus-sandbox.yaml': readFileSync(join(archetypesDir(), 'nexus-sandbox.yaml'), 'utf8').replace(/\n$/, '\n# edited\n') });
  const readme = await repo.commit('a comment only');
  const none = await handlePush(p, push(readme, { before: seed }));
  assert.is(none.outcome, 'no-change', none.message);
  assert.equal(await p.store.listWants(), []);

  const sandbox = readFileSync(join(archetypesDir(), 'nexus-sandbox.yaml'), 'utf8');
  assert.ok(sandbox.includes('                - microsoft.network/natgateways\n'));
  repo.write({ 'nexus-sandbox.yaml': sandbox.replace('                - microsoft.network/natgateways\n', '') });
  const edit = await repo.commit('sandbox: NAT gateways allowed');
  const { state } = await source.compile(edit);
  const rec = await handlePush(p, push(edit, { before: readme }));
  assert.is(rec.outcome, 'queued', rec.message);
  const wants = await p.store.listWants();
  assert.equal(wants.map((w) => w.stack), rec.stacks);
  assert.equal(rec.stacks, ['sandbox']);
  for (const w of wants) {
    assert.is(w.commit, edit);
    assert.is(w.pusher, 'alice');
  }
  // Exactly those whose hash differs from the applied one.
  const seedState = (await source.compile(seed)).state;
  const differ = names.filter((s) => desiredStateHash(state, s) !== desiredStateHash(seedState, s));
  assert.equal(rec.stacks!.slice().sort(), differ.sort());
  for (const w of wants) await p.store.doneWant((await p.store.want(w.stack))!);
});

test('a stack with no recorded hash is queued (a missed stack is worse than a no-change run)', async () => {
  const p = await ports();
  const head = (await repo.git('rev-parse', 'HEAD')).trim();
  await markApplied(head);
  await stores.runs.updateStack('corp', (cur) => ({ ...cur, lastAppliedHash: undefined }));
  const rec = await handlePush(p, push(head));
  assert.equal(rec.stacks, ['corp']);
  await p.store.doneWant((await p.store.want('corp'))!);
  await markApplied(head);
});

test('a later push supersedes a queued earlier one; an older delivery arriving late does not', async () => {
  const p = await ports();
  const head = (await repo.git('rev-parse', 'HEAD')).trim();
  await stores.runs.updateStack('corp', (cur) => ({ ...cur, lastAppliedHash: 'unknown' }));
  repo.write({ 'notes.txt': 'one\n' });
  const c1 = await repo.commit('one');
  repo.write({ 'notes.txt': 'two\n' });
  const c2 = await repo.commit('two');
  await handlePush(p, push(c1, { before: head }));
  assert.is((await p.store.want('corp'))!.commit, c1);
  await handlePush(p, push(c2, { before: c1 }));
  assert.is((await p.store.want('corp'))!.commit, c2);
  await handlePush(p, push(c1, { before: head }));
  assert.is((await p.store.want('corp'))!.commit, c2, 'the late delivery of an older commit does not replace the newer want');
  await p.store.doneWant((await p.store.want('corp'))!);
  await markApplied(c2);
});

test('force pushes, deletions, other branches and other repositories are recorded, never queued', async () => {
  const p = await ports();
  const head = (await repo.git('rev-parse', 'HEAD')).trim();
  const audit0 = (await stores.audit.list({ limit: 1000 })).filter((a) => a.action === 'push-refused').length;
  const forced = await handlePush(p, push(head, { forced: true, before: seed }));
  assert.is(forced.outcome, 'refused');
  assert.is(forced.reason, 'FORCE_PUSH');
  // No forced flag (Azure DevOps has none), but `before` is not an ancestor: still a force push.
  repo.write({ 'side.txt': 'x\n' });
  const side = await repo.commit('side', { branch: 'side' });
  const rewritten = await handlePush(p, push(head, { before: side }));
  assert.is(rewritten.reason, 'FORCE_PUSH', rewritten.message);
  const deleted = await handlePush(p, push('0'.repeat(40), { deleted: true, before: head }));
  assert.is(deleted.reason, 'BRANCH_DELETED');
  const other = await handlePush(p, push(head, { branch: 'feature/x' }));
  assert.is(other.outcome, 'ignored');
  assert.is(other.reason, 'UNTRACKED_BRANCH');
  const tag = await handlePush(p, push(head, { branch: undefined }));
  assert.is(tag.reason, 'UNTRACKED_BRANCH');
  const elsewhere = await handlePush(p, push(head, { repo: 'github:contoso/other' }));
  assert.is(elsewhere.reason, 'UNKNOWN_REPOSITORY');
  assert.equal(await p.store.listWants(), []);
  const audit1 = (await stores.audit.list({ limit: 1000 })).filter((a) => a.action === 'push-refused').length;
  assert.is(audit1 - audit0, 3, 'each refused push is in the audit trail');
  const recent = await p.store.recent(6);
  assert.equal(recent.map((r) => r.reason), ['UNKNOWN_REPOSITORY', 'UNTRACKED_BRANCH', 'UNTRACKED_BRANCH', 'BRANCH_DELETED', 'FORCE_PUSH', 'FORCE_PUSH']);
});

test('a commit that does not compile queues every known stack, each to record COMPILE_FAILED', async () => {
  const p = await ports();
  const head = (await repo.git('rev-parse', 'HEAD')).trim();
  repo.write({ 'nexus-corp.yaml': 'name: [unclosed\n' });
  const broken = await repo.commit('broken yaml');
  const rec = await handlePush(p, push(broken, { before: head }));
  assert.is(rec.reason, 'COMPILE_FAILED');
  assert.match(rec.message, /nexus-corp\.yaml/);
  const wants = (await p.store.listWants()).map((w) => w.stack).sort();
  for (const s of names) assert.ok(wants.includes(s), `${s} queued`);
  for (const w of await p.store.listWants()) await p.store.doneWant((await p.store.want(w.stack))!);
});

test.run();
