// Accepted means durable, and nothing is processed twice except what a crash cut off mid-handler.
// 2,000 signed GitHub deliveries (and 200 re-sends of ids already sent) go through the real HTTP
// webhook route of a child server on Azurite's table and queue; the child is killed with SIGKILL
// while it is both accepting and processing, and a second child takes over.
//
// What "processed exactly once" means here (functions/catalog/inbox.ts): every delivery ends with
// exactly one row, marked done exactly once (the done-mark is conditional on the claim), with its
// effect written; a handler ran a second time only for a delivery whose first run was in the
// killed process and had not been marked done (at most `concurrency` of them), never twice in one
// process. The sender retries until it gets a 202, as a webhook sender does after a failed delivery.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { azurite } from '../../helpers/azurite.ts';
import { sleep, waitFor } from '../../helpers/wait.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { Table } from '../../../functions/platform/tables.ts';
import { Inbox } from '../../../functions/catalog/inbox.ts';
import type { CrashWorkerConfig } from './helpers/inbox-crash-worker.ts';
import { storageFrom } from '../../helpers/config.ts';

const CHILD = fileURLToPath(new URL('./helpers/inbox-crash-worker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SECRET = 'inbox-crash-secret';
const DELIVERIES = 2000;
const CONCURRENCY = 16;

interface Child { proc: ChildProcess; port: Promise<number>; ran: () => number }

function startChild(env: Record<string, string>, cfg: CrashWorkerConfig): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env, CRASH_CHILD: JSON.stringify(cfg) },
  });
  let out = '';
  let err = '';
  let ran = 0;
  proc.stderr!.on('data', (d) => { err = (err + d).slice(-4000); });
  const port = new Promise<number>((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      out += d;
      for (const m of out.matchAll(/RAN (\d+)/g)) ran = Math.max(ran, Number(m[1]));
      const ready = /READY (\d+)/.exec(out);
      if (ready) resolve(Number(ready[1]));
      out = out.slice(-200);
    });
    proc.once('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal}) before it was ready:\n${err}`)));
  });
  port.catch(() => undefined);
  return { proc, port, ran: () => ran };
}

const exited = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

const cleanups: Array<() => void> = [];
test.after.each(() => { for (const c of cleanups.splice(0)) c(); });

