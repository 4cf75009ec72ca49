// `nexus doctor` as a user runs it: the real CLI entry, against Azurite and the ARM sandbox, and
// against nothing at all (where each failing check says what to do).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PINNED_PULUMI_VERSION, azureNativePluginVersion } from '../../../../stacks/engine/cli.ts';
import { azurite } from '../../../helpers/azurite.ts';
import { sandbox } from '../../../helpers/sandbox.ts';
import { startGitHubStandIn } from '../../../../scripts/sandbox/github/server.ts';

const BIN = fileURLToPath(new URL('../../../../bin/nexus.js', import.meta.url));

function nexus(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(NEXUS_|AZURE_STORAGE_)/.test(k))) as Record<string, string>;
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...base, NEXUS_NO_LOCAL_ENV: '1', ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

test('with Azurite and the sandbox every check passes', async () => {
  const [az, sb] = await Promise.all([azurite(), sandbox()]);
  // A home of its own: no first apply has run there, so doctor has nothing to say about one.
  const home = mkdtempSync(join(tmpdir(), 'nexus-doctor-'));
  const r = await nexus(['doctor', '--json'], { ...az.env, ...sb.env, NEXUS_HOME: home, NEXUS_RESOURCE_BACKEND: 'arm-rest', ...(process.env.NEXUS_PULUMI_DIR ? { NEXUS_PULUMI_DIR: process.env.NEXUS_PULUMI_DIR } : {}) });
  const report = JSON.parse(r.stdout);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.ok(report.ok);
  const names = report.checks.map((c: { name: string }) => c.name);
  assert.equal(names, ['pulumi-cli', 'dynamic-provider-launcher', 'pulumi-backend', 'storage', 'arm', 'resource-backend']);
  const byName = Object.fromEntries(report.checks.map((c: { name: string; detail: string }) => [c.name, c.detail]));
  assert.match(byName['pulumi-cli'], /^\/.*\/pulumi v3\.\d+\.\d+ \(from /);
  assert.match(byName.storage, /^storage answers: .*\d+\+? tables, \d+\+? containers, \d+\+? queues$/);
  assert.match(byName['pulumi-backend'], /^azblob:\/\/pulumi-state\?domain=127\.0\.0\.1/);
  assert.match(byName.arm, new RegExp(`^${sb.url} answers`));
  // The account key never appears.
  assert.not.match(r.stdout, az.env.AZURE_STORAGE_KEY);
});

test('while `npm run up` applies the default tenant, doctor shows how far it is, then how it ended', async () => {
  const home = mkdtempSync(join(tmpdir(), 'nexus-doctor-'));
  const progress = join(home, 'first-apply.json');
  const startedAt = new Date(Date.now() - 75_000).toISOString();
  const done = [{ stack: 'alz', line: 'alz: applied', ok: true, resources: 40 }];
  writeFileSync(progress, JSON.stringify({ startedAt, stacks: 3, resources: 50, current: 'platform', done }));
  let r = await nexus(['doctor'], { NEXUS_HOME: home, NEXUS_ARM_ENDPOINT: 'https://127.0.0.1:9', NEXUS_ARM_TOKEN: 'x' });
  assert.match(r.stdout, /^ok {3}first-apply +in progress: 1 of 3 stacks done \(40 of 50 resources\), applying platform, [1-9]m\d\ds so far$/m, r.stdout);

  const failed = [...done, { stack: 'platform', line: 'platform: blocked (KILL_SWITCH: the kill switch is on)', ok: false, resources: 8 }];
  writeFileSync(progress, JSON.stringify({ startedAt, finishedAt: new Date().toISOString(), stacks: 3, resources: 50, done: failed, ok: false }));
  r = await nexus(['doctor', '--json'], { NEXUS_HOME: home, NEXUS_ARM_ENDPOINT: 'https://127.0.0.1:9', NEXUS_ARM_TOKEN: 'x' });
  const check = JSON.parse(r.stdout).checks.find((c: { name: string }) => c.name === 'first-apply');
  assert.is(check.ok, false);
  assert.match(check.detail, /1 of 3 stacks applied; platform: blocked \(KILL_SWITCH/);
  assert.match(check.fix, /nexus runs/);
});

test('with a landing-zone repository: the tracked branch\'s head is read from the Git host, a missing branch fails with what to set', async () => {
  const gh = await startGitHubStandIn({ dataDir: mkdtempSync(join(tmpdir(), 'nexus-doctor-gh-')) });
  try {
    const seeded = await gh.seed('contoso/landing-zones', fileURLToPath(new URL('../../../fixtures/gitops/landing-zones', import.meta.url)), { login: 'alice' });
    const env = { ...gh.env, NEXUS_GITHUB_WEBHOOK_SECRET: 'x', NEXUS_ARM_ENDPOINT: 'https://127.0.0.1:9', NEXUS_ARM_TOKEN: 'x' };
    const checkOf = (out: string) => JSON.parse(out).checks.find((c: { name: string }) => c.name === 'landing-zone-repository');

    let r = await nexus(['doctor', '--json'], env);
    assert.equal(checkOf(r.stdout), { name: 'landing-zone-repository', ok: true, detail: `github:contoso/landing-zones@main at ${seeded.sha.slice(0, 7)}` }, r.stdout + r.stderr);

    r = await nexus(['doctor', '--json'], { ...env, NEXUS_LANDING_ZONE_BRANCH: 'no-such-branch' });
    const missing = checkOf(r.stdout);
    assert.is(r.code, 1);
    assert.is(missing.ok, false);
    assert.match(missing.detail, /^github:contoso\/landing-zones@no-such-branch: .*no-such-branch/);
    assert.match(missing.fix, /NEXUS_LANDING_ZONE_BRANCH/);

    r = await nexus(['doctor', '--json'], { ...env, NEXUS_GITHUB_TOKEN: 'not-a-token' });
    const refused = checkOf(r.stdout);
    assert.is(refused.ok, false, JSON.stringify(refused));
    assert.match(refused.fix, /NEXUS_GITHUB_TOKEN/);
  } finally {
    await gh.stop();
  }
});

test('with nothing configured: exit 1, and each failing check says what to do', async () => {
  const r = await nexus(['doctor'], { NEXUS_ARM_ENDPOINT: 'https://127.0.0.1:9', NEXUS_ARM_TOKEN: 'x' });
  assert.is(r.code, 1);
  assert.match(r.stdout, /^FAIL pulumi-backend .*NEXUS_STORAGE_CONNECTION_STRING/m);
  assert.match(r.stdout, /^FAIL storage .*\n +-> run `npm run up` .*NEXUS_STORAGE_ACCOUNT/m);
  assert.match(r.stdout, /^FAIL arm +https:\/\/127\.0\.0\.1:9/m);
  assert.match(r.stdout, /-> start the local system with `npm run up`/);
  assert.match(r.stdout, /^ok {3}pulumi-cli /m);
});

const tmp = () => mkdtempSync(join(tmpdir(), 'nexus-doctor-test-'));
/** A `pulumi` that answers `pulumi version` with the given version. */
function fakePulumi(version: string): string {
  const dir = tmp();
  writeFileSync(join(dir, 'pulumi'), `#!/bin/sh\necho v${version}\n`, { mode: 0o755 });
  return dir;
}
/** Only node on PATH: no real pulumi, no launcher, no plugins. */
const bare = { PATH: dirname(process.execPath), NEXUS_ARM_ENDPOINT: 'https://127.0.0.1:9', NEXUS_ARM_TOKEN: 'x' };
const line = (out: string, name: string) => out.split('\n').find((l) => l.slice(5).startsWith(name + ' ')) ?? `(no ${name} line in:\n${out})`;

test('a CLI of another version in NEXUS_PULUMI_DIR is a failure that says to build the pinned one', async () => {
  const dir = fakePulumi('3.100.0');
  const r = await nexus(['doctor'], { ...bare, NEXUS_PULUMI_DIR: dir, NEXUS_TOOLS_DIR: tmp() });
  assert.is(r.code, 1);
  assert.match(r.stdout, new RegExp(`^FAIL pulumi-cli +${join(dir, 'pulumi')} is v3\\.100\\.0; Nexus runs v${PINNED_PULUMI_VERSION.replace(/\./g, '\\.')} \\(package\\.json nexus\\.pulumiVersion\\)\n +-> run \`bash scripts/build-pulumi\\.sh\``, 'm'));
});

test('a CLI of another version on PATH is not used: the failure names it', async () => {
  const dir = fakePulumi('3.100.0');
  const r = await nexus(['doctor', '--json'], { ...bare, PATH: `${dir}:${bare.PATH}`, NEXUS_TOOLS_DIR: tmp() });
  const cli = JSON.parse(r.stdout).checks.find((c: { name: string }) => c.name === 'pulumi-cli');
  assert.is(cli.ok, false);
  assert.match(cli.detail, `PATH (${join(dir, 'pulumi')} is v3.100.0)`);
  assert.match(cli.fix, /^run `bash scripts\/build-pulumi\.sh`/);
});

test('a CLI of the pinned version on PATH passes', async () => {
  const dir = fakePulumi(PINNED_PULUMI_VERSION);
  const r = await nexus(['doctor'], { ...bare, PATH: `${dir}:${bare.PATH}`, NEXUS_TOOLS_DIR: tmp() });
  assert.match(line(r.stdout, 'pulumi-cli'), new RegExp(`^ok {3}pulumi-cli +${join(dir, 'pulumi')} v${PINNED_PULUMI_VERSION} \\(from PATH\\)$`));
  // No launcher beside that CLI nor in the (empty) build cache.
  assert.match(r.stdout, /^FAIL dynamic-provider-launcher .*\n +-> run `bash scripts\/build-pulumi\.sh --launcher-only`/m);
});

test('azure-native backend: a missing provider plugin fails with the install command; an installed one passes', async () => {
  const version = azureNativePluginVersion();
  assert.match(version, /^\d+\.\d+\.\d+/);
  const home = tmp();
  const env = { ...bare, NEXUS_PULUMI_DIR: fakePulumi(PINNED_PULUMI_VERSION), PULUMI_HOME: home, NEXUS_RESOURCE_BACKEND: 'azure-native' };
  const missing = await nexus(['doctor'], env);
  assert.is(missing.code, 1);
  assert.match(line(missing.stdout, 'azure-native-plugin'), `FAIL azure-native-plugin`);
  assert.match(missing.stdout, `pulumi-resource-azure-native v${version} is not installed in ${join(home, 'plugins')}`);
  assert.match(missing.stdout, `-> install it when packaging: \`pulumi plugin install resource azure-native ${version}\``);

  const dir = join(home, 'plugins', `resource-azure-native-v${version}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'pulumi-resource-azure-native'), '#!/bin/sh\n', { mode: 0o755 });
  const present = await nexus(['doctor', '--json'], env);
  const plugin = JSON.parse(present.stdout).checks.find((c: { name: string }) => c.name === 'azure-native-plugin');
  assert.equal(plugin, { name: 'azure-native-plugin', ok: true, detail: `${join(dir, 'pulumi-resource-azure-native')} (v${version})` });

  // The default backend is azure-native too; arm-rest (the sandbox) does not need the plugin.
  const [byDefault, armRest] = await Promise.all([
    nexus(['doctor'], { ...env, NEXUS_RESOURCE_BACKEND: '', PULUMI_HOME: tmp() }),
    nexus(['doctor'], { ...env, NEXUS_RESOURCE_BACKEND: 'arm-rest', PULUMI_HOME: tmp() }),
  ]);
  assert.match(byDefault.stdout, /^FAIL azure-native-plugin /m);
  assert.not.match(armRest.stdout, /azure-native-plugin/);
});

test.run();
