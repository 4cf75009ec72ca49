import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import {
  AuthError, LOCAL_ISSUER, localIssuer, principalFrom, signDevToken, tokenVerifier,
} from '../../../functions/platform/identity.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

const home = mkdtempSync(join(tmpdir(), 'nexus-identity-'));
const localEnv = { NEXUS_HOME: home, NEXUS_LOCAL_ISSUER: '1', NEXUS_API_AUDIENCE: 'api://nexus-test' };

async function rejects(p: Promise<unknown>, pattern: RegExp) {
  try {
    await p;
  } catch (err) {
    assert.instance(err, AuthError);
    assert.match((err as AuthError).reason, pattern);
    return;
  }
  assert.unreachable('expected the token to be refused');
}

test('local issuer: a signed dev token verifies to its principal', async () => {
  const cfg = loadConfig(localEnv).identity;
  const token = await signDevToken({ user: 'alice', roles: ['TeamLead'], groups: ['payments'] }, cfg);
  const p = await tokenVerifier(cfg)(token);
  assert.equal(p, { id: 'alice', name: 'alice', roles: ['TeamLead'], groups: ['payments'], local: true });
});

test('local issuer: the key pair is kept under NEXUS_HOME and the JWKS holds only the public half', async () => {
  const cfg = loadConfig(localEnv).identity;
  const issuer = await localIssuer(cfg);
  const file = join(home, 'identity', 'local-issuer.jwk.json');
  assert.ok(existsSync(file));
  const stored = JSON.parse(readFileSync(file, 'utf8'));
  assert.type(stored.d, 'string');
  const [key] = issuer.jwks().keys;
  assert.is(key.d, undefined);
  assert.is(key.kid, stored.kid);
  assert.is(key.x, stored.x);
});

test('expired, wrong audience, and foreign key are refused', async () => {
  const cfg = loadConfig(localEnv).identity;
  const verify = tokenVerifier(cfg);
  await rejects(signDevToken({ user: 'bob', roles: ['Admin'], expiresIn: -120 }, cfg).then(verify), /expired/);
  await rejects(signDevToken({ user: 'bob', roles: ['Admin'], audience: 'api://other' }, cfg).then(verify), /"aud"/);
  // Same issuer name and kid, different key: the signature must not verify.
  const { privateKey } = await generateKeyPair('ES256');
  const kid = (await localIssuer(cfg)).jwks().keys[0].kid!;
  const forged = await new SignJWT({ roles: ['Admin'] }).setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(LOCAL_ISSUER).setAudience('api://nexus-test').setSubject('mallory').setIssuedAt().setExpirationTime('1h').sign(privateKey);
  await rejects(verify(forged), /signature/);
  await rejects(verify('not-a-jwt'), /not a JWT/);
});

test('with the local issuer off, dev tokens are neither signed nor accepted', async () => {
  const on = loadConfig(localEnv).identity;
  const off = loadConfig({ ...localEnv, NEXUS_LOCAL_ISSUER: '0' }).identity;
  await rejects(signDevToken({ user: 'x', roles: ['Developer'] }, off), /local issuer is off/);
  const token = await signDevToken({ user: 'x', roles: ['Developer'] }, on);
  await rejects(tokenVerifier(off)(token), /local issuer are not accepted/);
});

// Entra ID: a JWKS endpoint on loopback stands in for login.microsoftonline.com, serving the
// same document shape (discovery/v2.0/keys) to the same jose client.
let jwksServer: Server;
let authority = '';
const tenant = '11111111-2222-3333-4444-555555555555';
const { privateKey: entraKey, publicKey: entraPublic } = await generateKeyPair('RS256');

test.before(async () => {
  const jwk = { ...(await exportJWK(entraPublic)), kid: 'entra-1', use: 'sig', alg: 'RS256' };
  jwksServer = createServer((req, res) => {
    if (req.url === `/${tenant}/discovery/v2.0/keys`) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  authority = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}`;
});
test.after(() => new Promise<void>((r) => jwksServer.close(() => r())));

function entraToken(claims: Record<string, unknown>, opts: { iss?: string; aud?: string; exp?: string | number } = {}) {
  return new SignJWT({ name: 'Alice Example', preferred_username: 'alice@contoso.example', oid: 'oid-alice', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'entra-1' })
    .setIssuer(opts.iss ?? `${authority}/${tenant}/v2.0`)
    .setAudience(opts.aud ?? 'api://nexus-test')
    .setSubject('sub-alice').setIssuedAt().setExpirationTime(opts.exp ?? '1h')
    .sign(entraKey);
}

test('Entra: issuer, audience, tenant JWKS; roles from app roles and from group ids', async () => {
  const cfg = loadConfig({
    NEXUS_ENTRA_TENANT_ID: tenant, NEXUS_ENTRA_AUTHORITY: authority, NEXUS_API_AUDIENCE: 'api://nexus-test',
    NEXUS_ROLE_GROUPS: JSON.stringify({ Admin: ['g-admins'], PlatformEngineer: ['g-platform'] }), NEXUS_HOME: home,
  }).identity;
  const verify = tokenVerifier(cfg);
  const p = await verify(await entraToken({ groups: ['g-platform', 'g-other'], roles: ['TeamLead', 'NotARole'] }));
  assert.equal(p, { id: 'oid-alice', name: 'Alice Example', email: 'alice@contoso.example', roles: ['PlatformEngineer', 'TeamLead'], groups: ['g-platform', 'g-other'] });
  const plain = await verify(await entraToken({}));
  assert.equal(plain.roles, ['Developer']);
  await rejects(verify(await entraToken({}, { aud: 'api://someone-else' })), /"aud"/);
  // NEXUS_API_AUDIENCE may list the App ID URI and the application id.
  const both = tokenVerifier(loadConfig({ NEXUS_ENTRA_TENANT_ID: tenant, NEXUS_ENTRA_AUTHORITY: authority, NEXUS_API_AUDIENCE: 'api://nexus-test, 0000-app-id', NEXUS_HOME: home }).identity);
  assert.is((await both(await entraToken({}, { aud: '0000-app-id' }))).id, 'oid-alice');
  await rejects(verify(await entraToken({}, { iss: `${authority}/other-tenant/v2.0` })), /unexpected issuer/);
  await rejects(verify(await entraToken({}, { exp: Math.floor(Date.now() / 1000) - 600 })), /expired/);
  // A token of the local issuer is refused when only Entra is configured.
  const local = await signDevToken({ user: 'x', roles: ['Admin'] }, loadConfig(localEnv).identity);
  await rejects(verify(local), /local issuer are not accepted/);
});

test('NEXUS_ROLE_GROUPS errors name the field at fault', () => {
  assert.throws(() => loadConfig({ NEXUS_ROLE_GROUPS: '{nope' }).identity, /not valid JSON/);
  assert.throws(() => loadConfig({ NEXUS_ROLE_GROUPS: '{"Admin":"g1"}' }).identity, /NEXUS_ROLE_GROUPS: Admin:/);
  assert.throws(() => loadConfig({ NEXUS_ROLE_GROUPS: '{"Root":["g1"]}' }).identity, /NEXUS_ROLE_GROUPS/);
});

test('principalFrom needs a subject', () => {
  assert.throws(() => principalFrom({}, { roleGroups: {} }), /no subject/);
});

test.run();
