// The first apply's bookkeeping: the progress file after each stack, the marker only when every
// stack settled, and the lines `npm run up` and `nexus doctor` print. (The apply itself, through the
// real reconciler and engine, is tested whole in tests/functions/local.test.ts.)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstApply, firstApplyStatus, progressLine, readProgress, type FirstApplyPort } from '../../../functions/runtime/first-apply.ts';
import type { DesiredState } from '../../../stacks/compile/model.ts';
import type { ReconcileResult } from '../../../functions/reconcile/loop.ts';

const test = suite('first apply');

const state = {
  stacks: [
    { name: 'root', managementGroupId: 'root', resourceIds: ['a', 'b', 'c'] },
    { name: 'child', managementGroupId: 'child', resourceIds: ['d'] },
  ],
} as unknown as DesiredState;

function run(stack: string, decision: string, gates: Array<{ pass: boolean; reason: string; message: string }> = []): ReconcileResult {
  return { status: 'done', run: { stack, decision, status: 'succeeded', gates: gates.map((g) => ({ pass: g.pass, reason: g.reason, details: { message: g.message } })) } } as unknown as ReconcileResult;
}

function files() {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-first-apply-'));
  return { marker: join(dir, 'bootstrapped'), progress: join(dir, 'first-apply.json') };
}

test('progress is written before each stack and the ready line names stacks, resources and time', async () => {
  const f = files();
  const seen: Array<string | undefined> = [];
  const lines: string[] = [];
  let t = Date.parse('2026-12-03T10:00:00Z');
  const port: FirstApplyPort = {
    compile: async () => state,
    reconcile: async (stack) => {
      const p = readProgress(f.progress)!;
      seen.push(p.current);
      assert.match(firstApplyStatus(f, new Date(t))!.detail, new RegExp(`in progress: ${p.done.length} of 2 stacks done .*applying ${stack}`));
      t += 65_000;
      return run(stack, 'applied');
    },
  };
  const out = await firstApply(port, f, (m) => lines.push(m), () => new Date(t));
  assert.equal(seen, ['root', 'child']);
  assert.ok(out.ran && out.ok);
  assert.ok(existsSync(f.marker));
  const ready = lines.find((l) => l.startsWith('ready: '));
  assert.is(ready, 'ready: the default tenant is applied: 2 stacks, 4 resources, in 2m10s (finished 2026-12-03T10:02:10.000Z)');
  assert.ok(firstApplyStatus(f, new Date(t))!.ok);
});

test('a stack a gate stops: no marker, no ready line, and doctor says which stack and why', async () => {
  const f = files();
  const lines: string[] = [];
  const port: FirstApplyPort = {
    compile: async () => state,
    reconcile: async (stack) => (stack === 'child' ? run(stack, 'held', [{ pass: false, reason: 'KILL_SWITCH', message: 'the kill switch is on' }]) : run(stack, 'applied')),
  };
  const out = await firstApply(port, f, (m) => lines.push(m));
  assert.not.ok(out.ok);
  assert.not.ok(existsSync(f.marker));
  assert.not.ok(lines.some((l) => l.startsWith('ready:')));
  const status = firstApplyStatus(f, new Date())!;
  assert.not.ok(status.ok);
  assert.match(status.detail, /1 of 2 stacks applied; child: held \(KILL_SWITCH: the kill switch is on\)/);
  assert.match(status.fix!, /nexus runs/);
});

test('a run that throws ends the apply: the progress file says failed, not still under way', async () => {
  const f = files();
  const port: FirstApplyPort = {
    compile: async () => state,
    reconcile: async (stack) => { if (stack === 'child') throw new Error('storage did not answer'); return run(stack, 'applied'); },
  };
  await firstApply(port, f, () => undefined).then(() => assert.unreachable(), (err: Error) => assert.is(err.message, 'storage did not answer'));
  const status = firstApplyStatus(f, new Date())!;
  assert.not.ok(status.ok);
  assert.match(status.detail, /incomplete .*child: failed \(storage did not answer\)/);
  assert.not.ok(existsSync(f.marker));
});

test('with the marker there, nothing runs again', async () => {
  const f = files();
  writeFileSync(f.marker, '2026-12-01T00:00:00.000Z\n');
  const out = await firstApply({ compile: async () => { throw new Error('must not compile'); }, reconcile: async () => { throw new Error('must not run'); } }, f, () => undefined);
  assert.equal(out, { ran: false, ok: true, stacks: [] });
  assert.match(firstApplyStatus(f, new Date())!.detail, /applied at 2026-12-01T00:00:00.000Z/);
});

test('not a local system: doctor has nothing to say; a damaged progress file is named', () => {
  const f = files();
  assert.is(firstApplyStatus(f, new Date()), undefined);
  writeFileSync(f.progress, '{"startedAt": 3}');
  const s = firstApplyStatus(f, new Date())!;
  assert.not.ok(s.ok);
  assert.ok(s.detail.startsWith(f.progress), s.detail);
  assert.match(s.detail, /startedAt/);
});

test('progress line while running', () => {
  const line = progressLine({ startedAt: '2026-12-03T10:00:00Z', stacks: 3, resources: 10, current: 'b', done: [{ stack: 'a', line: 'a: applied', ok: true, resources: 4 }] }, new Date('2026-12-03T10:00:42Z'));
  assert.is(line, 'in progress: 1 of 3 stacks done (4 of 10 resources), applying b, 42s so far');
});

test.run();
