// The reconcile commands as people run them: bin/nexus.js in its own process against Azurite, the
// ARM sandbox and the real engine, compiling the shipped default tenant.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { liveParts, releaseLive, type Live } from '../../reconcile/live.ts';
import { cliPrincipal, localArm, localEmulatorStorage } from '../../../../functions/cli/commands/reconcile.ts';
import { loadConfig } from '../../../../functions/runtime/config.ts';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
let L: Live;
test.before(async () => { L = await liveParts(); });
test.after(() => releaseLive());

function nexus(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return nexusWith({}, ...args);
}

function nexusWith(over: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/nexus.js', ...args], {
      cwd: ROOT,
      env: { ...L.env, NEXUS_NO_LOCAL_ENV: '1', NEXUS_LOCAL_ISSUER: '1', NEXUS_API_TOKEN: '', NEXUS_LOG_LEVEL: 'silent', ...over },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

test('reconcile --dry-run, runs --json, and the kill switch blocking a real reconcile (exit 3)', async () => {
  const status = await nexus('killswitch', '--json');
  assert.is(status.code, 0, status.err);
  assert.is(JSON.parse(status.out).on, false);

  const dry = await nexus('reconcile', 'online', '--dry-run', '--json');
  assert.is(dry.code, 0, dry.err);
  const dryRun = JSON.parse(dry.out).runs[0];
  assert.equal([dryRun.stack, dryRun.trigger, dryRun.decision, dryRun.reasons], ['online', 'manual', 'dry-run', []]);
  assert.is(dryRun.counts.create, 1);

  const runs = await nexus('runs', 'online', '--json');
  assert.is(runs.code, 0, runs.err);
  const listed = JSON.parse(runs.out).runs;
  assert.is(listed[0].id, dryRun.id);
  for (const k of ['id', 'stack', 'trigger', 'decision', 'reasons']) assert.ok(k in listed[0], k);

  const on = await nexus('killswitch', 'on', '--reason', 'cli test', '--json');
  assert.is(on.code, 0, on.err);
  assert.equal([JSON.parse(on.out).on, JSON.parse(on.out).reason], [true, 'cli test']);
  try {
    const blocked = await nexus('reconcile', 'online');
    assert.is(blocked.code, 3, blocked.err);
    assert.match(blocked.out, /online: blocked \(KILL_SWITCH\)/);
    assert.match(blocked.out, /FAIL kill-switch/);
  } finally {
    const off = await nexus('killswitch', 'off', '--reason', 'cli test over');
    assert.is(off.code, 0, off.err);
    assert.match(off.out, /kill switch: off/);
  }
});

test('approvals --json shape, and mistakes get one-line errors', async () => {
  const list = await nexus('approvals', '--status', 'all', '--json');
  assert.is(list.code, 0, list.err);
  assert.ok(Array.isArray(JSON.parse(list.out).approvals));
  const cases: [string[], RegExp][] = [
    [['reconcile'], /name a stack, or pass --all/],
    [['reconcile', 'no-such-stack', '--dry-run'], /no stack 'no-such-stack' in the desired state; stacks: .*online/],
    [['killswitch', 'on'], /--reason: turning the kill switch on needs a reason/],
    [['killswitch', 'maybe'], /"maybe" is not on, off or status/],
    [['approve', '7204401456640999-bd2368e4'], /no approval request for run '7204401456640999-bd2368e4'/],
    [['runs', '--limit', 'lots'], /--limit: "lots"/],
  ];
  for (const [args, re] of cases) {
    const r = await nexus(...args);
    assert.is(r.code, 1, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re);
    assert.not.match(r.err, /\n\s+at /, 'no stack trace');
  }
});

const AZURE_CS = 'DefaultEndpointsProtocol=https;AccountName=nexusprod;AccountKey=a2V5;EndpointSuffix=core.windows.net';

test('the local operator (Admin, no token) only against the storage emulator and the ARM sandbox on loopback', async () => {
  assert.ok(localEmulatorStorage(loadConfig(L.env).storage).local, 'Azurite of the tests');
  assert.ok(localEmulatorStorage(loadConfig({ NEXUS_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' }).storage).local);
  assert.ok(localEmulatorStorage(loadConfig({ NEXUS_STORAGE_CONNECTION_STRING: 'AccountName=a;AccountKey=k;BlobEndpoint=http://localhost:1/a;TableEndpoint=http://[::1]:2/a' }).storage).local);
  for (const env of [
    { NEXUS_STORAGE_CONNECTION_STRING: AZURE_CS },
    { NEXUS_STORAGE_ACCOUNT: 'nexusprod' },
    { NEXUS_STORAGE_CONNECTION_STRING: 'AccountName=a;AccountKey=k;BlobEndpoint=http://127.0.0.1:1/a;TableEndpoint=https://a.table.core.windows.net' },
    { NEXUS_STORAGE_CONNECTION_STRING: 'AccountName=a;AccountKey=k;BlobEndpoint=http://127.0.0.1.evil.example/a' },
    {},
  ]) assert.is(localEmulatorStorage(loadConfig(env).storage).local, false, JSON.stringify(env));

  assert.ok(localArm(loadConfig(L.env).arm).local, 'the sandbox of the tests');
  assert.is(localArm(loadConfig({}).arm).local, false, 'Azure by default');
  assert.is(localArm(loadConfig({ NEXUS_ARM_ENDPOINT: 'https://management.azure.com' }).arm).local, false);

  const local = await cliPrincipal(loadConfig({ ...L.env, NEXUS_LOCAL_ISSUER: '1', NEXUS_API_TOKEN: '' }));
  assert.equal(local.roles, ['Admin']);
  await cliPrincipal(loadConfig({ NEXUS_LOCAL_ISSUER: '1', NEXUS_STORAGE_CONNECTION_STRING: AZURE_CS, NEXUS_ARM_ENDPOINT: L.env.NEXUS_ARM_ENDPOINT })).then(() => assert.unreachable(),
    (e) => assert.match(e.message, /NEXUS_LOCAL_ISSUER=1 makes the OS user an Admin only against the local storage emulator and ARM sandbox, but .*nexusprod.*set NEXUS_API_TOKEN/));
  // Local storage, but ARM is a real tenant.
  await cliPrincipal(loadConfig({ ...L.env, NEXUS_LOCAL_ISSUER: '1', NEXUS_API_TOKEN: '', NEXUS_ARM_ENDPOINT: '' })).then(() => assert.unreachable(),
    (e) => assert.match(e.message, /ARM is Azure/));

  // End to end: real storage configured, local issuer on (as .nexus/local.env would fill it), no token.
  const r = await nexusWith({ NEXUS_STORAGE_CONNECTION_STRING: AZURE_CS }, 'killswitch', 'on', '--reason', 'x');
  assert.is(r.code, 1, r.err);
  assert.match(r.err, /only against the local storage emulator/);
  assert.not.match(r.err, /\n\s+at /, 'no stack trace');
});

test.run();
