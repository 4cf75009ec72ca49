import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { azurite } from '../../helpers/azurite.ts';
import { DEV_KEY } from '../../../scripts/lib/azurite.ts';
import { storageConfig } from '../../../functions/platform/storage-config.ts';
import { StorageConfigError } from '../../../functions/platform/errors.ts';
import { loadConfig } from '../../../functions/runtime/config.ts';

const throwsConfig = (env: Record<string, string>, pattern: RegExp) =>
  assert.throws(() => storageConfig(loadConfig(env).storage), (e: Error) => e instanceof StorageConfigError && pattern.test(e.message));

test('without settings it says which variables to set', () => {
  throwsConfig({}, /NEXUS_STORAGE_CONNECTION_STRING.*NEXUS_STORAGE_ACCOUNT/);
  throwsConfig({ NEXUS_STORAGE_CONNECTION_STRING: '  ' }, /not configured/);
});

test('a connection string reaches Azurite; describe() never shows the key', async () => {
  const az = await azurite();
  const cfg = storageConfig({ connectionString: az.connectionString });
  assert.is(cfg.mode, 'connection-string');
  assert.not.ok(cfg.describe().includes(DEV_KEY));
  assert.match(cfg.describe(), /devstoreaccount1/);
  assert.match(cfg.describe(), new RegExp(String(az.tablePort)));
  // One configuration, one set of clients (the composition root makes one configuration per process).
  assert.is(cfg.tableService(), cfg.tableService(), 'one client per configuration');
  assert.is(cfg.blobService(), cfg.blobService(), 'one client per configuration');
  // Both services answer through the configured clients.
  const props = await cfg.blobService().getProperties();
  assert.ok(props);
  await cfg.tableService().createTable('configprobe');
  const names: string[] = [];
  for await (const t of cfg.tableService().listTables()) names.push(t.name!);
  assert.ok(names.includes('configprobe'));
  // The queue service too: Azurite runs it, and the connection string carries its endpoint.
  assert.is(new URL(cfg.queueService().url).port, String(az.queuePort));
  await cfg.queueService().createQueue('configprobe');
  const queues: string[] = [];
  for await (const q of cfg.queueService().listQueues()) queues.push(q.name);
  assert.ok(queues.includes('configprobe'));
});

test('the connection string wins over the account name', async () => {
  const az = await azurite();
  const cfg = storageConfig({ connectionString: az.connectionString, account: 'nexusprod' });
  assert.is(cfg.mode, 'connection-string');
});

test('an account name gives the Azure endpoints with DefaultAzureCredential', () => {
  const cfg = storageConfig(loadConfig({ NEXUS_STORAGE_ACCOUNT: 'nexusprod01' }).storage);
  assert.is(cfg.mode, 'account');
  assert.is(new URL(cfg.tableService().url).origin, 'https://nexusprod01.table.core.windows.net');
  assert.is(new URL(cfg.blobService().url).origin, 'https://nexusprod01.blob.core.windows.net');
  assert.is(new URL(cfg.queueService().url).origin, 'https://nexusprod01.queue.core.windows.net');
  assert.is(cfg.tableClient('runs').tableName, 'runs');
  assert.match(cfg.describe(), /nexusprod01.*DefaultAzureCredential/);
  const sovereign = storageConfig(loadConfig({ NEXUS_STORAGE_ACCOUNT: 'nexusprod01', NEXUS_STORAGE_ENDPOINT_SUFFIX: 'core.chinacloudapi.cn' }).storage);
  assert.is(new URL(sovereign.blobService().url).origin, 'https://nexusprod01.blob.core.chinacloudapi.cn');
});

test('settings that cannot work are named', () => {
  assert.throws(() => loadConfig({ NEXUS_STORAGE_ACCOUNT: 'Nexus_Prod' }), /NEXUS_STORAGE_ACCOUNT: .*3-24 lowercase.*Nexus_Prod/);
  assert.throws(() => storageConfig({ account: 'Nexus_Prod' }), /NEXUS_STORAGE_ACCOUNT 'Nexus_Prod'.*3-24 lowercase/);
  throwsConfig({ NEXUS_STORAGE_CONNECTION_STRING: 'hello world' }, /NEXUS_STORAGE_CONNECTION_STRING is not a storage connection string/);
});

test.run();
