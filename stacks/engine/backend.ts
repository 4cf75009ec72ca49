// Where Pulumi keeps state and how it encrypts secrets, from the environment (a config switch,
// not code): azblob:// in Azure Storage (Azurite locally), passphrase secrets locally and Azure
// Key Vault in production.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { REPO_ROOT } from './cli.ts';
import { parseConnectionString } from './connection-string.ts';

export const DEFAULT_STATE_CONTAINER = 'pulumi-state';

/** The engine's settings cannot work (a missing account, an unknown switch value): the message says what to set. */
export class EngineConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineConfigError';
  }
}

export interface BackendSettings {
  /** The Pulumi backend URL, e.g. `azblob://pulumi-state?domain=127.0.0.1:10000&protocol=http`. */
  url: string;
  /** Blob container that holds the state (for the lock files), when the backend is azblob. */
  container?: string;
  /** Folder inside the container (`azblob://container/prefix`), or ''. */
  prefix?: string;
  /** `passphrase` or a cloud secrets provider URL such as `azurekeyvault://...`. */
  secretsProvider: string;
  /** Variables the CLI needs (storage account and key, passphrase). Never logged. */
  env: Record<string, string>;
  /** One line for people: the URL without credentials. */
  describe: string;
}

/** Folder for local data: NEXUS_HOME, or `.nexus/` at the repository root. */
export function nexusHome(env: NodeJS.ProcessEnv): string {
  return env.NEXUS_HOME ?? join(REPO_ROOT, '.nexus');
}

/**
 * The local passphrase: NEXUS_PULUMI_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE when set, otherwise
 * one generated on first use and kept (mode 600) in NEXUS_HOME/pulumi-passphrase, so state
 * written by one process is readable by the next.
 */
export function localPassphrase(env: NodeJS.ProcessEnv): string {
  const given = env.NEXUS_PULUMI_PASSPHRASE ?? env.PULUMI_CONFIG_PASSPHRASE;
  if (given !== undefined) return given;
  const file = join(nexusHome(env), 'pulumi-passphrase');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const phrase = randomBytes(32).toString('base64url');
  writeFileSync(file, phrase + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return phrase;
}

/**
 * Backend from the environment:
 * - NEXUS_PULUMI_BACKEND_URL when set (any Pulumi backend URL);
 * - otherwise azblob://pulumi-state. With NEXUS_STORAGE_CONNECTION_STRING (Azurite), the account,
 *   key and blob endpoint come from it: go-cloud's azblob opener takes a non-Azure endpoint as
 *   `domain=host:port&protocol=http` (and puts the account in the path for loopback hosts).
 *   In production AZURE_STORAGE_ACCOUNT (+ AZURE_STORAGE_KEY, or the managed identity) is used.
 * Secrets: NEXUS_SECRETS_PROVIDER (e.g. `azurekeyvault://<vault>.vault.azure.net/keys/<key>`),
 * else the passphrase provider.
 */
export function backendSettings(env: NodeJS.ProcessEnv): BackendSettings {
  const cliEnv: Record<string, string> = {};
  let url = env.NEXUS_PULUMI_BACKEND_URL;
  const cs = env.NEXUS_STORAGE_CONNECTION_STRING ? parseConnectionString(env.NEXUS_STORAGE_CONNECTION_STRING) : undefined;
  const account = env.AZURE_STORAGE_ACCOUNT ?? cs?.get('accountname') ?? env.NEXUS_STORAGE_ACCOUNT;
  const key = env.AZURE_STORAGE_KEY ?? cs?.get('accountkey');
  if (account) cliEnv.AZURE_STORAGE_ACCOUNT = account;
  if (key) cliEnv.AZURE_STORAGE_KEY = key;
  if (!url) {
    url = `azblob://${DEFAULT_STATE_CONTAINER}`;
    const blobEndpoint = cs?.get('blobendpoint');
    if (blobEndpoint) {
      const ep = new URL(blobEndpoint);
      url += `?domain=${encodeURIComponent(ep.host)}&protocol=${ep.protocol.replace(':', '')}`;
    }
  }
  if (url.startsWith('azblob://') && !account) {
    throw new EngineConfigError(
      'the azblob Pulumi backend needs a storage account: set NEXUS_STORAGE_CONNECTION_STRING (local) or NEXUS_STORAGE_ACCOUNT (production)',
    );
  }
  const parsed = url.startsWith('azblob://') ? new URL(url) : undefined;
  const container = parsed?.host;
  const prefix = parsed ? parsed.pathname.replace(/^\/+|\/+$/g, '') : undefined;

  const secretsProvider = env.NEXUS_SECRETS_PROVIDER ?? 'passphrase';
  if (secretsProvider === 'passphrase') cliEnv.PULUMI_CONFIG_PASSPHRASE = localPassphrase(env);
  // A fresh working folder has no Pulumi.<stack>.yaml: take the secrets manager from the state.
  cliEnv.PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER = 'true';

  return { url, container, prefix, secretsProvider, env: cliEnv, describe: url };
}

const ensured = new Map<string, Promise<void>>();

/**
 * Creates the state container when Nexus holds the account key (local Azurite). In production the
 * container is created with the storage account (infra/), and Nexus only has data-plane access.
 */
export function ensureStateContainer(settings: BackendSettings, env: NodeJS.ProcessEnv): Promise<void> {
  if (!settings.container || !settings.env.AZURE_STORAGE_KEY || !settings.env.AZURE_STORAGE_ACCOUNT) return Promise.resolve();
  const key = `${settings.url}|${settings.env.AZURE_STORAGE_ACCOUNT}`;
  let p = ensured.get(key);
  if (!p) {
    const endpoint = blobEndpoint(settings, env);
    const client = new BlobServiceClient(
      endpoint,
      new StorageSharedKeyCredential(settings.env.AZURE_STORAGE_ACCOUNT, settings.env.AZURE_STORAGE_KEY),
    );
    p = client.getContainerClient(settings.container).createIfNotExists().then(() => undefined);
    p.catch(() => ensured.delete(key));
    ensured.set(key, p);
  }
  return p;
}

/** The blob service URL the azblob backend talks to (same rules as go-cloud's opener). */
export function blobEndpoint(settings: BackendSettings, env: NodeJS.ProcessEnv): string {
  const u = new URL(settings.url);
  const account = settings.env.AZURE_STORAGE_ACCOUNT;
  const domain = u.searchParams.get('domain') ?? env.AZURE_STORAGE_DOMAIN ?? 'blob.core.windows.net';
  const protocol = u.searchParams.get('protocol') ?? env.AZURE_STORAGE_PROTOCOL ?? 'https';
  const local = /^(127\.0\.0\.1|localhost)/.test(domain) || u.searchParams.get('localemu') === 'true';
  return local ? `${protocol}://${domain}/${account}` : `${protocol}://${account}.${domain}`;
}
