// The local runtime of `npm run up`, whole: Azurite, the ARM sandbox, the real engine and the API.
// The first start applies the default tenant through the reconcile gates; the catalog then holds
// the stacks (from Pulumi state) and the sandbox's resources (from Resource Graph).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { azurite } from '../helpers/azurite.ts';
import { startSandbox, type SandboxHandle } from '../../scripts/sandbox/server.ts';
import { startLocalRuntime, type LocalRuntime } from '../../functions/local.ts';
import { signDevToken } from '../../functions/platform/identity.ts';
import { compileDefaultTenant } from '../../stacks/compile/index.ts';
import { azureResourceRef } from '../../functions/catalog/azure-ids.ts';
import { loadConfig } from '../../functions/runtime/config.ts';
import { firstApplyFiles, readProgress } from '../../functions/runtime/first-apply.ts';
import { runDoctor } from '../../functions/cli/commands/doctor.ts';

const test = suite('local runtime');
let sb: SandboxHandle;
let env: NodeJS.ProcessEnv;
let runtime: LocalRuntime | undefined;
let previousCa: string | undefined;
let previousLevel: string | undefined;
const lines: string[] = [];
const log = (msg: string) => { lines.push(msg); };
const home = mkdtempSync(join(tmpdir(), 'nexus-up-'));
// Where the runtime keeps the first apply's marker and progress by default: NEXUS_HOME.
const { marker, progress } = firstApplyFiles(home);

test.before(async () => {
  const az = await azurite();
  sb = await startSandbox();
  // The dynamic provider runs in a child of the Pulumi CLI and trusts the sandbox through this.
  previousCa = process.env.NODE_EXTRA_CA_CERTS;
  process.env.NODE_EXTRA_CA_CERTS = sb.caFile;
  env = {
    ...process.env, ...az.env, ...sb.env,
    NEXUS_HOME: home, NEXUS_LOCAL_ISSUER: '1', NEXUS_RESOURCE_BACKEND: 'arm-rest', NEXUS_RECONCILE_INTERVAL_MINUTES: '60',
    NEXUS_PULUMI_BACKEND_URL: `azblob://pulumi-state/local-runtime-${process.pid}?domain=127.0.0.1:${az.blobPort}&protocol=http`,
  };
  // The reconciler's pino logger reads its level from the process.
  previousLevel = process.env.NEXUS_LOG_LEVEL;
  process.env.NEXUS_LOG_LEVEL = process.env.NEXUS_TEST_LOG ?? 'silent';
});

