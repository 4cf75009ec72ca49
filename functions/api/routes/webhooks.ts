// Webhook receivers. Each verifies its sender (signature or shared secret) before anything is
// parsed or stored, queues the delivery durably in the inbox (de-duplicated by delivery id) and
// answers 202 at once; the inbox is drained in the background.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Webhooks } from '@octokit/webhooks';
import type { Context } from 'hono';
import { apiApp, json, problems, type ApiApp } from '../openapi.ts';
import { WebhookAcceptedSchema, type WebhookAccepted } from '../schemas/webhooks.ts';
import type { ApiDeps, InboxItem } from '../deps.ts';
import { problem, ProblemError } from '../problem.ts';
import { mediaTypeOf, parseJsonText } from '../body.ts';

/** Constant-time string comparison that does not leak the length through an early exit. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/** 401 naming where the sender's proof was expected (the header, or the secret's configuration). */
function unauthorized(c: Context, why: string, field: string): Response {
  return problem(c, 401, why, { field });
}

function parseJson(raw: string, field = 'body'): unknown {
  return parseJsonText(raw, field);
}

/**
 * A delivery id (or its parts: an alert id and its condition) becomes the inbox's row key and
 * part of a blob name. Real ids are GUIDs or ARM ids; anything else is refused with a 400 naming
 * the header or field, rather than hashed, so the id a sender sees in our answer is its own.
 * At most 300 printable ASCII characters in all: escaped for a table key (3 per character at
 * worst) or a blob name (encodeURIComponent), that stays under Azure's 1,024.
 */
const MAX_DELIVERY_ID = 300;
const PRINTABLE = /^[\x20-\x7e]+$/;

export function deliveryIdOf(parts: ReadonlyArray<readonly [value: string, field: string]>, sep = ':'): string {
  for (const [value, field] of parts) {
    if (!PRINTABLE.test(value)) throw new ProblemError(400, `${field}: an id must be printable ASCII characters`, { field });
  }
  const id = parts.map(([v]) => v).join(sep);
  if (id.length > MAX_DELIVERY_ID) {
    const [, field] = parts.reduce((a, b) => (b[0].length > a[0].length ? b : a));
    throw new ProblemError(400, `${field}: the delivery id would be ${id.length} characters; at most ${MAX_DELIVERY_ID} are kept`, { field });
  }
  return id;
}

/** An event name is stored in a column and shown in the portal: a short printable name. */
function eventName(value: string, field: string): string {
  if (value.length > 200 || !PRINTABLE.test(value)) throw new ProblemError(400, `${field}: an event name is at most 200 printable ASCII characters`, { field });
  return value;
}

/**
 * GitHub sends either content type a hook is set up with: application/json (the payload is the
 * body), or application/x-www-form-urlencoded (the JSON payload is the `payload` form field; the
 * default for hooks created through the API). The signature is over the raw body either way.
 */
function githubPayload(c: Context, raw: string): unknown {
  const type = mediaTypeOf(c.req.header('content-type'));
  if (type === 'application/x-www-form-urlencoded') {
    const payload = new URLSearchParams(raw).get('payload');
    if (payload === null) throw new ProblemError(400, 'body.payload: a form-encoded delivery carries its JSON in the payload field', { field: 'body.payload' });
    return parseJson(payload, 'body.payload');
  }
  if (type && type !== 'application/json') {
    throw new ProblemError(415, `header.content-type: GitHub deliveries are application/json or application/x-www-form-urlencoded, not ${type}`, { field: 'header.content-type' });
  }
  return parseJson(raw);
}

const sha = (raw: string) => createHash('sha256').update(raw).digest('hex');
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : typeof v === 'number' ? String(v) : undefined);
const at = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((cur, k) => (cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined), o);

async function accept(c: Context, deps: ApiDeps, item: Omit<InboxItem, 'receivedAt'>): Promise<Response> {
  if (!deps.inbox) throw new ProblemError(503, 'no inbox is configured to queue webhook deliveries');
  const { duplicate } = await deps.inbox.enqueue({ ...item, receivedAt: new Date().toISOString() });
  const body: WebhookAccepted = { accepted: true, duplicate, deliveryId: item.deliveryId };
  return c.json(body, 202);
}

/** GitOps refuses a landing-zone delivery it could not act on, naming the field, before anything is stored. */
function checked(deps: ApiDeps, source: 'github' | 'azure-devops', event: string, payload: unknown): void {
  try {
    deps.checkDelivery?.(source, event, payload);
  } catch (err) {
    const e = err as { status?: number; field?: string; message: string };
    if (e.status === 400 && e.field) throw new ProblemError(400, e.message, { field: e.field });
    throw err;
  }
}

