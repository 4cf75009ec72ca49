// The local server end to end: real HTTP on a free port, Azurite storage, the local issuer's JWKS,
// webhooks drained in the background, and `nexus catalog import` run as a user would run it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Webhooks } from '@octokit/webhooks';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { azurite } from '../../helpers/azurite.ts';
import { startServer, type RunningServer } from '../../../functions/server.ts';
import { signDevToken } from '../../../functions/platform/identity.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { CatalogService } from '../../../functions/catalog/service.ts';
import { Inbox } from '../../../functions/catalog/inbox.ts';
import { openNexus } from '../../../functions/runtime/nexus.ts';
import { uniqueName } from './harness.ts';
import { waitFor } from '../../helpers/wait.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: any[] }>;

const t = suite<{ server: RunningServer; env: Record<string, string>; token: string }>('server');

t.before(async (ctx) => {
  const az = await azurite();
  ctx.env = {
    ...az.env,
    NEXUS_HOME: mkdtempSync(join(tmpdir(), 'nexus-server-')),
    NEXUS_LOCAL_ISSUER: '1',
    NEXUS_API_AUDIENCE: 'api://nexus-server-test',
    NEXUS_GITHUB_WEBHOOK_SECRET: 'server-test-secret',
    NEXUS_AZURE_MONITOR_WEBHOOK_SECRET: 'monitor-test-secret',
  };
  // Tables of its own, so other suites sharing this Azurite never show up here.
  const storage = storageConfig(loadConfig(ctx.env).storage);
  const catalog = await CatalogService.open({ storage, tables: { entities: uniqueName('cat'), relations: uniqueName('rel') } });
  const inbox = await Inbox.open({ storage, table: uniqueName('dlv') });
  const nexus = await openNexus(loadConfig(ctx.env), { storage, catalog, inbox });
  ctx.server = await startServer({ port: 0, drainIntervalMs: 60_000, nexus });
  ctx.token = await signDevToken({ user: 'root', roles: ['Admin'] }, loadConfig(ctx.env).identity);
});
t.after(async ({ server }) => { await server?.close(); await server?.nexus.close(); });

