import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { azurite } from '../../helpers/azurite.ts';
import { DEV_ACCOUNT, freePort } from '../../../scripts/lib/azurite.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { checkStorage } from '../../../functions/platform/storage-doctor.ts';

test('ok when Azurite answers with the configured connection string', async () => {
  const az = await azurite();
  const res = await checkStorage(storageConfig({ connectionString: az.connectionString }));
  assert.ok(res.ok, res.detail);
  assert.match(res.detail, /storage answers/);
  assert.match(res.detail, String(az.tablePort));
  assert.match(res.detail, /\d+\+? queues$/);
  assert.is(res.fix, undefined);
});

test('not configured: says which settings are missing and how to get them', async () => {
  const res = await checkStorage(undefined, { settings: {} });
  assert.not.ok(res.ok);
  assert.match(res.detail, /NEXUS_STORAGE_CONNECTION_STRING/);
  assert.match(res.fix!, /npm run up/);
});

test('nothing listening: tells the user to start Azurite', async () => {
  const port = await freePort();
  const cs = `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${Buffer.from('k').toString('base64')};` +
    `BlobEndpoint=http://127.0.0.1:${port}/${DEV_ACCOUNT};TableEndpoint=http://127.0.0.1:${port}/${DEV_ACCOUNT};`;
  const res = await checkStorage(storageConfig({ connectionString: cs }), { timeoutMs: 3000 });
  assert.not.ok(res.ok);
  assert.match(res.detail, /table service does not answer/);
  assert.match(res.detail, String(port));
  assert.match(res.fix!, /npm run up/);
});

test('tables and blobs answer but the queue endpoint does not: the queue service is named (webhooks need it)', async () => {
  const az = await azurite();
  const port = await freePort();
  const cs = az.connectionString.replace(/QueueEndpoint=[^;]+/, `QueueEndpoint=http://127.0.0.1:${port}/${DEV_ACCOUNT}`);
  assert.match(cs, new RegExp(`QueueEndpoint=http://127.0.0.1:${port}/`));
  const res = await checkStorage(storageConfig({ connectionString: cs }), { timeoutMs: 3000 });
  assert.not.ok(res.ok);
  assert.match(res.detail, /^queue service does not answer/);
  assert.match(res.detail, String(port));
});

test('a wrong account key: says the key is not accepted', async () => {
  const az = await azurite();
  const wrongKey = Buffer.from('not the dev key at all, 32 bytes!').toString('base64');
  const cs = az.connectionString.replace(/AccountKey=[^;]+/, `AccountKey=${wrongKey}`);
  const res = await checkStorage(storageConfig({ connectionString: cs }));
  assert.not.ok(res.ok);
  assert.match(res.detail, /403/);
  assert.match(res.fix!, /account key/);
  assert.not.ok(res.detail.includes(wrongKey) || res.fix!.includes(wrongKey), 'the key must not be shown');
});

test.run();
