import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendSettings, blobEndpoint, localPassphrase } from '../../../stacks/engine/backend.ts';
import { DEV_ACCOUNT, DEV_KEY } from '../../../scripts/lib/azurite.ts';

const cs = `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};BlobEndpoint=http://127.0.0.1:41234/${DEV_ACCOUNT};`;
const home = () => mkdtempSync(join(tmpdir(), 'nexus-home-test-'));

test('Azurite: azblob URL with the emulator as domain, account and key for the CLI', () => {
  const s = backendSettings({ NEXUS_STORAGE_CONNECTION_STRING: cs, NEXUS_HOME: home() });
  assert.is(s.url, 'azblob://pulumi-state?domain=127.0.0.1%3A41234&protocol=http');
  assert.is(s.container, 'pulumi-state');
  assert.is(s.env.AZURE_STORAGE_ACCOUNT, DEV_ACCOUNT);
  assert.is(s.env.AZURE_STORAGE_KEY, DEV_KEY);
  assert.is(s.secretsProvider, 'passphrase');
  assert.is(s.env.PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER, 'true');
  // The same service URL go-cloud builds for a loopback domain: account in the path.
  assert.is(blobEndpoint(s, {}), `http://127.0.0.1:41234/${DEV_ACCOUNT}`);
});

test('production: account from NEXUS_STORAGE_ACCOUNT, Key Vault secrets, no passphrase', () => {
  const s = backendSettings({
    NEXUS_STORAGE_ACCOUNT: 'nexusprod', NEXUS_SECRETS_PROVIDER: 'azurekeyvault://nexus-kv.vault.azure.net/keys/pulumi',
  });
  assert.is(s.url, 'azblob://pulumi-state');
  assert.is(s.env.AZURE_STORAGE_ACCOUNT, 'nexusprod');
  assert.is(s.env.AZURE_STORAGE_KEY, undefined);
  assert.is(s.env.PULUMI_CONFIG_PASSPHRASE, undefined);
  assert.is(s.secretsProvider, 'azurekeyvault://nexus-kv.vault.azure.net/keys/pulumi');
  assert.is(blobEndpoint(s, {}), 'https://nexusprod.blob.core.windows.net');
});

test('NEXUS_PULUMI_BACKEND_URL is taken as given, with its folder', () => {
  const s = backendSettings({ NEXUS_PULUMI_BACKEND_URL: 'azblob://state/tenants/a', AZURE_STORAGE_ACCOUNT: 'acct', NEXUS_PULUMI_PASSPHRASE: 'p' });
  assert.is(s.url, 'azblob://state/tenants/a');
  assert.is(s.container, 'state');
  assert.is(s.prefix, 'tenants/a');
  assert.is(s.env.PULUMI_CONFIG_PASSPHRASE, 'p');
});

test('azblob without any account is refused with what to set', () => {
  assert.throws(() => backendSettings({ NEXUS_HOME: home() }), /NEXUS_STORAGE_CONNECTION_STRING .*NEXUS_STORAGE_ACCOUNT/);
});

test('a generated passphrase is kept private under NEXUS_HOME and reused', () => {
  const h = home();
  const first = localPassphrase({ NEXUS_HOME: h });
  assert.ok(first.length >= 40);
  assert.is(localPassphrase({ NEXUS_HOME: h }), first);
  const file = join(h, 'pulumi-passphrase');
  assert.is(readFileSync(file, 'utf8').trim(), first);
  assert.is(statSync(file).mode & 0o777, 0o600);
  assert.is(localPassphrase({ NEXUS_HOME: h, NEXUS_PULUMI_PASSPHRASE: 'given' }), 'given');
});

test.run();
