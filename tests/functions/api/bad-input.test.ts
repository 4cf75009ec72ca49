// Hostile and malformed input to the API and its webhooks, item by item: each is a 4xx naming the
// field, header or path segment at fault, never a 500. Real app, real catalog and inbox in Azurite.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHmac, randomUUID } from 'node:crypto';
import { Webhooks } from '@octokit/webhooks';
import { Inbox } from '../../../functions/catalog/inbox.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { azurite } from '../../helpers/azurite.ts';
import { harness, service, team, uniqueName, type Harness } from './harness.ts';

const SECRETS = { github: 'gh-bad-input', azureDevOps: 'ado-bad-input', azureMonitor: 'mon-bad-input', pagerDuty: 'pd-bad-input', opsgenie: 'og-bad-input' };
const DEEP = 10_000;
const deep = (n = DEEP) => '['.repeat(n) + ']'.repeat(n);

const t = suite<{ h: Harness; inbox: Inbox; admin: string; dev: string; alice: string }>('bad input');

t.before(async (ctx) => {
  const az = await azurite();
  ctx.inbox = await Inbox.open({ storage: storageConfig({ connectionString: az.connectionString }), table: uniqueName('dlv') });
  ctx.h = await harness({ inbox: ctx.inbox, webhookSecrets: SECRETS });
  ctx.admin = await ctx.h.token('root', ['Admin']);
  ctx.dev = await ctx.h.token('mallory', ['Developer']);
  ctx.alice = await ctx.h.token('alice', ['Developer']);
  for (const [path, body] of [
    ['team/default/payments', team('payments', ['user:alice'])],
    ['service/default/ledger', service('ledger', 'payments')],
  ] as const) {
    const res = await ctx.h.call('PUT', `/api/v1/entities/${path}`, { token: ctx.admin, body });
    assert.ok(res.status < 300, await res.clone().text());
  }
});

async function problemOf(res: Response): Promise<{ status: number; field?: string; detail?: string; type?: string }> {
  const text = await res.text();
  assert.ok(res.status < 500, `${res.status}: ${text}`);
  assert.is(res.headers.get('content-type'), 'application/problem+json', text);
  return JSON.parse(text);
}

const deepEntity = (name: string, owner: string) =>
  `{"apiVersion":"nexus/v1","kind":"Service","metadata":{"name":"${name}"},"spec":{"owner":"${owner}","lifecycle":"production","links":${deep()}}}`;

t('PUT an entity nested 10,000 deep: 403 from the stored row for a caller without rights, 400 naming the field otherwise', async ({ h, admin, dev, alice }) => {
  // mallory may not write ledger (payments owns it): refused from the path, before the body is parsed.
  const foreign = await h.call('PUT', '/api/v1/entities/service/default/ledger', { token: dev, body: deepEntity('ledger', 'payments') });
  assert.is(foreign.status, 403);
  assert.is((await problemOf(foreign)).field, 'path');
  // alice may write it: the body is at fault, and the problem says where.
  for (const token of [alice, admin]) {
    const res = await h.call('PUT', '/api/v1/entities/service/default/ledger', { token, body: deepEntity('ledger', 'payments') });
    assert.is(res.status, 400);
    const p = await problemOf(res);
    assert.match(p.field!, /^body\.spec\.links/);
    assert.match(p.detail!, /deeper than 64/);
  }
  // A new entity: the owner is in the body, so the body is parsed first, within the same limits.
  const created = await h.call('PUT', '/api/v1/entities/service/default/brandnew', { token: dev, body: deepEntity('brandnew', 'payments') });
  assert.is(created.status, 400);
  assert.match((await problemOf(created)).field!, /^body\.spec\.links/);
  // 64 levels are fine (the schema decides what they may hold).
  const ok = await h.call('PUT', '/api/v1/entities/service/default/ledger', { token: alice, body: { ...service('ledger', 'payments'), metadata: { name: 'ledger', annotations: {} }, spec: { owner: 'payments', lifecycle: 'production', extra: JSON.parse(deep(60)) } } });
  assert.ok(ok.status < 500, await ok.clone().text());
});

t('reconcile writes check the role before the body is read: a Developer gets 403, not a parse error', async ({ h, dev }) => {
  for (const [method, path] of [['PUT', '/api/v1/killswitch'], ['PUT', '/api/v1/ratelimits/override'], ['POST', '/api/v1/approvals/7204401456640999-bd2368e4/reject']] as const) {
    for (const body of [deep(), '{"on": tru']) {
      const res = await h.call(method, path, { token: dev, body });
      assert.is(res.status, 403, `${method} ${path}`);
      await problemOf(res);
    }
  }
});

