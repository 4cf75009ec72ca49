// Every route and method in the API's own OpenAPI document, fed malformed, oversized, deeply
// nested, wrong-type, prototype-key, control-character, very long and forged input and bad content
// types, as Admin and as a plain Developer (webhooks: as their correctly signed sender). Nothing
// may answer 5xx, and every problem about the input names the field at fault. Real app, real
// catalog, inbox and reconcile stores in Azurite.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHmac } from 'node:crypto';
import { Inbox } from '../../../functions/catalog/inbox.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { createLogger } from '../../../functions/platform/logger.ts';
import { defaultDeps } from '../../../functions/reconcile/deps.ts';
import { parseGuardrails } from '../../../functions/reconcile/guardrails.ts';
import { Reconciler } from '../../../functions/reconcile/loop.ts';
import { ReconcileService } from '../../../functions/reconcile/service.ts';
import { openStores } from '../../../functions/reconcile/store/index.ts';
import type { DesiredState } from '../../../stacks/compile/model.ts';
import { azurite } from '../../helpers/azurite.ts';
import { harness, service, team, uniqueName, type Harness } from './harness.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';
import { partsFrom } from '../../helpers/config.ts';
import { DriftStore } from '../../../functions/drift/store.ts';
import { compliancePort, sampleCompliance } from '../../helpers/drift.ts';

const SECRETS = { github: 'gh-corpus', azureDevOps: 'ado-corpus', azureMonitor: 'mon-corpus', pagerDuty: 'pd-corpus', opsgenie: 'og-corpus' };
/** Problems about the input: each must name the field, header or path segment at fault. */
const NAMES_FIELD = new Set([400, 401, 404, 405, 413, 415, 422]);

interface Operation { method: string; path: string; params: Array<{ name: string; in: string }>; body: boolean }
interface Case { label: string; method: string; url: string; headers: Record<string, string>; body?: string }

const t = suite<{ h: Harness; ops: Operation[]; tokens: Array<[string, string]> }>('bad-input corpus');

t.before(async (ctx) => {
  const az = await azurite();
  const storage = storageConfig({ connectionString: az.connectionString });
  const inbox = await Inbox.open({ storage, table: uniqueName('dlv') });
  ctx.h = await harness({ inbox, webhookSecrets: SECRETS });
  const stack = uniqueName('corpusstack');
  const state: DesiredState = {
    tenantRootId: 'tenant', rootManagementGroupId: stack, location: 'westeurope', resources: [], findings: [],
    stacks: [{ name: stack, managementGroupId: stack, resourceIds: [] }],
  };
  const deps = await defaultDeps(partsFrom({ ...process.env, ...ctx.h.env }), {
    stores: await openStores(storageConfig(loadConfig(ctx.h.env).storage)), compile: async () => state,
    guardrails: async () => parseGuardrails({}), logger: createLogger({ level: 'silent' }),
  });
  ctx.h.deps.reconcile = new ReconcileService(new Reconciler(deps));
  // Drift reports from the real store; the compliance view from a function standing for its module.
  const drift = await DriftStore.open(storage);
  ctx.h.deps.drift = { report: (s, runId) => drift.get(s, runId) };
  ctx.h.deps.compliance = compliancePort(sampleCompliance());
  const admin = await ctx.h.token('root', ['Admin']);
  const dev = await ctx.h.token('dev', ['Developer']);
  ctx.tokens = [['Admin', admin], ['Developer', dev]];
  // Something to find: a team, a service it owns, so reads and writes reach storage and rights.
  for (const [path, body] of [['team/default/corpus', team('corpus', ['user:dev'])], ['service/default/corpus-svc', service('corpus-svc', 'corpus')]] as const) {
    const res = await ctx.h.call('PUT', `/api/v1/entities/${path}`, { token: admin, body });
    assert.ok(res.status < 300, await res.clone().text());
  }
  const doc = await (await ctx.h.call('GET', '/api/v1/openapi.json', { token: admin })).json() as {
    paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }>; requestBody?: unknown }>>;
  };
  ctx.ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({
    method: method.toUpperCase(), path, params: op.parameters ?? [],
    body: op.requestBody !== undefined || path.startsWith('/webhooks/') || method !== 'get',
  })));
});

// ---- what is sent ----------------------------------------------------------------------------

const LONG = 'x'.repeat(5000);
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64');