test('2,000 webhooks, the receiver killed mid-way and restarted: every delivery processed once, none lost, duplicates accepted once', async () => {
  const started = Date.now();
  const az = await azurite();
  const env = {
    ...az.env, NEXUS_HOME: mkdtempSync(join(tmpdir(), 'nexus-crash-')), NEXUS_LOCAL_ISSUER: '1',
    NEXUS_API_AUDIENCE: 'api://nexus-crash-test', NEXUS_GITHUB_WEBHOOK_SECRET: SECRET, NEXUS_CATALOG_REFRESH_SECONDS: '0',
  };
  const id = randomBytes(4).toString('hex');
  const cfg: CrashWorkerConfig = {
    table: `crash${id}`, effects: `crasheff${id}`, runs: `crashrun${id}`, catalog: `crashcat${id}`, relations: `crashrel${id}`,
    visibilitySeconds: 2, concurrency: CONCURRENCY,
  };
  const storage = storageFrom(env);

  let child = startChild(env, { ...cfg, dieAfterRuns: 700 });
  const first = child;
  cleanups.push(() => { stopped = true; first.proc.kill('SIGKILL'); child.proc.kill('SIGKILL'); });
  // What the sender saw: per delivery id, the answers it got (a 202 says whether it was a duplicate).
  const answers = new Map<string, boolean[]>();
  let accepted = 0;
  let failures = 0;
  let lastFailure = '';
  let stopped = false;
  const post = async (n: number): Promise<void> => {
    const body = JSON.stringify({ n, zen: 'Keep it logically awesome.' });
    const deliveryId = `crash-${n}`;
    const headers = {
      'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': deliveryId,
      'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
    };
    for (;;) {
      if (stopped) throw new Error(`delivery ${deliveryId} never accepted: ${lastFailure}`);
      const current = child;
      try {
        const res = await fetch(`http://127.0.0.1:${await current.port}/webhooks/github`, { method: 'POST', headers, body });
        const text = await res.text();
        if (res.status === 202) {
          const list = answers.get(deliveryId) ?? [];
          list.push((JSON.parse(text) as { duplicate: boolean }).duplicate);
          answers.set(deliveryId, list);
          accepted++;
          return;
        }
        throw new Error(`${res.status} ${text}`);
      } catch (err) {
        // No 202 (the receiver died, or answered an error): the sender tries again.
        failures++;
        lastFailure = String((err as Error).message).slice(0, 300);
        await sleep(current === child ? 100 : 0);
      }
    }
  };
  // Every id once, and every tenth id of a hundred before sent again (a sender's redelivery).
  const sends: number[] = [];
  for (let n = 0; n < DELIVERIES; n++) {
    sends.push(n);
    if (n % 10 === 0 && n >= 100) sends.push(n - 100);
  }
  let next = 0;
  const senders = Promise.all(Array.from({ length: 16 }, async () => {
    while (next < sends.length) await post(sends[next++]!);
  }));

  // It kills itself (SIGKILL) in its 700th handler run, after the handler's writes and before the
  // done-mark, with other handlers in flight and deliveries still arriving.
  await waitFor(() => first.proc.signalCode !== null || first.proc.exitCode !== null, { what: 'the first receiver to die in its 700th run', timeoutMs: 120_000, intervalMs: 50 });
  assert.is(first.proc.signalCode, 'SIGKILL');
  const killedAt = { accepted, ran: first.ran() };
  const tKill = Date.now() - started;
  child = startChild(env, cfg);
  await child.port;
  const tRestart = Date.now() - started;
  // A sender that cannot get its delivery accepted in time fails the test rather than hanging it.
  const giveUp = setTimeout(() => { stopped = true; }, 180_000);
  await senders.finally(() => clearTimeout(giveUp));
  const tSent = Date.now() - started;

  const inbox = await Inbox.open({ storage, table: cfg.table });
  const deliveries = await Table.open<{ kind: string; state: string; attempts: number }>(cfg.table, storage);
  const states = async () => {
    const by = new Map<string, { state: string; attempts: number }>();
    for await (const r of deliveries.query({ partitionKey: 'github', filter: "RowKey ge 'd:' and RowKey lt 'd;'", select: ['state', 'attempts'] })) by.set(r.rowKey.slice(2), r);
    return by;
  };
  await waitFor(async () => [...(await states()).values()].filter((r) => r.state === 'done').length === DELIVERIES,
    { what: 'every delivery done', timeoutMs: 60_000, intervalMs: 500 });
  await waitFor(async () => (await inbox.queue.approximateCount()) === 0, { what: 'the queue to empty', timeoutMs: 20_000, intervalMs: 250 });
  const tDone = Date.now() - started;
  child.proc.kill('SIGKILL');
  await exited(child.proc);
  const second = child;

  // One row per delivery id, each done; nothing unsent, nothing poisoned.
  const rows = await states();
  assert.is(rows.size, DELIVERIES);
  for (let n = 0; n < DELIVERIES; n++) assert.is(rows.get(`crash-${n}`)?.state, 'done', `crash-${n}`);
  let unsent = 0;
  for await (const _ of deliveries.query({ partitionKey: 'github', filter: "RowKey ge 'u:' and RowKey lt 'u;'" })) unsent++;
  assert.is(unsent, 0, 'no delivery left unsent');
  assert.is(await inbox.poison.approximateCount(), 0, 'nothing poisoned');

  // The sender: every id got a 202; at most one answer per id said "not a duplicate" (one that got
  // none had its first 202 lost with the killed receiver), and every re-send was a duplicate.
  assert.is(answers.size, DELIVERIES);
  for (const [deliveryId, list] of answers) assert.ok(list.filter((dup) => !dup).length <= 1, `${deliveryId} accepted as new twice: ${list}`);

  // The effects: one per delivery, as its payload says.
  const effects = await Table.open<{ n: number }>(cfg.effects, storage);
  const effect = new Map<string, number>();
  for await (const r of effects.query({ partitionKey: 'effects' })) effect.set(r.rowKey, r.n);
  assert.is(effect.size, DELIVERIES);
  for (let n = 0; n < DELIVERIES; n++) assert.is(effect.get(`crash-${n}`), n);

  // The handler runs: once per delivery, except those the kill cut off in the first process.
  const runs = await Table.open<{ pid: number }>(cfg.runs, storage);
  const runsOf = new Map<string, number[]>();
  for await (const r of runs.query()) runsOf.set(r.partitionKey, [...(runsOf.get(r.partitionKey) ?? []), r.pid]);
  assert.is(runsOf.size, DELIVERIES);
  const rerun = [...runsOf].filter(([, pids]) => pids.length > 1);
  for (const [deliveryId, pids] of rerun) {
    assert.equal(pids.sort(), [first.proc.pid, second.proc.pid].sort(), `${deliveryId} ran in ${pids}`);
    assert.ok(rows.get(deliveryId)!.attempts >= 2);
  }
  assert.ok(rerun.length >= 1, 'the run cut off by the kill (its writes done, not its done-mark) ran again');
  assert.ok(rerun.length <= CONCURRENCY, `${rerun.length} deliveries ran twice; at most the ${CONCURRENCY} in flight at the kill may`);
  const firstRuns = [...runsOf.values()].filter((pids) => pids.includes(first.proc.pid!)).length;
  assert.ok(firstRuns >= 700 && firstRuns < DELIVERIES, `the first receiver ran ${firstRuns}: killed part-way`);
  console.log(`  inbox crash: killed after ${killedAt.accepted} accepted and ${killedAt.ran}+ run; ${firstRuns} ran in the first process, `
    + `${rerun.length} ran again after the kill, ${failures} sends retried; killed at ${tKill} ms, restarted ${tRestart}, all sent ${tSent}, all done ${tDone}, checked ${Date.now() - started}`);
});

test.run();
