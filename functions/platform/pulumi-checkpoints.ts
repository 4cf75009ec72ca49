// Reads Pulumi's own state files (checkpoints) straight from the azblob backend, so the catalog can
// follow every stack's resources without running the CLI. The DIY backend keeps one file per stack
// at `<prefix>/.pulumi/stacks/<project>/<stack>.json` (gzipped as `.json.gz` when asked to).
import { gunzipSync } from 'node:zlib';
import type { BackendSettings } from '../../stacks/engine/backend.ts';
import { BlobStore } from './blobs.ts';
import { statusOf, wrapStorageError } from './errors.ts';
import type { StorageConfig } from './storage-config.ts';

export interface CheckpointRef {
  project: string;
  stack: string;
  /** Blob name inside the state container. */
  blob: string;
  /** Changes whenever Pulumi writes the stack's state. */
  etag: string;
}

const STACK_FILE = /\.pulumi\/stacks\/([^/]+)\/([^/]+)\.json(\.gz)?$/;

export class PulumiCheckpoints {
  private constructor(private readonly store: BlobStore, private readonly prefix: string) {}

  /** Undefined when the backend is not azblob (a file or cloud backend has no blobs to read). */
  static async open(cfg: StorageConfig, backend: Pick<BackendSettings, 'container' | 'prefix'>): Promise<PulumiCheckpoints | undefined> {
    if (!backend.container) return undefined;
    return new PulumiCheckpoints(await BlobStore.open(backend.container, cfg), backend.prefix ? `${backend.prefix}/` : '');
  }

  /** Every stack's state file. */
  async list(): Promise<CheckpointRef[]> {
    const out: CheckpointRef[] = [];
    for await (const item of this.store.items(`${this.prefix}.pulumi/stacks/`)) {
      const m = STACK_FILE.exec(item.name);
      // Only files directly under stacks/<project>/ (backups and history live elsewhere or end in .bak).
      if (!m || item.name.slice(this.prefix.length) !== `.pulumi/stacks/${m[1]}/${m[2]}.json${m[3] ?? ''}`) continue;
      out.push({ project: m[1], stack: m[2], blob: item.name, etag: item.etag });
    }
    return out;
  }

  /**
   * One stack's latest deployment, as `pulumi stack export` prints it (the CLI re-encodes the same
   * file). Undefined when the file is not here, or is there both plain and gzipped (the CLI then
   * picks one by time): the caller asks the CLI instead.
   */
  async stackDeployment(project: string, stack: string): Promise<{ resources: unknown[] } | undefined> {
    const blob = `${this.prefix}.pulumi/stacks/${project}/${stack}.json`;
    const where = `pulumi state ${blob}`;
    const [plain, gzipped] = await Promise.all([
      this.deployment({ project, stack, blob, etag: '' }).catch((err) => {
        if (statusOf(err) === 404) return undefined;
        throw statusOf(err) === undefined ? err : wrapStorageError(err, `${where}: read`);
      }),
      this.store.exists(`${blob}.gz`),
    ]);
    if (gzipped) return plain ? undefined : this.deployment({ project, stack, blob: `${blob}.gz`, etag: '' });
    return plain;
  }

  /** Whether the stack has a state file here (plain or gzipped). */
  async exists(project: string, stack: string): Promise<boolean> {
    const blob = `${this.prefix}.pulumi/stacks/${project}/${stack}.json`;
    const found = await Promise.all([this.store.exists(blob), this.store.exists(`${blob}.gz`)]);
    return found.some(Boolean);
  }

  /** The stack's latest deployment (`{ resources: [...] }`); an empty one for a stack never updated. */
  async deployment(ref: CheckpointRef): Promise<{ resources: unknown[] }> {
    const buf = await this.store.blobClient(ref.blob).downloadToBuffer();
    const text = (ref.blob.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8');
    let file: { checkpoint?: { latest?: { resources?: unknown[] } | null } };
    try {
      file = JSON.parse(text);
    } catch (err) {
      throw new Error(`pulumi state ${ref.blob}: not JSON (${(err as Error).message})`);
    }
    return { resources: file.checkpoint?.latest?.resources ?? [] };
  }
}
