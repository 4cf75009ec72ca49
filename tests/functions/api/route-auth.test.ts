// Every route of the app, enumerated from the app itself: anything but health, the local
// issuer's JWKS and the portal's static files must refuse a request without credentials.
// Webhooks have no bearer token but verify their sender's signature, so without one they must
// refuse too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { harness } from './harness.ts';

const OPEN = new Set([
  'GET /healthz', 'GET /.well-known/jwks.json',
  // The portal's static files: the page holds no data; its API calls carry the user's token.
  'GET /', 'GET /portal/app.js', 'GET /portal/style.css', 'GET /portal/config.json',
]);

function concrete(path: string): string {
  return path
    .replace(/:(\w+)\{[^}]*\}/g, 'x')
    .replace(/:(\w+)/g, (_, name: string) => (name === 'namespace' ? 'default' : 'x'))
    .replace(/\*$/, 'x');
}

test('every registered route refuses anonymous requests, except health, JWKS and the portal files', async () => {
  const h = await harness({
    webhookSecrets: { github: 's1', azureDevOps: 's2', azureMonitor: 's3', pagerDuty: 's4', opsgenie: 's5' },
    inbox: { enqueue: async () => { throw new Error('an unauthenticated request reached the inbox'); } },
  });
  const routes = h.app.routes.filter((r) => r.method !== 'ALL');
  const seen = new Set(routes.map((r) => `${r.method} ${r.path}`));
  // The enumeration must see the routes we know of (it would pass vacuously on an empty list).
  for (const known of ['GET /api/v1/entities', 'PUT /api/v1/entities/:kind/:namespace/:name', 'GET /api/v1/search', 'POST /webhooks/github', 'GET /healthz']) {
    assert.ok(seen.has(known), `route ${known} not found among ${[...seen].join(', ')}`);
  }
  const open: string[] = [];
  for (const r of routes) {
    const key = `${r.method} ${r.path}`;
    const body = ['GET', 'HEAD', 'DELETE'].includes(r.method) ? undefined : '{}';
    const res = await h.call(r.method, concrete(r.path), { body });
    if (OPEN.has(key)) {
      assert.ok(res.status < 400, `${key} should answer without a token (got ${res.status})`);
      continue;
    }
    if (res.status !== 401) open.push(`${key} -> ${res.status}`);
    else assert.is(res.headers.get('content-type'), 'application/problem+json', key);
  }
  assert.equal(open, [], `routes answering without credentials: ${open.join('; ')}`);
});

test('a bad token is refused everywhere a token is needed', async () => {
  const h = await harness();
  const expired = await h.token('alice', ['Admin'], [], { expiresIn: -300 });
  const wrongAudience = await h.token('alice', ['Admin'], [], { audience: 'api://elsewhere' });
  for (const [token, reason] of [[expired, /expired/], [wrongAudience, /aud/], ['garbage', /not a JWT/]] as const) {
    const res = await h.call('GET', '/api/v1/entities', { token });
    assert.is(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /invalid_token/);
    assert.match((await res.json() as { detail: string }).detail, reason);
  }
});

test('a token from another issuer key is refused', async () => {
  const a = await harness();
  const b = await harness(); // a second NEXUS_HOME: its own key pair
  const foreign = await b.token('alice', ['Admin']);
  const res = await a.call('GET', '/api/v1/me', { token: foreign });
  assert.is(res.status, 401);
  assert.match((await res.json() as { detail: string }).detail, /signature|known key/);
  assert.is((await b.call('GET', '/api/v1/me', { token: foreign })).status, 200);
});

test('role checks: import needs PlatformEngineer, TeamLead or Admin', async () => {
  const h = await harness();
  const dev = await h.token('dave', ['Developer']);
  const res = await h.call('POST', '/api/v1/import', { token: dev, body: { files: [{ name: 'x.yaml', content: '' }] } });
  assert.is(res.status, 403);
  assert.match((await res.json() as { detail: string }).detail, /PlatformEngineer/);
});

test.run();
