// GitOps benchmark, two figures. Prints one JSON line.
//
// 1. Webhook intake: the real API server (openNexus + startServer) in a child process with GitOps
//    configured for github:contoso/landing-zones on a GitHub stand-in, so each delivery goes through
//    the signature check, GitOps's payload check and the inbox (row + queue message). autocannon on
//    loopback POSTs GitHub's own `push` example (@octokit/webhooks-examples) with the repository set
//    to contoso/landing-zones, a unique X-GitHub-Delivery per request and X-Hub-Signature-256 over the
//    exact body; everything is computed before the clock starts. The inbox is NOT drained while this
//    runs (the server's drain kick and timer are off): what is measured is accepted-and-persisted.
//    Afterwards the inbox's `d:` rows and the queue's messages are counted: both must equal the 202s.
//    Then the same deliveries against a bare node:http server (`baseline`): the machine at that moment.
// 2. Push to applied (gitops-push.ts): one archetype edit pushed with real git, until the one stack
//    it changes is recorded applied with trigger `push` and that commit (500 subscriptions).
//
//   npm run bench -- gitops     (or node --import tsx scripts/bench/gitops.ts)
//   NEXUS_BENCH_SECONDS (10), NEXUS_BENCH_ROUNDS (3), NEXUS_BENCH_CONNECTIONS (50) shape part 1;
//   NEXUS_BENCH_PART=intake|push runs one part only.
import type { ChildProcess } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { startAzurite } from '../lib/azurite.ts';
import { startGitHubStandIn, LANDING_ZONE_REPO } from '../sandbox/github/server.ts';
import { storageConfig } from '../../functions/platform/storage-config.ts';
import { loadConfig } from '../../functions/runtime/config.ts';
import { openNexus } from '../../functions/runtime/nexus.ts';
import { startServer } from '../../functions/server.ts';
import { Table } from '../../functions/platform/tables.ts';
import { Queue } from '../../functions/platform/queues.ts';
import { keyRange, type InboxRow } from '../../functions/catalog/inbox-rows.ts';
import { benchPushToApplied } from './gitops-push.ts';
import { startServerChild as startChild, stopChild } from './server-child.ts';

interface CannonResult {
  latency: { p50: number; p90: number; p99: number; average: number; max: number };
  requests: { average: number; total: number };
  statusCodeStats: Record<string, { count: number }>;
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Cannon = (opts: Record<string, unknown>) => Promise<CannonResult>;
const req = createRequire(import.meta.url);
const autocannon = req('autocannon') as Cannon;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECONDS = Number(process.env.NEXUS_BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.NEXUS_BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.NEXUS_BENCH_CONNECTIONS ?? 50);
const SECRET = 'bench-webhook-secret';
// Not the tracked branch (main): the handler would only record it as ignored, and it does not run here.
const BENCH_REF = 'refs/heads/bench';
const log = (msg: string) => process.stderr.write(`[bench:gitops] ${msg}\n`);
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };

/** Child process: the real API server with GitOps configured; no inbox drain while it measures. */
async function serve(): Promise<void> {
  const config = loadConfig({ ...process.env, NEXUS_CATALOG_REFRESH_SECONDS: '0' });
  const nexus = await openNexus(config, { storage: storageConfig(config.storage) });
  if (!nexus.gitops || !nexus.deps.checkDelivery) throw new Error('GitOps is not configured in the bench server');
  // Intake only: the drain the server kicks after each delivery is switched off (and its timer is an hour).
  const server = await startServer({ port: Number(process.env.PORT), nexus: { ...nexus, onDelivery: () => undefined }, drainIntervalMs: 3_600_000 });
  (globalThis as { gc?: () => void }).gc?.();
  process.stdout.write(`Nexus API on ${server.url}\n`);
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
}

/**
 * Child process: the machine's ceiling at this moment (as in catalog.ts). A bare node:http server that
 * reads each POST's body and answers 202 with a body of the same shape: no signature, no storage.
 */
async function serveBare(): Promise<void> {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ accepted: true, duplicate: false, deliveryId: req.headers['x-github-delivery'] });
      res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('Nexus API on bare\n'));
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

