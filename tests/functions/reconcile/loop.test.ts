// The loop with the real engine, Azurite and the ARM sandbox: every gate blocks or lets through
// with its reason recorded, the kill switch is re-read before apply, approvals are pinned.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { liveParts, releaseLive, unique, type Live } from './live.ts';
import { mergeStates, mg, smallState } from './state-fixture.ts';
import type { ReconcileResult } from '../../../functions/reconcile/loop.ts';
import type { RunRecord } from '../../../functions/reconcile/model.ts';
import type { Principal } from '../../../functions/platform/identity.ts';
import { ApprovalError } from '../../../functions/reconcile/store/approvals.ts';
import { BlobLease } from '../../../functions/platform/leases.ts';
import { createLogger } from '../../../functions/platform/logger.ts';
import { Writable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitAuthor, trackedCommit } from '../../../functions/reconcile/tracked-commit.ts';
import { RateLimitStore } from '../../../functions/reconcile/store/ratelimits.ts';
import { DEFAULT_GUARDRAILS_FILE, loadGuardrails } from '../../../functions/reconcile/guardrails.ts';
import { GATE_NAMES } from '../../../functions/reconcile/gates/index.ts';
import { SettingsStore } from '../../../functions/reconcile/store/settings.ts';

let L: Live;
test.before(async () => { L = await liveParts(); });
test.after(() => releaseLive());

const allowRc = { scopes: { allow: { managementGroups: ['rc*'] } } };

function done(r: ReconcileResult): RunRecord {
  assert.is(r.status, 'done', JSON.stringify(r));
  return (r as { run: RunRecord }).run;
}
const gate = (run: RunRecord, name: string) => run.gates.find((g) => g.gate === name)!;

test('applies a new stack, then finds nothing to change; both runs and the apply are recorded', async () => {
  const name = unique('rcapply');
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l)); cb(); } });
  const rec = await L.reconciler(() => smallState({ tenantRoot: L.tenantRoot, name, assignments: 2 }), allowRc, { logger: createLogger({ level: 'debug', destination }) });
  const first = done(await rec.reconcile({ stack: name, trigger: 'manual', commit: 'c1' }));
  assert.is(first.decision, 'applied', first.error);
  assert.equal(first.reasons, []);
  assert.equal(first.gates.map((g) => g.gate), GATE_NAMES);
  assert.is(first.counts.create, 3);
  assert.ok(await L.exists(`${mg(name)}/providers/Microsoft.Authorization/policyAssignments/rc-audit-1`, '2022-06-01'));
  const second = done(await rec.reconcile({ stack: name, trigger: 'timer' }));
  assert.is(second.decision, 'no-change');
  // No commit named by the trigger: the checkout's own.
  assert.match(second.commit ?? '', /^[0-9a-f]{40}(\+dirty)?$/);
  assert.is(second.counts.same, 3);
  const stored = await L.stores.runs.list({ stack: name });
  assert.equal(stored.runs.map((r) => r.decision), ['no-change', 'applied']);
  assert.is((await L.stores.runs.getDetail(first.id))?.apply?.kind, 'up');
  const audit = await L.stores.audit.list({ target: name });
  assert.equal(audit.map((a) => a.action), ['apply']);
  assert.is(audit[0].runId, first.id);
  assert.is((await L.stores.runs.stack(name))?.currentRunId, undefined);
  // Structured logs: every line of both runs carries its run id and the stack.
  assert.ok(lines.length >= 6, `${lines.length} lines`);
  for (const l of lines) assert.ok(l.stack === name && (l.runId === first.id || l.runId === second.id), JSON.stringify(l));
  assert.ok(lines.some((l) => l.msg === 'run recorded' && l.decision === 'applied'));
});

test('kill switch (settings, then environment): preview runs, nothing is applied, reason KILL_SWITCH', async () => {
  const name = unique('rckill');
  const rec = await L.reconciler(() => smallState({ tenantRoot: L.tenantRoot, name, assignments: 1 }), allowRc);
  await L.stores.settings.setKillSwitch(true, 'admin@contoso.com', 'test incident');
  try {
    const run = done(await rec.reconcile({ stack: name, trigger: 'manual' }));
    assert.is(run.decision, 'blocked');
    assert.equal(run.reasons, ['KILL_SWITCH']);
    assert.is(run.counts.create, 2, 'the preview still ran');
    assert.match(gate(run, 'kill-switch').details.message, /admin@contoso\.com/);
  } finally {
    await L.stores.settings.setKillSwitch(false, 'admin@contoso.com', 'over');
  }
  assert.is(await L.exists(mg(name)), false);
  const envRec = await L.reconciler(() => smallState({ tenantRoot: L.tenantRoot, name, assignments: 1 }), allowRc, { stores: { ...L.stores, settings: await SettingsStore.open(L.stores.cfg, { forced: true }) } });
  const run = done(await envRec.reconcile({ stack: name, trigger: 'manual' }));
  assert.equal([run.decision, run.reasons], ['blocked', ['KILL_SWITCH']]);
  assert.is(await L.exists(mg(name)), false);
  assert.ok((await L.stores.audit.list({ target: name })).every((a) => a.action === 'block'));
});

