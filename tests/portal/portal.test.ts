// The portal end to end: the real server (Azurite storage, the local issuer, the real catalog and
// reconcile stores), entities put through the API, and headless Chromium driving the page the way
// a person would, finding every control by its role and accessible name.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { azurite } from '../helpers/azurite.ts';
import { startServer, type RunningServer } from '../../functions/server.ts';
import { signDevToken, type Role } from '../../functions/platform/identity.ts';
import { storageConfig } from '../../functions/platform/storage-config.ts';
import { createLogger } from '../../functions/platform/logger.ts';
import { CatalogService } from '../../functions/catalog/service.ts';
import { Inbox } from '../../functions/catalog/inbox.ts';
import { openNexus } from '../../functions/runtime/nexus.ts';
import { parseGuardrails } from '../../functions/reconcile/guardrails.ts';
import { newRunId, openStores } from '../../functions/reconcile/store/index.ts';
import type { RunRecord } from '../../functions/reconcile/model.ts';
import type { DesiredState } from '../../stacks/compile/model.ts';
import { uniqueName } from '../functions/api/harness.ts';
import { loadConfig } from '../../functions/runtime/config.ts';
import { NewestFirstKeys } from '../../functions/platform/tables.ts';

// Run ids in the order this test makes them (a reconciler's own key source orders its runs so).
const ids = new NewestFirstKeys();

interface Ctx {
  server: RunningServer;
  browser: Browser;
  page: Page;
  env: Record<string, string>;
  /** Requests the page made to anywhere but the server: must stay empty (no CDN, no network). */
  foreign: string[];
  /** Uncaught errors in the page. */
  pageErrors: string[];
  runId: string;
  approvalId: string;
}

const t = suite<Ctx>('portal');
const STACK = uniqueName('portal');

const token = (env: Record<string, string>, user: string, roles: Role[], groups: string[] = []) =>
  signDevToken({ user, roles, groups }, loadConfig(env).identity);

async function put(server: RunningServer, admin: string, entity: { kind: string; metadata: { name: string } }) {
  const res = await fetch(`${server.url}/api/v1/entities/${entity.kind.toLowerCase()}/default/${entity.metadata.name}`, {
    method: 'PUT', body: JSON.stringify({ apiVersion: 'nexus/v1', ...entity }),
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
  });
  assert.ok(res.status === 200 || res.status === 201, `PUT ${entity.kind} ${entity.metadata.name}: ${res.status} ${await res.text()}`);
}

