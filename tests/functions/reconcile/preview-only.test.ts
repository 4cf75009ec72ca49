// Pull request previews with the real engine, Azurite and the ARM sandbox: no stack lease, no
// Pulumi lock, nothing applied, the gates judged as a dry run, the run recorded with trigger
// `pull-request`, and a cancelled preview recorded as superseded.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { liveParts, releaseLive, unique, type Live } from './live.ts';
import { mg, smallState } from './state-fixture.ts';
import { BlobLease } from '../../../functions/platform/leases.ts';
import { BlobStore } from '../../../functions/platform/blobs.ts';
import { lockFolder, listStackLocks } from '../../../functions/platform/pulumi-locks.ts';
import { backendSettings } from '../../../stacks/engine/backend.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';
import { SUPERSEDED } from '../../../functions/reconcile/preview-only.ts';
import type { RunRecord } from '../../../functions/reconcile/model.ts';
import type { ReconcileResult } from '../../../functions/reconcile/loop.ts';
import type { CommitPort } from '../../../functions/reconcile/deps.ts';
import { parseAllowedSigners, verifyCommit } from '../../../functions/gitops/signatures/verify.ts';
import { LocalGitHost, LocalGitRepo } from '../../helpers/local-git-host.ts';

let L: Live;
test.before(async () => { L = await liveParts(); });
test.after(() => releaseLive());

const allowRc = { scopes: { allow: { managementGroups: ['rc*'] } } };
const rolesRule = { ...allowRc, approvals: { rules: [{ name: 'roles', kinds: ['roleAssignments' as const], group: 'platform', approvers: 1 }] } };
const assignment = (name: string, i: number) => `${mg(name)}/providers/Microsoft.Authorization/policyAssignments/rc-audit-${i}`;
const done = (r: ReconcileResult): RunRecord => { assert.is(r.status, 'done', JSON.stringify(r)); return (r as { run: RunRecord }).run; };

test('another instance holds the stack lease and a Pulumi lock: the preview runs anyway, applies nothing, asks no approval', async () => {
  const name = unique('rcpr');
  const state = smallState({ tenantRoot: L.tenantRoot, name, assignments: 2, roleAssignment: 'aaaaaaaa-0000-4000-8000-000000000001' });
  const rec = await L.reconciler(() => state, rolesRule);
  const other = new BlobLease({ blob: name, holderId: 'other-instance', durationSeconds: 15, cfg: L.stores.cfg });
  assert.ok(await other.acquire());
  // A lock file of an update running elsewhere (what `pulumi up` writes in the azblob backend).
  const where = backendSettings(loadConfig(L.env).engine.env);
  const locks = await BlobStore.open(where.container!, L.stores.cfg);
  const lockKey = `${lockFolder({ project: 'nexus', stack: name, prefix: where.prefix })}00000000-0000-4000-8000-00000000beef.json`;
  const lock = () => locks.putJson(lockKey, { pid: 4242, username: 'someone', hostname: 'elsewhere', timestamp: new Date().toISOString() });
  await lock();
  try {
    // Creating a stack the backend does not have yet (`pulumi stack init`) checks the lock: busy,
    // tried once more after a short wait, then reported.
    const fresh = await rec.previewOnly({ stack: name, state, trigger: 'pull-request', busyRetryMs: 200 });
    assert.equal([fresh.run.decision, fresh.run.reasons], ['failed', ['STACK_BUSY']], fresh.run.error);
    assert.match(fresh.run.error ?? '', /someone@elsewhere/);
    // Once the stack exists, previews pass a lock that is held.
    await locks.delete(lockKey);
    assert.is((await rec.previewOnly({ stack: name, state, trigger: 'pull-request' })).run.decision, 'dry-run');
    await lock();
    const { run, preview, drift } = await rec.previewOnly({ stack: name, state, commit: 'c0ffee', trigger: 'pull-request', requestedBy: 'github:octocat', authors: ['Mona <mona@contoso.com>'] });
    assert.is(run.trigger, 'pull-request');
    assert.is(run.dryRun, true);
    assert.is(run.decision, 'dry-run', run.error);
    assert.equal(run.reasons, ['APPROVAL_REQUIRED'], 'a real run would wait for approval');
    assert.is(run.counts.create, 4);
    assert.is(preview?.changes.filter((c) => c.op === 'create').length, 4);
    assert.equal(drift?.changes.filter((c) => c.op !== 'same'), []);
    assert.is(run.author, 'Mona <mona@contoso.com>');
    // Nothing applied, the lease and the lock untouched, no approval asked, the stack not marked as held.
    assert.is(await L.exists(mg(name)), false);
    assert.ok(await other.renew(), 'the lease was never broken or taken');
    assert.is((await listStackLocks({ project: 'nexus', stack: name, container: where.container, prefix: where.prefix, cfg: L.stores.cfg })).length, 1);
    assert.is(await L.stores.approvals.latest(name), undefined);
    assert.equal(await L.stores.runs.stack(name), undefined);
    assert.equal(await L.stores.audit.list({ target: name }), []);
    // Saved like other runs, so the portal can link to it.
    const stored = await L.stores.runs.get(run.id);
    assert.is(stored?.trigger, 'pull-request');
    assert.is(stored?.status, 'done');
    const detail = await L.stores.runs.getDetail(run.id);
    assert.is(detail?.preview?.kind, 'preview');
    assert.is(detail?.drift?.kind, 'refresh-preview');
    // The same lock stops a real run (once it has the lease): the lock is real, only previews pass it.
    await other.release();
    const real = done(await (await L.reconciler(() => state, allowRc)).reconcile({ stack: name, trigger: 'manual' }));
    assert.equal([real.decision, real.reasons], ['failed', ['STACK_BUSY']], real.error);
  } finally {
    await other.release().catch(() => false);
    await locks.delete(lockKey);
  }
});

