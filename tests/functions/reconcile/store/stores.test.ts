// The reconciler's stores against Azurite: runs, audit, settings, rate limits, approvals.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { azurite } from '../../../helpers/azurite.ts';
import { storageConfig } from '../../../../functions/platform/storage-config.ts';
import { openStores, newRunId, ApprovalError, RateLimitExceeded, type ReconcileStores } from '../../../../functions/reconcile/store/index.ts';
import { parseGuardrails } from '../../../../functions/reconcile/guardrails.ts';
import type { RunRecord } from '../../../../functions/reconcile/model.ts';
import type { Principal } from '../../../../functions/platform/identity.ts';
import { loadConfig } from '../../../../functions/runtime/config.ts';
import { NewestFirstKeys } from '../../../../functions/platform/tables.ts';

// Run ids of this test, in the order made (as a reconciler's own source orders them).
const ids = new NewestFirstKeys();

let stores: ReconcileStores;

test.before(async () => {
  const az = await azurite();
  // Rate-limit counters of their own: other suites in this process apply changes that count.
  stores = await openStores(storageConfig({ connectionString: az.connectionString }), { rateLimitsTable: `ratelimitsstore${Date.now().toString(36)}` });
});

function run(stack: string, p: Partial<RunRecord> = {}): RunRecord {
  return {
    id: newRunId(undefined, ids), stack, trigger: 'manual', dryRun: false, status: 'done', decision: 'applied', reasons: [],
    gates: [{ gate: 'kill-switch', pass: true, reason: 'OK', details: { message: 'off', big: 'x'.repeat(50_000) } }],
    counts: { create: 1, update: 0, replace: 0, delete: 0, same: 3 }, timings: { startedAt: new Date().toISOString() },
    holderId: 'h1', ...p,
  };
}

test('runs: saved under the stack and by id, newest first, details in the blob', async () => {
  const a = run('s-one');
  const b = run('s-two', { decision: 'blocked', reasons: ['KILL_SWITCH'] });
  const c = run('s-one', { decision: 'no-change' });
  for (const r of [a, b, c]) await stores.runs.save(r);
  await stores.runs.putDetail({ run: b, engineOutput: ['line'] });
  const one = await stores.runs.list({ stack: 's-one' });
  assert.equal(one.runs.map((r) => r.id), [c.id, a.id]);
  // Across stacks, newest first (the table is shared with other suites of this process, whose
  // runs may carry other times: only this test's runs are compared).
  const all = await stores.runs.list({ limit: 500 });
  const mine = new Set([a.id, b.id, c.id]);
  assert.equal(all.runs.map((r) => r.id).filter((id) => mine.has(id)), [c.id, b.id, a.id]);
  const got = await stores.runs.get(b.id);
  assert.equal(got?.reasons, ['KILL_SWITCH']);
  assert.is(got?.gates[0].message, 'off');
  assert.is((await stores.runs.getDetail(b.id))?.run.gates[0].details.big, 'x'.repeat(50_000));
  assert.is(await stores.runs.get('nope'), undefined);
});

test('runs: stack summaries are read-modify-write', async () => {
  await stores.runs.updateStack('s-one', (s) => ({ ...s, currentRunId: 'r1', lastHolderId: 'h1' }));
  await stores.runs.updateStack('s-one', (s) => ({ ...s, currentRunId: undefined, lastRunId: 'r1' }));
  const s = await stores.runs.stack('s-one');
  assert.equal(s, { stack: 's-one', lastHolderId: 'h1', lastRunId: 'r1' });
  assert.ok((await stores.runs.stacks()).some((x) => x.stack === 's-one'));
});

test('audit: append-only, newest first, with no way to edit or delete', async () => {
  await stores.audit.record({ actor: 'a', action: 'killswitch-on', target: 'tenant', why: 'one' });
  await stores.audit.record({ actor: 'b', action: 'apply', target: 's-one', runId: 'r1' });
  const list = await stores.audit.list({ limit: 2 });
  assert.equal(list.map((e) => e.actor), ['b', 'a']);
  const log = stores.audit as unknown as Record<string, unknown>;
  for (const m of ['update', 'upsert', 'delete', 'replace', 'batch']) assert.is(log[m], undefined, m);
  const table = (stores.audit as unknown as { table: Record<string, unknown> }).table;
  for (const m of ['update', 'upsert', 'delete', 'replace', 'batch']) assert.is(table[m], undefined, `table.${m}`);
});

