// The engine end to end: the real Pulumi CLI, state in Azurite (azblob://), resources in the
// ARM sandbox through the arm-rest dynamic provider. One small stack walks through the issue's
// scenarios in order: up, no-change preview, drift, edit, concurrency, dead process, restart.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { azurite } from '../../helpers/azurite.ts';
import { sandbox } from '../../helpers/sandbox.ts';
import { openStack, EngineCanceledError, StackBusyError, PROJECT, type NexusStack } from '../../../stacks/engine/index.ts';
import type { ChangeSet } from '../../../stacks/engine/changeset.ts';
import type { DesiredState } from '../../../stacks/compile/model.ts';
import { listStackLocks, leaseHolderLockClearer, processIsAlive } from '../../../functions/platform/pulumi-locks.ts';
import { BlobLease } from '../../../functions/platform/leases.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { smallState } from './small-state.ts';
import { waitFor } from '../../helpers/wait.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

const test = suite('engine');
const fx = smallState();
let env: Record<string, string>;
let stack: NexusStack;

const open = (state: DesiredState = fx.state, extra: Partial<Parameters<typeof openStack>[0]> = {}) =>
  openStack({ state, stack: fx.stack, resourceBackend: 'arm-rest', env, ...extra });
const changed = (cs: ChangeSet) => cs.changes.filter((c) => c.op !== 'same');
const byId = (cs: ChangeSet, id: string) => cs.changes.find((c) => c.armId === id);

async function waitForLock(): Promise<void> {
  await waitFor(async () => (await listStackLocks({ project: PROJECT, stack: fx.stack, cfg: storageConfig(loadConfig(env).storage) })).length > 0,
    { what: `a Pulumi lock on stack ${fx.stack}`, timeoutMs: 30_000 });
}