test('a preview while a reconcile of the same stack applies: both finish, the preview shows the state it read', async () => {
  const name = unique('rcprb');
  const v1 = smallState({ tenantRoot: L.tenantRoot, name, assignments: 4 });
  const rec = await L.reconciler(() => v1, allowRc);
  const applying = rec.reconcile({ stack: name, trigger: 'manual' });
  // Wait until the apply holds Pulumi's lock, then preview.
  const where = backendSettings(loadConfig(L.env).engine.env);
  const loc = { project: 'nexus', stack: name, container: where.container, prefix: where.prefix, cfg: L.stores.cfg };
  let sawLock = false;
  for (let i = 0; i < 400 && !sawLock; i++) {
    sawLock = (await listStackLocks(loc)).length > 0;
    if (!sawLock) await new Promise((r) => setTimeout(r, 25));
  }
  assert.ok(sawLock, 'the apply took the Pulumi lock');
  const { run } = await rec.previewOnly({ stack: name, state: v1, trigger: 'pull-request' });
  assert.ok(run.decision === 'dry-run' || run.decision === 'no-change', `${run.decision}: ${run.error}`);
  const applied = done(await applying);
  assert.is(applied.decision, 'applied', applied.error);
});

test('drift already present is reported, and the preview shows what an apply would put back', async () => {
  const name = unique('rcprd');
  const v1 = smallState({ tenantRoot: L.tenantRoot, name, assignments: 1 });
  const rec = await L.reconciler(() => v1, allowRc);
  assert.is(done(await rec.reconcile({ stack: name, trigger: 'manual' })).decision, 'applied');
  L.sideDoorUpdate(assignment(name, 0), { properties: { enforcementMode: 'DoNotEnforce' } }, 'mallory@contoso.com');
  const { run, drift, preview } = await rec.previewOnly({ stack: name, state: v1, trigger: 'pull-request' });
  assert.is(run.decision, 'dry-run', run.error);
  assert.equal(drift?.changes.filter((c) => c.op === 'update').map((c) => c.armId), [assignment(name, 0)]);
  assert.equal(preview?.changes.filter((c) => c.op === 'update').length, 1);
  // Still drifted: the preview refreshed in memory only.
  assert.is((await L.get(assignment(name, 0), '2022-06-01')).body.properties.enforcementMode, 'DoNotEnforce');
  const again = await rec.previewOnly({ stack: name, state: v1, trigger: 'pull-request' });
  assert.is(again.drift?.changes.filter((c) => c.op === 'update').length, 1, 'the state was not refreshed');
});

