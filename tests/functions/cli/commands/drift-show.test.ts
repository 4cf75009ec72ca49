// `nexus drift [STACK...]` and `nexus compliance` against a real API server (the app on a loopback
// port, drift reports in the real DriftStore on Azurite, the compliance view from a plain function
// standing for its module), signed in with tokens of the local issuer as the CLI signs them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { createServer, type AddressInfo } from 'node:net';
import { Command } from 'commander';
import { harness, uniqueName, type Harness } from '../../api/harness.ts';
import { DriftStore } from '../../../../functions/drift/store.ts';
import { addDriftShow } from '../../../../functions/cli/commands/drift-show.ts';
import * as complianceCmd from '../../../../functions/cli/commands/compliance.ts';
import { UserError } from '../../../../functions/cli/errors.ts';
import type { CliContext } from '../../../../functions/cli/context.ts';
import { loadConfig } from '../../../../functions/runtime/config.ts';
import { newRunId, openStores } from '../../../../functions/reconcile/store/index.ts';
import { defaultDeps } from '../../../../functions/reconcile/deps.ts';
import { parseGuardrails } from '../../../../functions/reconcile/guardrails.ts';
import { Reconciler } from '../../../../functions/reconcile/loop.ts';
import { ReconcileService } from '../../../../functions/reconcile/service.ts';
import { createLogger } from '../../../../functions/platform/logger.ts';
import { NewestFirstKeys } from '../../../../functions/platform/tables.ts';
import type { DesiredState } from '../../../../stacks/compile/model.ts';
import { partsFrom, storageFrom } from '../../../helpers/config.ts';
import { compliancePort, sampleCompliance, sampleReport, STORAGE_ID } from '../../../helpers/drift.ts';

const BIN = fileURLToPath(new URL('../../../../bin/nexus.js', import.meta.url));
const ids = new NewestFirstKeys();
const STACK = uniqueName('cdrift');
const QUIET = uniqueName('cquiet');
let h: Harness;
let server: ServerType;
let url: string;
let store: DriftStore;
let runId: string;