/** Runs stack-process.ts in a new process; resolves with its ChangeSet (or rejects with stderr). */
function inOtherProcess(op: 'preview' | 'up', opts: { onStart?: (pid: number) => void } = {}) {
  const stateFile = join(mkdtempSync(join(tmpdir(), 'nexus-engine-test-')), 'state.json');
  writeFileSync(stateFile, JSON.stringify(fx.state));
  const script = fileURLToPath(new URL('./stack-process.ts', import.meta.url));
  // Its own process group, so a test can kill it with the CLI and provider it started.
  const child = spawn(process.execPath, ['--import', 'tsx', script, fx.stack, op], {
    env: { ...process.env, ...env, NEXUS_TEST_STATE_FILE: stateFile }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  opts.onStart?.(child.pid!);
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise<ChangeSet>((resolve, reject) =>
    child.on('exit', (code, signal) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code ?? signal}: ${err}`)))),
  );
}

test.before(async () => {
  const [az, sb] = await Promise.all([azurite(), sandbox()]);
  env = { ...az.env, ...sb.env, NEXUS_HOME: mkdtempSync(join(tmpdir(), 'nexus-home-')) };
  stack = await open();
});

test.after(() => {
  stack?.close();
});

test('up creates the group, assignments and role assignment in the sandbox; a second preview shows no changes', async () => {
  const plan = await stack.preview();
  assert.equal(plan.summary, { create: 4, update: 0, replace: 0, delete: 0, same: 0 });
  // The role assignment's principal is the assignment's identity, unknown until it exists.
  assert.equal(plan.unknowns.map((u) => [u.urn.split('::').pop(), u.path]), [[fx.role, 'properties.principalId']]);

  const applied = await stack.up();
  assert.equal(applied.summary, { create: 4, update: 0, replace: 0, delete: 0, same: 0 });
  assert.equal(applied.engineSummary?.create, 4 + 1); // the engine also counts the stack itself

  const sb = await sandbox();
  assert.is(sb.state.get(fx.mg)?.properties.displayName, `Nexus test ${fx.stack.slice(3)}`);
  assert.is(sb.state.get(fx.audit)?.properties.parameters.effect.value, 'AuditIfNotExists');
  const principal = sb.state.get(fx.dine)?.identity?.principalId;
  assert.type(principal, 'string');
  assert.is(sb.state.get(fx.role)?.properties.principalId, principal);

  const again = await stack.preview();
  assert.equal(changed(again), []);
  assert.equal(again.summary, { create: 0, update: 0, replace: 0, delete: 0, same: 4 });
});

test('a side-door change shows as drift of that property; up puts it back', async () => {
  // The sandbox's side door, as a person editing the assignment in the portal would.
  (await sandbox()).state.update(fx.audit, { properties: { parameters: { effect: { value: 'Disabled' } } } }, 'mallory@contoso');

  const drift = await stack.previewRefresh();
  assert.is(drift.kind, 'refresh-preview');
  assert.equal(changed(drift).map((c) => c.armId), [fx.audit]);
  assert.equal(byId(drift, fx.audit)!.diffs, [
    { path: 'properties.parameters.effect.value', kind: 'update', old: 'AuditIfNotExists', new: 'Disabled' },
  ]);
  // Preview-only: the state still holds the desired value, so a plain preview sees nothing.
  assert.equal(changed(await stack.preview()), []);
  // A preview against the live tenant (refresh first) shows the update that would put it back.
  const live = await stack.preview({ refresh: true });
  assert.is(live.kind, 'preview');
  assert.equal(changed(live).map((c) => [c.op, c.armId]), [['update', fx.audit]]);
  assert.equal(byId(live, fx.audit)!.diffs, [
    { path: 'properties.parameters.effect.value', kind: 'update', old: 'Disabled', new: 'AuditIfNotExists' },
  ]);
  assert.equal(live.summary, { create: 0, update: 1, replace: 0, delete: 0, same: 3 });
  // It wrote nothing: the stored state still knows nothing of the drift.
  assert.equal(changed(await stack.preview()), []);

  const fixed = await stack.up();
  assert.equal(changed(fixed).map((c) => [c.op, c.armId, c.changedKeys]), [['update', fx.audit, ['properties.parameters.effect.value']]]);
  assert.equal(byId(fixed, fx.audit)!.diffs[0], { path: 'properties.parameters.effect.value', kind: 'update', old: 'Disabled', new: 'AuditIfNotExists' });
  assert.is((await sandbox()).state.get(fx.audit)?.properties.parameters.effect.value, 'AuditIfNotExists');
  assert.equal(changed(await stack.previewRefresh()), []);
});

test('a resource deleted behind Nexus\'s back: refresh sees it gone, up creates it again', async () => {
  const sb = await sandbox();
  const before = sb.state.get(fx.audit)!;
  assert.ok(sb.state.delete(fx.audit, 'mallory@contoso'));
  assert.is(sb.state.get(fx.audit), undefined);

  const drift = await stack.previewRefresh();
  assert.equal(changed(drift).map((c) => [c.op, c.armId]), [['delete', fx.audit]]);
  // Against the live tenant, the preview plans to create it again.
  const live = await stack.preview({ refresh: true });
  assert.equal(changed(live).map((c) => [c.op, c.armId]), [['create', fx.audit]]);

  const fixed = await stack.up();
  assert.equal(changed(fixed).map((c) => [c.op, c.armId]), [['create', fx.audit]]);
  const again = sb.state.get(fx.audit)!;
  assert.equal(again.properties, before.properties);
  assert.equal(changed(await stack.previewRefresh()), []);
  assert.equal(changed(await stack.preview()), []);
});

test('cancel stops a running update, which releases the stack', async () => {
  const running = stack.up();
  await waitForLock();
  await stack.cancel();
  const err = await running.then(() => undefined, (e) => e);
  assert.instance(err, EngineCanceledError);
  assert.equal(await listStackLocks({ project: PROJECT, stack: fx.stack, cfg: storageConfig(loadConfig(env).storage) }), []);
  // Nothing was half-done: the next preview is clean.
  assert.equal(changed(await stack.preview()), []);
});

test('an edit of the desired state previews as exactly the expected ChangeSet', async () => {
  const edited: DesiredState = structuredClone(fx.state);
  const audit = edited.resources.find((r) => r.id === fx.audit)!;
  (audit.body.properties.parameters as any).effect.value = 'Disabled';
  audit.body.properties.displayName = 'Audit search logs (off)';
  const extraId = `${fx.mg}/providers/Microsoft.Authorization/policyAssignments/audit-search-2`;
  edited.resources.push({ ...structuredClone(audit), id: extraId, name: 'audit-search-2', dependsOn: [fx.mg] });
  edited.stacks[0].resourceIds.push(extraId);
  edited.stacks[0].resourceIds = edited.stacks[0].resourceIds.filter((id) => id !== fx.role);

  const s = await open(edited);
  try {
    const cs = await s.preview();
    assert.equal(cs.summary, { create: 1, update: 1, replace: 0, delete: 1, same: 2 });
    assert.equal(changed(cs).map((c) => ({ op: c.op, armId: c.armId ?? c.urn.split('::').pop(), diffs: c.diffs })), [
      { op: 'update', armId: fx.audit, diffs: [
        { path: 'properties.displayName', kind: 'update', old: 'Audit search logs', new: 'Audit search logs (off)' },
        { path: 'properties.parameters.effect.value', kind: 'update', old: 'AuditIfNotExists', new: 'Disabled' },
      ] },
      { op: 'create', armId: extraId, diffs: [] },
      { op: 'delete', armId: fx.role, diffs: [] },
    ]);
  } finally {
    s.close();
  }
});

test('two updates at once: one runs, the other is told the stack is busy', async () => {
  const other = await open();
  try {
    const first = stack.up();
    await waitForLock();
    const err = await other.up().then(() => undefined, (e) => e);
    assert.instance(err, StackBusyError);
    assert.match(err.message, new RegExp(`^stack ${fx.stack} is busy: another update holds it \\(.*@${hostname()} pid \\d+ since `));
    assert.equal(changed(await first), []);
  } finally {
    other.close();
  }
});

test('a lock left by a dead process blocks updates until the lease holder clears it', async () => {
  // A real update in another process, killed (with its CLI) while it holds the stack's lock.
  let pid = 0;
  const run = inOtherProcess('up', { onStart: (p) => (pid = p) }).catch(() => 'killed');
  await waitForLock();
  process.kill(-pid, 'SIGKILL');
  assert.is(await run, 'killed');
  const [left] = await listStackLocks({ project: PROJECT, stack: fx.stack, cfg: storageConfig(loadConfig(env).storage) });
  assert.ok(left, 'the dead process left its lock');
  // SIGKILL is delivered, not awaited: the CLI that wrote the lock may take a moment to be gone.
  await waitFor(() => !processIsAlive(left.pid), { what: `the killed CLI (pid ${left.pid}) to be gone`, timeoutMs: 10_000, intervalMs: 100 });

  const cfg = storageConfig(loadConfig(env).storage);
  const holder = new BlobLease({ blob: fx.stack, holderId: 'nexus-a', cfg });
  const bystander = new BlobLease({ blob: fx.stack, holderId: 'nexus-b', cfg });
  assert.ok(await holder.acquire());

  // Not the lease holder: the lock stays and the stack is reported busy with the dead pid.
  const notHolder = await open(fx.state, { staleLocks: leaseHolderLockClearer(bystander, { cfg }) });
  try {
    const err = await notHolder.up().then(() => undefined, (e) => e);
    assert.instance(err, StackBusyError);
    assert.equal((err as StackBusyError).locks.map((l) => l.pid), [left.pid]);
  } finally {
    notHolder.close();
  }

  // The holder recognises the lock as stale (its pid is gone), removes it and updates.
  const asHolder = await open(fx.state, { staleLocks: leaseHolderLockClearer(holder, { cfg }) });
  try {
    const cs = await asHolder.up();
    assert.equal(changed(cs), []);
    // The timings are those of the run that gave the ChangeSet, not of both attempts.
    const t = asHolder.lastTimings!;
    assert.ok(t.engineMs > 0 && t.engineMs <= t.totalMs, JSON.stringify(t));
    assert.ok(t.programMs + t.mappingMs <= t.engineMs, JSON.stringify(t));
    assert.equal(await listStackLocks({ project: PROJECT, stack: fx.stack, cfg }), []);
  } finally {
    asHolder.close();
    await holder.release();
  }
});

test('the state survives a restart: a new process previews no changes', async () => {
  const cs = await inOtherProcess('preview');
  assert.equal(cs.summary, { create: 0, update: 0, replace: 0, delete: 0, same: 4 });
});

test.run();
