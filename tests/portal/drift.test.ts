// The portal's drift and compliance pages end to end: the real server (Azurite storage, the local
// issuer, the real reconcile stores), drift reports seeded into the real DriftStore, the compliance
// view from a plain function standing for its module, and headless Chromium reading the pages the
// way a person would, finding every control by its role and accessible name.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { azurite } from '../helpers/azurite.ts';
import { startServer, type RunningServer } from '../../functions/server.ts';
import { signDevToken } from '../../functions/platform/identity.ts';
import { storageConfig } from '../../functions/platform/storage-config.ts';
import { createLogger } from '../../functions/platform/logger.ts';
import { CatalogService } from '../../functions/catalog/service.ts';
import { Inbox } from '../../functions/catalog/inbox.ts';
import { openNexus } from '../../functions/runtime/nexus.ts';
import { createApp } from '../../functions/api/app.ts';
import type { ApiDeps } from '../../functions/api/deps.ts';
import { parseGuardrails } from '../../functions/reconcile/guardrails.ts';
import { newRunId, openStores } from '../../functions/reconcile/store/index.ts';
import type { RunRecord } from '../../functions/reconcile/model.ts';
import type { DesiredState } from '../../stacks/compile/model.ts';
import { DriftStore } from '../../functions/drift/store.ts';
import { uniqueName } from '../functions/api/harness.ts';
import { loadConfig } from '../../functions/runtime/config.ts';
import { NewestFirstKeys } from '../../functions/platform/tables.ts';
import { compliancePort, PR_URL, sampleCompliance, sampleReport, STORAGE_ID } from '../helpers/drift.ts';

const ids = new NewestFirstKeys();

interface Ctx {
  server: RunningServer;
  browser: Browser;
  page: Page;
  env: Record<string, string>;
  foreign: string[];
  pageErrors: string[];
  /** The run whose report has every kind of content; the newer run's report is the stack's latest. */
  reported: string;
  latest: string;
  /** A run with no drift report. */
  bare: string;
}

const t = suite<Ctx>('portal drift and compliance');
const STACK = uniqueName('pdrift');

t.before(async (ctx) => {
  try {
    await setup(ctx);
  } catch (err) {
    console.error('[portal drift test] setup failed:', err);
    throw err;
  }
});

async function setup(ctx: Ctx) {
  const az = await azurite();
  ctx.env = {
    ...az.env,
    NEXUS_HOME: mkdtempSync(join(tmpdir(), 'nexus-portal-drift-')),
    NEXUS_LOCAL_ISSUER: '1',
    NEXUS_API_AUDIENCE: 'api://nexus-portal-drift-test',
  };
  const storage = storageConfig(loadConfig(ctx.env).storage);
  const catalog = await CatalogService.open({ storage, tables: { entities: uniqueName('cat'), relations: uniqueName('rel') } });
  const inbox = await Inbox.open({ storage, table: uniqueName('dlv') });

  const stores = await openStores(storage);
  const state: DesiredState = {
    tenantRootId: 'tenant', rootManagementGroupId: STACK, location: 'westeurope', resources: [], findings: [],
    stacks: [{ name: STACK, managementGroupId: STACK, resourceIds: [] }],
  };
  const reconcileDeps = { stores, compile: async () => state, guardrails: async () => parseGuardrails({}), logger: createLogger({ level: 'silent' }) };
  const run = (): RunRecord => ({
    id: newRunId(undefined, ids), stack: STACK, trigger: 'timer', dryRun: false, status: 'done', decision: 'report-only', reasons: ['DRIFT'],
    gates: [], counts: { create: 0, update: 1, replace: 0, delete: 0, same: 4 }, timings: { startedAt: new Date().toISOString() }, holderId: 'h',
  });
  const [reported, latest, bare] = [run(), run(), run()];
  for (const r of [reported, latest, bare]) await stores.runs.save(r);
  await stores.runs.updateStack(STACK, (s) => ({ ...s, lastRunId: bare.id, lastDecision: 'report-only', lastRunAt: bare.timings.startedAt }));
  Object.assign(ctx, { reported: reported.id, latest: latest.id, bare: bare.id });

  // The reports as the reconciler stores them: the newer one becomes the stack's latest.
  const drift = await DriftStore.open(storage);
  await drift.save(sampleReport(STACK, reported.id, '2026-12-01T09:00:00.000Z'));
  const quiet = sampleReport(STACK, latest.id, '2026-12-01T10:00:00.000Z');
  await drift.save({ ...quiet, items: quiet.items.slice(1), counts: { 'policy-owned': 1 }, unavailable: [], pullRequest: { number: 7, url: 'javascript:alert(1)', state: 'opened' } });

  // The composition root wires these ports (functions/runtime/nexus.ts); here the test does.
  const nexus = await openNexus(loadConfig({ ...process.env, ...ctx.env }), { storage, catalog, inbox, reconcileDeps });
  const deps: ApiDeps = { ...nexus.deps, drift: { report: (stack, runId) => drift.get(stack, runId) }, compliance: compliancePort(sampleCompliance()) };
  ctx.server = await startServer({ port: 0, drainIntervalMs: 60_000, nexus: { ...nexus, deps, app: createApp(deps) } });

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
  // A report value that tries to run script: it must stay text.
  ctx.page.on('dialog', (d) => { ctx.pageErrors.push(`a dialog opened: ${d.message()}`); void d.dismiss(); });
}

