// Where Nexus's tables, blobs and queues live. Locally (and in tests) a connection string to Azurite;
// in Azure the storage account name plus the managed identity, so no key ever exists there.
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { StorageConfigError } from './errors.ts';
import { parseConnectionString } from '../../stacks/engine/connection-string.ts';
import type { StorageSettings } from '../runtime/config.ts';

export interface StorageConfig {
  /** 'connection-string' (Azurite or a keyed account) or 'account' (Entra ID via DefaultAzureCredential). */
  readonly mode: 'connection-string' | 'account';
  tableService(): TableServiceClient;
  blobService(): BlobServiceClient;
  queueService(): QueueServiceClient;
  tableClient(table: string): TableClient;
  /** Tables, containers and queues created (or being created) through this configuration (platform/provisioned.ts). */
  readonly provisioned: Map<string, Promise<void>>;
  /** One line for logs and `nexus doctor`: where storage is, never a key. */
  describe(): string;
}

/**
 * Storage from the configuration's `storage` section: the connection string (wins when set) or
 * the account name (+ endpoint suffix, default core.windows.net). The composition root makes one
 * per process, so clients and tokens are shared.
 */
export function storageConfig(settings: Partial<StorageSettings> = {}): StorageConfig {
  const connectionString = settings.connectionString?.trim();
  const account = settings.account?.trim();
  const suffix = settings.endpointSuffix?.trim() || 'core.windows.net';
  if (!connectionString && !account) {
    throw new StorageConfigError(
      'storage is not configured: set NEXUS_STORAGE_CONNECTION_STRING (local, e.g. Azurite from `npm run up`) ' +
        'or NEXUS_STORAGE_ACCOUNT (Azure, signed in through DefaultAzureCredential)',
    );
  }
  return connectionString ? fromConnectionString(connectionString) : fromAccount(account!, suffix);
}

function fromConnectionString(cs: string): StorageConfig {
  const parts = parseConnectionString(cs);
  const devStorage = /^true$/i.test(parts.get('usedevelopmentstorage') ?? '');
  if (!devStorage && !parts.get('accountname') && !parts.get('tableendpoint') && !parts.get('blobendpoint')) {
    throw new StorageConfigError(
      'NEXUS_STORAGE_CONNECTION_STRING is not a storage connection string: it has no AccountName, TableEndpoint or BlobEndpoint',
    );
  }
  // Azurite speaks plain http on loopback; the Tables SDK refuses http unless told.
  const options = { allowInsecureConnection: true };
  let tables: TableServiceClient | undefined;
  let blobs: BlobServiceClient | undefined;
  let queues: QueueServiceClient | undefined;
  const where = devStorage
    ? 'the local development storage (UseDevelopmentStorage=true)'
    : `account ${parts.get('accountname') ?? '?'} (tables ${parts.get('tableendpoint') ?? 'default endpoint'}, blobs ${parts.get('blobendpoint') ?? 'default endpoint'})`;
  return {
    mode: 'connection-string',
    tableService: () => (tables ??= TableServiceClient.fromConnectionString(cs, options)),
    blobService: () => (blobs ??= BlobServiceClient.fromConnectionString(cs)),
    queueService: () => (queues ??= QueueServiceClient.fromConnectionString(cs)),
    tableClient: (table) => TableClient.fromConnectionString(cs, table, options),
    provisioned: new Map(),
    describe: () => `connection string: ${where}`,
  };
}

function fromAccount(account: string, suffix: string): StorageConfig {
  if (!/^[a-z0-9]{3,24}$/.test(account)) {
    throw new StorageConfigError(
      `NEXUS_STORAGE_ACCOUNT '${account}' is not a storage account name (3-24 lowercase letters and digits)`,
    );
  }
  const tableUrl = `https://${account}.table.${suffix}`;
  const blobUrl = `https://${account}.blob.${suffix}`;
  const queueUrl = `https://${account}.queue.${suffix}`;
  let credential: TokenCredential | undefined;
  const cred = () => (credential ??= lazyDefaultAzureCredential());
  let tables: TableServiceClient | undefined;
  let blobs: BlobServiceClient | undefined;
  let queues: QueueServiceClient | undefined;
  return {
    mode: 'account',
    tableService: () => (tables ??= new TableServiceClient(tableUrl, cred())),
    blobService: () => (blobs ??= new BlobServiceClient(blobUrl, cred())),
    queueService: () => (queues ??= new QueueServiceClient(queueUrl, cred())),
    tableClient: (table) => new TableClient(tableUrl, table, cred()),
    provisioned: new Map(),
    describe: () => `account ${account} with DefaultAzureCredential (${tableUrl}, ${blobUrl})`,
  };
}

/**
 * DefaultAzureCredential, loaded on the first token request: @azure/identity takes a few hundred
 * milliseconds to import, which local runs and CLI commands that never reach Azure should not pay.
 */
function lazyDefaultAzureCredential(): TokenCredential {
  let real: Promise<TokenCredential> | undefined;
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      real ??= import('@azure/identity').then((m) => new m.DefaultAzureCredential());
      return (await real).getToken(scopes, options);
    },
  };
}

