// The reconcile routes on the real app and the real stores in Azurite, with tokens from the
// local issuer: who may read, reconcile, switch the kill switch, approve and override.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { harness, type Harness } from '../harness.ts';
import { storageConfig } from '../../../../functions/platform/storage-config.ts';
import { createLogger } from '../../../../functions/platform/logger.ts';
import { defaultDeps } from '../../../../functions/reconcile/deps.ts';
import { parseGuardrails } from '../../../../functions/reconcile/guardrails.ts';
import { Reconciler } from '../../../../functions/reconcile/loop.ts';
import { ReconcileService } from '../../../../functions/reconcile/service.ts';
import { newRunId, openStores, type ReconcileStores } from '../../../../functions/reconcile/store/index.ts';
import type { RunRecord } from '../../../../functions/reconcile/model.ts';
import type { DesiredState } from '../../../../stacks/compile/model.ts';
import { loadConfig } from '../../../../functions/runtime/config.ts';
import { partsFrom } from '../../../helpers/config.ts';
import { NewestFirstKeys } from '../../../../functions/platform/tables.ts';

// Run ids in the order this test makes them (a reconciler's own key source orders its runs so).
const ids = new NewestFirstKeys();

let h: Harness;
let stores: ReconcileStores;
const STACK = `rcapi${Date.now().toString(36)}`;

const state: DesiredState = {
  tenantRootId: 'tenant', rootManagementGroupId: STACK, location: 'westeurope', resources: [], findings: [],
  stacks: [{ name: STACK, managementGroupId: STACK, resourceIds: [] }],
};

test.before(async () => {
  h = await harness();
  stores = await openStores(storageConfig(loadConfig(h.env).storage));
  const deps = await defaultDeps(partsFrom({ ...process.env, ...h.env }), {
    stores, compile: async () => state, guardrails: async () => parseGuardrails({}), logger: createLogger({ level: 'silent' }),
  });
  h.deps.reconcile = new ReconcileService(new Reconciler(deps));
});

const as = async (user: string, roles: Parameters<Harness['token']>[1], groups: string[] = []) => h.token(user, roles, groups);
const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as any });

function run(p: Partial<RunRecord> = {}): RunRecord {
  return {
    id: newRunId(undefined, ids), stack: STACK, trigger: 'timer', dryRun: false, status: 'done', decision: 'blocked', reasons: ['KILL_SWITCH'],
    gates: [{ gate: 'kill-switch', pass: false, reason: 'KILL_SWITCH', details: { message: 'kill switch is on', by: 'x' } }],
    counts: { create: 1, update: 0, replace: 0, delete: 0, same: 0 }, timings: { startedAt: new Date().toISOString() }, holderId: 'h', ...p,
  };
}

test('runs and stacks: any signed-in role reads them, newest first, with every gate', async () => {
  const a = run({ decision: 'applied', reasons: [] });
  const b = run();
  await stores.runs.save(a);
  await stores.runs.save(b);
  await stores.runs.putDetail({ run: b, engineOutput: ['x'] });
  await stores.runs.updateStack(STACK, (s) => ({ ...s, lastRunId: b.id, lastDecision: 'blocked' }));
  const dev = await as('dev', ['Developer']);
  const list = await json(await h.call('GET', `/api/v1/stacks/${STACK}/runs`, { token: dev }));
  assert.is(list.status, 200);
  assert.equal(list.body.runs.map((r: RunRecord) => r.id), [b.id, a.id]);
  assert.equal(Object.keys(list.body.runs[0]).filter((k) => ['id', 'stack', 'trigger', 'decision', 'reasons'].includes(k)).sort(), ['decision', 'id', 'reasons', 'stack', 'trigger']);
  const one = await json(await h.call('GET', `/api/v1/runs/${b.id}`, { token: dev }));
  assert.is(one.status, 200);
  assert.is(one.body.gates[0].details.by, 'x');
  assert.equal(one.body.engineOutput, ['x']);
  assert.is((await h.call('GET', `/api/v1/runs/${newRunId(undefined, ids)}`, { token: dev })).status, 404);
  const bad = await json(await h.call('GET', '/api/v1/runs/not-a-run', { token: dev }));
  assert.is(bad.status, 400);
  assert.is(bad.body.field, 'path.id');
  const stacks = await json(await h.call('GET', '/api/v1/stacks', { token: dev }));
  const mine = stacks.body.stacks.find((s: { stack: string }) => s.stack === STACK);
  assert.equal([mine.lastRunId, mine.lastDecision, mine.managementGroupId], [b.id, 'blocked', STACK]);
  const all = await json(await h.call('GET', '/api/v1/runs?limit=1', { token: dev }));
  assert.is(all.body.runs.length, 1);
  assert.ok(all.body.cursor);
});

