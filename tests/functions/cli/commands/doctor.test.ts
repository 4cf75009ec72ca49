// `nexus doctor` as a user runs it: the real CLI entry, against Azurite and the ARM sandbox, and
// against nothing at all (where each failing check says what to do).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { azurite } from '../../../helpers/azurite.ts';
import { sandbox } from '../../../helpers/sandbox.ts';

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
  const r = await nexus(['doctor', '--json'], { ...az.env, ...sb.env, NEXUS_RESOURCE_BACKEND: 'arm-rest', ...(process.env.NEXUS_PULUMI_DIR ? { NEXUS_PULUMI_DIR: process.env.NEXUS_PULUMI_DIR } : {}) });
  const report = JSON.parse(r.stdout);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.ok(report.ok);
  const names = report.checks.map((c: { name: string }) => c.name);
  assert.equal(names, ['pulumi-cli', 'dynamic-provider-launcher', 'pulumi-backend', 'storage', 'arm', 'resource-backend']);
  const byName = Object.fromEntries(report.checks.map((c: { name: string; detail: string }) => [c.name, c.detail]));
  assert.match(byName['pulumi-cli'], /^\/.*\/pulumi v3\.\d+\.\d+ \(from /);
  assert.match(byName.storage, /^storage answers: .*\d+ tables, \d+ containers$/);
  assert.match(byName['pulumi-backend'], /^azblob:\/\/pulumi-state\?domain=127\.0\.0\.1/);
  assert.match(byName.arm, new RegExp(`^${sb.url} answers`));
  // The account key never appears.
  assert.not.match(r.stdout, az.env.AZURE_STORAGE_KEY);
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

test.run();
