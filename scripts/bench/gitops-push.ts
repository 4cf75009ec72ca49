// GitOps benchmark, part 2: push to applied for a one-stack change with 500 subscriptions.
// Azurite, the ARM sandbox and the GitHub stand-in (contoso/landing-zones, seeded from archetypes/
// with the 500 subscriptions listed under the architecture's spec.subscriptions) and the Nexus local
// runtime with GitOps in this process; its first apply applies the tenant from the repository (slow:
// minutes), kept in .nexus/bench/gitops so later runs skip it. Then, with real git: clone, remove (or
// restore) `microsoft.network/natgateways` in nexus-sandbox.yaml, so only the sandbox stack changes,
// push, and wait until that stack's run with trigger `push` and that commit is recorded `applied`.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startAzurite } from '../lib/azurite.ts';
import { startSandbox } from '../sandbox/server.ts';
import { startGitHubStandIn, LANDING_ZONE_REPO } from '../sandbox/github/server.ts';
import { startLocalRuntime } from '../../functions/local.ts';
import { loadConfig } from '../../functions/runtime/config.ts';
import type { RunRow } from '../../functions/reconcile/store/runs.ts';
import { Table } from '../../functions/platform/tables.ts';
import { deliveryKey, type DeliveryRow } from '../../functions/catalog/inbox-rows.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = join(ROOT, '.nexus', 'bench', 'gitops');
const N = Number(process.env.NEXUS_BENCH_SUBSCRIPTIONS ?? 500);
const REPEATS = Number(process.env.NEXUS_BENCH_PUSHES ?? 3);
const SECRET = 'bench-webhook-secret';
const ARCHITECTURE = 'nexus-default.architecture.yaml';
const SANDBOX = 'nexus-sandbox.yaml';
const NAT = '                - microsoft.network/natgateways\n';
const PREFIXES = '                - microsoft.network/publicipprefixes\n';
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };

// The same subscriptions as the reconcile bench: spread over the landing-zone groups.
const LANDING = ['corp', 'online', 'sandbox', 'corp', 'online', 'local'];
const subscriptions = Array.from({ length: N }, (_, i) => ({
  id: `5ab${String(i).padStart(5, '0')}-0000-4000-8000-000000000000`,
  managementGroup: LANDING[i % LANDING.length]!,
}));

/** archetypes/ with the subscriptions listed in the architecture file: the repository's first commit. */
function seedFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-bench-seed-'));
  cpSync(join(ROOT, 'archetypes'), dir, { recursive: true });
  const file = join(dir, ARCHITECTURE);
  const text = readFileSync(file, 'utf8');
  const list = subscriptions.map((s) => `    - { id: ${s.id}, managementGroup: ${s.managementGroup} }\n`).join('');
  if (!text.includes('\nspec:\n')) throw new Error(`${ARCHITECTURE} has no spec`);
  writeFileSync(file, text.replace('\nspec:\n', `\nspec:\n  subscriptions:\n${list}`));
  return dir;
}

// Asynchronous: the GitHub stand-in answering git's requests runs in this process.
const git = async (cwd: string, ...args: string[]) => (await promisify(execFile)('git', args, { cwd, encoding: 'utf8' })).stdout.trim();

export interface PushFigures {
  edit: string; commit: string; stack: string;
  totalMs: number; gitPushMs: number; pushToRunStartMs: number;
  /**
   * `git push` started → the delivery in Nexus's inbox (the stand-in sends it before git's client
   * returns, so this is counted from the push's start) → the push handled (tarball, compile, hashes,
   * wants) → the run started.
   */
  deliveredMs?: number; pushHandledMs?: number; driverMs?: number; queuedStacks?: string[]; runMs: number; engineMs: number; nexusMs: number; observedAfterRunMs: number;
  timings: RunRow['timings']; otherStacks: string[];
}