function startServerChild(env: Record<string, string>, mode = '--serve'): Promise<{ url: string; child: ChildProcess }> {
  return startChild(fileURLToPath(import.meta.url), env, { mode, cwd: ROOT });
}

/** GitHub's push example, as GitHub would send it for contoso/landing-zones on the bench branch. */
function pushBodies(count: number): Array<{ body: string; signature: string }> {
  const examples = req('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: Array<Record<string, any>> }>;
  const example = examples.find((e) => e.name === 'push')!.examples.find((x) => !x.deleted && x.head_commit)!;
  const [owner, name] = LANDING_ZONE_REPO.split('/');
  return Array.from({ length: count }, (_, i) => {
    const after = createHmac('sha1', 'bench').update(String(i)).digest('hex');
    const p = structuredClone(example);
    p.ref = BENCH_REF;
    p.after = after;
    p.head_commit = { ...p.head_commit, id: after };
    p.repository = { ...p.repository, name, full_name: LANDING_ZONE_REPO, owner: { ...p.repository.owner, name: owner, login: owner } };
    const body = JSON.stringify(p);
    return { body, signature: `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` };
  });
}

interface Round { rps: number; p50: number; p99: number; requests: number; accepted: number; non2xx: number; errors: number; timeouts: number }

/**
 * One round of `amount` requests (not a duration: a duration ends with requests in flight whose
 * answers autocannon never counts, though the server stored them, and the count below must be exact).
 */
async function intakeRound(url: string, bodies: Array<{ body: string; signature: string }>, ids: string[], cursor: { next: number }, amount: number): Promise<Round> {
  const t0 = performance.now();
  const result = await autocannon({
    url, connections: CONNECTIONS, amount,
    requests: [{
      method: 'POST', path: '/webhooks/github',
      setupRequest: (r: Record<string, unknown>) => {
        const i = cursor.next++;
        if (i >= ids.length) throw new Error('the bench ran out of precomputed delivery ids');
        const b = bodies[i % bodies.length]!;
        return {
          ...r, body: b.body,
          headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': ids[i]!, 'x-hub-signature-256': b.signature },
        };
      },
    }],
  });
  // Over the round's own wall time (autocannon's per-second average is coarse over a few seconds).
  const seconds = (performance.now() - t0) / 1000;
  return {
    rps: Math.round(result.requests.total / seconds), p50: result.latency.p50, p99: result.latency.p99,
    requests: result.requests.total, accepted: result.statusCodeStats['202']?.count ?? 0,
    non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts,
  };
}

async function benchIntake() {
  const home = mkdtempSync(join(tmpdir(), 'nexus-bench-gitops-'));
  const az = await startAzurite({ inMemory: process.env.NEXUS_BENCH_AZURITE_MEMORY === '1' });
  const gh = await startGitHubStandIn({ dataDir: join(home, 'github') });
  let server: { url: string; child: ChildProcess } | undefined;
  try {
    await gh.seed(LANDING_ZONE_REPO, join(ROOT, 'archetypes'));
    const env: Record<string, string> = {
      ...az.env,
      NEXUS_HOME: home,
      NEXUS_LANDING_ZONE_REPO: `github:${LANDING_ZONE_REPO}`,
      NEXUS_GITHUB_TOKEN: gh.token,
      NEXUS_GITHUB_API_URL: gh.apiUrl,
      NEXUS_GITHUB_WEBHOOK_SECRET: SECRET,
      NEXUS_GITOPS_CACHE_DIR: join(home, 'gitops-cache'),
    };
    // Every body, signature and delivery id exists before the clock starts.
    const bodies = pushBodies(2_000);
    const ids = Array.from({ length: 3_000 * SECONDS * (ROUNDS + 1) + CONNECTIONS * 10 + 10 }, () => randomUUID());
    const cursor = { next: 0 };
    log(`${bodies.length} signed push bodies (${bodies[0]!.body.length} bytes), ${ids.length} delivery ids`);

    server = await startServerChild(env);
    const probe = await fetch(`${server.url}/webhooks/github`, {
      method: 'POST', body: bodies[0]!.body,
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': ids[cursor.next++]!, 'x-hub-signature-256': bodies[0]!.signature },
    });
    if (probe.status !== 202) throw new Error(`a signed push answered ${probe.status}: ${await probe.text()}`);
    // GitOps's payload check runs: the same push without `after` is refused, naming the field.
    const bad = JSON.parse(bodies[0]!.body) as Record<string, unknown>;
    delete bad.after;
    const badBody = JSON.stringify(bad);
    const refused = await fetch(`${server.url}/webhooks/github`, {
      method: 'POST', body: badBody,
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(badBody).digest('hex')}` },
    });
    if (refused.status !== 400) throw new Error(`a push without "after" answered ${refused.status}, not 400: GitOps's check did not run`);

    let accepted = 1;
    // The warm-up also sizes the rounds: about SECONDS each at the rate it saw.
    const warm = await intakeRound(server.url, bodies, ids, cursor, CONNECTIONS * 10);
    accepted += warm.accepted;
    const amount = Math.max(CONNECTIONS * 10, Math.min(Math.round(warm.rps * 1.2) * SECONDS, ids.length));
    if (cursor.next + amount * (ROUNDS + 1) > ids.length) throw new Error('too few precomputed delivery ids for the rounds');
    const rounds: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      log(`intake round ${r + 1}/${ROUNDS}: ${amount} deliveries over ${CONNECTIONS} connections`);
      const round = await intakeRound(server.url, bodies, ids, cursor, amount);
      accepted += round.accepted;
      rounds.push(round);
    }
    await stopChild(server.child);
    server = undefined;

    // The same deliveries against a bare server, right after: how much of the figure is the machine.
    const bare = await startServerChild({}, '--bare');
    let baseline: Round;
    try {
      baseline = await intakeRound(bare.url, bodies, ids.slice(cursor.next), { next: 0 }, amount);
    } finally {
      await stopChild(bare.child);
    }

    // None lost: every 202 has its delivery row and its queue message.
    const storage = storageConfig(loadConfig({ ...process.env, ...env }).storage);
    const table = await Table.open<InboxRow>('deliveries', storage);
    let rows = 0;
    let unsent = 0;
    for await (const _ of table.query({ partitionKey: 'github', filter: keyRange('d:', 'd;'), select: ['state'] })) rows++;
    for await (const _ of table.query({ partitionKey: 'github', filter: keyRange('u:', 'u;'), select: ['at'] })) unsent++;
    const queued = await (await Queue.open('webhooks', storage)).approximateCount();
    const sum = (f: (r: Round) => number) => rounds.reduce((n, r) => n + f(r), 0);
    return {
      connections: CONNECTIONS, seconds: SECONDS, rounds: ROUNDS, bodyBytes: bodies[0]!.body.length,
      drain: 'none during the measurement', ref: BENCH_REF,
      rps: median(rounds.map((r) => r.rps)), p50: median(rounds.map((r) => r.p50)), p99: median(rounds.map((r) => r.p99)),
      perRound: rounds, baseline: { rps: baseline.rps, p50: baseline.p50, p99: baseline.p99 },
      non2xx: sum((r) => r.non2xx) + warm.non2xx, errors: sum((r) => r.errors) + warm.errors, timeouts: sum((r) => r.timeouts) + warm.timeouts,
      accepted, deliveryRows: rows, queueMessages: queued, unsentMarkers: unsent, lost: accepted - Math.min(rows, queued),
      target: { rps: 500, met: median(rounds.map((r) => r.rps)) >= 500 && rows === accepted && queued === accepted },
    };
  } finally {
    if (server) await stopChild(server.child);
    await gh.stop();
    await az.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

async function main() {
  const part = process.env.NEXUS_BENCH_PART;
  const intake = part === 'push' ? undefined : await benchIntake();
  if (intake) log(`intake: ${JSON.stringify(intake)}`);
  const push = part === 'intake' ? undefined : await benchPushToApplied(log);
  process.stdout.write(JSON.stringify({
    bench: 'gitops',
    machine: { cpus: cpus().length, loadavg1m: Math.round(loadavg()[0]! * 100) / 100 },
    intake, push,
  }) + '\n');
}

if (process.argv.includes('--serve')) await serve();
else if (process.argv.includes('--bare')) await serveBare();
else await main();
