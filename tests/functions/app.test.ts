// The Azure Functions registration: the same Hono app behind one HTTP trigger, and the timers.
// Driven with @azure/functions' own HttpRequest against Azurite and the ARM sandbox, as the
// Functions host would; each timer handler is run once and its effect read back from storage.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import functions, { type HttpFunctionOptions, type StorageQueueFunctionOptions, type TimerFunctionOptions } from '@azure/functions';
import { Webhooks } from '@octokit/webhooks';
import { azurite } from '../helpers/azurite.ts';
import { waitFor } from '../helpers/wait.ts';
import { startSandbox, type SandboxHandle } from '../../scripts/sandbox/server.ts';
import { registerFunctions, tickSecondsOf } from '../../functions/app.ts';
import { signDevToken } from '../../functions/platform/identity.ts';
import { storageConfig } from '../../functions/platform/storage-config.ts';
import { BlobStore } from '../../functions/platform/blobs.ts';
import { Inbox } from '../../functions/catalog/inbox.ts';
import { CatalogService } from '../../functions/catalog/service.ts';
import { azureResourceRef } from '../../functions/catalog/azure-ids.ts';
import { openStores } from '../../functions/reconcile/store/index.ts';
import { compileDefaultTenant } from '../../stacks/compile/index.ts';
import { loadConfig } from '../../functions/runtime/config.ts';

const { HttpRequest } = functions;
const test = suite('functions app');
const http = new Map<string, HttpFunctionOptions>();
const timers = new Map<string, TimerFunctionOptions>();
const queues = new Map<string, StorageQueueFunctionOptions>();
let env: NodeJS.ProcessEnv;
// A sandbox of this suite's own: the reconcile timer applies a stack of the default tenant into it.
let sb: SandboxHandle;
let previousCa: string | undefined;
let previousLevel: string | undefined;
// Names of this run only: the suite shares Azurite's default tables and the sandbox with others.
const run = randomUUID().slice(0, 8);
const subscription = `${randomUUID().slice(0, 8)}-0000-4000-8000-00000000f00c`;
const stateFolder = `functions-app-${run}`;
const SECRET = 'functions-app-secret';

test.before(async () => {
  const [az, s] = await Promise.all([azurite(), startSandbox()]);
  sb = s;
  // The engine's provider runs in a child of the Pulumi CLI and trusts the sandbox through this;
  // the reconciler's logger reads its level from the process.
  previousCa = process.env.NODE_EXTRA_CA_CERTS;
  process.env.NODE_EXTRA_CA_CERTS = sb.caFile;
  previousLevel = process.env.NEXUS_LOG_LEVEL;
  process.env.NEXUS_LOG_LEVEL = process.env.NEXUS_TEST_LOG ?? 'silent';
  env = {
    ...process.env, ...az.env, ...sb.env,
    NEXUS_HOME: mkdtempSync(join(tmpdir(), 'nexus-func-')), NEXUS_LOCAL_ISSUER: '1',
    NEXUS_GITHUB_WEBHOOK_SECRET: SECRET,
    NEXUS_RESOURCE_GRAPH_SCOPES: `/subscriptions/${subscription}`,
    NEXUS_PULUMI_BACKEND_URL: `azblob://pulumi-state/${stateFolder}?domain=127.0.0.1:${az.blobPort}&protocol=http`,
    NEXUS_RESOURCE_BACKEND: 'arm-rest', NEXUS_RECONCILE_INTERVAL_MINUTES: '60', NEXUS_RECONCILE_SCHEDULE: '',
  };
  registerFunctions({ http: (n, o) => http.set(n, o), timer: (n, o) => timers.set(n, o), storageQueue: (n, o) => queues.set(n, o) }, loadConfig(env));
});

