// `nexus doctor`'s storage check: do the table, blob and queue services answer with the configured
// settings, and if not, what should the user do about it.
import { storageConfig, type StorageConfig } from './storage-config.ts';
import { StorageConfigError, codeOf, statusOf } from './errors.ts';
import type { StorageSettings } from '../runtime/config.ts';

export interface StorageCheck {
  ok: boolean;
  /** What was checked and what was found, one line. */
  detail: string;
  /** What to do, when not ok. */
  fix?: string;
}

export interface CheckStorageOptions {
  /** How long each service may take to answer. Default 5000 ms. */
  timeoutMs?: number;
  /** The configuration's `storage` section, used when no cfg is given. */
  settings?: Partial<StorageSettings>;
}

export async function checkStorage(cfg?: StorageConfig, opts: CheckStorageOptions = {}): Promise<StorageCheck> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  try {
    cfg ??= storageConfig(opts.settings ?? {});
  } catch (err) {
    if (!(err instanceof StorageConfigError)) throw err;
    return {
      ok: false,
      detail: err.message,
      fix: 'run `npm run up` (it writes NEXUS_STORAGE_CONNECTION_STRING to .nexus/local.env) or set NEXUS_STORAGE_ACCOUNT to the storage account name in Azure',
    };
  }
  const where = cfg.describe();
  // A plain request first: the SDKs retry a refused connection for a long time before failing,
  // while any HTTP answer (even 400) proves the endpoint is there.
  const services = [['table', () => cfg.tableService().url], ['blob', () => cfg.blobService().url], ['queue', () => cfg.queueService().url]] as const;
  for (const [service, urlOf] of services) {
    let url: string;
    try {
      url = urlOf();
    } catch (err) {
      return { ok: false, detail: `${service} service: ${where}: ${reasonOf(err)}`, fix: 'give the connection string the endpoint of each service (TableEndpoint, BlobEndpoint, QueueEndpoint) or an EndpointSuffix' };
    }
    // Only the origin is shown: with a SAS connection string the client's URL carries the token.
    const unreachable = await probe(url, timeoutMs);
    if (unreachable) {
      return { ok: false, detail: `${service} service does not answer at ${new URL(url).origin}: ${where}: ${reasonOf(unreachable)}`, fix: fixFor(unreachable, cfg, timeoutMs) };
    }
  }
  let service = 'table';
  try {
    let tables = 0;
    const tablePages = cfg.tableService().listTables({ abortSignal: AbortSignal.timeout(timeoutMs) }).byPage({ maxPageSize: 100 });
    const firstTables = await tablePages.next();
    tables = firstTables.value?.length ?? 0;
    service = 'blob';
    const containerPages = cfg.blobService().listContainers({ abortSignal: AbortSignal.timeout(timeoutMs) }).byPage({ maxPageSize: 100 });
    const firstContainers = await containerPages.next();
    const containers = firstContainers.value?.containerItems?.length ?? 0;
    // Webhook deliveries wait in queues (functions/catalog/inbox.ts): a service that lists tables
    // and blobs but no queues would accept nothing.
    service = 'queue';
    const queuePages = cfg.queueService().listQueues({ abortSignal: AbortSignal.timeout(timeoutMs) }).byPage({ maxPageSize: 100 });
    const queues = (await queuePages.next()).value?.queueItems?.length ?? 0;
    const n = (k: number) => `${k}${k === 100 ? '+' : ''}`;
    return { ok: true, detail: `storage answers: ${where}; ${n(tables)} tables, ${n(containers)} containers, ${n(queues)} queues` };
  } catch (err) {
    return { ok: false, detail: `${service} service does not answer: ${where}: ${reasonOf(err)}`, fix: fixFor(err, cfg, timeoutMs) };
  }
}

async function probe(url: string, timeoutMs: number): Promise<unknown | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return undefined;
  } catch (err) {
    return err;
  }
}

function reasonOf(err: unknown): string {
  const status = statusOf(err);
  const code = codeOf(err);
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined;
  return [status, code, message, why && `(${why})`].filter((x) => x !== undefined && x !== '').join(' ');
}

function fixFor(err: unknown, cfg: StorageConfig, timeoutMs: number): string {
  const status = statusOf(err);
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause;
  const text = `${(err as Error)?.name ?? ''} ${codeOf(err) ?? ''} ${(err as Error)?.message ?? ''} ${String(cause ?? '')} ${String(cause?.code ?? '')}`;
  const local = cfg.mode === 'connection-string';
  if (/ECONNREFUSED|ECONNRESET/.test(text)) {
    return local
      ? 'nothing listens at the endpoint in NEXUS_STORAGE_CONNECTION_STRING: start the local system with `npm run up` (it starts Azurite), or fix the connection string'
      : 'the storage account refused the connection: check the account firewall and private endpoints';
  }
  if (/ENOTFOUND|EAI_AGAIN/.test(text)) {
    return local
      ? 'the host in NEXUS_STORAGE_CONNECTION_STRING does not resolve: fix the connection string'
      : 'the storage account name does not resolve: check NEXUS_STORAGE_ACCOUNT (and NEXUS_STORAGE_ENDPOINT_SUFFIX outside the public cloud)';
  }
  if (/CredentialUnavailable|AuthenticationRequired|ChainedTokenCredential|DefaultAzureCredential/.test(text)) {
    return 'no Azure identity is available: sign in with `az login` locally, or give the Function App a managed identity (AZURE_CLIENT_ID for a user-assigned one)';
  }
  if (status === 403) {
    return local
      ? 'the account key in NEXUS_STORAGE_CONNECTION_STRING is not accepted: copy the connection string again (for Azurite: `npm run up` writes it)'
      : "the identity lacks data access: assign 'Storage Table Data Contributor' and 'Storage Blob Data Contributor' on the account";
  }
  if (/AbortError|aborted|TimeoutError/i.test(text)) {
    return `no answer within ${timeoutMs} ms: check that the endpoint is reachable (${local ? 'is Azurite running? `npm run up`' : 'network, firewall, private endpoints'})`;
  }
  return 'check the storage settings shown above; the error is the service\'s own answer';
}