t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.server?.close();
  await ctx.server?.nexus.close();
});

t('sign in; the stack page links to its latest drift report', async ({ page, server, env, latest }) => {
  await page.goto(server.url);
  await page.getByLabel('Bearer token').fill(await signDevToken({ user: 'dana', roles: ['Developer'], groups: [] }, loadConfig(env).identity));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  await page.getByRole('link', { name: 'Stacks and runs' }).click();
  await page.getByRole('table', { name: /Every stack/ }).getByRole('link', { name: STACK }).click();
  await page.getByRole('heading', { level: 1, name: `Stack ${STACK}` }).waitFor();
  await page.getByRole('link', { name: 'Drift report' }).click();
  await page.getByRole('heading', { level: 1, name: `Drift of ${STACK}` }).waitFor();
  const facts = await page.locator('dl.facts').first().innerText();
  assert.match(facts, new RegExp(`Run\\s+${latest}`));
  assert.match(facts, /Mode\s+report/);
  assert.match(await page.getByRole('table', { name: 'Drifted resources per kind' }).innerText(), /policy-owned\s+1/);
  // The pull request's URL is not a web link: shown as text, never an href.
  assert.match(facts, /Pull request\s+#7 \(opened\)/);
  assert.is(await page.locator('a[href^="javascript:"]').count(), 0);
  assert.is(await page.getByRole('link', { name: '#7' }).count(), 0);
});

t("a run's page links to that run's report: kinds, each item with signals, who and when, the diff, the noise per rule", async ({ page, reported }) => {
  await page.getByRole('link', { name: `Stack ${STACK}` }).click();
  await page.getByRole('table', { name: `Runs of ${STACK}, newest first` }).getByRole('link', { name: reported }).click();
  await page.getByRole('heading', { level: 1, name: `Run ${reported}` }).waitFor();
  await page.getByRole('link', { name: 'Drift report of this run' }).click();
  await page.getByRole('heading', { level: 1, name: `Drift of run ${reported}` }).waitFor();

  const kinds = await page.getByRole('table', { name: 'Drifted resources per kind' }).innerText();
  assert.match(kinds, /configuration\s+1/);
  assert.match(kinds, /policy-owned\s+1/);
  const status = await page.getByRole('status').innerText();
  assert.match(status, /activity-log: Log Analytics answered 403/);

  const item = page.getByRole('article', { name: STORAGE_ID });
  const facts = await item.locator('dl.facts').innerText();
  assert.match(facts, /Kind\s+configuration/);
  assert.match(facts, /Action\s+report/);
  assert.match(facts, /Signals\s+engine, change-history/);
  assert.match(facts, /Last change\s+alice@contoso\.example \(person, Azure Portal\) at /);
  const props = page.getByRole('table', { name: `Properties of ${STORAGE_ID}` });
  assert.match(await props.getByRole('row', { name: /sku\.name/ }).innerText(), /sku\.name\s+"Standard_LRS"\s+"Standard_GRS"\s+alice@contoso\.example \(person, Azure Portal\) at /);
  // Markup in live values is text on the page, not elements.
  assert.match(await props.getByRole('row', { name: /tags\.note/ }).innerText(), /"<b>keep<\/b>"\s+"<script>alert\(1\)<\/script>"/);
  assert.is(await page.locator('main script, main b').count(), 0);
  const diff = await item.getByLabel(`Difference of ${STORAGE_ID}, desired to live`).innerText();
  assert.match(diff, /-\s+name: "Standard_LRS"\n\+\s+name: "Standard_GRS"/);

  const owned = page.getByRole('article', { name: /resourceGroups\/rg-app$/ });
  assert.match(await owned.locator('dl.facts').innerText(), /Kind\s+policy-owned[\s\S]*Action\s+leave-to-policy[\s\S]*Why\s+tags\.costCenter is written by Modify assignment 'Inherit-Tags'[\s\S]*Policy assignment\s+\/providers\/Microsoft\.Management/);

  assert.is(await page.getByRole('link', { name: '#12' }).getAttribute('href'), PR_URL);
  const noise = page.getByRole('table', { name: 'Differences suppressed per rule (9 in all)' });
  assert.match(await noise.getByRole('row', { name: /read-only-properties/ }).innerText(), /read-only-properties\s+7\s+properties\.provisioningState, etag/);
  assert.match(await noise.getByRole('row', { name: /location-display-name/ }).innerText(), /location-display-name\s+2\s+location/);
});

t('a run without a report says so', async ({ page, bare }) => {
  await page.goto(`${new URL(page.url()).origin}/#/runs/${bare}`);
  await page.getByRole('heading', { level: 1, name: `Run ${bare}` }).waitFor();
  await page.getByRole('link', { name: 'Drift report of this run' }).click();
  await page.getByRole('heading', { level: 1, name: `Drift of run ${bare}` }).waitFor();
  assert.is(await page.getByRole('alert').innerText(), `no drift report of run '${bare}' of stack '${STACK}'`);
});

t('compliance, from the navigation: counts per scope, per assignment, the worst offenders; one scope', async ({ page }) => {
  await page.getByRole('link', { name: 'Compliance' }).click();
  await page.getByRole('heading', { level: 1, name: 'Compliance' }).waitFor();
  assert.is(await page.getByRole('link', { name: 'Compliance' }).getAttribute('aria-current'), 'page');
  const scopes = page.getByRole('table', { name: 'Resources per scope' });
  assert.match(await scopes.getByRole('row', { name: /Azure Landing Zones/ }).innerText(), /Azure Landing Zones\s+management group\s+40\s+3\s+1\s+44/);
  assert.match(await scopes.getByRole('row', { name: /sub-app/ }).innerText(), /sub-app\s+subscription\s+10\s+1\s+0\s+11/);
  assert.match(await page.getByRole('status').innerText(), /0000000000b2: Policy Insights answered 429/);
  const assignments = page.getByRole('table', { name: 'Assignments at Azure Landing Zones' });
  assert.match(await assignments.getByRole('row', { name: /Inherit tags/ }).innerText(), /Inherit tags <from> the resource group\s+30\s+3\s+1\s+0/);
  assert.match(await assignments.getByRole('row', { name: /Deny-Public-IP/ }).innerText(), /Deny-Public-IP\s+44\s+0\s+0\s+2/);
  const worst = page.getByRole('table', { name: 'Worst offenders at Azure Landing Zones' });
  assert.match(await worst.innerText(), new RegExp(`${STORAGE_ID.replace(/[.]/g, '\\.')}\\s+2\\s+Inherit-Tags, Deny-Public-IP`));

  await scopes.getByRole('link', { name: 'sub-app' }).click();
  // The every-scope page already shows sub-app's table: wait for the one-scope view to replace it.
  await page.getByRole('table', { name: 'Assignments at Azure Landing Zones' }).waitFor({ state: 'detached' });
  await page.getByRole('table', { name: 'Assignments at sub-app' }).waitFor();
  assert.is(await page.getByRole('table', { name: 'Assignments at Azure Landing Zones' }).count(), 0);
  await page.getByRole('link', { name: 'Every scope' }).click();
  await page.getByRole('table', { name: 'Assignments at Azure Landing Zones' }).waitFor();
});

t('through all of it the page asked nothing of any other origin, threw no error and ran no script of the data', ({ foreign, pageErrors }) => {
  assert.equal(foreign, [], `requests outside the server: ${foreign.join(', ')}`);
  assert.equal(pageErrors, []);
});

t.run();
