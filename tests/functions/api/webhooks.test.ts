import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { Webhooks } from '@octokit/webhooks';
import { Inbox } from '../../../functions/catalog/inbox.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { azurite } from '../../helpers/azurite.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';
import { harness, uniqueName, type Harness } from './harness.ts';

// GitHub's own example payloads, as the real service sends them.
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: unknown[] }>;
const example = (name: string, i = 0) => examples.find((e) => e.name === name)!.examples[i];

const SECRETS = {
  github: 'gh-secret-for-tests', azureDevOps: 'ado-secret', azureMonitor: 'monitor-secret', pagerDuty: 'pd-secret', opsgenie: 'og-secret',
};

const t = suite<{ h: Harness; inbox: Inbox }>('webhooks');

t.before(async (ctx) => {
  const az = await azurite();
  ctx.inbox = await Inbox.open({ storage: storageConfig({ connectionString: az.connectionString }), table: uniqueName('dlv') });
  ctx.h = await harness({ inbox: ctx.inbox, webhookSecrets: SECRETS });
});

async function github(h: Harness, event: string, payload: unknown, opts: { id?: string; signWith?: string; signature?: string | null } = {}) {
  const body = JSON.stringify(payload);
  const id = opts.id ?? randomUUID();
  const headers: Record<string, string> = { 'x-github-event': event, 'x-github-delivery': id, 'content-type': 'application/json' };
  const signature = opts.signature === null ? undefined : opts.signature ?? (await new Webhooks({ secret: opts.signWith ?? SECRETS.github }).sign(body));
  if (signature) headers['x-hub-signature-256'] = signature;
  return { id, res: await h.call('POST', '/webhooks/github', { body, headers }) };
}

t('GitHub: signed deliveries are queued (202) and a repeated delivery id is not queued twice', async ({ h, inbox }) => {
  for (const name of ['push', 'repository', 'pull_request', 'workflow_run', 'deployment_status']) {
    const { id, res } = await github(h, name, example(name));
    assert.is(res.status, 202, `${name}: ${await res.clone().text()}`);
    assert.equal(await res.json(), { accepted: true, duplicate: false, deliveryId: id });
    const queued = await inbox.status('github', id);
    assert.is(queued?.event, name);
    assert.is(queued?.status, 'pending');
  }
  const { id } = await github(h, 'push', example('push', 1));
  const again = await github(h, 'push', example('push', 1), { id });
  assert.is(again.res.status, 202);
  assert.is((await again.res.json() as { duplicate: boolean }).duplicate, true);
  // One message in the inbox's queue per delivery: the repeat sent none.
  assert.is(await inbox.queue.approximateCount(), 6);
});

t('GitHub: a wrong, missing or foreign signature is 401 and nothing is stored', async ({ h, inbox }) => {
  const payload = example('push');
  const wrongKey = await github(h, 'push', payload, { signWith: 'not-the-secret' });
  assert.is(wrongKey.res.status, 401);
  assert.is(wrongKey.res.headers.get('content-type'), 'application/problem+json');
  assert.is(await inbox.status('github', wrongKey.id), undefined);
  const missing = await github(h, 'push', payload, { signature: null });
  assert.is(missing.res.status, 401);
  assert.is(await inbox.status('github', missing.id), undefined);
  // A valid signature of a different body: the body was tampered with.
  const other = await new Webhooks({ secret: SECRETS.github }).sign(JSON.stringify(example('push', 2)));
  const tampered = await github(h, 'push', payload, { signature: other });
  assert.is(tampered.res.status, 401);
  assert.is(await inbox.status('github', tampered.id), undefined);
});

t('GitHub: without a configured secret every delivery is refused', async () => {
  const h = await harness({ webhookSecrets: {} });
  const { res } = await github(h, 'push', example('push'));
  assert.is(res.status, 401);
  assert.match((await res.json() as { detail: string }).detail, /NEXUS_GITHUB_WEBHOOK_SECRET/);
});