test.after(async () => {
  await sb?.stop();
  if (previousCa === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
  else process.env.NODE_EXTRA_CA_CERTS = previousCa;
  if (previousLevel === undefined) delete process.env.NEXUS_LOG_LEVEL;
  else process.env.NEXUS_LOG_LEVEL = previousLevel;
});

test('one anonymous catch-all HTTP trigger (Nexus authenticates), the four timers and the inbox queue trigger', () => {
  assert.equal([...http.keys()], ['api']);
  assert.is(http.get('api')!.route, '{*path}');
  assert.is(http.get('api')!.authLevel, 'anonymous');
  assert.equal([...timers.keys()].sort(), ['inbox-maintenance', 'pulumi-state-ingestion', 'reconcile', 'resource-graph-poll']);
  assert.equal([...queues.keys()], ['inbox']);
  assert.equal([queues.get('inbox')!.queueName, queues.get('inbox')!.connection], ['webhooks', 'AzureWebJobsStorage']);
  assert.is(timers.get('reconcile')!.schedule, loadConfig(env).schedules.reconcile);
  // The timer ticks every minute; NEXUS_RECONCILE_SCHEDULE is the per-stack intervals, not a cron.
  assert.is(loadConfig({}).schedules.reconcile, '0 * * * * *');
  assert.is(loadConfig({ NEXUS_RECONCILE_TICK_CRON: '0 */2 * * * *', NEXUS_RECONCILE_SCHEDULE: 'stack:corp=5' }).schedules.reconcile, '0 */2 * * * *');
  // A schedule mistake stops the app before anything registers, with the variable named.
  assert.throws(() => loadConfig({ ...env, NEXUS_RECONCILE_SCHEDULE: '0 */10 * * * *' }), /NEXUS_RECONCILE_SCHEDULE: '0 \*\/10 \* \* \* \*' is not stack:/);
});

test("the reconcile timer's period comes from the host's schedule status", () => {
  const status = (last: string, next: string) => ({ scheduleStatus: { last, next, lastUpdated: last } });
  assert.is(tickSecondsOf(status('2026-12-01T10:00:00Z', '2026-12-01T10:02:00Z')), 120);
  assert.is(tickSecondsOf(status('', '')), undefined);
  assert.is(tickSecondsOf(undefined), undefined);
});

const call = (path: string, headers: Record<string, string> = {}) =>
  http.get('api')!.handler(new HttpRequest({ method: 'GET', url: `https://nexus.example${path}`, headers }), {} as never) as Promise<{ status: number; body: Uint8Array }>;

test('the HTTP trigger serves the API: health open, data only with a token', async () => {
  assert.is((await call('/healthz')).status, 200);
  assert.is((await call('/api/v1/entities')).status, 401);
  const token = await signDevToken({ user: 'dev', roles: ['Developer'] }, loadConfig(env).identity);
  const res = await call('/api/v1/entities', { authorization: `Bearer ${token}` });
  assert.is(res.status, 200);
  assert.ok(Array.isArray(JSON.parse(Buffer.from(res.body).toString()).items));
});

type TimerHandler = (timer: unknown, ctx: unknown) => Promise<void>;
const fire = (name: string) => (timers.get(name)!.handler as TimerHandler)({ isPastDue: false, scheduleStatus: undefined }, {});
const admin = () => signDevToken({ user: 'operator', roles: ['Admin'] }, loadConfig(env).identity);
/** A second catalog over the same tables: what any other instance would read. */
const readCatalog = () => CatalogService.open({ storage: storageConfig(loadConfig(env).storage) });

test('the queue trigger processes a webhook the HTTP trigger queued: the delivery ends done and its repository is in the catalog', async () => {
  const examples = createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: any[] }>;
  const payload = structuredClone(examples.find((e) => e.name === 'repository')!.examples[1]);
  const name = `fn-inbox-${run}`;
  payload.repository.name = name;
  payload.repository.full_name = `${payload.repository.owner.login}/${name}`;
  const body = JSON.stringify(payload);
  const deliveryId = `fn-delivery-${run}`;
  const res = await http.get('api')!.handler(new HttpRequest({
    method: 'POST', url: 'https://nexus.example/webhooks/github', body: { string: body },
    headers: {
      'content-type': 'application/json', 'x-github-event': 'repository', 'x-github-delivery': deliveryId,
      'x-hub-signature-256': await new Webhooks({ secret: SECRET }).sign(body),
    },
  }), {} as never) as { status: number };
  assert.is(res.status, 202);
  const inbox = await Inbox.open({ storage: storageConfig(loadConfig(env).storage) });
  // Accepted is only queued: the host hands the message to the queue trigger.
  assert.is((await inbox.status('github', deliveryId))?.status, 'pending');
  const message = await waitFor(async () => {
    // The queue is shared with other suites of this process: ours is the one with our delivery id.
    for (const m of await inbox.queue.receive(32, 5)) {
      if ((m.body as { deliveryId?: string }).deliveryId === deliveryId) return m;
    }
    return undefined;
  }, { what: 'the delivery message in the webhooks queue', timeoutMs: 15_000 });
  type QueueHandler = (entry: unknown, ctx: unknown) => Promise<void>;
  await (queues.get('inbox')!.handler as QueueHandler)(message.body, { triggerMetadata: { dequeueCount: message.dequeueCount } });
  await inbox.queue.delete(message); // what the host does when the handler returns
  await fire('inbox-maintenance'); // re-sends nothing: every message of this run was sent
  const after = await inbox.status('github', deliveryId);
  assert.equal([after?.status, after?.attempts, after?.error], ['done', 1, undefined]);
  const token = await admin();
  const repo = await call(`/api/v1/entities/repository/${payload.repository.owner.login.toLowerCase()}/${name}`, { authorization: `Bearer ${token}` });
  assert.is(repo.status, 200, Buffer.from(repo.body).toString());
  assert.is(JSON.parse(Buffer.from(repo.body).toString()).kind, 'Repository');
});