test('the kill switch is read again right before apply', async () => {
  const name = unique('rckill2');
  const base = await L.reconciler(() => smallState({ tenantRoot: L.tenantRoot, name, assignments: 1 }), allowRc);
  // The guardrails are read after the preview; an Admin flips the switch at that moment.
  const rec = await L.reconciler(() => smallState({ tenantRoot: L.tenantRoot, name, assignments: 1 }), allowRc, {
    guardrails: async () => {
      await L.stores.settings.setKillSwitch(true, 'admin@contoso.com', 'mid-run');
      return base.deps.guardrails();
    },
  });
  try {
    const run = done(await rec.reconcile({ stack: name, trigger: 'manual' }));
    assert.equal([run.decision, run.reasons], ['blocked', ['KILL_SWITCH']]);
    assert.is(gate(run, 'kill-switch').details.atApply, true);
    // The kill-switch gate's own verdict, not a copy made at apply.
    assert.match(gate(run, 'kill-switch').details.message, /^kill switch is on: admin@contoso\.com \(mid-run\)$/);
    assert.equal(run.gates.map((g) => g.gate), GATE_NAMES);
  } finally {
    await L.stores.settings.setKillSwitch(false, 'admin@contoso.com', 'over');
  }
  assert.is(await L.exists(mg(name)), false);
});

test('a lease lost during the run stops it before apply; the run is recorded as interrupted', async () => {
  const name = unique('rclost');
  const base = await L.reconciler(() => smallState({ tenantRoot: L.tenantRoot, name, assignments: 1 }), allowRc);
  const other = new BlobLease({ blob: name, holderId: 'other-instance', durationSeconds: 15, cfg: L.stores.cfg });
  // After the preview (when the guardrails are read) another instance breaks the lease and takes
  // the stack, sooner than the background renewal would notice.
  const rec = await L.reconciler(() => smallState({ tenantRoot: L.tenantRoot, name, assignments: 1 }), allowRc, {
    guardrails: async () => {
      await other.break();
      assert.ok(await other.acquire(), 'the other instance takes the stack');
      return base.deps.guardrails();
    },
  });
  try {
    const run = done(await rec.reconcile({ stack: name, trigger: 'manual' }));
    assert.equal([run.decision, run.reasons], ['interrupted', ['LEASE_LOST']]);
    assert.ok(run.gates.every((g) => g.pass), 'every gate had passed: only the lease stopped it');
    assert.is(await L.exists(mg(name)), false);
    assert.equal((await L.stores.audit.list({ target: name })).map((a) => [a.action, a.runId]), [['run-interrupted', run.id]]);
    assert.is((await other.holder()).holderId, 'other-instance', 'the new holder keeps the stack');
  } finally {
    await other.release();
  }
});

test('scope guardrails: a denied group and the tenant root are refused per resource', async () => {
  const name = unique('rcdeny');
  const rec = await L.reconciler(() => smallState({ tenantRoot: L.tenantRoot, name, assignments: 1 }),
    { scopes: { allow: { managementGroups: ['rc*'] }, deny: { managementGroups: [name] } } });
  const run = done(await rec.reconcile({ stack: name, trigger: 'manual' }));
  assert.equal([run.decision, run.reasons], ['blocked', ['SCOPE_DENIED']]);
  assert.is(await L.exists(mg(name)), false);

  // A stack with a resource at the tenant root group, even with every group allowed.
  const rootName = unique('rcroot');
  const state = smallState({ tenantRoot: L.tenantRoot, name: rootName, assignments: 1 });
  const pa = state.resources.find((r) => r.kind === 'policyAssignment')!;
  pa.scope = mg(L.tenantRoot);
  pa.id = `${mg(L.tenantRoot)}/providers/Microsoft.Authorization/policyAssignments/${rootName}`;
  state.stacks[0].resourceIds = state.resources.map((r) => r.id);
  const rootRec = await L.reconciler(() => state, { scopes: { allow: { managementGroups: ['*'] } } });
  const rootRun = done(await rootRec.reconcile({ stack: rootName, trigger: 'manual' }));
  assert.equal([rootRun.decision, rootRun.reasons], ['blocked', ['TENANT_ROOT']]);
  assert.is(await L.exists(pa.id, '2022-06-01'), false);
});