/** A shared secret sent as `?token=` or in the X-Nexus-Webhook-Secret header (senders that cannot sign). */
function sharedSecretOk(c: Context, secret: string): boolean {
  const given = c.req.header('x-nexus-webhook-secret') ?? c.req.query('token');
  return given !== undefined && safeEqual(given, secret);
}

const WEBHOOKS: Array<{ path: string; summary: string; auth: string }> = [
  { path: '/webhooks/github', summary: 'GitHub webhook deliveries', auth: 'X-Hub-Signature-256 (HMAC-SHA256 of the body with NEXUS_GITHUB_WEBHOOK_SECRET)' },
  { path: '/webhooks/azure-devops', summary: 'Azure DevOps service hooks', auth: 'basic authentication; the password is NEXUS_ADO_WEBHOOK_SECRET' },
  { path: '/webhooks/alerts/azure-monitor', summary: 'Azure Monitor alerts (common alert schema)', auth: '?token= or X-Nexus-Webhook-Secret: the alerts secret' },
  { path: '/webhooks/alerts/pagerduty', summary: 'PagerDuty v3 webhooks', auth: 'X-PagerDuty-Signature: v1=<HMAC-SHA256 of the body>' },
  { path: '/webhooks/alerts/opsgenie', summary: 'Opsgenie webhooks', auth: 'X-Nexus-Webhook-Secret header: the alerts secret' },
];