test('the Resource Graph timer brings what was made outside Nexus into the catalog', async () => {
  sb.state.addSubscription({ subscriptionId: subscription, displayName: `fn-${run}` });
  const rg = `/subscriptions/${subscription}/resourceGroups/rg-fn-${run}`;
  const site = `${rg}/providers/Microsoft.Web/sites/fn-web-${run}`;
  sb.state.put(rg, { location: 'westeurope', tags: {}, properties: {} }, 'someone@contoso');
  sb.state.put(site, { location: 'westeurope', tags: { environment: `fn-${run}` }, properties: {} }, 'someone@contoso');
  const catalog = await readCatalog();
  assert.is(await catalog.get(azureResourceRef(site), { consistent: true }), undefined);

  await fire('resource-graph-poll');
  const entity = await catalog.get(azureResourceRef(site), { consistent: true });
  assert.is(entity?.spec.type, 'microsoft.web/sites');
  assert.ok(await catalog.get(`environment:default/fn-${run}`, { consistent: true }), 'the environment tag became an Environment');
});

test('the Pulumi state timer imports a stack whose state file changed, and skips it while unchanged', async () => {
  const stack = `fn-state-${run}`;
  const ref = `stack:default/${stack}`;
  const exported = JSON.parse(readFileSync(new URL('../fixtures/catalog/pulumi/landing-zone-corp.json', import.meta.url), 'utf8'));
  // The azblob backend's own file: a checkpoint around the deployment.
  const file = { version: 3, checkpoint: { stack, latest: exported.deployment } };
  const blobs = await BlobStore.open('pulumi-state', storageConfig(loadConfig(env).storage));
  const blob = `${stateFolder}/.pulumi/stacks/nexus/${stack}.json`;
  await blobs.putText(blob, JSON.stringify(file), { contentType: 'application/json' });

  await fire('pulumi-state-ingestion');
  const catalog = await readCatalog();
  const entity = await catalog.get(ref, { consistent: true });
  assert.is(entity?.spec.resourceCount, 3);
  assert.is(entity?.relations.filter((r) => r.type === 'manages').length, 3);

  // Taken out of the catalog behind the job's back: an unchanged state file is not imported again...
  assert.ok(await catalog.delete(ref));
  await fire('pulumi-state-ingestion');
  assert.is(await catalog.get(ref, { consistent: true }), undefined, 'an unchanged state file was imported again');
  // ...and a state file Pulumi wrote since is.
  await blobs.putText(blob, JSON.stringify({ ...file, checkpoint: { ...file.checkpoint, latest: { ...file.checkpoint.latest, manifest: { ...file.checkpoint.latest.manifest, time: new Date().toISOString() } } } }), { contentType: 'application/json' });
  await fire('pulumi-state-ingestion');
  assert.is((await catalog.get(ref, { consistent: true }))?.spec.resourceCount, 3);
});

test('the reconcile timer reconciles the stack whose interval has passed, through the engine, and no other', async () => {
  const state = await compileDefaultTenant(env);
  const target = 'online'; // one management group: the cheapest stack to apply
  const stack = state.stacks.find((s) => s.name === target)!;
  // Its parent groups are there already, as the stacks that own them would have made them.
  const parents: string[] = [];
  for (let id = stack.managementGroupId; ;) {
    const parent = (state.resources.find((r) => r.kind === 'managementGroup' && r.id.endsWith(`/${id}`))?.body.properties as any)?.details?.parent?.id as string | undefined;
    const own = parent && state.resources.find((r) => r.id === parent);
    if (!own) break;
    parents.unshift(own.id);
    id = parent.split('/').pop()!;
  }
  for (const id of parents) sb.state.put(id, structuredClone(state.resources.find((r) => r.id === id)!.body) as never, 'test-setup');
  // Every other stack ran a minute ago (every 60 minutes: not due); the target never ran here.
  const stores = await openStores(storageConfig(loadConfig(env).storage));
  const justNow = new Date(Date.now() - 60_000).toISOString();
  const others = state.stacks.filter((s) => s.name !== target).map((s) => s.name);
  for (const name of others) await stores.runs.updateStack(name, (s) => ({ ...s, lastRunAt: justNow }));
  await stores.runs.updateStack(target, (s) => ({ ...s, lastRunAt: new Date(Date.now() - 120 * 60_000).toISOString() }));
  const before = new Map(await Promise.all(state.stacks.map(async (s) => [s.name, (await stores.runs.list({ stack: s.name })).runs.length] as const)));

  await (timers.get('reconcile')!.handler as TimerHandler)({ isPastDue: false, scheduleStatus: { last: new Date(Date.now() - 60_000).toISOString(), next: new Date().toISOString(), lastUpdated: '' } }, {});
  const [latest] = (await stores.runs.list({ stack: target, limit: 1 })).runs;
  assert.equal([latest?.trigger, latest?.decision, latest?.error], ['timer', 'applied', undefined]);
  assert.is((await stores.runs.list({ stack: target })).runs.length, before.get(target)! + 1, 'one run of this tick');
  assert.ok(sb.state.get(`/providers/Microsoft.Management/managementGroups/${stack.managementGroupId}`), 'the group is in the sandbox');
  for (const name of others) assert.is((await stores.runs.list({ stack: name })).runs.length, before.get(name), `${name} was not due`);
});

test.run();