test('settings: the kill switch from the table, forced by the configuration (NEXUS_KILL_SWITCH)', async () => {
  assert.is((await stores.settings.killSwitch()).on, false);
  await stores.settings.setKillSwitch(true, 'admin@x', 'incident');
  const on = await stores.settings.killSwitch();
  assert.equal([on.on, on.source, on.by, on.reason], [true, 'settings', 'admin@x', 'incident']);
  await stores.settings.setKillSwitch(false, 'admin@x', 'resolved');
  assert.is((await stores.settings.killSwitch()).on, false);
  const forced = await openStores(stores.cfg, { killSwitch: loadConfig({ NEXUS_KILL_SWITCH: '1' }).reconcile.killSwitch });
  assert.is((await forced.settings.killSwitch()).source, 'env');
});

const rl = parseGuardrails({ rateLimits: { intervalMinutes: 60, cooldownMinutes: 30, maxChangesPerInterval: { roleAssignments: 10, policyAssignments: 100 } } }).rateLimits;

test('rate limits: concurrent consumers never count past the limit; a hit starts the cooldown', async () => {
  const now = new Date();
  // 20 instances each want 1 role assignment; only 10 fit.
  const results = await Promise.allSettled(Array.from({ length: 20 }, () => stores.rateLimits.consume({ roleAssignments: 1, policyAssignments: 1 }, rl, now, false)));
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  assert.is(ok, 10);
  for (const r of results) if (r.status === 'rejected') assert.instance(r.reason, RateLimitExceeded);
  const snap = await stores.rateLimits.snapshot();
  assert.is(snap.counters.roleAssignments?.count, 10);
  assert.is(snap.counters.policyAssignments?.count, 10, 'the batch moves every kind or none');
  assert.ok(snap.counters.roleAssignments?.cooldownUntil! > now.toISOString());
});

test('rate limits: the override is time-boxed, needs a reason, and lets consumption through', async () => {
  await stores.rateLimits.setOverride({ minutes: 500, reason: 'x', by: 'a' }, rl).then(() => assert.unreachable(), (e) => assert.match(e.message, /minutes must be between 1 and 240/));
  await stores.rateLimits.setOverride({ minutes: 10, reason: ' ', by: 'a' }, rl).then(() => assert.unreachable(), (e) => assert.match(e.message, /reason/));
  const ov = await stores.rateLimits.setOverride({ minutes: 10, reason: 'hotfix', by: 'admin' }, rl);
  assert.equal((await stores.rateLimits.snapshot()).override, ov);
  await stores.rateLimits.consume({ roleAssignments: 5 }, rl, new Date(), true);
  assert.is((await stores.rateLimits.snapshot()).counters.roleAssignments?.count, 15);
  assert.ok(await stores.rateLimits.clearOverride());
  assert.is((await stores.rateLimits.snapshot()).override, undefined);
});

const who = (id: string, groups: string[]): Principal => ({ id, name: id, email: `${id}@contoso.com`, roles: ['PlatformEngineer'], groups });

test('approvals: pinned request, author refused, group required, N approvers, then approved', async () => {
  const now = new Date();
  const rec = await stores.approvals.request({
    stack: 'ap-stack', runId: newRunId(undefined, ids), changeSetHash: 'c', desiredStateHash: 'd', liveFingerprint: 'l',
    requirements: [{ rule: 'roles', group: 'platform', approvers: 2 }], author: 'carol@contoso.com', commit: 'abc123', now, expiresAfterMinutes: 60,
  });
  assert.is(rec.status, 'pending');
  const err = (p: Promise<unknown>, status: number, re: RegExp) => p.then(() => assert.unreachable(), (e) => {
    assert.instance(e, ApprovalError); assert.is(e.status, status); assert.match(e.message, re);
  });
  await err(stores.approvals.vote(rec.id, who('carol', ['platform'])), 403, /author of commit abc123/);
  await err(stores.approvals.vote(rec.id, who('eve', ['other'])), 403, /membership of platform/);
  const one = await stores.approvals.vote(rec.id, who('ann', ['platform']));
  assert.is(one.status, 'pending');
  await err(stores.approvals.vote(rec.id, who('ann', ['platform'])), 409, /already approved/);
  const two = await stores.approvals.vote(rec.id, who('bob', ['platform', 'x']));
  assert.is(two.status, 'approved');
  assert.equal(two.votes.map((v) => v.by), ['ann@contoso.com', 'bob@contoso.com']);
  assert.is((await stores.approvals.latest('ap-stack'))?.id, rec.id);
  assert.ok((await stores.approvals.list({ status: 'approved' })).some((r) => r.id === rec.id));
  const applied = await stores.approvals.markApplied(two);
  assert.is(applied.status, 'applied');
  await err(stores.approvals.vote(rec.id, who('dan', ['platform'])), 409, /is applied/);
});