async function signIn(page: Page, tok: string) {
  await page.getByLabel('Bearer token').fill(tok);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

// uvu counts a failed before hook without printing its error: printed here.
t.before(async (ctx) => {
  try {
    await setup(ctx);
  } catch (err) {
    console.error('[portal test] setup failed:', err);
    throw err;
  }
});

async function setup(ctx: Ctx) {
  const az = await azurite();
  ctx.env = {
    ...az.env,
    NEXUS_HOME: mkdtempSync(join(tmpdir(), 'nexus-portal-')),
    NEXUS_LOCAL_ISSUER: '1',
    NEXUS_API_AUDIENCE: 'api://nexus-portal-test',
  };
  const storage = storageConfig(loadConfig(ctx.env).storage);
  // Catalog tables of its own, so other suites in this Azurite never show up in its searches.
  const catalog = await CatalogService.open({ storage, tables: { entities: uniqueName('cat'), relations: uniqueName('rel') } });
  const inbox = await Inbox.open({ storage, table: uniqueName('dlv') });

  // The reconcile service over the real stores, with a one-stack desired state.
  const stores = await openStores(storage);
  const state: DesiredState = {
    tenantRootId: 'tenant', rootManagementGroupId: STACK, location: 'westeurope', resources: [], findings: [],
    stacks: [{ name: STACK, managementGroupId: STACK, resourceIds: [] }],
  };
  const reconcileDeps = { stores, compile: async () => state, guardrails: async () => parseGuardrails({}), logger: createLogger({ level: 'silent' }) };
  const run: RunRecord = {
    id: newRunId(undefined, ids), stack: STACK, trigger: 'push', commit: 'c0ffee1', author: 'carol', dryRun: false, status: 'done',
    decision: 'pending-approval', reasons: ['APPROVAL_REQUIRED'],
    gates: [{ gate: 'approvals', pass: false, hold: true, reason: 'APPROVAL_REQUIRED', details: { message: 'one approver of platform needed' } }],
    counts: { create: 2, update: 0, replace: 0, delete: 1, same: 4 }, timings: { startedAt: new Date().toISOString() }, holderId: 'h',
  };
  await stores.runs.save(run);
  await stores.runs.updateStack(STACK, (s) => ({ ...s, lastRunId: run.id, lastDecision: 'pending-approval', lastRunAt: run.timings.startedAt }));
  const approval = await stores.approvals.request({
    stack: STACK, runId: run.id, changeSetHash: 'c', desiredStateHash: 'd', liveFingerprint: 'l',
    requirements: [{ rule: 'roles', group: 'platform', approvers: 1 }], author: 'carol', commit: 'c0ffee1', now: new Date(), expiresAfterMinutes: 60,
  });
  ctx.runId = run.id;
  ctx.approvalId = approval.id;

  const nexus = await openNexus(loadConfig({ ...process.env, ...ctx.env }), { storage, catalog, inbox, reconcileDeps });
  ctx.server = await startServer({ port: 0, drainIntervalMs: 60_000, nexus });

  // The catalog, put through the API as an Admin would.
  const admin = await token(ctx.env, 'root', ['Admin']);
  await put(ctx.server, admin, { kind: 'Team', metadata: { name: 'payments' }, spec: { members: ['user:default/cara'] } } as never);
  await put(ctx.server, admin, { kind: 'User', metadata: { name: 'cara' }, spec: {} } as never);
  // Names the team in her own memberOf only: shown as a claim, no rights.
  await put(ctx.server, admin, { kind: 'User', metadata: { name: 'mallory' }, spec: { memberOf: ['team:default/payments'] } } as never);
  await put(ctx.server, admin, { kind: 'Environment', metadata: { name: 'prod' }, spec: { owner: 'team:default/payments', stage: 'production' } } as never);
  await put(ctx.server, admin, {
    kind: 'Service', metadata: { name: 'payments-api', description: 'Takes card payments', tags: ['java'] },
    spec: { owner: 'team:default/payments', lifecycle: 'production', deployedTo: ['environment:default/prod'] },
  } as never);
  await put(ctx.server, admin, {
    kind: 'Service', metadata: { name: 'checkout', description: 'The checkout flow, calls the payments API' },
    spec: { owner: 'team:default/payments', lifecycle: 'production', dependsOn: ['service:default/payments-api'] },
  } as never);

  ctx.browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  ctx.page = await ctx.browser.newPage();
  ctx.foreign = [];
  ctx.pageErrors = [];
  const origin = new URL(ctx.server.url).origin;
  ctx.page.on('request', (r) => { if (new URL(r.url()).origin !== origin) ctx.foreign.push(r.url()); });
  ctx.page.on('pageerror', (e) => ctx.pageErrors.push(e.message));
}

t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.server?.close();
  await ctx.server?.nexus.close();
});

