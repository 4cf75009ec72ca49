// GitOps end to end with Azure DevOps, as `npm run up` runs it: Azurite, the ARM sandbox, the Azure
// DevOps stand-in (real `git clone` / `git push` over smart HTTP, service hooks with basic auth)
// and the local runtime with the real engine. A push of one archetype runs exactly the stack it
// changes, with trigger `push` and that commit; a pull request gets one thread (found by its
// marker property) and a `nexus/preview` pull request status, the thread edited in place when the
// source branch moves. The tenant is the small one of the GitHub test (three groups).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAzureDevOpsStandIn, type AzureDevOpsStandIn } from '../../../scripts/sandbox/azure-devops/server.ts';
import { startSandbox, type SandboxHandle } from '../../../scripts/sandbox/server.ts';
import { freePort } from '../../../scripts/lib/azurite.ts';
import { COMMENT_MARKER } from '../../../functions/gitops/comment/render.ts';
import { THREAD_MARKER_PROPERTY } from '../../../functions/platform/git-host/azure-devops.ts';
import { startLocalRuntime, type LocalRuntime } from '../../../functions/local.ts';
import type { RunRow } from '../../../functions/reconcile/store/runs.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';
import { azurite } from '../../helpers/azurite.ts';
import { editApps, git, seedLogWorkspace, until } from './helpers/e2e.ts';

const test = suite('gitops end to end (Azure DevOps)');
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURE = join(ROOT, 'tests/fixtures/gitops');
const REPO = 'contoso/platform/landing-zones';
const REPO_ID = `azure-devops:${REPO}`;
const ASSIGNMENT = '/providers/Microsoft.Management/managementGroups/apps/providers/Microsoft.Authorization/policyAssignments/Audit-Owner-Tag';

let sb: SandboxHandle;
let ado: AzureDevOpsStandIn;
let runtime: LocalRuntime | undefined;
let clone: string;
let previousCa: string | undefined;
const lines: string[] = [];

async function runsOf(stack: string): Promise<RunRow[]> {
  return (await runtime!.reconcile.runs({ stack, limit: 100 })).runs;
}

/** The stand-in's REST API, as a client with the PAT calls it. */
async function api(path: string, init: RequestInit = {}): Promise<any> {
  const auth = `Basic ${Buffer.from(`:${ado.pat}`).toString('base64')}`;
  const url = `${ado.url}/contoso/platform/_apis/git/repositories/landing-zones${path}${path.includes('?') ? '&' : '?'}api-version=7.1`;
  const res = await fetch(url, { ...init, headers: { authorization: auth, 'content-type': 'application/json', ...(init.headers ?? {}) } });
  assert.ok(res.ok, `${init.method ?? 'GET'} ${path}: ${res.status} ${await res.clone().text()}`);
  return res.json();
}

interface Thread { id: number; properties?: Record<string, { $value?: unknown }>; comments: Array<{ id: number; content: string; lastUpdatedDate?: string }> }
interface Status { id: number; state: string; description?: string; context: { genre?: string; name: string } }

const nexusThreads = async (pr: number): Promise<Thread[]> =>
  ((await api(`/pullRequests/${pr}/threads`)).value as Thread[]).filter((t) => t.properties?.[THREAD_MARKER_PROPERTY]?.$value === COMMENT_MARKER);
const previewStatuses = async (pr: number): Promise<Status[]> =>
  ((await api(`/pullRequests/${pr}/statuses`)).value as Status[]).filter((s) => s.context.genre === 'nexus' && s.context.name === 'preview');