test('approvals: a new request supersedes the open one; expired requests refuse votes; reject', async () => {
  const t0 = new Date(Date.now() - 120 * 60_000);
  const base = { stack: 'ap2', changeSetHash: 'c', desiredStateHash: 'd', liveFingerprint: 'l', requirements: [{ rule: 'r', group: 'g', approvers: 1 }] };
  const old = await stores.approvals.request({ ...base, runId: newRunId(t0.getTime()), now: t0, expiresAfterMinutes: 60 });
  await stores.approvals.vote(old.id, who('x', ['g']), 'api', new Date()).then(() => assert.unreachable(), (e) => assert.match(e.message, /expired/));
  const fresh = await stores.approvals.request({ ...base, runId: newRunId(undefined, ids), now: new Date(), expiresAfterMinutes: 60 });
  // Past its expiry before the new request came: it reads as expired, not superseded.
  assert.is((await stores.approvals.get(old.id))?.status, 'expired');
  const rej = await stores.approvals.reject(fresh.id, who('y', ['g']), 'not during the freeze');
  assert.equal([rej.status, rej.rejectedBy, rej.reason], ['rejected', 'y@contoso.com', 'not during the freeze']);
  await stores.approvals.vote('missing', who('x', ['g'])).then(() => assert.unreachable(), (e) => assert.is(e.status, 404));
});

test('approvals: votes from another source are merged by the loop', async () => {
  const rec = await stores.approvals.request({
    stack: 'ap3', runId: newRunId(undefined, ids), changeSetHash: 'c', desiredStateHash: 'd', liveFingerprint: 'l',
    requirements: [{ rule: 'r', group: 'release', approvers: 1 }], now: new Date(), expiresAfterMinutes: 60,
  });
  const github = { name: 'github-environment', votes: async () => [{ by: 'octocat', groups: ['release'], at: new Date().toISOString(), source: 'github-environment' }] };
  const merged = await stores.approvals.collect(rec, [github]);
  assert.is(merged.status, 'approved');
  assert.is(merged.votes[0].source, 'github-environment');
});

test('approvals: the commit author (by name or email, any case) and the requester cannot approve', async () => {
  const rec = await stores.approvals.request({
    stack: `ap-author-${Date.now().toString(36)}`, runId: newRunId(undefined, ids), changeSetHash: 'c', desiredStateHash: 'd', liveFingerprint: 'l',
    requirements: [{ rule: 'roles', group: 'platform', approvers: 1 }], author: 'Carol Smith <Carol.Smith@Contoso.com>', commit: 'abc123',
    requestedBy: 'rita@contoso.com', now: new Date(), expiresAfterMinutes: 60,
  });
  const refused = (p: Principal, re: RegExp) => stores.approvals.vote(rec.id, p).then(() => assert.unreachable(), (e) => {
    assert.instance(e, ApprovalError); assert.is(e.status, 403); assert.match(e.message, re);
  });
  // The same person under another address but the author's name, or the author's address under another name.
  await refused({ id: 'u1', name: 'carol smith', email: 'csmith@fabrikam.com', roles: ['PlatformEngineer'], groups: ['platform'] }, /author of commit abc123/);
  await refused({ id: 'u2', name: 'C. S.', email: 'CAROL.SMITH@contoso.com', roles: ['PlatformEngineer'], groups: ['platform'] }, /author of commit abc123/);
  await refused(who('rita', ['platform']), /requested run/);
  // A vote recorded some other way (another source) by an excluded person does not count either.
  const stored = await stores.approvals.get(rec.id);
  assert.ok(stored?.excluded?.includes('carol.smith@contoso.com') && stored.excluded.includes('rita@contoso.com'), JSON.stringify(stored?.excluded));
  const sneaky = { name: 'gh', votes: async () => [{ by: 'carol.smith@contoso.com', groups: ['platform'], at: new Date().toISOString(), source: 'gh' }] };
  assert.is((await stores.approvals.collect(stored!, [sneaky])).status, 'pending');
  assert.is((await stores.approvals.vote(rec.id, who('ann', ['platform']))).status, 'approved');
});

test('approvals: with no known author the configured number of approvers is still needed, the requester excluded', async () => {
  const rec = await stores.approvals.request({
    stack: `ap-noauthor-${Date.now().toString(36)}`, runId: newRunId(undefined, ids), changeSetHash: 'c', desiredStateHash: 'd', liveFingerprint: 'l',
    requirements: [{ rule: 'roles', group: 'platform', approvers: 2 }], requestedBy: 'rita@contoso.com', now: new Date(), expiresAfterMinutes: 60,
  });
  await stores.approvals.vote(rec.id, who('rita', ['platform'])).then(() => assert.unreachable(), (e) => assert.match(e.message, /requested run/));
  assert.is((await stores.approvals.vote(rec.id, who('ann', ['platform']))).status, 'pending');
  assert.is((await stores.approvals.vote(rec.id, who('bob', ['platform']))).status, 'approved');
});