test('manual reconcile: Developers may not apply; an unknown stack is a 404', async () => {
  const dev = await as('dev', ['Developer']);
  const r = await json(await h.call('POST', `/api/v1/stacks/${STACK}/reconcile`, { token: dev, body: {} }));
  assert.is(r.status, 403);
  assert.match(r.body.detail, /reconcile needs one of the roles Admin, PlatformEngineer/);
  const pe = await as('pe', ['PlatformEngineer']);
  const missing = await json(await h.call('POST', '/api/v1/stacks/nope/reconcile', { token: pe, body: { dryRun: true } }));
  assert.is(missing.status, 404);
  assert.match(missing.body.detail, new RegExp(`no stack 'nope'; stacks: ${STACK}`));
  const badBody = await json(await h.call('POST', `/api/v1/stacks/${STACK}/reconcile`, { token: pe, body: { dryrun: true } }));
  assert.is(badBody.status, 400);
});

test('kill switch: Admin only, with a reason, audited', async () => {
  const pe = await as('pe', ['PlatformEngineer']);
  assert.is((await h.call('PUT', '/api/v1/killswitch', { token: pe, body: { on: true, reason: 'x' } })).status, 403);
  const admin = await as('root', ['Admin']);
  const noReason = await json(await h.call('PUT', '/api/v1/killswitch', { token: admin, body: { on: true, reason: '' } }));
  assert.is(noReason.status, 400);
  assert.is(noReason.body.field, 'body.reason');
  const on = await json(await h.call('PUT', '/api/v1/killswitch', { token: admin, body: { on: true, reason: 'incident 7' } }));
  assert.equal([on.status, on.body.on, on.body.by, on.body.reason], [200, true, 'root', 'incident 7']);
  assert.is((await json(await h.call('GET', '/api/v1/killswitch', { token: pe }))).body.on, true);
  await h.call('PUT', '/api/v1/killswitch', { token: admin, body: { on: false, reason: 'resolved' } });
  const audit = await stores.audit.list({ target: 'tenant', limit: 5 });
  assert.equal(audit.slice(0, 2).map((a) => [a.action, a.actor, a.why]), [['killswitch-off', 'root', 'resolved'], ['killswitch-on', 'root', 'incident 7']]);
});

test('approvals: listed, never approved by the author or without the role or group; rejected with a reason', async () => {
  const req = (runId: string) => stores.approvals.request({
    stack: STACK, runId, changeSetHash: 'c', desiredStateHash: 'd', liveFingerprint: 'l',
    requirements: [{ rule: 'roles', group: 'platform', approvers: 1 }], author: 'carol', commit: 'abc', now: new Date(), expiresAfterMinutes: 60,
  });
  const first = await req(newRunId(undefined, ids));
  const dev = await as('dev', ['Developer'], ['platform']);
  const listed = await json(await h.call('GET', '/api/v1/approvals', { token: dev }));
  assert.ok(listed.body.approvals.some((a: { id: string }) => a.id === first.id));
  assert.is((await h.call('POST', `/api/v1/approvals/${first.id}/approve`, { token: dev })).status, 403);
  const author = await json(await h.call('POST', `/api/v1/approvals/${first.id}/approve`, { token: await as('carol', ['PlatformEngineer'], ['platform']) }));
  assert.is(author.status, 403);
  assert.match(author.body.detail, /author of commit abc/);
  const outsider = await json(await h.call('POST', `/api/v1/approvals/${first.id}/approve`, { token: await as('eve', ['TeamLead'], ['other']) }));
  assert.is(outsider.status, 403);
  assert.match(outsider.body.detail, /membership of platform/);
  const ok = await json(await h.call('POST', `/api/v1/approvals/${first.id}/approve`, { token: await as('ann', ['TeamLead'], ['platform']) }));
  assert.equal([ok.status, ok.body.approval.status, ok.body.reconcileQueued], [200, 'approved', true]);
  const again = await json(await h.call('POST', `/api/v1/approvals/${first.id}/approve`, { token: await as('bob', ['TeamLead'], ['platform']) }));
  assert.is(again.status, 409);

  const second = await req(newRunId(undefined, ids));
  const rej = await json(await h.call('POST', `/api/v1/approvals/${second.id}/reject`, { token: await as('bob', ['PlatformEngineer'], ['platform']), body: { reason: 'freeze' } }));
  assert.equal([rej.status, rej.body.approval.status, rej.body.approval.reason], [200, 'rejected', 'freeze']);
  const actions = (await stores.audit.list({ target: STACK, limit: 10 })).map((a) => a.action);
  assert.ok(actions.includes('approve') && actions.includes('reject'));
  assert.is((await h.call('POST', `/api/v1/approvals/${newRunId(undefined, ids)}/approve`, { token: await as('ann', ['TeamLead'], ['platform']) })).status, 404);
});