t('the page and its files answer without a token; the API behind it does not', async ({ server }) => {
  const page = await fetch(`${server.url}/`);
  assert.is(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  const app = await fetch(`${server.url}/portal/app.js`);
  assert.is(app.status, 200);
  const etag = app.headers.get('etag')!;
  assert.ok(etag);
  assert.is((await fetch(`${server.url}/portal/app.js`, { headers: { 'if-none-match': etag } })).status, 304);
  const config = await (await fetch(`${server.url}/portal/config.json`)).json();
  // From the server's configuration (the test's environment), never the process's own.
  assert.equal(config, { localIssuer: true, ...(process.env.NEXUS_ENTRA_TENANT_ID ? { entraTenantId: process.env.NEXUS_ENTRA_TENANT_ID } : {}), audience: 'api://nexus-portal-test' });
  assert.is((await fetch(`${server.url}/portal/other.js`)).status, 401);
  assert.is((await fetch(`${server.url}/api/v1/me`)).status, 401);
});

t('a refused token is explained; a dev token signs in', async ({ page, server, env }) => {
  await page.goto(server.url);
  await page.getByRole('heading', { level: 1, name: 'Sign in to Nexus' }).waitFor();
  assert.ok(await page.getByText('npx nexus dev-token').count() >= 1, 'the page explains where local tokens come from');
  if (!process.env.NEXUS_ENTRA_TENANT_ID) assert.match(await page.locator('main').innerText(), /Entra ID \(MSAL\) is configured by NEXUS_ENTRA_TENANT_ID/);
  await page.getByLabel('Bearer token').fill('not-a-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const refusal = page.getByRole('alert');
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /The API refused the token: .*JWT/);
  await signIn(page, await token(env, 'alice', ['Developer'], ['payments']));
  assert.is(await page.evaluate(() => sessionStorage.getItem('nexus.token')?.split('.').length), 3);
});

t('search with kind facets, an entity with its relations as links', async ({ page }) => {
  const box = page.getByRole('searchbox', { name: /Search services/ });
  await box.fill('payments');
  await box.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Search: payments' }).waitFor();
  const facets = page.getByRole('navigation', { name: 'Filter by kind' });
  await facets.getByRole('link', { name: /All kinds/ }).waitFor();
  const facetText = await facets.innerText();
  assert.match(facetText, /service \(2\)|Service \(2\)/i);
  assert.match(facetText, /team \(1\)/i);
  // Narrow to services: the team drops out of the hits.
  await facets.getByRole('link', { name: /^service/i }).click();
  await page.getByRole('heading', { level: 2, name: /2 matches of kind service/i }).waitFor();
  const hits = page.locator('.hits');
  assert.is(await hits.getByRole('link', { name: 'payments', exact: true }).count(), 0, 'the team is filtered out');
  await hits.getByRole('link', { name: 'checkout' }).click();

  await page.getByRole('heading', { level: 1, name: 'checkout' }).waitFor();
  const relations = page.getByRole('table', { name: 'Relations' });
  const row = relations.getByRole('row', { name: /dependsOn/ });
  await row.waitFor();
  assert.match(await page.locator('main').innerText(), /The checkout flow, calls the payments API/);
  await row.getByRole('link', { name: 'service:default/payments-api' }).click();
  await page.getByRole('heading', { level: 1, name: 'payments-api' }).waitFor();
  // The reverse direction is there too, and the owner is a link to the team.
  await page.getByRole('table', { name: 'Relations' }).getByRole('row', { name: /dependencyOf.*checkout/ }).waitFor();
  await page.getByRole('link', { name: 'team:default/payments' }).first().click();
  await page.getByRole('heading', { level: 1, name: 'payments', exact: true }).waitFor();
  await page.getByRole('heading', { level: 2, name: 'Relations' }).waitFor();
  assert.match(await page.locator('.kind-line').textContent() ?? '', /^Team in namespace default/);
  assert.match(await page.getByRole('table', { name: 'Relations' }).innerText(), /ownerOf\s+service:default\/checkout/);
  const owns = page.locator('h2:has-text("Owns") + ul');
  await owns.waitFor();
  const owned = await owns.locator('li > a:first-child').allTextContents();
  assert.equal(owned.sort(), ['checkout', 'payments-api', 'prod']);
  // Members the team lists, apart from those who only claim it.
  assert.equal(await page.locator('h2:has-text("Members") + ul li > a:first-child').allTextContents(), ['cara']);
  assert.equal(await page.locator('h2:has-text("Claimed members") ~ ul').first().locator('li > a:first-child').allTextContents(), ['mallory']);
  assert.match(await page.locator('main').innerText(), /they get none of its rights/);
});

t('my dashboard: my teams, what they own, environments', async ({ page }) => {
  await page.getByRole('link', { name: 'My dashboard' }).click();
  await page.getByRole('heading', { level: 1, name: 'My dashboard' }).waitFor();
  const main = page.locator('main');
  await main.getByText('Signed in as').waitFor();
  const text = await main.innerText();
  assert.match(text, /Signed in as alice with the roles Developer/);
  const section = async (heading: string) =>
    main.locator(`h2:has-text("${heading}") + ul`).innerText();
  assert.match(await section('My teams'), /payments/);
  const owned = await section('What I own');
  for (const name of ['checkout', 'payments-api', 'prod']) assert.match(owned, new RegExp(name));
  assert.match(await section('My environments'), /prod/);
  assert.is(await page.getByRole('link', { name: 'My dashboard' }).getAttribute('aria-current'), 'page');
});

t('stacks (with the kill switch), their runs and one run with its gates', async ({ page, runId, server, env }) => {
  const killSwitch = async (on: boolean) => {
    const res = await fetch(`${server.url}/api/v1/killswitch`, {
      method: 'PUT', body: JSON.stringify({ on, reason: on ? 'portal test incident' : 'over' }),
      headers: { authorization: `Bearer ${await token(env, 'root', ['Admin'])}`, 'content-type': 'application/json' },
    });
    assert.is(res.status, 200, await res.text());
  };
  await killSwitch(true);
  try {
    await page.getByRole('link', { name: 'Stacks and runs' }).click();
    const banner = page.getByRole('status').filter({ hasText: 'kill switch' });
    await banner.waitFor();
    assert.match(await banner.innerText(), /The kill switch is on: no stack is applied\. Reason: portal test incident\. Turned on by root/);
  } finally {
    await killSwitch(false);
  }
  const stacks = page.getByRole('table', { name: /Every stack/ });
  const row = stacks.getByRole('row', { name: new RegExp(STACK) });
  await row.waitFor();
  assert.match(await row.innerText(), /pending-approval/);
  await row.getByRole('link', { name: STACK }).click();
  await page.getByRole('heading', { level: 1, name: `Stack ${STACK}` }).waitFor();
  await page.getByRole('link', { name: runId }).click();
  await page.getByRole('heading', { level: 1, name: `Run ${runId}` }).waitFor();
  const gates = await page.getByRole('table', { name: 'Gates' }).innerText();
  assert.match(gates, /approvals\s+hold\s+APPROVAL_REQUIRED\s+one approver of platform needed/);
  assert.match(await page.locator('dl.facts').innerText(), /2 create, 0 update, 0 replace, 1 delete/);
});

t("approvals: the API's refusal is shown; someone with the rights rejects", async ({ page, env, server, approvalId, runId }) => {
  await page.getByRole('link', { name: 'Approvals' }).click();
  await page.getByRole('heading', { level: 1, name: 'Approvals' }).waitFor();
  const item = page.locator('li.approval', { has: page.getByRole('link', { name: runId }) });
  await item.waitFor();
  await item.getByRole('button', { name: 'Approve' }).click();
  const alert = item.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /approve needs one of the roles Admin, PlatformEngineer, TeamLead; alice has Developer/);

  // Sign out, and back in as a platform engineer who may vote.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { level: 1, name: 'Sign in to Nexus' }).waitFor();
  assert.is(await page.evaluate(() => sessionStorage.getItem('nexus.token')), null);
  await signIn(page, await token(env, 'bob', ['PlatformEngineer'], ['platform']));
  await page.getByRole('heading', { level: 1, name: 'Approvals' }).waitFor();
  const again = page.locator('li.approval', { has: page.getByRole('link', { name: runId }) });
  await again.getByLabel('Reason for rejecting').fill('change freeze');
  await again.getByRole('button', { name: 'Reject' }).click();
  const status = again.getByRole('status');
  await status.waitFor();
  assert.match(await status.innerText(), /Rejected; the request is rejected/);
  const stored = await (await fetch(`${server.url}/api/v1/approvals?status=rejected`, {
    headers: { authorization: `Bearer ${await token(env, 'root', ['Admin'])}` },
  })).json() as { approvals: Array<{ id: string; reason?: string; rejectedBy?: string }> };
  const mine = stored.approvals.find((a) => a.id === approvalId);
  assert.equal([mine?.reason, mine?.rejectedBy], ['change freeze', 'bob']);
});