/** A value that passes each path parameter's shape but names nothing that exists (so no variant deletes or reconciles anything real). */
const BASELINE: Record<string, string> = { kind: 'service', namespace: 'default', name: 'corpus-none', stack: 'corpus-none', id: '7204401456640999-bd2368e4' };

const PATH_VALUES = [
  LONG, 'k'.repeat(1100), '__proto__', 'constructor', 'toString', 'hasOwnProperty', '%00', 'a%00b', '%0D%0A', '%1F', '..', '%2E%2E%2F%2E%2E',
  '%E0%A4%A', '%F0%9F%92%A9', '-', '_', '1', 'a.b', 'A'.repeat(64), '%2F', '%23', '%3F', '%5C', '~',
];

const QUERY_VALUES = [
  '', LONG, '__proto__', 'constructor', 'toString', 'constructor.prototype', '__proto__=1', 'constructor=x', '%00', 'a%00b', '%0A%0D', '-1', '0',
  '1e309', 'NaN', '99999999999999999999', '1.5', 'true', '[]', '%7B%7D', 'a=b=c', '=', ',,,', 'service:default/constructor', 'constructor:default/x',
  'team:__proto__/x', '%E0%A4%A', encodeURIComponent(deep(200)),
  // forged cursors
  'not-a-cursor', b64({ nextPartitionKey: 1 }), b64({ nextPartitionKey: 'a', nextRowKey: "b'c" }), b64(['x']), Buffer.from('service:default/x').toString('base64url'),
  Buffer.from('constructor:__proto__/x').toString('base64url'), Buffer.from(LONG).toString('base64url'),
];