test('approvals past their expiry are listed as expired, not pending', async () => {
  const t0 = new Date(Date.now() - 2 * 3600_000);
  const old = await stores.approvals.request({
    stack: STACK, runId: newRunId(t0.getTime()), changeSetHash: 'c', desiredStateHash: 'd', liveFingerprint: 'l',
    requirements: [{ rule: 'roles', group: 'platform', approvers: 1 }], now: t0, expiresAfterMinutes: 60,
  });
  const dev = await as('dev', ['Developer']);
  const pending = await json(await h.call('GET', '/api/v1/approvals', { token: dev }));
  assert.ok(!pending.body.approvals.some((a: { id: string }) => a.id === old.id));
  const expired = await json(await h.call('GET', '/api/v1/approvals?status=expired', { token: dev }));
  assert.equal(expired.body.approvals.filter((a: { id: string }) => a.id === old.id).map((a: { status: string }) => a.status), ['expired']);
});

test('rate-limit override: Admin only, time-boxed, audited, ended early', async () => {
  const pe = await as('pe', ['PlatformEngineer']);
  assert.is((await h.call('PUT', '/api/v1/ratelimits/override', { token: pe, body: { minutes: 10, reason: 'x' } })).status, 403);
  const admin = await as('root', ['Admin']);
  const tooLong = await json(await h.call('PUT', '/api/v1/ratelimits/override', { token: admin, body: { minutes: 10_000, reason: 'x' } }));
  assert.is(tooLong.status, 400);
  assert.match(tooLong.body.detail, /minutes must be between 1 and 240/);
  const ok = await json(await h.call('PUT', '/api/v1/ratelimits/override', { token: admin, body: { minutes: 10, reason: 'hotfix' } }));
  assert.equal([ok.status, ok.body.override.by, ok.body.override.reason], [200, 'root', 'hotfix']);
  assert.is((await json(await h.call('GET', '/api/v1/ratelimits', { token: pe }))).body.override.reason, 'hotfix');
  assert.is((await h.call('DELETE', '/api/v1/ratelimits/override', { token: admin })).status, 204);
  assert.is((await h.call('DELETE', '/api/v1/ratelimits/override', { token: admin })).status, 404);
  const audit = await stores.audit.list({ target: 'tenant', limit: 5 });
  assert.equal(audit.slice(0, 2).map((a) => a.action), ['ratelimit-override-cleared', 'ratelimit-override']);
});

test('/metrics: Prometheus text for a signed-in caller, with every reconcile metric', async () => {
  assert.is((await h.call('GET', '/metrics')).status, 401);
  const admin = await as('root', ['Admin']);
  await h.call('PUT', '/api/v1/killswitch', { token: admin, body: { on: true, reason: 'scrape check' } });
  try {
    const res = await h.call('GET', '/metrics', { token: await as('dev', ['Developer']) });
    assert.is(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    // The gauges are read from storage at scrape time: the switch just turned on, the open requests.
    assert.match(text, /^nexus_kill_switch_on 1$/m);
    const pending = (await stores.approvals.list({ status: 'pending' })).length;
    assert.match(text, new RegExp(`^nexus_reconcile_pending_approvals ${pending}$`, 'm'));
    for (const m of ['nexus_reconcile_runs_total', 'nexus_reconcile_gate_blocks_total', 'nexus_reconcile_lease_holder_changes_total', 'nexus_reconcile_apply_duration_seconds']) {
      assert.match(text, new RegExp(`^# TYPE ${m} `, 'm'));
    }
  } finally {
    await h.call('PUT', '/api/v1/killswitch', { token: admin, body: { on: false, reason: 'scrape check over' } });
  }
});

test('a forged cursor on the run lists is a 400 naming query.cursor, like /api/v1/entities', async () => {
  const dev = await as('dev', ['Developer']);
  for (let i = 0; i < 3; i++) await stores.runs.save(run());
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64');
  const forged = [
    'not-a-cursor', '%%%', b64({ nextPartitionKey: 1 }), b64(['x']), b64({ nextPartitionKey: 'a', nextRowKey: "b'c\u0000" }),
    b64({ nextPartitionKey: 'a', extra: 'x' }), 'x'.repeat(10_000),
  ];
  for (const path of ['/api/v1/runs', `/api/v1/stacks/${STACK}/runs`]) {
    for (const cursor of forged) {
      const res = await json(await h.call('GET', `${path}?limit=1&cursor=${encodeURIComponent(cursor)}`, { token: dev }));
      assert.is(res.status, 400, `${path} ${cursor.slice(0, 40)}: ${JSON.stringify(res.body)}`);
      assert.is(res.body.field, 'query.cursor');
    }
    // A cursor this API handed out still pages on.
    const first = await json(await h.call('GET', `${path}?limit=1`, { token: dev }));
    assert.ok(first.body.cursor, 'a first page of one run has a cursor');
    const next = await json(await h.call('GET', `${path}?limit=1&cursor=${encodeURIComponent(first.body.cursor)}`, { token: dev }));
    assert.is(next.status, 200, JSON.stringify(next.body));
    assert.is.not(next.body.runs[0]?.id, first.body.runs[0].id);
  }
  const entities = await json(await h.call('GET', '/api/v1/entities?cursor=not-a-cursor', { token: dev }));
  assert.equal([entities.status, entities.body.field], [400, 'query.cursor']);
});

test.run();