t('unparsable, empty and non-JSON bodies name the body or the content type', async ({ h, admin }) => {
  const malformed = await h.call('PUT', '/api/v1/killswitch', { token: admin, body: '{"on": tru' });
  assert.is(malformed.status, 400);
  assert.is((await problemOf(malformed)).field, 'body');
  const empty = await h.call('PUT', '/api/v1/killswitch', { token: admin, headers: { 'content-type': 'application/json' } });
  assert.is(empty.status, 400);
  assert.is((await problemOf(empty)).field, 'body');
  const text = await h.call('PUT', '/api/v1/entities/service/default/ledger', { token: admin, body: 'apiVersion: nexus/v1', headers: { 'content-type': 'text/yaml' } });
  assert.is(text.status, 415);
  assert.is((await problemOf(text)).field, 'header.content-type');
  const deepImport = await h.call('POST', '/api/v1/import', { token: admin, body: `{"files":${deep()}}` });
  assert.is(deepImport.status, 400);
  assert.match((await problemOf(deepImport)).field!, /^body\.files(\.0)*$/);
});

t('list filters: a field named __proto__ is a field like any other, and there are at most 20', async ({ h, admin }) => {
  const all = await (await h.call('GET', '/api/v1/entities', { token: admin })).json() as { items: unknown[] };
  assert.ok(all.items.length > 0);
  const proto = await h.call('GET', '/api/v1/entities?filter=__proto__=x', { token: admin });
  assert.is(proto.status, 200);
  assert.equal((await proto.json() as { items: unknown[] }).items, [], 'no entity has a field __proto__ equal to x');
  const many = await h.call('GET', `/api/v1/entities?${Array.from({ length: 21 }, (_, i) => `filter=spec.f${i}=1`).join('&')}`, { token: admin });
  assert.is(many.status, 400);
  assert.is((await problemOf(many)).field, 'query.filter');
});

t('a kind over 1,024 characters, or one that does not exist, is a 400 naming path.kind', async ({ h, admin }) => {
  const long = 'k'.repeat(2000);
  for (const [method, path] of [
    ['GET', `/api/v1/entities/${long}/default/x`], ['DELETE', `/api/v1/entities/${long}/default/x`],
    ['GET', `/api/v1/entities/${long}/default/x/relations`], ['GET', '/api/v1/entities/nosuchkind/default/x'],
    ['GET', '/api/v1/entities/constructor/default/x'], ['GET', '/api/v1/entities/Service/' + 'n'.repeat(2000) + '/x'],
  ] as const) {
    const res = await h.call(method, path, { token: admin });
    assert.is(res.status, 400, `${method} ${path.slice(0, 60)}`);
    assert.match((await problemOf(res)).field!, /^path\.(kind|namespace)$/);
  }
  const put = await h.call('PUT', `/api/v1/entities/${long}/default/x`, { token: admin, body: service('x', 'payments') });
  assert.is(put.status, 400);
  assert.is((await problemOf(put)).field, 'path.kind');
  // Backstage's kinds still name ours.
  assert.is((await h.call('GET', '/api/v1/entities/component/default/ledger', { token: admin })).status, 200);
});

const basic = (pw: string) => `Basic ${Buffer.from(`nexus:${pw}`).toString('base64')}`;

async function githubCall(h: Harness, body: string, headers: Record<string, string> = {}) {
  return h.call('POST', '/webhooks/github', {
    body,
    headers: {
      'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': randomUUID(),
      'x-hub-signature-256': await new Webhooks({ secret: SECRETS.github }).sign(body), ...headers,
    },
  });
}

t('every webhook receiver refuses JSON nested 10,000 deep with a 400 (senders do not retry a 4xx)', async ({ h }) => {
  const body = `{"eventType":"build.complete","event":{"id":"e1","event_type":"incident.triggered"},"action":"Create","alert":{"alertId":"a1"},"x":${deep()}}`;
  const pd = `v1=${createHmac('sha256', SECRETS.pagerDuty).update(body).digest('hex')}`;
  const answers = [
    await githubCall(h, body),
    await h.call('POST', '/webhooks/azure-devops', { body, headers: { authorization: basic(SECRETS.azureDevOps) } }),
    await h.call('POST', `/webhooks/alerts/azure-monitor?token=${SECRETS.azureMonitor}`, { body }),
    await h.call('POST', '/webhooks/alerts/pagerduty', { body, headers: { 'x-pagerduty-signature': pd } }),
    await h.call('POST', '/webhooks/alerts/opsgenie', { body, headers: { 'x-nexus-webhook-secret': SECRETS.opsgenie } }),
  ];
  for (const res of answers) {
    assert.is(res.status, 400);
    const p = await problemOf(res);
    assert.match(p.field!, /^body\.x(\.0)*$/);
  }
});