test('aborted during the engine\'s operation: the engine is cancelled, the run recorded as interrupted, SUPERSEDED', async () => {
  const name = unique('rcprc');
  const state = smallState({ tenantRoot: L.tenantRoot, name, assignments: 3 });
  const ac = new AbortController();
  const seen: string[] = [];
  const base = await L.reconciler(() => state, allowRc);
  // The real engine, watched: the abort comes once the refresh preview is running in the CLI.
  const rec = await L.reconciler(() => state, allowRc, {
    openStack: async (o) => {
      const engine = await base.deps.openStack(o);
      return {
        ...engine,
        lastTimings: engine.lastTimings,
        previewRefresh: () => { seen.push('previewRefresh'); setTimeout(() => ac.abort(), 150); return engine.previewRefresh(); },
        preview: (p) => { seen.push('preview'); return engine.preview(p); },
        cancel: () => { seen.push('cancel'); return engine.cancel(); },
        close: () => engine.close?.(),
      };
    },
  });
  const { run, preview } = await rec.previewOnly({ stack: name, state, trigger: 'pull-request', signal: ac.signal });
  assert.equal([run.decision, run.reasons], ['interrupted', [SUPERSEDED]], run.error);
  assert.equal(seen, ['previewRefresh', 'cancel'], 'cancelled in flight; the preview never started');
  assert.is(preview, undefined);
  assert.is((await L.stores.runs.get(run.id))?.decision, 'interrupted');
  // Aborted before it starts: recorded at once, the engine never opened.
  const early = new AbortController();
  early.abort();
  seen.length = 0;
  const quick = await rec.previewOnly({ stack: name, state, trigger: 'pull-request', signal: early.signal });
  assert.equal([quick.run.decision, quick.run.reasons], ['interrupted', [SUPERSEDED]]);
  assert.equal(seen, []);
});

test('with signed commits required, a pull request of unsigned commits is previewed as blocked (UNSIGNED_COMMIT), not "apply"', async () => {
  const name = unique('rcsg');
  const state = smallState({ tenantRoot: L.tenantRoot, name, assignments: 1 });
  const repo = await LocalGitRepo.create();
  repo.write({ 'a.txt': '1\n' });
  await repo.commit('main');
  repo.write({ 'a.txt': '2\n' });
  const head = await repo.commit('unsigned change', { branch: 'feature' });
  const host = new LocalGitHost(repo.bare);
  const signers = await parseAllowedSigners('');
  const commits: CommitPort = {
    repoId: host.id, head: async () => (await host.branchHead('main'))!, requireSigned: true, verify: (c) => verifyCommit(c, signers),
    history: (b, h) => (b ? host.compare(b, h) : host.commit(h).then((c) => ({ status: 'ahead' as const, commits: [c], truncated: false }))),
  };
  const rec = await L.reconciler(() => state, allowRc, { commits });
  const { run } = await rec.previewOnly({ stack: name, state, commit: head, trigger: 'pull-request' });
  assert.is(run.decision, 'blocked', run.error);
  assert.ok(run.reasons.includes('UNSIGNED_COMMIT'), run.reasons.join());
  const order = run.gates.find((g) => g.gate === 'commit-order');
  assert.is(order?.pass, true, 'a pull request is off the branch by nature');
  assert.is(await L.exists(mg(name)), false);
});

test.run();
