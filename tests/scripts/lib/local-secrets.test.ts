// The local system's secrets (scripts/up.ts): the Pulumi passphrase file is the source of truth
// once it exists, so losing or editing .nexus/local.env never locks the existing state away.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localSecrets } from '../../../scripts/lib/local-secrets.ts';
import { formatEnvFile } from '../../../functions/cli/local-env.ts';
import { localPassphrase as enginePassphrase } from '../../../stacks/engine/backend.ts';

function home() {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-secrets-test-'));
  return { dir, envFile: join(dir, 'local.env'), passFile: join(dir, 'pulumi-passphrase') };
}

test('first run: a new passphrase, kept in the passphrase file (mode 600), which the engine reads', () => {
  const h = home();
  const { secrets, notes } = localSecrets(h.dir, h.envFile);
  assert.match(secrets.NEXUS_PULUMI_PASSPHRASE, /^[\w-]{20,}$/);
  assert.is(readFileSync(h.passFile, 'utf8').trim(), secrets.NEXUS_PULUMI_PASSPHRASE);
  assert.is(statSync(h.passFile).mode & 0o777, 0o600);
  assert.is(enginePassphrase({ NEXUS_HOME: h.dir }), secrets.NEXUS_PULUMI_PASSPHRASE);
  assert.equal(notes, []);
  for (const k of ['NEXUS_GITHUB_WEBHOOK_SECRET', 'NEXUS_ADO_WEBHOOK_SECRET', 'NEXUS_ALERTS_WEBHOOK_SECRET']) assert.type(secrets[k], 'string');
});

test('local.env deleted while the state remains: the passphrase file still gives the same passphrase', () => {
  const h = home();
  const first = localSecrets(h.dir, h.envFile).secrets;
  writeFileSync(h.envFile, formatEnvFile(first));
  rmSync(h.envFile);
  const again = localSecrets(h.dir, h.envFile).secrets;
  assert.is(again.NEXUS_PULUMI_PASSPHRASE, first.NEXUS_PULUMI_PASSPHRASE);
  // Webhook secrets lived only in local.env: they are new, which nothing stored depends on.
  assert.is.not(again.NEXUS_GITHUB_WEBHOOK_SECRET, first.NEXUS_GITHUB_WEBHOOK_SECRET);
});

test('a local.env with another passphrase does not win over the file, and says so', () => {
  const h = home();
  const first = localSecrets(h.dir, h.envFile).secrets;
  writeFileSync(h.envFile, formatEnvFile({ ...first, NEXUS_PULUMI_PASSPHRASE: 'edited-by-hand' }));
  const { secrets, notes } = localSecrets(h.dir, h.envFile);
  assert.is(secrets.NEXUS_PULUMI_PASSPHRASE, first.NEXUS_PULUMI_PASSPHRASE);
  assert.is(secrets.NEXUS_GITHUB_WEBHOOK_SECRET, first.NEXUS_GITHUB_WEBHOOK_SECRET);
  assert.equal(notes, [`${h.envFile} held another NEXUS_PULUMI_PASSPHRASE; using ${h.passFile} (the state is encrypted with it)`]);
});

test('an older local.env without the file: its passphrase is kept and written to the file', () => {
  const h = home();
  writeFileSync(h.envFile, formatEnvFile({ NEXUS_PULUMI_PASSPHRASE: 'from-an-older-run' }));
  const { secrets, notes } = localSecrets(h.dir, h.envFile);
  assert.is(secrets.NEXUS_PULUMI_PASSPHRASE, 'from-an-older-run');
  assert.is(readFileSync(h.passFile, 'utf8').trim(), 'from-an-older-run');
  assert.equal(notes, [`the Pulumi passphrase from ${h.envFile} is now kept in ${h.passFile}`]);
});

test('an empty passphrase file is an error naming the file, not a new passphrase', () => {
  const h = home();
  writeFileSync(h.passFile, '\n');
  assert.throws(() => localSecrets(h.dir, h.envFile), (e: Error) => e.message.startsWith(`${h.passFile} is empty`));
  assert.ok(existsSync(h.passFile));
});

test.run();