test.before(async () => {
  const az = await azurite();
  sb = await startSandbox();
  seedLogWorkspace(sb);
  previousCa = process.env.NODE_EXTRA_CA_CERTS;
  process.env.NODE_EXTRA_CA_CERTS = sb.caFile;
  const port = await freePort();
  const secret = 'ado-e2e-hook-secret';
  ado = await startAzureDevOpsStandIn({ dataDir: mkdtempSync(join(tmpdir(), 'nexus-ado-')), webhook: { url: `http://127.0.0.1:${port}/webhooks/azure-devops`, secret } });
  await ado.seed(REPO, join(FIXTURE, 'landing-zones'));
  assert.is(ado.env.NEXUS_LANDING_ZONE_REPO, REPO_ID);
  const env: NodeJS.ProcessEnv = {
    ...process.env, ...az.env, ...sb.env, ...ado.env,
    NEXUS_ADO_WEBHOOK_SECRET: secret,
    NEXUS_HOME: mkdtempSync(join(tmpdir(), 'nexus-gitops-ado-')), NEXUS_LOCAL_ISSUER: '1', NEXUS_RESOURCE_BACKEND: 'arm-rest',
    NEXUS_RECONCILE_INTERVAL_MINUTES: '60', NEXUS_INBOX_DRAIN_MS: '200',
    NEXUS_ALZ_LIBRARY: join(ROOT, 'tests/fixtures/compile/base'), NEXUS_GUARDRAILS_FILE: join(FIXTURE, 'guardrails.yaml'),
    NEXUS_GITOPS_CACHE_DIR: mkdtempSync(join(tmpdir(), 'nexus-gitops-ado-cache-')),
    NEXUS_PULUMI_BACKEND_URL: `azblob://pulumi-state/gitops-ado-e2e-${process.pid}?domain=127.0.0.1:${az.blobPort}&protocol=http`,
    NEXUS_LOG_LEVEL: process.env.NEXUS_TEST_LOG ?? 'silent',
  };
  runtime = await startLocalRuntime({ port, log: (m) => lines.push(m), config: loadConfig(env) });
  clone = mkdtempSync(join(tmpdir(), 'nexus-ado-clone-'));
  // The user name of the clone URL stands for the pusher (an e-mail, as Azure DevOps identities are).
  const url = new URL(ado.gitUrl('contoso', 'platform', 'landing-zones'));
  url.username = encodeURIComponent('bob@contoso.com');
  await git(clone, 'clone', '-q', url.toString(), '.');
  await git(clone, 'config', 'user.name', 'Bob Builder');
  await git(clone, 'config', 'user.email', 'bob@contoso.com');
});

