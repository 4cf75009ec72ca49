// Several reconcilers in separate processes on the same stacks, with real blob leases in Azurite,
// the real engine and the ARM sandbox: never two applies of one stack at once; when the lease
// holder is killed mid-apply another process takes over and the cut-off run is recorded.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { liveParts, releaseLive, unique, type Live } from './live.ts';
import { waitFor } from '../../helpers/wait.ts';

const CHILD = fileURLToPath(new URL('./helpers/child-reconciler.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const TAKEOVER_MARGIN_SECONDS = 10;

let L: Live;
test.before(async () => { L = await liveParts(); });
test.after(() => releaseLive());

interface Ev { ev: string; pid: number; t: number; stack?: string; holderId?: string; decision?: string; id?: string; reasons?: string[]; error?: string }

function start(stacks: string[], runsPerStack: number, log: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: ROOT,
    // Its own process group, so killing it also kills the Pulumi CLI it runs.
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...L.env, RC_CHILD: JSON.stringify({ stacks, runsPerStack, log, tenantRoot: L.tenantRoot }) },
  });
  let err = '';
  child.stderr!.on('data', (d) => { err = (err + d).slice(-4000); });
  child.on('exit', (code, signal) => { if (code && code !== 0) console.error(`child ${child.pid} exited ${code ?? signal}:\n${err}`); });
  return child;
}

const events = (log: string): Ev[] => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ev) : []);
const exited = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

const until = <T>(f: () => T | undefined, what: string, timeoutMs = 600_000) => waitFor(f, { what, timeoutMs, intervalMs: 250 });

/**
 * Per stack, the apply intervals must not overlap. A killed process's apply ends when it was
 * killed (its whole process group, Pulumi CLI included, died then).
 */
function overlaps(evs: Ev[], killed?: { pid: number; at: number }): string[] {
  const out: string[] = [];
  const open = new Map<string, Ev>();
  const all = killed ? [...evs, { ev: 'killed', pid: killed.pid, t: killed.at }] : evs;
  for (const e of [...all].sort((a, b) => a.t - b.t)) {
    if (e.ev === 'killed') for (const [stack, cur] of open) if (cur.pid === e.pid) open.delete(stack);
    if (e.ev === 'apply-start') {
      const cur = open.get(e.stack!);
      if (cur) out.push(`${e.stack}: pid ${e.pid} started applying at ${e.t} while pid ${cur.pid} was applying since ${cur.t}`);
      open.set(e.stack!, e);
    }
    if (e.ev === 'apply-end' && open.get(e.stack!)?.pid === e.pid) open.delete(e.stack!);
  }
  return out;
}

test('three reconcilers on the same two stacks for several rounds: never two applies of one stack at once', async () => {
  const log = join(mkdtempSync(join(tmpdir(), 'nexus-mp-')), 'events.jsonl');
  const stacks = [unique('rcmpa'), unique('rcmpb')];
  const children = [0, 1, 2].map(() => start(stacks, 2, log));
  await Promise.all(children.map(exited));
  const evs = events(log);
  const runs = evs.filter((e) => e.ev === 'run');
  assert.is(runs.length, 12, `every child finished its runs: ${JSON.stringify(runs.map((r) => [r.pid, r.stack, r.decision, r.error]))}`);
  assert.ok(runs.every((r) => r.decision === 'applied'), JSON.stringify(runs.map((r) => [r.decision, r.reasons, r.error])));
  assert.equal(overlaps(evs), []);
  assert.is(evs.filter((e) => e.ev === 'apply-start').length, 12);
  // Every run is in the runs table, none left running.
  for (const stack of stacks) {
    const { runs: stored } = await L.stores.runs.list({ stack });
    assert.is(stored.length, 6);
    assert.ok(stored.every((r) => r.status === 'done' && r.decision === 'applied'));
  }
});

test('kill the lease holder mid-apply: another process takes over and the cut-off run is recorded', async () => {
  const log = join(mkdtempSync(join(tmpdir(), 'nexus-mp-')), 'events.jsonl');
  const stack = unique('rcmpk');
  const a = start([stack], 3, log);
  const b = start([stack], 3, log);
  const children = new Map([[a.pid!, a], [b.pid!, b]]);
  const victimStart = await until(() => events(log).find((e) => e.ev === 'apply-start'), 'a first apply');
  const victim = children.get(victimStart.pid)!;
  const victimHolder = events(log).find((e) => e.ev === 'ready' && e.pid === victim.pid)!.holderId!;
  process.kill(-victim.pid!, 'SIGKILL');
  const killedAt = Date.now();
  await exited(victim);
  const survivor = [...children.values()].find((c) => c !== victim)!;
  await exited(survivor);
  const evs = events(log);
  assert.equal(overlaps(evs, { pid: victim.pid!, at: killedAt }), []);
  const after = evs.filter((e) => e.pid === survivor.pid && e.ev === 'run' && e.t > killedAt);
  assert.ok(after.length > 0, 'the survivor reconciled the stack after the kill');
  assert.ok(after.every((r) => r.decision === 'applied'), JSON.stringify(after.map((r) => [r.decision, r.reasons, r.error])));

  // The victim's run was recorded as interrupted by the process that took over.
  const { runs } = await L.stores.runs.list({ stack, limit: 50 });
  const cut = runs.filter((r) => r.holderId === victimHolder && r.decision === 'interrupted');
  assert.is(cut.length, 1, JSON.stringify(runs.map((r) => [r.holderId, r.decision, r.reasons])));
  assert.equal(cut[0].reasons, ['HOLDER_LOST']);
  assert.ok(runs.every((r) => r.status === 'done'), 'no run is left running');
  const audit = await L.stores.audit.list({ target: stack, limit: 50 });
  assert.ok(audit.some((e) => e.action === 'run-interrupted' && e.runId === cut[0].id));
  const leaseTaken = evs.find((e) => e.pid === survivor.pid && e.ev === 'lease-held' && e.t > killedAt)!;
  const firstTakeover = evs.filter((e) => e.pid === survivor.pid && e.ev === 'apply-start' && e.t > killedAt)[0];
  const LEASE_SECONDS = Number(L.env.NEXUS_LEASE_SECONDS);
  const heldAfter = (leaseTaken.t - killedAt) / 1000;
  console.log(`  takeover: the survivor held the lease ${heldAfter.toFixed(1)}s and applied ${((firstTakeover.t - killedAt) / 1000).toFixed(1)}s after the kill (lease ${LEASE_SECONDS}s)`);
  // The dead holder's lease runs out after at most its duration; the survivor retries within a
  // second and opens the engine right after taking the stack: the margin covers that and a slow CI.
  assert.ok(heldAfter <= LEASE_SECONDS + TAKEOVER_MARGIN_SECONDS, `took ${heldAfter.toFixed(1)}s, more than the ${LEASE_SECONDS}s lease + ${TAKEOVER_MARGIN_SECONDS}s`);
});

test.run();