export async function benchPushToApplied(log: (m: string) => void): Promise<unknown> {
  mkdirSync(DIR, { recursive: true });
  const port = await freePort();
  const [az, sb, gh] = await Promise.all([
    startAzurite({ location: join(DIR, 'azurite') }),
    startSandbox({ dataFile: join(DIR, 'sandbox.json'), subscriptions: subscriptions.map((s) => ({ subscriptionId: s.id })) }),
    startGitHubStandIn({ dataDir: join(DIR, 'github'), webhook: { url: `http://127.0.0.1:${port}/webhooks/github`, secret: SECRET } }),
  ]);
  const previousCa = process.env.NODE_EXTRA_CA_CERTS;
  const work = mkdtempSync(join(tmpdir(), 'nexus-bench-clone-'));
  let runtime: Awaited<ReturnType<typeof startLocalRuntime>> | undefined;
  try {
    const seed = seedFolder();
    const seeded = await gh.seed(LANDING_ZONE_REPO, seed, { message: `landing zones with ${N} subscriptions` });
    rmSync(seed, { recursive: true, force: true });
    log(`repository ${seeded.created ? 'seeded' : 'kept'} at ${seeded.sha.slice(0, 12)}`);
    // The provider process trusts the sandbox through this, inherited from here.
    process.env.NODE_EXTRA_CA_CERTS = sb.caFile;
    process.env.NEXUS_LOG_LEVEL ??= 'warn';
    const env: NodeJS.ProcessEnv = {
      ...process.env, ...az.env, ...sb.env, ...gh.env,
      NEXUS_HOME: DIR, NEXUS_LOCAL_ISSUER: '1', NEXUS_RESOURCE_BACKEND: 'arm-rest', NEXUS_RECONCILE_INTERVAL_MINUTES: '1440',
      NEXUS_GITHUB_WEBHOOK_SECRET: SECRET, NEXUS_GITOPS_CACHE_DIR: join(DIR, 'gitops-cache'),
    };
    delete env.NEXUS_PULUMI_BACKEND_URL;
    delete env.NEXUS_KILL_SWITCH;
    const t0 = Date.now();
    runtime = await startLocalRuntime({ port, config: loadConfig(env), log: (m) => log(`runtime: ${m}`) });
    const boot = await runtime.bootstrapped;
    if (boot.ran && !boot.ok) throw new Error('the first apply of the tenant failed');
    const setupMs = Date.now() - t0;
    log(`runtime ready (${boot.ran ? 'first apply ran' : 'tenant already applied'}) in ${setupMs} ms`);
    const runs = runtime.reconcile.stores.runs;
    const deliveries = await Table.open<DeliveryRow>('deliveries', runtime.nexus.storage);

    await git(work, 'clone', '-q', gh.gitUrl('contoso', 'landing-zones'), 'repo');
    const repo = join(work, 'repo');
    await git(repo, 'config', 'user.email', 'alice@contoso.com');
    await git(repo, 'config', 'user.name', 'alice');
    const pushes: PushFigures[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const file = join(repo, SANDBOX);
      const text = readFileSync(file, 'utf8');
      const edit = text.includes(NAT) ? 'remove natgateways' : 'restore natgateways';
      writeFileSync(file, text.includes(NAT) ? text.replace(NAT, '') : text.replace(PREFIXES, PREFIXES + NAT));
      await git(repo, 'commit', '-qam', `sandbox: ${edit}`);
      const sha = await git(repo, 'rev-parse', 'HEAD');
      const start = Date.now();
      await git(repo, 'push', '-q', 'origin', 'HEAD:main');
      const pushed = Date.now();
      let run: RunRow | undefined;
      for (;;) {
        run = (await runs.list({ limit: 20 })).runs.find((r) => r.commit === sha && r.trigger === 'push' && r.timings.finishedAt);
        if (run) break;
        if (Date.now() - start > 20 * 60_000) throw new Error(`no finished push run for ${sha} after 20 minutes`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const seen = Date.now();
      if (run.decision !== 'applied') throw new Error(`the run of ${run.stack} for ${sha} ended ${run.decision} (${run.reasons.join(',')}) ${run.error ?? ''}`);
      // Give the driver a moment, then every run recorded for that commit: only the one stack.
      await new Promise((r) => setTimeout(r, 2_000));
      const forCommit = (await runs.list({ limit: 100 })).runs.filter((r) => r.commit === sha);
      const t = run.timings;
      // Where the time before the run went: the delivery's receipt (inbox row) and GitOps's record of the push.
      const event = (await runtime.nexus.gitops!.p.store.recent(50)).find((e) => e.kind === 'push' && e.commit === sha);
      const row = event ? await deliveries.get('github', deliveryKey(event.deliveryId)) : undefined;
      const received = row ? Date.parse(row.receivedAt) : undefined;
      const handled = event ? Date.parse(event.at) : undefined;
      const figures: PushFigures = {
        edit, commit: sha.slice(0, 12), stack: run.stack,
        totalMs: seen - start, gitPushMs: pushed - start,
        pushToRunStartMs: Date.parse(t.startedAt) - pushed,
        deliveredMs: received && received - start, pushHandledMs: received && handled && handled - received,
        driverMs: handled && Date.parse(t.startedAt) - handled, queuedStacks: event?.stacks,
        runMs: t.totalMs ?? 0, engineMs: t.engineMs ?? 0, nexusMs: seen - start - (t.engineMs ?? 0),
        observedAfterRunMs: seen - Date.parse(t.finishedAt!),
        timings: t, otherStacks: forCommit.filter((r) => r.id !== run!.id).map((r) => `${r.stack}:${r.trigger}:${r.decision}`),
      };
      log(`push ${i + 1}/${REPEATS}: ${JSON.stringify(figures)}`);
      pushes.push(figures);
    }
    const m = (f: (p: PushFigures) => number) => Math.round(median(pushes.map(f)));
    return {
      subscriptions: N, pushes: pushes.length, setupMs, firstApplyRan: boot.ran,
      totalMs: m((p) => p.totalMs), nexusMs: m((p) => p.nexusMs), engineMs: m((p) => p.engineMs),
      gitPushMs: m((p) => p.gitPushMs), pushToRunStartMs: m((p) => p.pushToRunStartMs),
      deliveredMs: m((p) => p.deliveredMs ?? NaN), pushHandledMs: m((p) => p.pushHandledMs ?? NaN), driverMs: m((p) => p.driverMs ?? NaN),
      runMs: m((p) => p.runMs),
      compileMs: m((p) => p.timings.compileMs ?? 0), previewMs: m((p) => p.timings.previewMs ?? 0),
      gatesMs: m((p) => p.timings.gatesMs ?? 0), applyMs: m((p) => p.timings.applyMs ?? 0),
      observedAfterRunMs: m((p) => p.observedAfterRunMs),
      // Per push: GitOps queued exactly one stack, and no other stack's run carries that commit.
      onlyOneStack: pushes.every((p) => p.otherStacks.length === 0 && p.queuedStacks?.length === 1),
      each: pushes,
    };
  } finally {
    await runtime?.stop().catch(() => undefined);
    await gh.stop();
    await sb.stop();
    void az.stop();
    rmSync(work, { recursive: true, force: true });
    if (previousCa === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
    else process.env.NODE_EXTRA_CA_CERTS = previousCa;
  }
}