t('keyboard: the skip link and the search box work without a mouse', async ({ page }) => {
  // A fresh load (the session survives it): focus starts at the top of the page.
  await page.goto(`${new URL(page.url()).origin}/#/search`);
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Search the catalog' }).waitFor();
  await page.keyboard.press('Tab');
  assert.is(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
  await page.keyboard.press('Enter');
  assert.is(await page.evaluate(() => document.activeElement?.id), 'main');
  await page.getByRole('searchbox').focus();
  await page.keyboard.type('kind:environment prod');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 2, name: /1 match/ }).waitFor();
  await page.locator('.hits').getByRole('link', { name: 'prod' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'prod' }).waitFor();
});

t('browse one kind from the empty search page', async ({ page }) => {
  await page.getByRole('link', { name: 'Catalog' }).click();
  await page.getByRole('heading', { level: 1, name: 'Search the catalog' }).waitFor();
  await page.getByRole('navigation', { name: 'Browse by kind' }).getByRole('link', { name: 'Service', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Every Service' }).waitFor();
  const list = page.locator('main ul.entities');
  await list.waitFor();
  const names = await list.locator('li > a:first-child').allTextContents();
  assert.equal(names, ['checkout', 'payments-api']);
});

t('a token the API stops accepting brings back the sign-in form, saying why', async ({ page }) => {
  await page.evaluate(() => sessionStorage.setItem('nexus.token', 'no.longer.valid'));
  await page.getByRole('link', { name: 'My dashboard' }).click();
  await page.getByRole('heading', { level: 1, name: 'Sign in to Nexus' }).waitFor();
  assert.match(await page.getByRole('alert').innerText(), /^Please sign in again: /);
  assert.is(await page.evaluate(() => sessionStorage.getItem('nexus.token')), null);
});

t('through all of it the page asked nothing of any other origin and threw no error', ({ foreign, pageErrors }) => {
  assert.equal(foreign, [], `requests outside the server: ${foreign.join(', ')}`);
  assert.equal(pageErrors, []);
});

t.run();