test.before(async () => {
  h = await harness();
  store = await DriftStore.open(storageFrom(h.env));
  h.deps.drift = { report: (stack, run) => store.get(stack, run) };
  h.deps.compliance = compliancePort(sampleCompliance());
  // The stacks of the desired state (`nexus drift` without STACK asks for them): one never reported.
  const state: DesiredState = {
    tenantRootId: 'tenant', rootManagementGroupId: STACK, location: 'westeurope', resources: [], findings: [],
    stacks: [{ name: STACK, managementGroupId: STACK, resourceIds: [] }, { name: QUIET, managementGroupId: QUIET, resourceIds: [] }],
  };
  const deps = await defaultDeps(partsFrom({ ...process.env, ...h.env }), {
    stores: await openStores(storageFrom(h.env)), compile: async () => state, guardrails: async () => parseGuardrails({}), logger: createLogger({ level: 'silent' }),
  });
  h.deps.reconcile = new ReconcileService(new Reconciler(deps));
  runId = newRunId(undefined, ids);
  await store.save(sampleReport(STACK, runId));
  server = await new Promise((resolve) => {
    const s = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.after(() => new Promise<void>((resolve) => server?.close(() => resolve())));

/** The command in this process, as main.ts runs it: its output, and the UserError it ended with. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<{ out: string; error?: string }> {
  const ctx: CliContext = {
    config: () => loadConfig({ ...h.env, NEXUS_API_URL: url, NEXUS_NO_LOCAL_ENV: '1', ...env }),
    reconcile: () => { throw new Error('these commands go through the API'); },
  };
  const program = new Command('nexus').exitOverride();
  addDriftShow(program.command('drift'), ctx);
  complianceCmd.register(program, ctx);
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => { out += chunk; return true; }) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'nexus', ...args]);
    return { out };
  } catch (err) {
    if (err instanceof UserError) return { out, error: err.message };
    throw err;
  } finally {
    process.stdout.write = write;
  }
}

test('drift STACK: counts per kind, each item with desired -> live and who, the suppressed noise per rule', async () => {
  const r = await cli(['drift', STACK]);
  assert.is(r.error, undefined);
  const out = r.out;
  assert.match(out, new RegExp(`^${STACK}: drift report of run ${runId}, 2026-12-01 10:00:00 UTC, mode report$`, 'm'));
  assert.match(out, /^ {2}2 drifted: configuration 1, policy-owned 1$/m);
  assert.match(out, new RegExp(`^ {2}configuration +report +${STORAGE_ID.replace(/[.]/g, '\\.')}$`, 'm'));
  assert.match(out, /^ {6}sku\.name: "Standard_LRS" -> "Standard_GRS" {2}by alice@contoso\.example \(person\) at 2026-12-01 09:12:00 UTC$/m);
  assert.match(out, /^ {6}tags\.costCenter: null -> "cc-42" {2}by 11111111-2222-3333-4444-555555555555 \(policy\) at 2026-12-01 08:00:00 UTC$/m);
  assert.match(out, /^ {2}policy-owned +leave-to-policy +\/subscriptions\/.*\/resourceGroups\/rg-app$/m);
  assert.match(out, /^ {2}suppressed noise: 9 differences by 2 rules$/m);
  assert.match(out, /^ {6}read-only-properties: 7 \(properties\.provisioningState, etag\)$/m);
  assert.match(out, /^ {6}location-display-name: 2 \(location\)$/m);
  assert.match(out, /^ {2}not read: activity-log: Log Analytics answered 403$/m);
  assert.match(out, /^ {2}pull request #12 updated: https:\/\/github\.example\/contoso\/landing-zones\/pull\/12$/m);
});

test('drift --json: the reports as the API serves them; --run the report of that run', async () => {
  const all = await cli(['drift', STACK, '--json']);
  assert.equal(JSON.parse(all.out), { reports: [sampleReport(STACK, runId)], missing: [] });
  const one = await cli(['drift', STACK, '--run', runId, '--json']);
  assert.equal(JSON.parse(one.out).reports[0].runId, runId);
  const other = newRunId(undefined, ids);
  const none = await cli(['drift', STACK, '--run', other, '--json']);
  assert.equal(JSON.parse(none.out), { reports: [], missing: [{ stack: STACK, run: other, detail: `no drift report of run '${other}' of stack '${STACK}'` }] });
  assert.is(none.error, `no drift report of run '${other}' of stack '${STACK}'`, 'a run asked for and not found is an error');
});

test('drift without STACK: every stack, those without a report listed but not an error', async () => {
  const r = await cli(['drift', '--json']);
  assert.is(r.error, undefined);
  const body = JSON.parse(r.out) as { reports: Array<{ stack: string }>; missing: Array<{ stack: string }> };
  // Other suites share this Azurite: their stacks may be listed too, never these two the wrong way round.
  const reported = body.reports.map((x) => x.stack);
  const missing = body.missing.map((x) => x.stack);
  assert.ok(reported.includes(STACK) && !missing.includes(STACK), JSON.stringify(body));
  assert.ok(missing.includes(QUIET) && !reported.includes(QUIET), JSON.stringify(body));
  const text = await cli(['drift']);
  assert.match(text.out, new RegExp(`^${QUIET}: no drift report of stack '${QUIET}' yet$`, 'm'));
});

test('drift mistakes: a named stack without a report, a bad stack name, --run with two stacks, a refused token', async () => {
  const none = uniqueName('nope');
  assert.is((await cli(['drift', none])).error, `no drift report of stack '${none}' yet`);
  assert.match((await cli(['drift', '_bad'])).error ?? '', /^_bad: HTTP 400: path\.stack: stack must be 1-90 letters/);
  assert.match((await cli(['drift', STACK, QUIET, '--run', runId])).error ?? '', /^--run: a run belongs to one stack/);
  // Every signed-in principal may read (no role at all reads as Developer); a token the API refuses is named.
  const refused = await cli(['drift', STACK], { NEXUS_API_TOKEN: 'not-a-token' });
  assert.match(refused.error ?? '', new RegExp(`^${STACK}: HTTP 401: .*JWT`));
});

test('beside a `drift judge` subcommand, the subcommand keeps its own options', async () => {
  const ctx: CliContext = { config: () => loadConfig(h.env), reconcile: () => { throw new Error('unused'); } };
  const program = new Command('nexus').exitOverride();
  const drift = program.command('drift');
  const judged: unknown[] = [];
  drift.command('judge').argument('<dir>').option('--json').action((dir: string, o: unknown) => void judged.push(dir, o));
  addDriftShow(drift, ctx);
  await program.parseAsync(['node', 'nexus', 'drift', 'judge', 'cases', '--json']);
  assert.equal(judged, ['cases', { json: true }]);
});

test('terminal escape sequences in live values are not written to the terminal', async () => {
  const stack = uniqueName('cesc');
  const report = sampleReport(stack);
  report.items[0].properties[0].live = '\u001b]0;owned\u0007';
  report.items[0].why = 'changed\u001b[2J';
  await store.save(report);
  const r = await cli(['drift', stack]);
  assert.not.match(r.out, /\u001b/);
  assert.match(r.out, /why: changed\?\[2J/);
});

test('compliance: a table per scope with counts per assignment and the worst offenders', async () => {
  const r = await cli(['compliance']);
  assert.is(r.error, undefined);
  const lines = r.out.split('\n');
  assert.is(lines[0], 'Azure Landing Zones (management group /providers/Microsoft.Management/managementGroups/alz)');
  assert.is(lines[1], '  resources: 40 compliant, 3 non-compliant, 1 exempt, 44 total');
  assert.is(lines[2], '  ASSIGNMENT                              COMPLIANT  NON-COMPLIANT  EXEMPT  OTHER');
  assert.is(lines[3], '  Inherit tags <from> the resource group         30              3       1      0');
  assert.is(lines[4], '  Deny-Public-IP                                 44              0       0      2');
  assert.is(lines[5], '  worst offenders:');
  assert.is(lines[6], `      2  ${STORAGE_ID}  (Inherit-Tags, Deny-Public-IP)`);
  assert.match(r.out, /^sub-app \(subscription \/subscriptions\/0{8}-0{4}-0{4}-0{4}-0{10}a1\)$/m);
  assert.match(r.out, /^not read: \/subscriptions\/.*b2: Policy Insights answered 429$/m);
  const json = await cli(['compliance', '--json', '--scope', '/providers/Microsoft.Management/managementGroups/alz']);
  assert.equal(JSON.parse(json.out).scopes.map((s: { name: string }) => s.name), ['Azure Landing Zones']);
  assert.match((await cli(['compliance', '--scope', 'alz'])).error ?? '', /^--scope: query\.scope: scope must be a management group .* \(HTTP 400\)$/);
});

test('the real entry point: `nexus compliance --json` is registered', async () => {
  const run = (env: Record<string, string>) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(NEXUS_|AZURE_STORAGE_)/.test(k))) as Record<string, string>;
    execFile(process.execPath, [BIN, 'compliance', '--json'], { env: { ...base, ...h.env, NEXUS_NO_LOCAL_ENV: '1', ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
  const ok = await run({ NEXUS_API_URL: url });
  assert.is(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout), sampleCompliance());
});

test('an API that does not answer is one line naming it', async () => {
  // A port nothing listens on (any more).
  const closed = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address() as AddressInfo; s.close(() => resolve(port)); });
  });
  for (const args of [['compliance'], ['drift', STACK]]) {
    const r = await cli(args, { NEXUS_API_URL: `http://127.0.0.1:${closed}` });
    assert.match(r.error ?? '', new RegExp(`^cannot reach the Nexus API at http://127\\.0\\.0\\.1:${closed} \\(ECONNREFUSED\\)`), args.join(' '));
  }
});

test.run();
