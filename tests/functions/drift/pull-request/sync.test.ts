// syncDriftPullRequest through the real adapters (Octokit, azure-devops-node-api) against the GitHub
// and Azure DevOps stand-ins: a drift becomes one pull request whose branch holds the adopted YAML
// (comments kept), the same drift leaves it unchanged, a changed drift updates it (same number),
// no drift closes it (the branch stays), a drift no archetype expresses brings drift/<stack>.md,
// and the host's outages propagate.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { planDriftPullRequest } from '../../../../functions/drift/pull-request/plan.ts';
import { syncDriftPullRequest } from '../../../../functions/drift/pull-request/sync.ts';
import { AzureDevOpsHost } from '../../../../functions/platform/git-host/azure-devops.ts';
import { GitHubHost } from '../../../../functions/platform/git-host/github.ts';
import { GitHostUnavailableError, type GitHost } from '../../../../functions/platform/git-host/types.ts';
import { startAzureDevOpsStandIn, type AzureDevOpsStandIn } from '../../../../scripts/sandbox/azure-devops/server.ts';
import { startGitHubStandIn, type GitHubStandIn } from '../../../../scripts/sandbox/github/server.ts';
import type { DesiredState } from '../../../../stacks/compile/model.ts';
import { PA, alice, assignmentId, compileRepo, guardrails, item, repoCopy, report } from './fixtures.ts';

const LIMITS = { maxBytes: 20_000_000, maxFiles: 5000 };
const UDR = assignmentId('corp', 'Deny-Subnet-No-Udr');

interface World {
  host: GitHost;
  /** Every pull request (any state) whose head is `branch`, as the host's own API lists them. */
  pulls(branch: string): Promise<number>;
  /** A host whose every request fails as an outage does. */
  broken(): GitHost;
  stop(): Promise<void>;
}

async function github(data: string, seed: string): Promise<World> {
  const gh: GitHubStandIn = await startGitHubStandIn({ dataDir: data });
  await gh.seed('contoso/landing-zones', seed);
  const host = new GitHubHost({ owner: 'contoso', repo: 'landing-zones' }, { baseUrl: gh.apiUrl, auth: { token: gh.token } });
  return {
    host,
    async pulls(branch) {
      const res = await fetch(`${gh.apiUrl}/repos/contoso/landing-zones/pulls?state=all&head=contoso:${branch}`, { headers: { authorization: `token ${gh.token}` } });
      return ((await res.json()) as unknown[]).length;
    },
    broken() {
      gh.failNext({ count: 50, status: 429, retryAfter: 5 });
      return host;
    },
    stop: () => gh.stop(),
  };
}

async function azureDevOps(data: string, seed: string): Promise<World> {
  const ado: AzureDevOpsStandIn = await startAzureDevOpsStandIn({ dataDir: data });
  await ado.seed('contoso/platform/landing-zones', seed);
  const repo = { provider: 'azure-devops' as const, org: 'contoso', project: 'platform', repo: 'landing-zones' };
  return {
    host: new AzureDevOpsHost({ repo, baseUrl: ado.url, pat: ado.pat }),
    async pulls(branch) {
      return [...ado.state.prs.values()].filter((p) => p.sourceRefName === `refs/heads/${branch}`).length;
    },
    // Port 1 refuses connections: the host is unreachable.
    broken: () => new AzureDevOpsHost({ repo, baseUrl: 'http://127.0.0.1:1', pat: ado.pat, timeoutMs: 2000 }),
    stop: () => ado.stop(),
  };
}

