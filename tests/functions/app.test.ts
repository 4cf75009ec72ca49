// The Azure Functions registration: the same Hono app behind one HTTP trigger, and the timers.
// Driven with @azure/functions' own HttpRequest against Azurite, as the Functions host would.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import functions, { type HttpFunctionOptions, type TimerFunctionOptions } from '@azure/functions';
import { azurite } from '../helpers/azurite.ts';
import { registerFunctions, schedules, tickSecondsOf } from '../../functions/app.ts';
import { identityConfig, signDevToken } from '../../functions/platform/identity.ts';

const { HttpRequest } = functions;
const test = suite('functions app');
const http = new Map<string, HttpFunctionOptions>();
const timers = new Map<string, TimerFunctionOptions>();
let env: NodeJS.ProcessEnv;

test.before(async () => {
  const az = await azurite();
  env = { ...process.env, ...az.env, NEXUS_HOME: mkdtempSync(join(tmpdir(), 'nexus-func-')), NEXUS_LOCAL_ISSUER: '1' };
  registerFunctions({ http: (n, o) => http.set(n, o), timer: (n, o) => timers.set(n, o) }, env);
});

test('one anonymous catch-all HTTP trigger (Nexus authenticates) and the four timers', () => {
  assert.equal([...http.keys()], ['api']);
  assert.is(http.get('api')!.route, '{*path}');
  assert.is(http.get('api')!.authLevel, 'anonymous');
  assert.equal([...timers.keys()].sort(), ['inbox-drain', 'pulumi-state-ingestion', 'reconcile', 'resource-graph-poll']);
  assert.is(timers.get('reconcile')!.schedule, schedules(env).reconcile);
  // The timer ticks every minute; NEXUS_RECONCILE_SCHEDULE is the per-stack intervals, not a cron.
  assert.is(schedules({}).reconcile, '0 * * * * *');
  assert.is(schedules({ NEXUS_RECONCILE_TICK_CRON: '0 */2 * * * *', NEXUS_RECONCILE_SCHEDULE: 'stack:corp=5' }).reconcile, '0 */2 * * * *');
  assert.throws(() => registerFunctions({ http: () => {}, timer: () => {} }, { ...env, NEXUS_RECONCILE_SCHEDULE: '0 */10 * * * *' }), /NEXUS_RECONCILE_SCHEDULE: '0 \*\/10 \* \* \* \*' is not stack:/);
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
  const token = await signDevToken({ user: 'dev', roles: ['Developer'] }, identityConfig(env));
  const res = await call('/api/v1/entities', { authorization: `Bearer ${token}` });
  assert.is(res.status, 200);
  assert.ok(Array.isArray(JSON.parse(Buffer.from(res.body).toString()).items));
});

test('the inbox timer drains the webhook inbox', async () => {
  await (timers.get('inbox-drain')!.handler as (t: unknown, c: unknown) => Promise<void>)({}, {});
});

test.run();