t('delivery ids longer than a table key, or not printable, are refused naming the header or field; nothing is stored', async ({ h, inbox }) => {
  const long = 'd'.repeat(2000);
  const gh = await githubCall(h, '{"zen":"x"}', { 'x-github-delivery': long });
  assert.is(gh.status, 400);
  assert.is((await problemOf(gh)).field, 'header.x-github-delivery');
  const ado = await h.call('POST', '/webhooks/azure-devops', { body: { id: 'i'.repeat(3000), eventType: 'build.complete' }, headers: { authorization: basic(SECRETS.azureDevOps) } });
  assert.is(ado.status, 400);
  assert.is((await problemOf(ado)).field, 'body.id');
  const adoCtl = await h.call('POST', '/webhooks/azure-devops', { body: { id: 'a\u0000b', eventType: 'build.complete' }, headers: { authorization: basic(SECRETS.azureDevOps) } });
  assert.is(adoCtl.status, 400);
  assert.is((await problemOf(adoCtl)).field, 'body.id');
  const adoEvent = await h.call('POST', '/webhooks/azure-devops', { body: { id: randomUUID(), eventType: 'e'.repeat(40_000) }, headers: { authorization: basic(SECRETS.azureDevOps) } });
  assert.is(adoEvent.status, 400);
  assert.is((await problemOf(adoEvent)).field, 'body.eventType');
  const alertId = `/subscriptions/s1/providers/Microsoft.AlertsManagement/alerts/${randomUUID()}`;
  const monitor = (essentials: Record<string, unknown>) => ({ schemaId: 'azureMonitorCommonAlertSchema', data: { essentials: { alertId, monitorCondition: 'Fired', ...essentials } } });
  const cond = await h.call('POST', `/webhooks/alerts/azure-monitor?token=${SECRETS.azureMonitor}`, { body: monitor({ monitorCondition: '/'.repeat(1500) }) });
  assert.is(cond.status, 400);
  assert.is((await problemOf(cond)).field, 'body.data.essentials.monitorCondition');
  const alert = await h.call('POST', `/webhooks/alerts/azure-monitor?token=${SECRETS.azureMonitor}`, { body: monitor({ alertId: `${alertId}/${'x'.repeat(1500)}` }) });
  assert.is(alert.status, 400);
  assert.is((await problemOf(alert)).field, 'body.data.essentials.alertId');
  const og = await h.call('POST', '/webhooks/alerts/opsgenie', { body: { action: 'Create', alert: { alertId: 'o'.repeat(1500) } }, headers: { 'x-nexus-webhook-secret': SECRETS.opsgenie } });
  assert.is(og.status, 400);
  assert.is((await problemOf(og)).field, 'body.alert.alertId');
  const pdBody = JSON.stringify({ event: { id: 'p'.repeat(1500), event_type: 'incident.triggered' } });
  const pd = await h.call('POST', '/webhooks/alerts/pagerduty', { body: pdBody, headers: { 'x-pagerduty-signature': `v1=${createHmac('sha256', SECRETS.pagerDuty).update(pdBody).digest('hex')}` } });
  assert.is(pd.status, 400);
  assert.is((await problemOf(pd)).field, 'body.event.id');
  // The longest id real senders use (an ARM alert id with its condition) still fits, and de-duplicates exactly.
  const fits = await h.call('POST', `/webhooks/alerts/azure-monitor?token=${SECRETS.azureMonitor}`, { body: monitor({}) });
  assert.is(fits.status, 202, await fits.clone().text());
  const again = await h.call('POST', `/webhooks/alerts/azure-monitor?token=${SECRETS.azureMonitor}`, { body: monitor({}) });
  assert.is((await again.json() as { duplicate: boolean }).duplicate, true);
  assert.is((await inbox.status('azure-monitor', `${alertId}:Fired`))?.event, 'alert.fired');
});

t('GitHub form-encoded deliveries (payload=<JSON>, signed over the raw form body) are accepted', async ({ h, inbox }) => {
  const payload = { ref: 'refs/heads/main', zen: 'a & b = c', repository: { full_name: 'contoso/payments' } };
  const raw = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const id = randomUUID();
  const form = { 'content-type': 'application/x-www-form-urlencoded', 'x-github-delivery': id };
  const res = await githubCall(h, raw, form);
  assert.is(res.status, 202, await res.clone().text());
  assert.is((await inbox.status('github', id))?.event, 'push');
  // The queued payload is the JSON of the payload field, not the form.
  const seen: unknown[] = [];
  await inbox.drain({ github: async (d) => { if (d.deliveryId === id) seen.push(d.payload); } });
  assert.equal(seen, [payload]);
  // The signature covers the raw form body: one of the JSON text alone does not match.
  const forged = await h.call('POST', '/webhooks/github', {
    body: raw, headers: { ...form, 'x-github-event': 'push', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': await new Webhooks({ secret: SECRETS.github }).sign(JSON.stringify(payload)) },
  });
  assert.is(forged.status, 401);
  assert.is((await problemOf(forged)).field, 'header.x-hub-signature-256');
  const noPayload = await githubCall(h, 'other=1', { 'content-type': 'application/x-www-form-urlencoded' });
  assert.is(noPayload.status, 400);
  assert.is((await problemOf(noPayload)).field, 'body.payload');
  const badJson = await githubCall(h, 'payload=%7Bnope', { 'content-type': 'application/x-www-form-urlencoded' });
  assert.is(badJson.status, 400);
  assert.is((await problemOf(badJson)).field, 'body.payload');
  const xml = await githubCall(h, '<push/>', { 'content-type': 'application/xml' });
  assert.is(xml.status, 415);
  assert.is((await problemOf(xml)).field, 'header.content-type');
});

t.run();