test('scope guardrails: a group inside a denied group is denied too (hierarchy from the desired state)', async () => {
  const parent = unique('rcdparent');
  const child = unique('rcdchild');
  const state = mergeStates([
    smallState({ tenantRoot: L.tenantRoot, name: parent, assignments: 0 }),
    smallState({ tenantRoot: L.tenantRoot, name: child, assignments: 1, parent }),
  ]);
  const rec = await L.reconciler(() => state, { scopes: { allow: { managementGroups: ['rc*'] }, deny: { managementGroups: [parent] } } });
  const run = done(await rec.reconcile({ stack: child, trigger: 'manual' }));
  assert.equal([run.decision, run.reasons], ['blocked', ['SCOPE_DENIED']]);
  assert.match(gate(run, 'scope-guardrails').details.message, new RegExp(child));
  assert.is(await L.exists(mg(child)), false);
});

test('blast radius: too many changes of one kind in one run are refused', async () => {
  const name = unique('rcblast');
  const rec = await L.reconciler(() => smallState({ tenantRoot: L.tenantRoot, name, assignments: 3 }),
    { ...allowRc, blastRadius: { maxChangesPerRun: { policyAssignments: 2 } } });
  const run = done(await rec.reconcile({ stack: name, trigger: 'manual' }));
  assert.equal([run.decision, run.reasons], ['blocked', ['BLAST_RADIUS_EXCEEDED']]);
  assert.match(gate(run, 'blast-radius').details.message, /3 policyAssignments changes \(max 2/);
  assert.is(await L.exists(mg(name)), false);
});

test('rate limits: refused past the interval limit with a cooldown; an Admin override lets it through', async () => {
  const name = unique('rcrate');
  const snap = await L.stores.rateLimits.snapshot();
  const used = snap.counters.managementGroups?.count ?? 0;
  // Room for no more group changes than other tests already made this hour; a short cooldown.
  const tight = { ...allowRc, rateLimits: { cooldownMinutes: 1, maxChangesPerInterval: { managementGroups: used } } };
  const rec = await L.reconciler(() => smallState({ tenantRoot: L.tenantRoot, name, assignments: 0 }), tight);
  const run = done(await rec.reconcile({ stack: name, trigger: 'manual' }));
  assert.equal([run.decision, run.reasons], ['blocked', ['RATE_LIMIT']]);
  const after = await L.stores.rateLimits.snapshot();
  assert.ok(after.counters.managementGroups?.cooldownUntil, 'the cooldown started');
  const again = done(await rec.reconcile({ stack: name, trigger: 'manual' }));
  assert.equal(again.reasons, ['RATE_LIMIT_COOLDOWN']);
  assert.is(await L.exists(mg(name)), false);
  await L.stores.rateLimits.setOverride({ minutes: 5, reason: 'test', by: 'admin' }, (await rec.deps.guardrails()).rateLimits);
  try {
    const ok = done(await rec.reconcile({ stack: name, trigger: 'manual' }));
    assert.is(ok.decision, 'applied', ok.error);
    assert.is(gate(ok, 'rate-limits').reason, 'RATE_LIMIT_OVERRIDDEN');
  } finally {
    await L.stores.rateLimits.clearOverride();
  }
  assert.ok(await L.exists(mg(name)));
});

/** A group with a policy assignment that has a managed identity, and the role assignment that identity needs. */
function identityState(name: string) {
  const state = smallState({ tenantRoot: L.tenantRoot, name, assignments: 2 });
  const pa = state.resources.find((r) => r.name === 'rc-audit-0')!;
  pa.body.identity = { type: 'SystemAssigned' };
  pa.body.location = 'westeurope';
  state.resources.push({
    ...pa, kind: 'roleAssignment', type: 'Microsoft.Authorization/roleAssignments', apiVersion: '2022-04-01',
    id: `${mg(name)}/providers/Microsoft.Authorization/roleAssignments/6a0b1c2d-0000-4000-8000-000000000001`,
    name: '6a0b1c2d-0000-4000-8000-000000000001', dependsOn: [pa.id],
    body: { properties: { roleDefinitionId: '/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7', principalId: { $ref: pa.id, output: 'identity.principalId' } as never, principalType: 'ServicePrincipal' } },
  });
  state.stacks[0].resourceIds = state.resources.map((r) => r.id);
  return { state, pa };
}

/** Stores with rate counters of their own: the shipped limits must not meet other tests' cooldowns. */
async function ownCounters() {
  return { stores: { ...L.stores, rateLimits: await RateLimitStore.open(L.stores.cfg, `ratelimits${unique('own')}`) } };
}

test('preview reliability (shipped config): an unknown elsewhere fails closed, or degrades to report-only', async () => {
  const name = unique('rcunk');
  const shipped = await loadGuardrails(DEFAULT_GUARDRAILS_FILE);
  const { state, pa } = identityState(name);
  // The second assignment's description is the first one's identity: unknown at preview time, and
  // not the role-assignment principal the shipped config tolerates.
  const other = state.resources.find((r) => r.name === 'rc-audit-1')!;
  other.body.properties.description = { $ref: pa.id, output: 'identity.principalId' } as never;
  other.dependsOn = [...other.dependsOn, pa.id];
  const own = await ownCounters();
  const closed = await L.reconciler(() => state, { ...shipped, scopes: allowRc.scopes }, own);
  const run = done(await closed.reconcile({ stack: name, trigger: 'manual' }));
  assert.equal([run.decision, run.reasons], ['blocked', ['PREVIEW_UNRELIABLE']], JSON.stringify(gate(run, 'preview-reliability').details));
  assert.match(gate(run, 'preview-reliability').details.message, /unknown value at properties\.description/);
  const issues = gate(run, 'preview-reliability').details.issues as { message: string }[];
  assert.ok(!issues.some((i) => /principalId/.test(i.message)), 'the identity principal itself is tolerated');
  const reportOnly = await L.reconciler(() => state, { ...shipped, scopes: allowRc.scopes, previewReliability: { ...shipped.previewReliability, onExceed: 'report-only' } }, own);
  const run2 = done(await reportOnly.reconcile({ stack: name, trigger: 'manual' }));
  assert.equal([run2.decision, run2.reasons], ['report-only', ['PREVIEW_UNRELIABLE_REPORT_ONLY']]);
  assert.is(await L.exists(mg(name)), false);
});

test("preview reliability (shipped config): a policy identity's role assignment in the same run applies; with `count` it fails closed", async () => {
  const name = unique('rcident');
  const shipped = await loadGuardrails(DEFAULT_GUARDRAILS_FILE);
  const { state } = identityState(name);
  const own = await ownCounters();
  const strict = await L.reconciler(() => state, { ...shipped, scopes: allowRc.scopes, previewReliability: { ...shipped.previewReliability, newPolicyIdentityPrincipals: 'count' } }, own);
  const refused = done(await strict.reconcile({ stack: name, trigger: 'manual' }));
  assert.equal([refused.decision, refused.reasons], ['blocked', ['PREVIEW_UNRELIABLE']]);
  assert.match(gate(refused, 'preview-reliability').details.message, /principalId/);
  const rec = await L.reconciler(() => state, { ...shipped, scopes: allowRc.scopes }, own);
  const run = done(await rec.reconcile({ stack: name, trigger: 'manual' }));
  assert.is(run.decision, 'applied', `${run.error} ${JSON.stringify(run.gates.filter((g) => !g.pass))}`);
  assert.ok(await L.exists(`${mg(name)}/providers/Microsoft.Authorization/roleAssignments/6a0b1c2d-0000-4000-8000-000000000001`, '2022-04-01'));
});

const person = (id: string, groups: string[]): Principal => ({ id, name: id, email: `${id}@contoso.com`, roles: ['PlatformEngineer'], groups });

/** A Git repository whose one commit Carol Smith wrote: the tracked commit of the runs below. */
function carolsCheckout(): string {
  const repo = mkdtempSync(join(tmpdir(), 'nexus-rc-author-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo }).toString().trim();
  git('init', '-q');
  writeFileSync(join(repo, 'archetypes.yaml'), 'x: 1\n');
  git('add', '.');
  git('-c', 'user.name=Carol Smith', '-c', 'user.email=carol@contoso.com', 'commit', '-qm', 'carol changes roles');
  return repo;
}

test('approvals: held with the change set pinned; the Git author and the requester cannot approve; approved runs apply', async () => {
  const name = unique('rcappr');
  const repo = carolsCheckout();
  const guard = { ...allowRc, approvals: { rules: [{ name: 'roles', kinds: ['roleAssignments' as const], group: 'platform', approvers: 1 }] } };
  const rec = await L.reconciler(() => smallState({ tenantRoot: L.tenantRoot, name, assignments: 1, roleAssignment: '7a0b1c2d-0000-4000-8000-000000000001' }), guard, {
    trackedCommit: () => trackedCommit(repo), commitAuthor: (c) => commitAuthor(repo, c),
  });
  // The caller's claim of who wrote the commit does not replace what Git says.
  const held = done(await rec.reconcile({ stack: name, trigger: 'manual', author: 'mallory@contoso.com', requestedBy: 'rita@contoso.com' }));
  assert.equal([held.decision, held.reasons], ['pending-approval', ['APPROVAL_REQUIRED']]);
  assert.equal([held.author, held.authorSource], ['Carol Smith <carol@contoso.com>', 'git']);
  assert.is(held.approvalId, held.id);
  assert.is(await L.exists(mg(name)), false);
  const pending = await L.stores.approvals.get(held.id);
  assert.equal([pending?.status, pending?.changeSetHash, pending?.author, pending?.requestedBy], ['pending', held.changeSetHash, 'Carol Smith <carol@contoso.com>', 'rita@contoso.com']);

  // A timer run of the same preview (no requester) keeps the same request and still knows the author.
  const still = done(await rec.reconcile({ stack: name, trigger: 'timer' }));
  assert.equal([still.decision, still.reasons, still.approvalId, still.author], ['pending-approval', ['APPROVAL_PENDING'], held.id, held.author]);

  const refused = (p: Principal, re: RegExp) => L.stores.approvals.vote(held.id, p).then(() => assert.unreachable(), (e) => { assert.instance(e, ApprovalError); assert.match(e.message, re); });
  await refused({ id: 'c1', name: 'Carol Smith', email: 'c.smith@fabrikam.com', roles: ['PlatformEngineer'], groups: ['platform'] }, /author of commit/);
  await refused(person('carol', ['platform']), /author of commit/);
  await refused(person('rita', ['platform']), /requested run/);
  const approved = await L.stores.approvals.vote(held.id, person('ann', ['platform']));
  assert.is(approved.status, 'approved');
  const applied = done(await rec.reconcile({ stack: name, trigger: 'approval' }));
  assert.is(applied.decision, 'applied', applied.error);
  assert.is(gate(applied, 'approvals').reason, 'APPROVED');
  assert.is(applied.approvalId, held.id);
  assert.is((await L.stores.approvals.get(held.id))?.status, 'applied');
  assert.ok(await L.exists(`${mg(name)}/providers/Microsoft.Authorization/roleAssignments/7a0b1c2d-0000-4000-8000-000000000001`, '2022-04-01'));
});

const rolesRule = (approvers = 1) => ({ ...allowRc, approvals: { rules: [{ name: 'roles', kinds: ['roleAssignments' as const], group: 'platform', approvers }] } });

test('with no known author (no Git checkout, a timer run) one approver is not enough: two distinct ones, AUTHOR_UNKNOWN recorded', async () => {
  const name = unique('rcnoauth');
  const role = '7d0b1c2d-0000-4000-8000-000000000001';
  // A deployed package: no checkout, so no commit and no author; a timer run has no requester.
  const rec = await L.reconciler(() => smallState({ tenantRoot: L.tenantRoot, name, assignments: 0, roleAssignment: role }), rolesRule(1), {
    trackedCommit: async () => undefined,
  });
  const held = done(await rec.reconcile({ stack: name, trigger: 'timer' }));
  assert.equal([held.decision, held.reasons, held.author], ['pending-approval', ['APPROVAL_REQUIRED', 'AUTHOR_UNKNOWN'], undefined]);
  assert.match(gate(held, 'approvals').details.message, /2 from platform \(roles; AUTHOR_UNKNOWN/);
  const request = await L.stores.approvals.get(held.approvalId!);
  assert.equal([request?.requirements[0].approvers, request?.requirements[0].raisedBy, request?.reasons], [2, 'AUTHOR_UNKNOWN', ['AUTHOR_UNKNOWN']]);
  // The unknown author may be ann: her vote alone approves nothing.
  assert.is((await L.stores.approvals.vote(held.approvalId!, person('ann', ['platform']))).status, 'pending');
  const waiting = done(await rec.reconcile({ stack: name, trigger: 'timer' }));
  assert.equal([waiting.decision, waiting.reasons, waiting.approvalId], ['pending-approval', ['APPROVAL_PENDING', 'AUTHOR_UNKNOWN'], held.approvalId]);
  assert.is(await L.exists(mg(name)), false);
  assert.is((await L.stores.approvals.vote(held.approvalId!, person('bob', ['platform']))).status, 'approved');
  const applied = done(await rec.reconcile({ stack: name, trigger: 'approval' }));
  assert.is(applied.decision, 'applied', applied.error);
  assert.is(applied.approvalId, held.approvalId);
  assert.is((await L.stores.approvals.get(held.approvalId!))?.status, 'applied');
  assert.ok(await L.exists(`${mg(name)}/providers/Microsoft.Authorization/roleAssignments/${role}`, '2022-04-01'));
});

test("a failed author lookup is not remembered: the next run reads the commit's author again", async () => {
  const name = unique('rcauthretry');
  const repo = carolsCheckout();
  let calls = 0;
  const rec = await L.reconciler(() => smallState({ tenantRoot: L.tenantRoot, name, assignments: 0, roleAssignment: '7e0b1c2d-0000-4000-8000-000000000001' }), rolesRule(1), {
    trackedCommit: () => trackedCommit(repo),
    // Git times out once (a busy machine), then answers.
    commitAuthor: async (c) => { if (calls++ === 0) throw new Error('git timed out'); return commitAuthor(repo, c); },
  });
  const first = done(await rec.reconcile({ stack: name, trigger: 'timer', dryRun: true }));
  assert.equal([first.author, first.reasons], [undefined, ['APPROVAL_REQUIRED', 'AUTHOR_UNKNOWN']]);
  const second = done(await rec.reconcile({ stack: name, trigger: 'timer', dryRun: true }));
  assert.equal([second.author, second.authorSource, second.reasons], ['Carol Smith <carol@contoso.com>', 'git', ['APPROVAL_REQUIRED']]);
  assert.is(calls, 2);
  // A found author is remembered.
  done(await rec.reconcile({ stack: name, trigger: 'timer', dryRun: true }));
  assert.is(calls, 2);
});

test("a reused request also refuses the later run's requester (persisted)", async () => {
  const name = unique('rcreuse');
  const repo = carolsCheckout();
  const rec = await L.reconciler(() => smallState({ tenantRoot: L.tenantRoot, name, assignments: 0, roleAssignment: '7f0b1c2d-0000-4000-8000-000000000001' }), rolesRule(1), {
    trackedCommit: () => trackedCommit(repo), commitAuthor: (c) => commitAuthor(repo, c),
  });
  const held = done(await rec.reconcile({ stack: name, trigger: 'manual', requestedBy: 'rita@contoso.com' }));
  assert.is(held.decision, 'pending-approval');
  // Bob asks for the same preview: the open request is kept, and Bob may not approve it.
  const again = done(await rec.reconcile({ stack: name, trigger: 'manual', requestedBy: 'bob@contoso.com' }));
  assert.equal([again.decision, again.approvalId], ['pending-approval', held.id]);
  const stored = await L.stores.approvals.get(held.id);
  assert.ok(['rita@contoso.com', 'bob@contoso.com', 'carol@contoso.com'].every((i) => stored?.excluded?.includes(i)), JSON.stringify(stored?.excluded));
  await L.stores.approvals.vote(held.id, person('bob', ['platform'])).then(() => assert.unreachable(), (e) => {
    assert.instance(e, ApprovalError); assert.is(e.status, 403); assert.match(e.message, /cannot approve/);
  });
  assert.is((await L.stores.approvals.get(held.id))?.status, 'pending');
  assert.is(await L.exists(mg(name)), false);
});

test('the approval is read again right before apply: a rejection during rate-limit consumption stops the apply and stands', async () => {
  const name = unique('rcrejapply');
  const real = await RateLimitStore.open(L.stores.cfg, `ratelimitsrej${Date.now().toString(36)}`);
  let approvalId = '';
  // Real counters in Azurite; a platform engineer rejects the approved request while this instance is consuming.
  const rateLimits = Object.assign(Object.create(real) as RateLimitStore, {
    consume: async (...args: Parameters<RateLimitStore['consume']>) => {
      if (approvalId) await L.stores.approvals.reject(approvalId, person('pat', ['platform']), 'not now');
      return real.consume(...args);
    },
  });
  const rec = await L.reconciler(() => smallState({ tenantRoot: L.tenantRoot, name, assignments: 0, roleAssignment: '7a1b1c2d-0000-4000-8000-000000000001' }), rolesRule(1), {
    stores: { ...L.stores, rateLimits },
  });
  const held = done(await rec.reconcile({ stack: name, trigger: 'manual' }));
  assert.is(held.decision, 'pending-approval');
  assert.is((await L.stores.approvals.vote(held.id, person('ann', ['platform']))).status, 'approved');
  approvalId = held.id;
  const run = done(await rec.reconcile({ stack: name, trigger: 'approval' }));
  assert.equal([run.decision, run.reasons, run.approvalId], ['blocked', ['APPROVAL_REJECTED'], held.id]);
  assert.is(gate(run, 'approvals').details.atApply, true);
  assert.match(gate(run, 'approvals').details.message, /rejected by pat@contoso\.com: not now/);
  const after = await L.stores.approvals.get(held.id);
  assert.equal([after?.status, after?.rejectedBy], ['rejected', 'pat@contoso.com'], 'not overwritten by applied');
  assert.is(await L.exists(mg(name)), false);
});

test('an approval given under looser rules does not apply once the rules need more approvers', async () => {
  const name = unique('rctight');
  const rule = (approvers: number) => ({ ...allowRc, approvals: { rules: [{ name: 'roles', kinds: ['roleAssignments' as const], group: 'platform', approvers }] } });
  const state = () => smallState({ tenantRoot: L.tenantRoot, name, assignments: 0, roleAssignment: '7b0b1c2d-0000-4000-8000-000000000001' });
  const loose = await L.reconciler(state, rule(1));
  const held = done(await loose.reconcile({ stack: name, trigger: 'manual' }));
  assert.is(held.decision, 'pending-approval');
  assert.is((await L.stores.approvals.vote(held.id, person('ann', ['platform']))).status, 'approved');
  const tight = await L.reconciler(state, rule(2));
  const run = done(await tight.reconcile({ stack: name, trigger: 'approval' }));
  assert.equal([run.decision, run.reasons], ['pending-approval', ['APPROVAL_STALE']]);
  assert.match(gate(run, 'approvals').details.message, /requirements moved/);
  assert.is(await L.exists(mg(name)), false);
  const next = await L.stores.approvals.get(run.approvalId!);
  assert.equal([next?.status, next?.requirements[0].approvers], ['pending', 2]);
});

test('a stale approval is refused: the desired state moved after the approved preview', async () => {
  const name = unique('rcstale');
  let version = 'v1';
  const guard = { ...allowRc, approvals: { rules: [{ name: 'roles', kinds: ['roleAssignments' as const], group: 'platform', approvers: 1 }] } };
  const rec = await L.reconciler(() => smallState({ tenantRoot: L.tenantRoot, name, assignments: 1, version, roleAssignment: '8a0b1c2d-0000-4000-8000-000000000001' }), guard);
  const held = done(await rec.reconcile({ stack: name, trigger: 'manual' }));
  assert.is(held.decision, 'pending-approval');
  await L.stores.approvals.vote(held.id, person('ann', ['platform']));
  version = 'v2';
  const stale = done(await rec.reconcile({ stack: name, trigger: 'approval' }));
  assert.equal([stale.decision, stale.reasons], ['pending-approval', ['APPROVAL_STALE']]);
  assert.match(gate(stale, 'approvals').details.message, /stale \(.*desiredState.*\)/);
  assert.is(await L.exists(mg(name)), false);
  assert.is((await L.stores.approvals.get(held.id))?.status, 'superseded');
  assert.is((await L.stores.approvals.get(stale.id))?.status, 'pending', 'a new request for the new preview');
});

test('an approval no longer applies once it expired, or once the live state moved', async () => {
  const name = unique('rcmoved');
  const role = '9a0b1c2d-0000-4000-8000-000000000001';
  let withRole = false;
  const guard = { ...allowRc, approvals: { expiresAfterMinutes: 60, rules: [{ name: 'roles', kinds: ['roleAssignments' as const], group: 'platform', approvers: 1 }] } };
  const state = () => smallState({ tenantRoot: L.tenantRoot, name, assignments: 1, ...(withRole ? { roleAssignment: role } : {}) });
  const rec = await L.reconciler(state, guard);
  assert.is(done(await rec.reconcile({ stack: name, trigger: 'manual' })).decision, 'applied');
  withRole = true;
  const held = done(await rec.reconcile({ stack: name, trigger: 'manual' }));
  assert.is(held.decision, 'pending-approval');
  await L.stores.approvals.vote(held.id, person('ann', ['platform']));

  // Two hours later (the approval lasts one): a new request for the same preview.
  const later = await L.reconciler(state, guard, { now: () => new Date(Date.now() + 2 * 3600_000) });
  const expired = done(await later.reconcile({ stack: name, trigger: 'approval' }));
  assert.equal([expired.decision, expired.reasons], ['pending-approval', ['APPROVAL_EXPIRED']]);
  assert.match(gate(expired, 'approvals').details.message, /expired at/);
  assert.is.not(expired.approvalId, held.id);
  assert.is((await L.stores.approvals.get(held.id))?.status, 'expired', 'marked when the gate saw it');
  assert.ok((await L.stores.approvals.list({ status: 'expired', stack: name })).some((a) => a.id === held.id));
  await L.stores.approvals.vote(expired.approvalId!, person('ann', ['platform']));

  // Someone edits the applied assignment behind Nexus's back: the approved preview is stale.
  L.sideDoorUpdate(`${mg(name)}/providers/Microsoft.Authorization/policyAssignments/rc-audit-0`, { properties: { enforcementMode: 'DoNotEnforce' } }, 'mallory@contoso.com');
  const moved = done(await rec.reconcile({ stack: name, trigger: 'approval' }));
  assert.equal([moved.decision, moved.reasons], ['pending-approval', ['APPROVAL_STALE']]);
  assert.match(gate(moved, 'approvals').details.message, /stale \(.*liveState.*\)/);
  assert.is(await L.exists(`${mg(name)}/providers/Microsoft.Authorization/roleAssignments/${role}`, '2022-04-01'), false);
});

test('dry run: gates pass, nothing is applied', async () => {
  const name = unique('rcdry');
  const rec = await L.reconciler(() => smallState({ tenantRoot: L.tenantRoot, name, assignments: 1 }), allowRc);
  const run = done(await rec.reconcile({ stack: name, trigger: 'manual', dryRun: true }));
  assert.is(run.decision, 'dry-run');
  assert.ok(run.gates.every((g) => g.pass));
  assert.is(await L.exists(mg(name)), false);
});

test('a dry run that needs approval opens no request and writes nothing an approval could act on', async () => {
  const name = unique('rcdryap');
  const guard = { ...allowRc, approvals: { rules: [{ name: 'roles', kinds: ['roleAssignments' as const], group: 'platform', approvers: 1 }] } };
  const rec = await L.reconciler(() => smallState({ tenantRoot: L.tenantRoot, name, assignments: 0, roleAssignment: '7c0b1c2d-0000-4000-8000-000000000001' }), guard);
  const run = done(await rec.reconcile({ stack: name, trigger: 'manual', dryRun: true }));
  assert.equal([run.decision, run.reasons, run.approvalId], ['dry-run', ['APPROVAL_REQUIRED'], undefined]);
  assert.match(gate(run, 'approvals').details.message, /needs approval: 1 from platform/);
  assert.is(await L.stores.approvals.latest(name), undefined, 'no approval request');
  assert.equal((await L.stores.audit.list({ target: name })).filter((a) => a.action.startsWith('approval')), []);
  assert.is(await L.exists(mg(name)), false);
});

test('a dry run blocked by a rate limit starts no cooldown', async () => {
  const name = unique('rcdryrl');
  const rateLimits = await RateLimitStore.open(L.stores.cfg, `ratelimitsdry${Date.now().toString(36)}`);
  const rec = await L.reconciler(() => smallState({ tenantRoot: L.tenantRoot, name, assignments: 0 }),
    { ...allowRc, rateLimits: { maxChangesPerInterval: { managementGroups: 0 } } }, { stores: { ...L.stores, rateLimits } });
  const run = done(await rec.reconcile({ stack: name, trigger: 'manual', dryRun: true }));
  assert.equal([run.decision, run.reasons], ['blocked', ['RATE_LIMIT']]);
  assert.match(gate(run, 'rate-limits').details.message, /managementGroups: 0 used \+ 1 planned > 0/);
  assert.equal((await rateLimits.snapshot()).counters, {}, 'no counter, no cooldown');
  assert.equal((await L.stores.audit.list({ target: name })).map((a) => a.action), ['block']);
  // The same run for real does start the cooldown.
  done(await rec.reconcile({ stack: name, trigger: 'manual' }));
  assert.ok((await rateLimits.snapshot()).counters.managementGroups?.cooldownUntil);
});

test('the kill switch is read again after the rate counters are consumed, right before apply', async () => {
  const name = unique('rckill3');
  const real = await RateLimitStore.open(L.stores.cfg, `ratelimitskill${Date.now().toString(36)}`);
  // Real counters in Azurite; an Admin turns the switch on while this instance is consuming.
  const rateLimits = Object.assign(Object.create(real) as RateLimitStore, {
    consume: async (...args: Parameters<RateLimitStore['consume']>) => {
      await L.stores.settings.setKillSwitch(true, 'admin@contoso.com', 'during consume');
      return real.consume(...args);
    },
  });
  const rec = await L.reconciler(() => smallState({ tenantRoot: L.tenantRoot, name, assignments: 1 }), allowRc, { stores: { ...L.stores, rateLimits } });
  try {
    const run = done(await rec.reconcile({ stack: name, trigger: 'manual' }));
    assert.equal([run.decision, run.reasons], ['blocked', ['KILL_SWITCH']]);
    assert.is(gate(run, 'kill-switch').details.atApply, true);
    assert.is((await real.snapshot()).counters.managementGroups?.count, 1, 'the counters had been consumed');
  } finally {
    await L.stores.settings.setKillSwitch(false, 'admin@contoso.com', 'over');
  }
  assert.is(await L.exists(mg(name)), false);
});

test('an unknown stack is refused before anything is recorded', async () => {
  const rec = await L.reconciler(() => smallState({ tenantRoot: L.tenantRoot, name: 'rcknown', assignments: 0 }), allowRc);
  await rec.reconcile({ stack: 'nope', trigger: 'manual' }).then(() => assert.unreachable(), (e) => assert.match(e.message, /no stack 'nope'.*rcknown/));
  assert.equal((await L.stores.runs.list({ stack: 'nope' })).runs, []);
});

test.run();
