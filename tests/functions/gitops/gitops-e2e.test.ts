// GitOps end to end, as `npm run up` runs it: Azurite, the ARM sandbox, the GitHub stand-in
// (real `git clone` / `git push` over smart HTTP, signed webhooks) and the local runtime with the
// real engine. A push of one archetype runs exactly the stack it changes, with trigger `push` and
// that commit; a pull request gets one comment whose counts match `nexus preview`, edited in place
// when the branch moves. The tenant is a small one (three groups) so the first apply is quick.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGitHubStandIn, type GitHubStandIn } from '../../../scripts/sandbox/github/server.ts';
import { startSandbox, type SandboxHandle } from '../../../scripts/sandbox/server.ts';
import { freePort } from '../../../scripts/lib/azurite.ts';
import { COMMENT_MARKER } from '../../../functions/gitops/comment/render.ts';
import { startLocalRuntime, type LocalRuntime } from '../../../functions/local.ts';
import type { RunRow } from '../../../functions/reconcile/store/runs.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';
import { azurite } from '../../helpers/azurite.ts';
import { editApps, git, seedLogWorkspace, until } from './helpers/e2e.ts';

const test = suite('gitops end to end');
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURE = join(ROOT, 'tests/fixtures/gitops');
const BIN = join(ROOT, 'bin/nexus.js');
const REPO = 'contoso/landing-zones';

let sb: SandboxHandle;
let gh: GitHubStandIn;
let runtime: LocalRuntime | undefined;
let env: NodeJS.ProcessEnv;
let clone: string;
let previousCa: string | undefined;
const lines: string[] = [];

async function runsOf(stack: string): Promise<RunRow[]> {
  return (await runtime!.reconcile.runs({ stack, limit: 100 })).runs;
}

