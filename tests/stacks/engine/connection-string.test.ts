import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConnectionString } from '../../../stacks/engine/connection-string.ts';
import { backendSettings } from '../../../stacks/engine/backend.ts';
import { localEmulatorStorage } from '../../../functions/cli/commands/reconcile.ts';

test('keys are case-insensitive, as Azure reads them; values keep case and their = signs', () => {
  const parts = parseConnectionString('accountname=Dev1; ACCOUNTKEY=abc==;BlobEndpoint=http://127.0.0.1:10000/Dev1;;junk');
  assert.is(parts.get('accountname'), 'Dev1');
  assert.is(parts.get('accountkey'), 'abc==');
  assert.is(parts.get('blobendpoint'), 'http://127.0.0.1:10000/Dev1');
  assert.is(parts.size, 3);
});

test('keys like __proto__ are plain entries', () => {
  const parts = parseConnectionString('__proto__=x;constructor=y');
  assert.is(parts.get('__proto__'), 'x');
  assert.is(parts.get('constructor'), 'y');
});

// The engine's copy read `AccountName` only in that exact case, so a lower-case connection string
// (which the storage SDKs and storageConfig accept) left the Pulumi backend without an account.
test('the Pulumi backend reads a connection string whatever the case of its keys', () => {
  const s = backendSettings({
    NEXUS_STORAGE_CONNECTION_STRING: 'defaultendpointsprotocol=http;accountname=devacct;accountkey=k3y==;blobendpoint=http://127.0.0.1:10000/devacct',
    NEXUS_PULUMI_PASSPHRASE: 'x',
  });
  assert.is(s.env.AZURE_STORAGE_ACCOUNT, 'devacct');
  assert.is(s.env.AZURE_STORAGE_KEY, 'k3y==');
  assert.ok(s.url.includes('domain=127.0.0.1%3A10000'), s.url);
});

test('the emulator check reads endpoints whatever the case of their keys', () => {
  assert.is(localEmulatorStorage({ connectionString: 'ACCOUNTNAME=a;TABLEENDPOINT=http://127.0.0.1:1/a' }).local, true);
  assert.is(localEmulatorStorage({ connectionString: 'accountname=a;tableendpoint=https://a.table.core.windows.net' }).local, false);
});

test.run();