const get = (s: RunningServer, path: string, token?: string) =>
  fetch(`${s.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

t('health without a token; the API with one; the JWKS verifies tokens of the local issuer', async ({ server, token }) => {
  assert.is((await get(server, '/healthz')).status, 200);
  assert.is((await get(server, '/api/v1/entities')).status, 401);
  assert.is((await get(server, '/api/v1/entities', token)).status, 200);
  const jwks = await (await get(server, '/.well-known/jwks.json')).json();
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { audience: 'api://nexus-server-test' });
  assert.is(payload.sub, 'root');
});

t('a signed GitHub delivery is answered 202 and drained into the catalog in the background', async ({ server, token }) => {
  const payload = examples.find((e) => e.name === 'repository')!.examples[1];
  const body = JSON.stringify(payload);
  const res = await fetch(`${server.url}/webhooks/github`, {
    method: 'POST', body,
    headers: {
      'content-type': 'application/json', 'x-github-event': 'repository', 'x-github-delivery': 'srv-delivery-1',
      'x-hub-signature-256': await new Webhooks({ secret: 'server-test-secret' }).sign(body),
    },
  });
  assert.is(res.status, 202);
  // The pump kicks a drain right after the enqueue; drainNow waits for whatever is still due.
  await server.drainNow();
  const repo = await get(server, '/api/v1/entities/repository/octocoders/Hello-World', token);
  assert.is(repo.status, 200, await repo.clone().text());
  assert.is((await repo.json() as any).kind, 'Repository');
});

t('an Azure Monitor alert (common alert schema) becomes an Incident', async ({ server, token }) => {
  const body = readFileSync(join(ROOT, 'tests/fixtures/catalog/incidents/azure-monitor-fired.json'), 'utf8');
  const res = await fetch(`${server.url}/webhooks/alerts/azure-monitor?token=monitor-test-secret`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  assert.is(res.status, 202);
  await server.drainNow();
  const list = await (await get(server, '/api/v1/entities?kind=incident&filter=spec.provider=azure-monitor', token)).json() as any;
  assert.is(list.items.length, 1);
  assert.is(list.items[0].spec.severity, 'high');
  assert.is(list.items[0].spec.status, 'open');
});

t('the drain timer alone processes a delivery queued without a kick (e.g. by another instance)', async ({ env }) => {
  const storage = storageConfig(loadConfig(env).storage);
  const catalog = await CatalogService.open({ storage, tables: { entities: uniqueName('cat'), relations: uniqueName('rel') } });
  const table = uniqueName('dlv');
  const inbox = await Inbox.open({ storage, table });
  const nexus = await openNexus(loadConfig(env), { storage, catalog, inbox });
  const server = await startServer({ port: 0, drainIntervalMs: 100, nexus });
  try {
    // Queued through an Inbox of its own, as another instance would: nothing kicks this server.
    const elsewhere = await Inbox.open({ storage, table });
    const body = JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/catalog/incidents/azure-monitor-fired.json'), 'utf8'));
    await elsewhere.enqueue({ source: 'azure-monitor', deliveryId: 'timer-only-1', event: 'alert', payload: body });
    const done = await waitFor(async () => {
      const s = await inbox.status('azure-monitor', 'timer-only-1');
      return s?.status === 'done' ? s : undefined;
    }, { what: 'the drain timer to process delivery timer-only-1', timeoutMs: 10_000 });
    assert.is(done.attempts, 1);
    assert.is((await catalog.list({ kind: 'incident' })).items.length, 1);
  } finally {
    await server.close();
    await nexus.close();
  }
});

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin/nexus.js'), ...args], { env: { ...process.env, ...env, NEXUS_NO_LOCAL_ENV: '1' }, cwd: ROOT }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

t('nexus catalog import: Backstage files with a Location; search finds them at once', async ({ server, env, token }) => {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-import-'));
  mkdirSync(join(dir, 'teams'));
  writeFileSync(join(dir, 'catalog-info.yaml'), [
    'apiVersion: backstage.io/v1alpha1', 'kind: Component',
    'metadata:', '  name: quasar-billing', '  description: Bills the quasar customers', '  tags: [billing]',
    'spec:', '  type: service', '  lifecycle: production', '  owner: group:quasar-team', '  providesApis: [quasar-billing-api]',
    '---',
    'apiVersion: backstage.io/v1alpha1', 'kind: API',
    'metadata:', '  name: quasar-billing-api',
    'spec:', '  type: openapi', '  lifecycle: production', '  owner: quasar-team', '  definition: "openapi: 3.0.0"',
    '---',
    'apiVersion: backstage.io/v1alpha1', 'kind: Location',
    'metadata:', '  name: quasar-teams',
    'spec:', '  targets: [./teams/quasar.yaml]',
  ].join('\n'));
  writeFileSync(join(dir, 'teams', 'quasar.yaml'), [
    'apiVersion: backstage.io/v1alpha1', 'kind: Group',
    'metadata:', '  name: quasar-team',
    'spec:', '  type: team', '  children: []', '  members: [jane]',
  ].join('\n'));
  const out = await runCli(['catalog', 'import', dir, '--api', server.url, '--json'], env);
  assert.is(out.code, 0, out.stderr);
  const result = JSON.parse(out.stdout);
  assert.equal(result.imported.map((i: any) => i.ref).sort(), ['api:default/quasar-billing-api', 'service:default/quasar-billing', 'team:default/quasar-team']);

  const search = await (await get(server, '/api/v1/search?q=quasar', token)).json() as any;
  const names = search.items.map((h: any) => h.entity.metadata.name);
  assert.ok(names.includes('quasar-billing') && names.includes('quasar-team'), names.join(','));
  assert.is(search.facets.kind.Service, 1);
  const rels = await (await get(server, '/api/v1/entities/team/default/quasar-team/relations', token)).json() as any;
  assert.ok(rels.items.some((r: any) => r.type === 'ownerOf' && r.targetRef === 'service:default/quasar-billing'));
});

t('nexus catalog import URL: the file and its relative Location targets are fetched over HTTP', async ({ server, env, token }) => {
  const files: Record<string, string> = {
    '/repo/catalog-info.yaml': [
      'apiVersion: backstage.io/v1alpha1', 'kind: Location', 'metadata:', '  name: nebula-all', 'spec:', '  targets: [./services/nebula.yaml]',
    ].join('\n'),
    '/repo/services/nebula.yaml': [
      'apiVersion: backstage.io/v1alpha1', 'kind: Component', 'metadata:', '  name: nebula-router',
      'spec:', '  type: service', '  lifecycle: experimental', '  owner: quasar-team',
    ].join('\n'),
  };
  const http = createServer((req, res) => {
    const body = files[req.url ?? ''];
    res.writeHead(body ? 200 : 404, { 'content-type': 'text/yaml' }).end(body ?? 'not found');
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  try {
    const base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
    const out = await runCli(['catalog', 'import', `${base}/repo/catalog-info.yaml`, '--api', server.url], env);
    assert.is(out.code, 0, out.stderr);
    assert.match(out.stdout, /imported 1 entity from 2 files/);
    assert.match(out.stdout, /service:default\/nebula-router/);
    const missing = await runCli(['catalog', 'import', `${base}/repo/nothing.yaml`, '--api', server.url], env);
    assert.is(missing.code, 1);
    assert.match(missing.stderr, /nothing\.yaml: HTTP 404/);
  } finally {
    await new Promise<void>((r) => http.close(() => r()));
  }
  const found = await (await get(server, '/api/v1/search?q=nebula', token)).json() as any;
  assert.is(found.items[0].entity.metadata.name, 'nebula-router');
});

t('nexus dev-token: a token the running API accepts; refused when the local issuer is off', async ({ server, env }) => {
  const out = await runCli(['dev-token', '--user', 'jane', '--role', 'TeamLead', '--groups', 'quasar-team'], env);
  assert.is(out.code, 0, out.stderr);
  const me = await (await get(server, '/api/v1/me', out.stdout.trim())).json() as any;
  assert.equal(me.principal, { id: 'jane', name: 'jane', roles: ['TeamLead'], groups: ['quasar-team'], local: true });
  const off = await runCli(['dev-token', '--user', 'jane', '--role', 'Admin'], { ...env, NEXUS_LOCAL_ISSUER: '0' });
  assert.is(off.code, 1);
  assert.match(off.stderr, /local issuer is off/);
  assert.is(off.stdout, '');
});

t('nexus catalog import: an invalid document is refused with the file, document and field, the others are imported, and the exit code says so', async ({ server, env, token }) => {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-import-bad-'));
  const file = join(dir, 'catalog-info.yaml');
  writeFileSync(file, [
    'apiVersion: backstage.io/v1alpha1', 'kind: Component',
    'metadata:', '  name: zephyr-good', 'spec:', '  type: service', '  lifecycle: production', '  owner: quasar-team',
    '---',
    'apiVersion: backstage.io/v1alpha1', 'kind: Component',
    'metadata:', '  name: zephyr-bad', 'spec:', '  type: service', '  owner: quasar-team',
  ].join('\n'));
  const out = await runCli(['catalog', 'import', file, '--api', server.url], env);
  assert.is(out.code, 1);
  assert.match(out.stdout, /refused: .*catalog-info\.yaml\[document 2\] service:default\/zephyr-bad: spec\.lifecycle/);
  assert.match(out.stderr, /1 document was refused; the others were imported/);
  assert.is((await get(server, '/api/v1/entities/service/default/zephyr-good', token)).status, 200);
  assert.is((await get(server, '/api/v1/entities/service/default/zephyr-bad', token)).status, 404);

  const unreachable = await runCli(['catalog', 'import', file, '--api', 'http://127.0.0.1:9'], env);
  assert.is(unreachable.code, 1);
  assert.match(unreachable.stderr, /cannot reach the Nexus API/);
  const noIssuer = await runCli(['catalog', 'import', file, '--api', server.url], { ...env, NEXUS_LOCAL_ISSUER: '0' });
  assert.match(noIssuer.stderr, /NEXUS_API_TOKEN/);
});

t('openNexus: storage from the configuration, handlers for every webhook source, the reconciler for the handlers', async ({ env }) => {
  const w = await openNexus(loadConfig(env));
  assert.ok(w.reconcile.reconciler, 'the reconciler every handler can reach');
  assert.is(w.deps.reconcile, w.reconcile, 'the API and the handlers share one reconciler');
  assert.equal(Object.keys(w.handlers).sort(), ['azure-devops', 'azure-monitor', 'github', 'opsgenie', 'pagerduty']);
  assert.type(w.catalog.search, 'function');
  assert.equal(await w.inbox.enqueue({ source: 'github', deliveryId: `wiring-${uniqueName('d')}`, event: 'ping', payload: {} }), { duplicate: false });
  await w.close();
});

t.run();