function scenario(name: string, start: (data: string, seed: string) => Promise<World>): void {
  const s = suite(name);
  let w: World;
  let tmp: string;
  let base: string;
  let desired: DesiredState;
  let snapshot: string;
  let number: number;

  const plan = (stack: string, items: ReturnType<typeof item>[]) => planDriftPullRequest({ report: report(stack, items), desired, repoDir: snapshot, guardrails: guardrails() });
  const udr = (live: string) => plan('corp', [item(UDR, PA, [{ path: 'properties.parameters.effect.value', desired: 'Audit', live, changedBy: alice }])]);
  const sync = (stack: string, p: ReturnType<typeof plan>) => syncDriftPullRequest(w.host, { stack, baseBranch: 'main', baseCommit: base, plan: p });
  async function fileAt(branch: string, path: string): Promise<string> {
    const head = await w.host.branchHead(branch);
    assert.ok(head, `branch ${branch} exists`);
    const dir = mkdtempSync(join(tmp, 'dl-'));
    await w.host.download(head!, '', dir, LIMITS);
    return readFileSync(join(dir, path), 'utf8');
  }

  s.before(async () => {
    tmp = mkdtempSync(join(tmpdir(), `drift-pr-${name}-`));
    const seed = repoCopy();
    w = await start(join(tmp, 'data'), seed);
    rmSync(seed, { recursive: true, force: true });
    base = (await w.host.branchHead('main'))!;
    // The plan works from the repository at the applied commit, as the host serves it.
    snapshot = mkdtempSync(join(tmp, 'snapshot-'));
    await w.host.download(base, '', snapshot, LIMITS);
    desired = compileRepo(snapshot);
  });
  s.after(async () => {
    await w.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  s('a drift becomes one pull request whose branch has the adopted YAML, comments kept', async () => {
    const r = await sync('corp', udr('Deny'));
    assert.is(r?.state, 'opened');
    number = r!.number;
    const yaml = await fileAt('nexus/drift/corp', 'nexus-corp.yaml');
    assert.ok(yaml.startsWith('# Corp landing zones: private networking'), 'the leading comment is kept');
    assert.match(yaml, /Deny-Subnet-No-Udr:\n\s+parameters:\n\s+effect: Deny\n/);
    assert.match(yaml, /policies: \[Deny-HybridNetworking\]/);
    const pr = await w.host.findPullRequest({ head: 'nexus/drift/corp', state: 'open' });
    assert.is(pr?.number, number);
    assert.is(pr?.baseRef, 'main');
    assert.match(pr!.body ?? '', /Risk: \d+\/100/);
    assert.is(await w.pulls('nexus/drift/corp'), 1);
  });

  s('the same drift again: unchanged, the branch not moved', async () => {
    const head = await w.host.branchHead('nexus/drift/corp');
    const r = await sync('corp', udr('Deny'));
    assert.equal(r && { state: r.state, number: r.number }, { state: 'unchanged', number });
    assert.is(await w.host.branchHead('nexus/drift/corp'), head);
    assert.is(await w.pulls('nexus/drift/corp'), 1);
  });

  s('a changed drift updates the same pull request: branch force-moved, body edited', async () => {
    const p = udr('Disabled')!;
    const r = await sync('corp', p);
    assert.equal(r && { state: r.state, number: r.number }, { state: 'updated', number });
    assert.match(await fileAt('nexus/drift/corp', 'nexus-corp.yaml'), /effect: Disabled\n/);
    const pr = await w.host.findPullRequest({ head: 'nexus/drift/corp', state: 'open' });
    assert.ok(pr?.body?.includes(p.hash));
    assert.is(await w.pulls('nexus/drift/corp'), 1);
  });

  const ddos = assignmentId('connectivity', 'Enable-DDoS-VNET');
  const ddosPlan = (live: string) => plan('connectivity', [item(ddos, PA, [{ path: 'properties.parameters.effect.value', desired: 'Modify', live, changedBy: alice }])]);

  s('a drift no archetype expresses: drift/<stack>.md documents the revert', async () => {
    const r = await sync('connectivity', ddosPlan('Disabled'));
    assert.is(r?.state, 'opened');
    assert.is.not(r?.number, number);
    const md = await fileAt('nexus/drift/connectivity', 'drift/connectivity.md');
    assert.ok(md.includes(ddos) && md.includes('"Disabled"') && md.includes('"Modify"'));
  });

  s('a proposal someone closed is not opened again; a different drift is', async () => {
    const open = (await w.host.findPullRequest({ head: 'nexus/drift/connectivity', state: 'open' }))!;
    await w.host.updatePullRequest(open.number, { state: 'closed' });
    const again = await sync('connectivity', ddosPlan('Disabled'));
    assert.equal(again && { state: again.state, number: again.number }, { state: 'unchanged', number: open.number });
    assert.is(await w.pulls('nexus/drift/connectivity'), 1);
    const changed = await sync('connectivity', ddosPlan('Audit'));
    assert.is(changed?.state, 'opened');
    assert.is(await w.pulls('nexus/drift/connectivity'), 2);
  });

  s('no drift: the pull request is closed and its branch left; then nothing to do', async () => {
    const r = await sync('corp', undefined);
    assert.equal(r && { state: r.state, number: r.number }, { state: 'closed', number });
    assert.is(await w.host.findPullRequest({ head: 'nexus/drift/corp', state: 'open' }), undefined);
    assert.ok(await w.host.branchHead('nexus/drift/corp'));
    assert.is(await sync('corp', undefined), undefined);
    assert.is(await w.pulls('nexus/drift/corp'), 1);
  });

  s('the host unavailable: GitHostUnavailableError propagates', async () => {
    const err = await syncDriftPullRequest(w.broken(), { stack: 'corp', baseBranch: 'main', baseCommit: base, plan: udr('Deny') }).then(() => undefined, (e: unknown) => e);
    assert.instance(err, GitHostUnavailableError);
  });

  s.run();
}

scenario('github', github);
scenario('azure-devops', azureDevOps);