test.after(async () => {
  await runtime?.stop();
  await sb?.stop();
  if (previousCa === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
  else process.env.NODE_EXTRA_CA_CERTS = previousCa;
  if (previousLevel === undefined) delete process.env.NEXUS_LOG_LEVEL;
  else process.env.NEXUS_LOG_LEVEL = previousLevel;
});

const api = async (path: string) => {
  const token = await signDevToken({ user: 'operator', roles: ['Admin'] }, loadConfig(env).identity);
  const res = await fetch(`${runtime!.server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  assert.is(res.status, 200, `${path}: ${res.status}`);
  return res.json() as Promise<any>;
};

test('first start: every stack of the default tenant is applied through the gates', async () => {
  runtime = await startLocalRuntime({ port: 0, log, config: loadConfig({ ...env, NEXUS_LOG_LEVEL: process.env.NEXUS_TEST_LOG ?? 'silent' }) });
  const outcome = await runtime.bootstrapped;
  assert.ok(outcome.ran);
  assert.ok(outcome.ok, outcome.stacks.join('\n'));
  assert.ok(existsSync(marker));

  const state = await compileDefaultTenant(env);
  assert.is(outcome.stacks.length, state.stacks.length);
  for (const line of outcome.stacks) assert.match(line, /: applied$/);
  // Said when it is ready, with what was applied; the progress file says the same to `nexus doctor`.
  const resources = state.stacks.reduce((n, s) => n + s.resourceIds.length, 0);
  assert.ok(lines.some((l) => l.startsWith(`ready: the default tenant is applied: ${state.stacks.length} stacks, ${resources} resources, in `)), lines.join('\n'));
  const p = readProgress(progress)!;
  assert.equal([p.ok, p.done.map((d) => d.stack), p.current], [true, state.stacks.map((s) => s.name), undefined]);
  const doctor = await runDoctor(loadConfig(env));
  const check = doctor.checks.find((c) => c.name === 'first-apply');
  assert.ok(check?.ok, JSON.stringify(check));
  assert.match(check!.detail, new RegExp(`applied: ${state.stacks.length} stacks`));
  for (const g of state.resources.filter((r) => r.kind === 'managementGroup')) assert.ok(sb.state.get(g.id), `${g.id} in the sandbox`);

  // The API serves the runs the bootstrap recorded.
  const { stacks } = await api('/api/v1/stacks');
  for (const s of state.stacks) {
    const view = stacks.find((v: any) => v.stack === s.name);
    assert.is(view?.lastDecision, 'applied', `${s.name}: ${JSON.stringify(view)}`);
  }
});

test('after the bootstrap the catalog holds every stack and the resources it manages', async () => {
  const catalog = runtime!.server.deps.catalog;
  const state = await compileDefaultTenant(env);
  for (const s of state.stacks) {
    const stack = await catalog.get(`stack:default/${s.name}`, { consistent: true });
    assert.ok(stack, `stack ${s.name} in the catalog`);
    assert.is(stack!.spec.resourceCount, s.resourceIds.length, s.name);
  }
  const assignment = state.resources.find((r) => r.kind === 'policyAssignment' && r.stack === 'corp')!;
  const entity = await catalog.get(azureResourceRef(assignment.id), { consistent: true });
  assert.is(entity?.spec.managedBy, 'stack:default/corp');
  assert.ok(entity?.relations.some((r) => r.type === 'managedBy' && r.targetRef === 'stack:default/corp' && r.resolved));
});

test('the Resource Graph job brings in what was made outside Nexus', async () => {
  const sub = '7f6e5d4c-0000-4000-8000-00000000c0de';
  sb.state.addSubscription({ subscriptionId: sub, managementGroupId: 'corp' }, 'someone@contoso');
  const rg = `/subscriptions/${sub}/resourceGroups/rg-shop`;
  sb.state.put(rg, { location: 'westeurope', tags: {}, properties: {} }, 'someone@contoso');
  const web = `${rg}/providers/Microsoft.Web/sites/shop-web`;
  sb.state.put(web, { location: 'westeurope', tags: { environment: 'test' }, properties: {} }, 'someone@contoso');

  const summary = await runtime!.jobs.runNow('resource-graph-poll');
  assert.not.match(summary, /failed/, summary);
  const catalog = runtime!.server.deps.catalog;
  const site = await catalog.get(azureResourceRef(web), { consistent: true });
  assert.is(site?.spec.type, 'microsoft.web/sites');
  assert.ok(await catalog.get('environment:default/test', { consistent: true }));
});

test('a second start finds the tenant applied and does not bootstrap again', async () => {
  await runtime!.stop();
  const before = lines.length;
  runtime = await startLocalRuntime({ port: 0, log, config: loadConfig({ ...env, NEXUS_LOG_LEVEL: process.env.NEXUS_TEST_LOG ?? 'silent' }) });
  const outcome = await runtime.bootstrapped;
  assert.equal(outcome, { ran: false, ok: true, stacks: [] });
  assert.ok(lines.slice(before).some((l) => l.startsWith('ready: the default tenant is applied')), lines.slice(before).join('\n'));
  // State lives in Azurite: the runs recorded by the first start are still listed.
  const { runs } = await api('/api/v1/stacks/corp/runs');
  assert.ok(runs.length > 0);
});

test.run();