const JSON_TYPE = 'application/json';
const protoBody = '{"__proto__":{"polluted":true,"on":true},"constructor":{"prototype":{"polluted":true}},"toString":"x","hasOwnProperty":1}';
const entityWith = (over: Record<string, unknown>) => JSON.stringify({ apiVersion: 'nexus/v1', kind: 'Service', metadata: { name: 'corpus-none' }, spec: { owner: 'corpus', lifecycle: 'production' }, ...over });
const BODIES: Array<[label: string, body: string, type: string | undefined]> = [
  ['malformed', '{"a": tru', JSON_TYPE],
  ['empty', '', JSON_TYPE],
  ['deep 10,000', deep(10_000), JSON_TYPE],
  ['deep object', '{"a":'.repeat(5000) + '1' + '}'.repeat(5000), JSON_TYPE],
  ['oversized', JSON.stringify({ pad: 'p'.repeat(1_200_000) }), JSON_TYPE],
  ['array', '[]', JSON_TYPE], ['string', '"x"', JSON_TYPE], ['number', '1e999', JSON_TYPE], ['null', 'null', JSON_TYPE],
  ['wrong types', '{"on":"yes","reason":5,"minutes":"ten","dryRun":"no","files":"x","apiVersion":1,"kind":[],"metadata":"m","eventType":[],"schemaId":{},"event":5,"action":[]}', JSON_TYPE],
  ['prototype keys', protoBody, JSON_TYPE],
  ['prototype keys in an entity', entityWith({
    metadata: { name: 'corpus-none', annotations: { constructor: 'x', ['__proto__']: 'y' }, labels: { toString: 'z' }, tags: ['constructor'] },
    spec: { owner: 'constructor', lifecycle: 'toString', dependsOn: ['constructor', 'service:default/__proto__'], toString: 1 },
    relations: [{ type: 'constructor', targetRef: 'service:default/x' }, { type: '__proto__', targetRef: 'toString' }],
  }), JSON_TYPE],
  // One hostile key per body, so one refusal does not hide what the next would reach.
  ...['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'].flatMap((k): Array<[string, string, string]> => [
    [`relation type ${k}`, entityWith({ relations: [{ type: k, targetRef: 'service:default/corpus-svc' }] }), JSON_TYPE],
    [`owner ${k}`, entityWith({ spec: { owner: k, lifecycle: 'production' } }), JSON_TYPE],
    [`dependsOn ${k}`, entityWith({ spec: { owner: 'corpus', lifecycle: 'production', dependsOn: [`service:default/${k}`, `${k}:default/x`] } }), JSON_TYPE],
    [`spec key ${k}`, `{"apiVersion":"nexus/v1","kind":"Service","metadata":{"name":"corpus-none","labels":{"${k}":"x"},"annotations":{"${k}":"y"}},"spec":{"owner":"corpus","lifecycle":"production","${k}":{"polluted":true}}}`, JSON_TYPE],
  ]),
  ['NUL and control characters', entityWith({ metadata: { name: 'a\u0000b', description: '\u0000\u001f\u007f' }, spec: { owner: 'team:\u0000', lifecycle: '\r\n' } }), JSON_TYPE],
  ['NUL fields', '{"on":"\\u0000","reason":"\\u0000\\u001f","files":[{"name":"\\u0000","content":"\\u0000"}]}', JSON_TYPE],
  ['import of hostile YAML', JSON.stringify({ files: [{ name: '__proto__', content: 'apiVersion: nexus/v1\nkind: constructor\nmetadata: {name: toString}\n' }, { name: 'x'.repeat(1000), content: '&a [*a]' }, { name: 'deep', content: '['.repeat(5000) }] }), JSON_TYPE],
  ['text/plain', '{}', 'text/plain'],
  ['xml', '<a/>', 'application/xml'],
  ['form', 'a=1&payload=%7B', 'application/x-www-form-urlencoded'],
  ['multipart', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--', 'multipart/form-data; boundary=x'],
  ['no content type', '{}', undefined],
  ['json with charset junk', '{}', 'application/json; charset=ebcdic'],
];

/** The headers that make each webhook's sender genuine for `body`. */
function senderHeaders(path: string, body: string): { headers: Record<string, string>; query: string } {
  switch (path) {
    case '/webhooks/github':
      return { headers: { 'x-github-event': 'push', 'x-github-delivery': 'corpus-1', 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRETS.github).update(body).digest('hex')}` }, query: '' };
    case '/webhooks/azure-devops':
      return { headers: { authorization: `Basic ${Buffer.from(`nexus:${SECRETS.azureDevOps}`).toString('base64')}` }, query: '' };
    case '/webhooks/alerts/azure-monitor':
      return { headers: {}, query: `?token=${SECRETS.azureMonitor}` };
    case '/webhooks/alerts/pagerduty':
      return { headers: { 'x-pagerduty-signature': `v1=${createHmac('sha256', SECRETS.pagerDuty).update(body).digest('hex')}` }, query: '' };
    case '/webhooks/alerts/opsgenie':
      return { headers: { 'x-nexus-webhook-secret': SECRETS.opsgenie }, query: '' };
    default:
      return { headers: {}, query: '' };
  }
}

function fill(path: string, values: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, p: string) => values[p] ?? BASELINE[p] ?? 'x');
}

async function casesOf(op: Operation, tokens: Array<[string, string]>): Promise<Case[]> {
  const out: Case[] = [];
  const webhook = op.path.startsWith('/webhooks/');
  const who: Array<[string, Record<string, string>]> = webhook ? [['sender', {}]] : tokens.map(([n, tok]) => [n, { authorization: `Bearer ${tok}` }]);
  const pathParams = op.params.filter((p) => p.in === 'path').map((p) => p.name);
  const queryParams = op.params.filter((p) => p.in === 'query').map((p) => p.name);
  const validBody = op.method === 'PUT' && op.path.includes('{kind}') ? entityWith({}) : '{}';
  for (const [role, auth] of who) {
    const base = async (label: string, path: string, query = '', body?: string, type: string | undefined = JSON_TYPE, extra: Record<string, string> = {}) => {
      const sender = webhook ? senderHeaders(op.path, body ?? '') : { headers: {}, query: '' };
      const q = [sender.query.slice(1), query].filter(Boolean).join('&');
      const headers: Record<string, string> = { ...auth, ...sender.headers, ...extra };
      if (body !== undefined && type) headers['content-type'] = type;
      out.push({ label: `${role} ${op.method} ${op.path} ${label}`, method: op.method, url: path + (q ? `?${q}` : ''), headers, body });
    };
    const withBody = op.body ? validBody : undefined;
    for (const p of pathParams) for (const v of PATH_VALUES) await base(`path.${p}=${v.slice(0, 20)}`, fill(op.path, { [p]: v }), '', withBody);
    for (const q of queryParams) {
      for (const v of QUERY_VALUES) await base(`query.${q}=${v.slice(0, 24)}`, fill(op.path, {}), `${q}=${v}`, withBody);
      await base(`query.${q} repeated`, fill(op.path, {}), `${q}=1&${q}=2&${q}=constructor`, withBody);
    }
    await base('unknown query keys', fill(op.path, {}), '__proto__[x]=1&constructor=1&toString=1&%00=1', withBody);
    if (op.body) {
      // Entity writes each go to an entity of their own, so no case meets another's ETag (a 412).
      for (const [i, [label, body, type]] of BODIES.entries()) {
        const name = `corpus-${role.toLowerCase()}-${i}`;
        await base(`body ${label}`, fill(op.path, { name }), '', body.replaceAll('"corpus-none"', `"${name}"`), type);
      }
    }
    if (op.path.includes('{kind}')) {
      for (const ifMatch of ['W/"junk"', '*', LONG, 'datetime\'2020\'']) await base(`if-match ${ifMatch.slice(0, 12)}`, fill(op.path, {}), '', withBody, JSON_TYPE, { 'if-match': ifMatch });
    }
    if (webhook) {
      const ok = '{"eventType":"x","schemaId":"azureMonitorCommonAlertSchema","event":{"id":"1","event_type":"x"},"action":"x","alert":{"alertId":"1"}}';
      for (const [h, v] of [['x-github-delivery', LONG], ['x-github-delivery', '__proto__'], ['x-github-event', LONG], ['x-github-event', 'constructor'], ['x-hub-signature-256', 'sha256=zz'], ['authorization', 'Basic %%%'], ['x-pagerduty-signature', LONG], ['x-nexus-webhook-secret', LONG]]) {
        await base(`header ${h}=${v.slice(0, 12)}`, fill(op.path, {}), '', ok, JSON_TYPE, { [h]: v });
      }
    }
  }
  // Without credentials, and with broken ones.
  if (!webhook) {
    for (const authorization of ['', 'Bearer', 'Bearer x.y.z', `Bearer ${LONG}`, 'Basic Zm9vOmJhcg==']) {
      out.push({ label: `anonymous ${op.method} ${op.path} authorization=${authorization.slice(0, 12)}`, method: op.method, url: fill(op.path, {}), headers: authorization ? { authorization } : {} });
    }
  }
  return out;
}

async function check(h: Harness, c: Case, statuses: Map<number, number>): Promise<string | undefined> {
  const res = await h.app.request(c.url, { method: c.method, headers: c.headers, body: c.body === undefined ? undefined : new TextEncoder().encode(c.body) });
  const text = await res.text();
  statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  if (res.status >= 500) return `${c.label}: ${res.status} ${text.slice(0, 200)}`;
  if (!NAMES_FIELD.has(res.status)) return undefined;
  if (res.headers.get('content-type') !== 'application/problem+json') return `${c.label}: ${res.status} is not a problem document: ${text.slice(0, 120)}`;
  const field = (JSON.parse(text) as { field?: unknown }).field;
  if (typeof field !== 'string' || !field) return `${c.label}: ${res.status} names no field: ${text.slice(0, 160)}`;
  return undefined;
}

t('every route and method in the OpenAPI document: no 5xx, and every problem about the input names its field', async ({ h, ops, tokens }) => {
  assert.ok(ops.length >= 20, `the document lists ${ops.length} operations`);
  const cases = (await Promise.all(ops.map((op) => casesOf(op, tokens)))).flat();
  cases.push({ label: 'no such route', method: 'GET', url: '/api/v1/nothing-here', headers: { authorization: `Bearer ${tokens[0]![1]}` } });
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  const started = Date.now();
  let next = 0;
  // A few at a time: the app is in-process, storage is one local Azurite.
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < cases.length) {
      const c = cases[next++]!;
      const failure = await check(h, c, statuses).catch((err: Error) => `${c.label}: threw ${err.message}`);
      if (failure) failures.push(failure);
    }
  }));
  const seconds = (Date.now() - started) / 1000;
  assert.ok(cases.length > 2000, `${cases.length} cases`);
  // The corpus reaches past the front door: writes are accepted and refused by the domain too.
  for (const s of [200, 201, 202, 400, 401, 403, 404, 413, 415]) assert.ok(statuses.get(s), `no case answered ${s}: ${JSON.stringify([...statuses])}`);
  assert.ok(seconds < 60, `the corpus took ${seconds}s`);
  assert.equal(failures.slice(0, 40), [], `${failures.length} of ${cases.length} cases failed:\n${failures.slice(0, 40).join('\n')}`);
});

t.run();