async function gh_(path: string, init: RequestInit = {}): Promise<any> {
  const res = await fetch(`${gh.apiUrl}${path}`, { ...init, headers: { authorization: `token ${gh.tokenFor('bob')}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
  assert.ok(res.ok, `${init.method ?? 'GET'} ${path}: ${res.status} ${await res.clone().text()}`);
  return res.json();
}

test.before(async () => {
  const az = await azurite();
  sb = await startSandbox();
  seedLogWorkspace(sb);
  previousCa = process.env.NODE_EXTRA_CA_CERTS;
  process.env.NODE_EXTRA_CA_CERTS = sb.caFile;
  const port = await freePort();
  const secret = 'e2e-webhook-secret';
  gh = await startGitHubStandIn({ dataDir: mkdtempSync(join(tmpdir(), 'nexus-gh-')), webhook: { url: `http://127.0.0.1:${port}/webhooks/github`, secret } });
  await gh.seed(REPO, join(FIXTURE, 'landing-zones'), { login: 'alice' });
  env = {
    ...process.env, ...az.env, ...sb.env, ...gh.env,
    NEXUS_HOME: mkdtempSync(join(tmpdir(), 'nexus-gitops-')), NEXUS_LOCAL_ISSUER: '1', NEXUS_RESOURCE_BACKEND: 'arm-rest',
    NEXUS_RECONCILE_INTERVAL_MINUTES: '60', NEXUS_INBOX_DRAIN_MS: '200',
    NEXUS_ALZ_LIBRARY: join(ROOT, 'tests/fixtures/compile/base'), NEXUS_GUARDRAILS_FILE: join(FIXTURE, 'guardrails.yaml'),
    NEXUS_GITOPS_CACHE_DIR: mkdtempSync(join(tmpdir(), 'nexus-gitops-cache-')),
    NEXUS_PULUMI_BACKEND_URL: `azblob://pulumi-state/gitops-e2e-${process.pid}?domain=127.0.0.1:${az.blobPort}&protocol=http`,
    NEXUS_LOG_LEVEL: process.env.NEXUS_TEST_LOG ?? 'silent',
  };
  runtime = await startLocalRuntime({ port, log: (m) => lines.push(m), config: loadConfig(env) });
  clone = mkdtempSync(join(tmpdir(), 'nexus-clone-'));
  await git(clone, 'clone', '-q', gh.gitUrl('contoso', 'landing-zones', 'bob'), '.');
  await git(clone, 'config', 'user.name', 'Bob Builder');
  await git(clone, 'config', 'user.email', 'bob@contoso.com');
});

test.after(async () => {
  await runtime?.stop();
  await gh?.stop();
  await sb?.stop();
  if (previousCa === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
  else process.env.NODE_EXTRA_CA_CERTS = previousCa;
});

test('the first start applies the repository\'s head', async () => {
  const outcome = await runtime!.bootstrapped;
  assert.ok(outcome.ok, `${outcome.stacks.join('\n')}\n${lines.join('\n')}`);
  assert.equal(outcome.stacks.map((s) => s.replace(/: .*/, '')), ['top', 'workloads', 'apps']);
  const head = (await gh_(`/repos/${REPO}/branches/main`)).commit.sha;
  for (const stack of ['top', 'workloads', 'apps']) {
    const s = (await runtime!.reconcile.stores.runs.stack(stack))!;
    assert.is(s.lastAppliedCommit, head, stack);
    assert.is(s.lastAppliedSource, `github:${REPO}`);
  }
});

test('a push of one archetype runs exactly its stack, with trigger push, that commit, the pusher and author', async () => {
  editApps(clone, 'costcenter');
  await git(clone, 'commit', '-qam', 'apps: audit the costcenter tag');
  const sha = await git(clone, 'rev-parse', 'HEAD');
  await git(clone, 'push', '-q', 'origin', 'main');

  const run = await until('the push run of apps', lines, async () => (await runsOf('apps')).find((r) => r.trigger === 'push' && r.commit === sha && r.status === 'done'));
  assert.is(run.decision, 'applied', JSON.stringify(run));
  assert.is(run.requestedBy, 'bob');
  assert.match(run.author ?? '', /Bob Builder <bob@contoso\.com>/);
  assert.is(run.source, `github:${REPO}`);
  assert.equal(run.commits, [sha.slice(0, 12)]);
  // Through the real engine into the sandbox: the assignment now audits the new tag.
  const id = `/providers/Microsoft.Management/managementGroups/apps/providers/Microsoft.Authorization/policyAssignments/Audit-Owner-Tag`;
  const live = sb.state.get(id) as { properties?: { parameters?: { tagName?: { value?: string } } } } | undefined;
  assert.is(live?.properties?.parameters?.tagName?.value, 'costcenter');
  // No other stack ran for it.
  for (const other of ['top', 'workloads']) assert.not.ok((await runsOf(other)).some((r) => r.commit === sha), other);
  const events = await runtime!.nexus.gitops!.p.store.recent(10);
  assert.equal(events.find((e) => e.commit === sha && e.kind === 'push')?.stacks, ['apps']);
});

test('a pull request gets one comment whose counts match nexus preview; a new push edits it in place', async () => {
  await git(clone, 'checkout', '-qb', 'feature');
  editApps(clone, 'team');
  await git(clone, 'commit', '-qam', 'apps: audit the team tag');
  const head1 = await git(clone, 'rev-parse', 'HEAD');
  await git(clone, 'push', '-q', 'origin', 'feature');
  const pr = await gh_(`/repos/${REPO}/pulls`, { method: 'POST', body: JSON.stringify({ title: 'Audit the team tag', head: 'feature', base: 'main' }) });

  const checkOf = (sha: string) => until(`the nexus/preview check of ${sha.slice(0, 7)}`, lines, async () => {
    const { check_runs } = await gh_(`/repos/${REPO}/commits/${sha}/check-runs?check_name=nexus/preview`);
    return check_runs.find((c: any) => c.status === 'completed');
  });
  const check1 = await checkOf(head1);
  assert.is(check1.conclusion, 'success', JSON.stringify(check1.output));
  const comments1 = (await gh_(`/repos/${REPO}/issues/${pr.number}/comments`)).filter((c: any) => c.body.includes(COMMENT_MARKER));
  assert.is(comments1.length, 1);
  const body1: string = comments1[0].body;
  assert.ok(body1.includes(head1.slice(0, 7)), body1.slice(0, 500));

  // The counts in the table row of `apps` are what `nexus preview` says for that commit.
  const row = body1.split('\n').find((l) => /^\|\s*(<code>)?apps/.test(l));
  assert.ok(row, body1);
  const cells = row!.split('|').map((c) => c.replace(/\*|<\/?code>/g, '').trim());
  const cli = await new Promise<any>((resolve, reject) => execFile(process.execPath, [BIN, 'preview', '--stack', 'apps', '--commit', head1, '--json'], { env: { ...env, NEXUS_NO_LOCAL_ENV: '1' }, maxBuffer: 64 * 1024 * 1024 }, (err, out, errOut) => (err ? reject(new Error(`${errOut}\n${err.message}`)) : resolve(JSON.parse(out)))));
  const summary = cli.stacks[0].summary;
  assert.equal(cells.slice(2, 6).map(Number), ['create', 'update', 'replace', 'delete'].map((k) => summary[k] ?? 0), `${row}\n${JSON.stringify(summary)}`);
  assert.ok(summary.update >= 1, JSON.stringify(summary));
  // Only the stack the pull request changes is previewed; the others fold into one line.
  assert.match(body1, /No change/);

  editApps(clone, 'squad');
  await git(clone, 'commit', '-qam', 'apps: audit the squad tag');
  const head2 = await git(clone, 'rev-parse', 'HEAD');
  await git(clone, 'push', '-q', 'origin', 'feature');
  await checkOf(head2);
  const comments2 = (await gh_(`/repos/${REPO}/issues/${pr.number}/comments`)).filter((c: any) => c.body.includes(COMMENT_MARKER));
  assert.is(comments2.length, 1, 'edited, not a second comment');
  assert.is(comments2[0].id, comments1[0].id);
  assert.ok(comments2[0].body.includes(head2.slice(0, 7)));
  assert.ok(comments2[0].updated_at >= comments1[0].updated_at);
  // Previews apply nothing: the live assignment still audits the tag of main.
  const id = `/providers/Microsoft.Management/managementGroups/apps/providers/Microsoft.Authorization/policyAssignments/Audit-Owner-Tag`;
  assert.is((sb.state.get(id) as any)?.properties?.parameters?.tagName?.value, 'costcenter');
});

test.run();