test('approvals: only an approved request is marked applied; a rejection that landed first stands', async () => {
  const stack = `ap-applied-${Date.now().toString(36)}`;
  const base = { stack, changeSetHash: 'c', desiredStateHash: 'd', liveFingerprint: 'l', requirements: [{ rule: 'r', group: 'g', approvers: 1 }], expiresAfterMinutes: 60 };
  const rec = await stores.approvals.request({ ...base, runId: newRunId(undefined, ids), now: new Date() });
  const approved = await stores.approvals.vote(rec.id, who('ann', ['g']));
  assert.is(approved.status, 'approved');
  // The loop holds the approved copy; meanwhile someone rejects it.
  await stores.approvals.reject(rec.id, who('bob', ['g']), 'stop');
  await stores.approvals.markApplied(approved).then(() => assert.unreachable(), (e) => {
    assert.instance(e, ApprovalError); assert.is(e.status, 409); assert.match(e.message, /is rejected, not approved/);
  });
  assert.equal([(await stores.approvals.get(rec.id))?.status, (await stores.approvals.get(rec.id))?.rejectedBy], ['rejected', 'bob@contoso.com']);
  // A request still approved is marked; a second mark is refused (it is applied, not approved).
  const next = await stores.approvals.request({ ...base, runId: newRunId(undefined, ids), now: new Date() });
  const ok = await stores.approvals.vote(next.id, who('ann', ['g']));
  assert.is((await stores.approvals.markApplied(ok)).status, 'applied');
  await stores.approvals.markApplied(ok).then(() => assert.unreachable(), (e) => assert.match(e.message, /is applied, not approved/));
});

test('approvals: identities added to a reused request cannot approve it, and their votes stop counting', async () => {
  const rec = await stores.approvals.request({
    stack: `ap-excl-${Date.now().toString(36)}`, runId: newRunId(undefined, ids), changeSetHash: 'c', desiredStateHash: 'd', liveFingerprint: 'l',
    requirements: [{ rule: 'r', group: 'g', approvers: 1 }], requestedBy: 'rita@contoso.com', now: new Date(), expiresAfterMinutes: 60,
  });
  const added = await stores.approvals.exclude(rec.id, ['Bob Jones <bob@contoso.com>', 'dave@contoso.com']);
  assert.ok(['rita@contoso.com', 'bob@contoso.com', 'bob jones', 'dave'].every((i) => added.excluded?.includes(i)), JSON.stringify(added.excluded));
  await stores.approvals.vote(rec.id, who('bob', ['g'])).then(() => assert.unreachable(), (e) => { assert.is(e.status, 403); assert.match(e.message, /cannot approve/); });
  const approved = await stores.approvals.vote(rec.id, who('ann', ['g']));
  assert.is(approved.status, 'approved');
  // Ann asks for a run of the same preview later: her own vote no longer counts.
  const again = await stores.approvals.exclude(rec.id, ['ann@contoso.com']);
  assert.is(again.status, 'pending');
  assert.is((await stores.approvals.get(rec.id))?.status, 'pending', 'stored');
});

test('approvals: open requests past their expiry are marked expired when listed or read', async () => {
  const stack = `ap-exp-${Date.now().toString(36)}`;
  const t0 = new Date(Date.now() - 3 * 3600_000);
  const base = { stack, changeSetHash: 'c', desiredStateHash: 'd', liveFingerprint: 'l', requirements: [{ rule: 'r', group: 'g', approvers: 1 }], expiresAfterMinutes: 60 };
  const old = await stores.approvals.request({ ...base, runId: newRunId(t0.getTime()), now: t0 });
  assert.is(old.status, 'pending');
  const pending = await stores.approvals.list({ status: 'pending', stack });
  assert.equal(pending.map((r) => r.id), [], 'an expired request is not pending');
  assert.equal((await stores.approvals.list({ status: 'expired', stack })).map((r) => [r.id, r.status]), [[old.id, 'expired']]);
  // Across all stacks too (what `nexus approvals --status expired` and the gauge read).
  assert.ok((await stores.approvals.list({ status: 'expired' })).some((r) => r.id === old.id));
  assert.ok(!(await stores.approvals.list({ status: 'pending' })).some((r) => r.id === old.id));
  // A request read by the loop at a later clock expires then.
  const fresh = await stores.approvals.request({ ...base, runId: newRunId(undefined, ids), now: new Date() });
  assert.is((await stores.approvals.latest(stack))?.status, 'pending');
  assert.is((await stores.approvals.latest(stack, new Date(Date.now() + 2 * 3600_000)))?.status, 'expired');
  assert.is((await stores.approvals.get(fresh.id))?.status, 'expired', 'stored, not only computed');
});

test.run();