t('Azure DevOps: basic auth with the shared secret', async ({ h, inbox }) => {
  const payload = { id: randomUUID(), eventType: 'build.complete', resource: { id: 42, status: 'completed', result: 'succeeded' } };
  const basic = (pw: string) => `Basic ${Buffer.from(`nexus:${pw}`).toString('base64')}`;
  const bad = await h.call('POST', '/webhooks/azure-devops', { body: payload, headers: { authorization: basic('wrong') } });
  assert.is(bad.status, 401);
  assert.is(await inbox.status('azure-devops', payload.id), undefined);
  const none = await h.call('POST', '/webhooks/azure-devops', { body: payload });
  assert.is(none.status, 401);
  const ok = await h.call('POST', '/webhooks/azure-devops', { body: payload, headers: { authorization: basic(SECRETS.azureDevOps) } });
  assert.is(ok.status, 202);
  assert.is((await inbox.status('azure-devops', payload.id))?.event, 'build.complete');
  const noEvent = await h.call('POST', '/webhooks/azure-devops', { body: { id: 'x' }, headers: { authorization: basic(SECRETS.azureDevOps) } });
  assert.is(noEvent.status, 400);
  assert.is((await noEvent.json() as { field: string }).field, 'body.eventType');
});

t('alerts: Azure Monitor (common schema, secret), PagerDuty (HMAC signature), Opsgenie (secret header)', async ({ h, inbox }) => {
  const alertId = `/subscriptions/s1/providers/Microsoft.AlertsManagement/alerts/${randomUUID()}`;
  const monitor = { schemaId: 'azureMonitorCommonAlertSchema', data: { essentials: { alertId, alertRule: 'cpu-high', severity: 'Sev1', monitorCondition: 'Fired', firedDateTime: '2026-11-25T09:00:00Z', alertTargetIDs: [] } } };
  assert.is((await h.call('POST', '/webhooks/alerts/azure-monitor?token=nope', { body: monitor })).status, 401);
  assert.is((await h.call('POST', `/webhooks/alerts/azure-monitor?token=${SECRETS.azureMonitor}`, { body: monitor })).status, 202);
  assert.is((await inbox.status('azure-monitor', `${alertId}:Fired`))?.event, 'alert.fired');
  const notCommon = await h.call('POST', `/webhooks/alerts/azure-monitor?token=${SECRETS.azureMonitor}`, { body: { data: {} } });
  assert.is((await notCommon.json() as { field: string }).field, 'body.schemaId');

  const pd = { event: { id: randomUUID(), event_type: 'incident.triggered', occurred_at: '2026-11-25T09:00:00Z', data: { id: 'Q1', type: 'incident', title: 'checkout down', urgency: 'high', status: 'triggered' } } };
  const raw = JSON.stringify(pd);
  const sig = `v1=${createHmac('sha256', SECRETS.pagerDuty).update(raw).digest('hex')}`;
  const badSig = `v1=${createHmac('sha256', 'other').update(raw).digest('hex')}`;
  assert.is((await h.call('POST', '/webhooks/alerts/pagerduty', { body: raw, headers: { 'x-pagerduty-signature': badSig } })).status, 401);
  assert.is(await inbox.status('pagerduty', pd.event.id), undefined);
  // During secret rotation PagerDuty sends several signatures; one matching is enough.
  assert.is((await h.call('POST', '/webhooks/alerts/pagerduty', { body: raw, headers: { 'x-pagerduty-signature': `${badSig},${sig}` } })).status, 202);
  assert.is((await inbox.status('pagerduty', pd.event.id))?.event, 'incident.triggered');

  const og = { action: 'Create', alert: { alertId: randomUUID(), message: 'disk full', priority: 'P2' }, source: { name: 'opsgenie' } };
  assert.is((await h.call('POST', '/webhooks/alerts/opsgenie', { body: og, headers: { 'x-nexus-webhook-secret': 'bad' } })).status, 401);
  const ok = await h.call('POST', '/webhooks/alerts/opsgenie', { body: og, headers: { 'x-nexus-webhook-secret': SECRETS.opsgenie } });
  assert.is(ok.status, 202);
  const { deliveryId } = await ok.json() as { deliveryId: string };
  assert.is((await inbox.status('opsgenie', deliveryId))?.event, 'Create');
});

t('webhook secrets come from the configuration; NEXUS_ALERTS_WEBHOOK_SECRET covers every alert source', () => {
  assert.equal(loadConfig({ NEXUS_GITHUB_WEBHOOK_SECRET: 'g', NEXUS_ALERTS_WEBHOOK_SECRET: 'a', NEXUS_PAGERDUTY_WEBHOOK_SECRET: 'p' }).webhooks.secrets, {
    github: 'g', azureDevOps: undefined, azureMonitor: 'a', pagerDuty: 'p', opsgenie: 'a',
  });
});

t.run();