test.after(async () => {
  await runtime?.stop();
  await ado?.stop();
  await sb?.stop();
  if (previousCa === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
  else process.env.NODE_EXTRA_CA_CERTS = previousCa;
});

test('the first start applies the repository\'s head from Azure DevOps', async () => {
  const outcome = await runtime!.bootstrapped;
  assert.ok(outcome.ok, `${outcome.stacks.join('\n')}\n${lines.join('\n')}`);
  assert.equal(outcome.stacks.map((s) => s.replace(/: .*/, '')), ['top', 'workloads', 'apps']);
  const main = (await api('/refs?filter=heads/main')).value[0].objectId;
  for (const stack of ['top', 'workloads', 'apps']) {
    const s = (await runtime!.reconcile.stores.runs.stack(stack))!;
    assert.is(s.lastAppliedCommit, main, stack);
    assert.is(s.lastAppliedSource, REPO_ID);
  }
});

test('a git push of one archetype runs exactly its stack, with trigger push and that commit', async () => {
  editApps(clone, 'costcenter');
  await git(clone, 'commit', '-qam', 'apps: audit the costcenter tag');
  const sha = await git(clone, 'rev-parse', 'HEAD');
  await git(clone, 'push', '-q', 'origin', 'main');

  const run = await until('the push run of apps', lines, async () => (await runsOf('apps')).find((r) => r.trigger === 'push' && r.commit === sha && r.status === 'done'));
  assert.is(run.decision, 'applied', JSON.stringify(run));
  assert.is(run.source, REPO_ID);
  // The pusher is the identity of the service hook's pushedBy (the clone URL's user here).
  assert.is(run.requestedBy, 'bob@contoso.com');
  assert.match(run.author ?? '', /Bob Builder <bob@contoso\.com>/);
  assert.equal(run.commits, [sha.slice(0, 12)]);
  // The service hook was delivered with basic auth and accepted (not refused as malformed).
  const push = ado.deliveries.find((d) => d.eventType === 'git.push' && JSON.stringify(d.body).includes(sha));
  assert.is(push?.status, 202, JSON.stringify(push ?? ado.deliveries.map((d) => d.eventType)));
  // Through the real engine into the sandbox: the assignment now audits the new tag.
  const live = sb.state.get(ASSIGNMENT) as { properties?: { parameters?: { tagName?: { value?: string } } } } | undefined;
  assert.is(live?.properties?.parameters?.tagName?.value, 'costcenter');
  // No other stack ran for it.
  for (const other of ['top', 'workloads']) assert.not.ok((await runsOf(other)).some((r) => r.commit === sha), other);
  const events = await runtime!.nexus.gitops!.p.store.recent(10);
  assert.equal(events.find((e) => e.commit === sha && e.kind === 'push')?.stacks, ['apps']);
});

test('a pull request gets one marked thread and a nexus/preview status; a push to its branch edits the thread', async () => {
  await git(clone, 'checkout', '-qb', 'feature');
  editApps(clone, 'team');
  await git(clone, 'commit', '-qam', 'apps: audit the team tag');
  const head1 = await git(clone, 'rev-parse', 'HEAD');
  await git(clone, 'push', '-q', 'origin', 'feature');
  const pr = await api('/pullRequests', { method: 'POST', body: JSON.stringify({ title: 'Audit the team tag', sourceRefName: 'refs/heads/feature', targetRefName: 'refs/heads/main' }) });
  const id: number = pr.pullRequestId;

  const threadOf = (sha: string) => until(`the preview thread of ${sha.slice(0, 7)}`, lines, async () => {
    const threads = await nexusThreads(id);
    return threads.some((t) => t.comments[0]?.content.includes(sha.slice(0, 7))) ? threads : undefined;
  });
  const finalStatuses = (n: number) => until(`${n} final nexus/preview status(es)`, lines, async () => {
    const done = (await previewStatuses(id)).filter((s) => s.state !== 'pending');
    return done.length >= n ? done : undefined;
  });

  const threads1 = await threadOf(head1);
  assert.is(threads1.length, 1, 'one thread');
  const body1 = threads1[0].comments[0].content;
  assert.ok(body1.includes(COMMENT_MARKER), body1.slice(0, 300));
  assert.match(body1, /apps/);
  assert.match(body1, /No change/);
  const statuses1 = await finalStatuses(1);
  // A tag change the guardrails let through: the preview says it would apply.
  assert.is(statuses1.at(-1)!.state, 'succeeded', JSON.stringify(statuses1));

  editApps(clone, 'squad');
  await git(clone, 'commit', '-qam', 'apps: audit the squad tag');
  const head2 = await git(clone, 'rev-parse', 'HEAD');
  await git(clone, 'push', '-q', 'origin', 'feature');
  const threads2 = await threadOf(head2);
  assert.is(threads2.length, 1, 'edited, not a second thread');
  assert.is(threads2[0].id, threads1[0].id);
  assert.is(threads2[0].comments.length, 1, 'the first comment edited, no reply added');
  assert.is(threads2[0].comments[0].id, threads1[0].comments[0].id);
  const statuses2 = await finalStatuses(2);
  assert.is(statuses2.at(-1)!.state, 'succeeded', JSON.stringify(statuses2));
  // The pushes to the source branch started previews only (the branch is not tracked): each run of
  // their commits is a `pull-request` dry run, none applied.
  for (const stack of ['top', 'workloads', 'apps']) {
    const mine = (await runsOf(stack)).filter((r) => r.commit === head1 || r.commit === head2);
    assert.equal(mine.filter((r) => r.trigger !== 'pull-request' || r.decision === 'applied').map((r) => `${r.trigger} ${r.decision}`), [], stack);
    if (stack === 'apps') assert.ok(mine.length >= 2, `apps previewed at both heads: ${mine.map((r) => r.commit).join()}`);
  }
  // Previews apply nothing: the live assignment still audits the tag of main.
  assert.is((sb.state.get(ASSIGNMENT) as any)?.properties?.parameters?.tagName?.value, 'costcenter');
  // No delivery was refused by Nexus.
  await ado.settled();
  const refused = ado.deliveries.filter((d) => d.status !== 202);
  assert.equal(refused.map((d) => `${d.eventType} ${d.status} ${d.error ?? ''}`), []);
});

test.run();