export function webhookRoutes(deps: ApiDeps): ApiApp {
  const app = apiApp();
  const problemAt = problems(400, 401, 413, 415, 503);
  for (const w of WEBHOOKS) {
    app.openAPIRegistry.registerPath({
      method: 'post', path: w.path, tags: ['webhooks'], summary: w.summary, security: [],
      description: `No bearer token: the sender is verified by ${w.auth}. Queued durably and de-duplicated by delivery id.`,
      responses: {
        202: json(WebhookAcceptedSchema, 'queued (or a duplicate of a delivery already queued)'),
        400: { ...problemAt[400], description: 'the payload, an id or an event name is not usable (the problem names the field); nothing stored' },
        401: { ...problemAt[401], description: 'the signature or secret is missing or wrong; nothing stored' },
        413: { ...problemAt[413], description: 'the payload is over 26 MB' },
        ...(w.path === '/webhooks/github' ? { 415: { ...problemAt[415], description: 'neither application/json nor application/x-www-form-urlencoded' } } : {}),
        503: { ...problemAt[503], description: 'no inbox is configured; nothing stored' },
      },
    });
  }
  const secrets = deps.webhookSecrets;
  const github = secrets.github ? new Webhooks({ secret: secrets.github }) : undefined;

  app.post('/webhooks/github', async (c) => {
    if (!github) return unauthorized(c, 'GitHub webhooks are not configured (NEXUS_GITHUB_WEBHOOK_SECRET)', 'header.x-hub-signature-256');
    const signature = c.req.header('x-hub-signature-256');
    if (!signature) return unauthorized(c, 'X-Hub-Signature-256 is missing', 'header.x-hub-signature-256');
    const raw = await c.req.text();
    if (!(await github.verify(raw, signature).catch(() => false))) return unauthorized(c, 'X-Hub-Signature-256 does not match the body', 'header.x-hub-signature-256');
    const event = c.req.header('x-github-event');
    const delivery = c.req.header('x-github-delivery');
    if (!event) throw new ProblemError(400, 'header X-GitHub-Event is missing', { field: 'header.x-github-event' });
    if (!delivery) throw new ProblemError(400, 'header X-GitHub-Delivery is missing', { field: 'header.x-github-delivery' });
    const deliveryId = deliveryIdOf([[delivery, 'header.x-github-delivery']]);
    const payload = githubPayload(c, raw);
    checked(deps, 'github', event, payload);
    return accept(c, deps, { source: 'github', deliveryId, event: eventName(event, 'header.x-github-event'), payload });
  });

  app.post('/webhooks/azure-devops', async (c) => {
    if (!secrets.azureDevOps) return unauthorized(c, 'Azure DevOps webhooks are not configured (NEXUS_ADO_WEBHOOK_SECRET)', 'header.authorization');
    const m = /^Basic\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
    const password = m ? Buffer.from(m[1], 'base64').toString('utf8').split(':').slice(1).join(':') : undefined;
    if (password === undefined || !safeEqual(password, secrets.azureDevOps)) return unauthorized(c, 'basic authentication failed', 'header.authorization');
    const raw = await c.req.text();
    const payload = parseJson(raw);
    const event = str(at(payload, 'eventType'));
    if (!event) throw new ProblemError(400, 'body.eventType is missing', { field: 'body.eventType' });
    // Service hooks give each event an id; a retried notification repeats it.
    const id = str(at(payload, 'id'));
    const deliveryId = id === undefined ? sha(raw) : deliveryIdOf([[id, 'body.id']]);
    checked(deps, 'azure-devops', event, payload);
    return accept(c, deps, { source: 'azure-devops', deliveryId, event: eventName(event, 'body.eventType'), payload });
  });

  app.post('/webhooks/alerts/azure-monitor', async (c) => {
    if (!secrets.azureMonitor) return unauthorized(c, 'Azure Monitor webhooks are not configured (NEXUS_AZURE_MONITOR_WEBHOOK_SECRET)', 'query.token');
    if (!sharedSecretOk(c, secrets.azureMonitor)) return unauthorized(c, 'the webhook secret is missing or wrong', 'query.token');
    const raw = await c.req.text();
    const payload = parseJson(raw);
    if (at(payload, 'schemaId') !== 'azureMonitorCommonAlertSchema') {
      throw new ProblemError(400, 'body.schemaId must be "azureMonitorCommonAlertSchema" (enable the common alert schema on the action group)', { field: 'body.schemaId' });
    }
    const alertId = str(at(payload, 'data', 'essentials', 'alertId'));
    if (!alertId) throw new ProblemError(400, 'body.data.essentials.alertId is missing', { field: 'body.data.essentials.alertId' });
    const condition = str(at(payload, 'data', 'essentials', 'monitorCondition')) ?? 'Fired';
    const deliveryId = deliveryIdOf([[alertId, 'body.data.essentials.alertId'], [condition, 'body.data.essentials.monitorCondition']]);
    return accept(c, deps, { source: 'azure-monitor', deliveryId, event: eventName(`alert.${condition.toLowerCase()}`, 'body.data.essentials.monitorCondition'), payload });
  });

  app.post('/webhooks/alerts/pagerduty', async (c) => {
    if (!secrets.pagerDuty) return unauthorized(c, 'PagerDuty webhooks are not configured (NEXUS_PAGERDUTY_WEBHOOK_SECRET)', 'header.x-pagerduty-signature');
    const raw = await c.req.text();
    // PagerDuty v3 signs the body: X-PagerDuty-Signature: v1=<hex hmac-sha256>[,v1=<...>] (several during secret rotation).
    const expected = createHmac('sha256', secrets.pagerDuty).update(raw).digest('hex');
    const given = (c.req.header('x-pagerduty-signature') ?? '').split(',').map((s) => s.trim()).filter((s) => s.startsWith('v1='));
    if (!given.some((s) => safeEqual(s.slice(3), expected))) return unauthorized(c, 'X-PagerDuty-Signature is missing or does not match the body', 'header.x-pagerduty-signature');
    const payload = parseJson(raw);
    const id = str(at(payload, 'event', 'id'));
    const event = str(at(payload, 'event', 'event_type'));
    if (!id || !event) throw new ProblemError(400, 'body.event.id and body.event.event_type are required', { field: id ? 'body.event.event_type' : 'body.event.id' });
    return accept(c, deps, { source: 'pagerduty', deliveryId: deliveryIdOf([[id, 'body.event.id']]), event: eventName(event, 'body.event.event_type'), payload });
  });

  app.post('/webhooks/alerts/opsgenie', async (c) => {
    if (!secrets.opsgenie) return unauthorized(c, 'Opsgenie webhooks are not configured (NEXUS_OPSGENIE_WEBHOOK_SECRET)', 'header.x-nexus-webhook-secret');
    if (!sharedSecretOk(c, secrets.opsgenie)) return unauthorized(c, 'the webhook secret is missing or wrong', 'header.x-nexus-webhook-secret');
    const raw = await c.req.text();
    const payload = parseJson(raw);
    const action = str(at(payload, 'action'));
    const alertId = str(at(payload, 'alert', 'alertId'));
    if (!action || !alertId) throw new ProblemError(400, 'body.action and body.alert.alertId are required', { field: action ? 'body.alert.alertId' : 'body.action' });
    const deliveryId = deliveryIdOf([[alertId, 'body.alert.alertId'], [action, 'body.action'], [sha(raw).slice(0, 16), 'body']]);
    return accept(c, deps, { source: 'opsgenie', deliveryId, event: eventName(action, 'body.action'), payload });
  });
  return app;
}
