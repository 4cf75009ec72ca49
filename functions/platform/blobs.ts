// Blob storage for Nexus: JSON and text documents by name in one container (run outputs,
// ChangeSets). Names may contain '/' to group blobs (e.g. runs/<id>/changeset.json).
import type { BlockBlobClient, ContainerClient } from '@azure/storage-blob';
import { storageConfig, type StorageConfig } from './storage-config.ts';
import { ConcurrencyError, StorageInputError, statusOf, wrapStorageError } from './errors.ts';
import { ensureOnce } from './provisioned.ts';

export interface PutOptions {
  /** Write only if the blob still has this ETag (ConcurrencyError otherwise). */
  ifMatch?: string;
  /** Write only if the blob does not exist yet (ConcurrencyError otherwise). */
  ifNotExists?: boolean;
}

export interface BlobItem {
  name: string;
  size: number;
  etag: string;
  lastModified: string;
}


export function checkContainerName(name: string): void {
  if (typeof name !== 'string' || !/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(name)) {
    throw new StorageInputError(
      `container name '${name}' is not valid: 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit`,
    );
  }
}

export class BlobStore {
  private constructor(readonly container: string, private readonly client: ContainerClient) {}

  /** Opens a container, creating it if missing. */
  static async open(container: string, cfg?: StorageConfig): Promise<BlobStore> {
    checkContainerName(container);
    cfg ??= storageConfig();
    const client = cfg.blobService().getContainerClient(container);
    await ensureOnce(cfg, `container '${container}'`, () => client.createIfNotExists());
    return new BlobStore(container, client);
  }

  /** Stores v as JSON; returns the new ETag. */
  async putJson(name: string, v: unknown, opts?: PutOptions): Promise<string> {
    let text: string | undefined;
    try {
      text = JSON.stringify(v);
    } catch (err) {
      throw new StorageInputError(`${this.where(name)}: the value cannot be written as JSON: ${(err as Error).message}`);
    }
    if (text === undefined) throw new StorageInputError(`${this.where(name)}: the value is ${typeof v}, not JSON`);
    return this.put(name, text, 'application/json', opts);
  }

  /** The parsed JSON, or undefined when the blob does not exist. */
  async getJson<T = unknown>(name: string): Promise<T | undefined> {
    const text = await this.getText(name);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new StorageInputError(`${this.where(name)}: not valid JSON (${(err as Error).message})`);
    }
  }

  async putText(name: string, text: string, opts?: PutOptions & { contentType?: string }): Promise<string> {
    if (typeof text !== 'string') throw new StorageInputError(`${this.where(name)}: putText needs a string, got ${typeof text}`);
    return this.put(name, text, opts?.contentType ?? 'text/plain; charset=utf-8', opts);
  }

  /** The text, or undefined when the blob does not exist. */
  async getText(name: string): Promise<string | undefined> {
    const blob = this.blob(name);
    try {
      const buf = await blob.downloadToBuffer();
      return buf.toString('utf8');
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw wrapStorageError(err, `${this.where(name)}: read`);
    }
  }

  async exists(name: string): Promise<boolean> {
    try {
      return await this.blob(name).exists();
    } catch (err) {
      throw wrapStorageError(err, `${this.where(name)}: exists`);
    }
  }

  /** Names of the blobs whose names start with prefix, in name order. */
  async list(prefix = ''): Promise<string[]> {
    const names: string[] = [];
    for await (const item of this.items(prefix)) names.push(item.name);
    return names;
  }

  /** The blobs under prefix with size, ETag and last-modified time, streamed page by page. */
  async *items(prefix = ''): AsyncIterable<BlobItem> {
    try {
      for await (const b of this.client.listBlobsFlat({ prefix: prefix || undefined })) {
        yield {
          name: b.name,
          size: b.properties.contentLength ?? 0,
          etag: b.properties.etag ?? '',
          lastModified: b.properties.lastModified?.toISOString() ?? '',
        };
      }
    } catch (err) {
      throw wrapStorageError(err, `container '${this.container}': list '${prefix}'`);
    }
  }

  /** Deletes the blob; resolves false when it was not there. */
  async delete(name: string): Promise<boolean> {
    try {
      const res = await this.blob(name).deleteIfExists({ deleteSnapshots: 'include' });
      return res.succeeded;
    } catch (err) {
      throw wrapStorageError(err, `${this.where(name)}: delete`);
    }
  }

  private async put(name: string, text: string, contentType: string, opts: PutOptions = {}): Promise<string> {
    const blob = this.blob(name);
    const conditions = opts.ifMatch ? { ifMatch: opts.ifMatch } : opts.ifNotExists ? { ifNoneMatch: '*' } : undefined;
    try {
      const body = Buffer.from(text, 'utf8');
      const res = await blob.upload(body, body.length, {
        blobHTTPHeaders: { blobContentType: contentType },
        conditions,
      });
      return res.etag ?? '';
    } catch (err) {
      const status = statusOf(err);
      if (conditions && (status === 412 || status === 409)) {
        const why = opts.ifMatch ? 'it changed since it was read (ETag mismatch)' : 'it already exists';
        throw new ConcurrencyError(`container '${this.container}'`, `blob '${name}'`, `write refused: ${why}`, { cause: err });
      }
      throw wrapStorageError(err, `${this.where(name)}: write`);
    }
  }

  /** The SDK client for one blob, for what this class does not cover (leases use it). */
  blobClient(name: string): BlockBlobClient {
    return this.blob(name);
  }

  private blob(name: string) {
    if (typeof name !== 'string' || !name || name.length > 1024) {
      throw new StorageInputError(`container '${this.container}': blob name must be 1-1024 characters, got ${JSON.stringify(name)}`);
    }
    if (name.endsWith('/') || name.endsWith('.') || /[\u0000-\u001f\u007f]/.test(name)) {
      throw new StorageInputError(`${this.where(name)}: a blob name must not end with '/' or '.' or hold control characters`);
    }
    return this.client.getBlockBlobClient(name);
  }

  private where(name: string): string {
    return `container '${this.container}': blob '${name}'`;
  }
}
