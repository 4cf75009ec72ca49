// Drift to pull request, end to end as `npm run up` runs it with a landing-zone repository on the
// GitHub stand-in: a parameter changed in the portal becomes one pull request that adopts the live
// value into the archetype (comments kept), a second run leaves it as it is, a changed drift
// updates the same pull request, and the pull request is closed once the drift is gone.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGitHubStandIn, type GitHubStandIn } from '../../../scripts/sandbox/github/server.ts';
import { startSandbox, type SandboxHandle } from '../../../scripts/sandbox/server.ts';
import { freePort } from '../../../scripts/lib/azurite.ts';
import { startLocalRuntime, type LocalRuntime } from '../../../functions/local.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';
import type { RunRecord } from '../../../functions/reconcile/model.ts';
import { azurite } from '../../helpers/azurite.ts';
import { git, seedLogWorkspace } from '../gitops/helpers/e2e.ts';

const test = suite('drift to pull request');
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURE = join(ROOT, 'tests/fixtures/gitops');
const REPO = 'contoso/landing-zones';
const ASSIGNMENT = '/providers/Microsoft.Management/managementGroups/apps/providers/Microsoft.Authorization/policyAssignments/Audit-Owner-Tag';

let sb: SandboxHandle;
let gh: GitHubStandIn;
let runtime: LocalRuntime | undefined;
let previousCa: string | undefined;
const lines: string[] = [];

async function gh_(path: string): Promise<any> {
  const res = await fetch(`${gh.apiUrl}${path}`, { headers: { authorization: `token ${gh.tokenFor('bob')}` } });
  assert.ok(res.ok, `GET ${path}: ${res.status} ${await res.clone().text()}`);
  return res.json();
}

const drift = (tagName: string, by: string) => sb.state.update(ASSIGNMENT, { properties: { parameters: { tagName: { value: tagName } } } } as never, by);

async function run(): Promise<{ run: RunRecord; report: any }> {
  const r = await runtime!.reconcile.reconciler.reconcile({ stack: 'apps', trigger: 'timer' });
  assert.is(r.status, 'done', JSON.stringify(r));
  const done = (r as { run: RunRecord }).run;
  return { run: done, report: await runtime!.nexus.deps.drift!.report('apps', done.id) };
}

async function branchFile(branch: string, file: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-drift-clone-'));
  await git(dir, 'clone', '-q', '--branch', branch, gh.gitUrl('contoso', 'landing-zones', 'bob'), '.');
  return readFileSync(join(dir, file), 'utf8');
}

const driftPulls = async (state: 'open' | 'all') => (await gh_(`/repos/${REPO}/pulls?state=${state}&head=contoso:nexus/drift/apps`)) as { number: number; state: string }[];

test.before(async () => {
  const az = await azurite();
  sb = await startSandbox();
  seedLogWorkspace(sb);
  previousCa = process.env.NODE_EXTRA_CA_CERTS;
  process.env.NODE_EXTRA_CA_CERTS = sb.caFile;
  const port = await freePort();
  gh = await startGitHubStandIn({ dataDir: mkdtempSync(join(tmpdir(), 'nexus-gh-')), webhook: { url: `http://127.0.0.1:${port}/webhooks/github`, secret: 'drift-e2e-secret' } });
  await gh.seed(REPO, join(FIXTURE, 'landing-zones'), { login: 'alice' });
  const home = mkdtempSync(join(tmpdir(), 'nexus-drift-pr-'));
  const guardrails = join(home, 'guardrails.yaml');
  writeFileSync(guardrails, `${readFileSync(join(FIXTURE, 'guardrails.yaml'), 'utf8')}\ndrift:\n  mode: pull-request\n`);
  const env = {
    ...process.env, ...az.env, ...sb.env, ...gh.env,
    NEXUS_HOME: home, NEXUS_LOCAL_ISSUER: '1', NEXUS_RESOURCE_BACKEND: 'arm-rest',
    NEXUS_RECONCILE_INTERVAL_MINUTES: '60', NEXUS_INBOX_DRAIN_MS: '200',
    NEXUS_ALZ_LIBRARY: join(ROOT, 'tests/fixtures/compile/base'), NEXUS_GUARDRAILS_FILE: guardrails,
    NEXUS_GITOPS_CACHE_DIR: mkdtempSync(join(tmpdir(), 'nexus-gitops-cache-')),
    NEXUS_PULUMI_BACKEND_URL: `azblob://pulumi-state/drift-pr-e2e-${process.pid}?domain=127.0.0.1:${az.blobPort}&protocol=http`,
    NEXUS_LOG_LEVEL: process.env.NEXUS_TEST_LOG ?? 'silent',
  };
  runtime = await startLocalRuntime({ port, log: (m) => lines.push(m), config: loadConfig(env) });
  const outcome = await runtime.bootstrapped;
  assert.ok(outcome.ok, `${outcome.stacks.join('\n')}\n${lines.join('\n')}`);
});

test.after(async () => {
  await runtime?.stop();
  await gh?.stop();
  await sb?.stop();
  if (previousCa === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
  else process.env.NODE_EXTRA_CA_CERTS = previousCa;
});

test('a drift becomes one pull request adopting the live value; a second run leaves it; a new drift updates it; no drift closes it', async () => {
  drift('team', 'mallory@contoso.com');
  const first = await run();
  assert.is(first.run.decision, 'report-only', JSON.stringify(first.run));
  assert.is(first.report.pullRequest?.state, 'opened', JSON.stringify(first.report));
  const number = first.report.pullRequest.number;
  const item = first.report.items.find((i: any) => i.resourceId.toLowerCase() === ASSIGNMENT.toLowerCase());
  assert.equal([item.kind, item.action], ['configuration', 'pull-request']);
  assert.is(sb.state.get(ASSIGNMENT)?.properties.parameters.tagName.value, 'team', 'the change in the portal is left as it is');
  const adopted = await branchFile('nexus/drift/apps', 'apps.yaml');
  assert.match(adopted, /tagName: team/);
  assert.match(adopted, /^# The application landing zones/m, 'the archetype keeps its comments');

  const second = await run();
  assert.is(second.report.pullRequest?.state, 'unchanged');
  assert.is(second.report.pullRequest?.number, number);

  drift('department', 'mallory@contoso.com');
  const third = await run();
  assert.is(third.report.pullRequest?.state, 'updated');
  assert.is(third.report.pullRequest?.number, number, 'the same pull request, never a second');
  assert.match(await branchFile('nexus/drift/apps', 'apps.yaml'), /tagName: department/);
  assert.is((await driftPulls('all')).length, 1);

  drift('owner', 'mallory@contoso.com');
  const fourth = await run();
  assert.is(fourth.report.pullRequest?.state, 'closed', JSON.stringify(fourth.report));
  assert.is((await driftPulls('open')).length, 0);
});

test.run();
