// Leader election and stack ownership with Azure blob leases: one holder at a time per blob
// (leases/<stack>), expiring on its own when the holder dies. The holder's id is kept in the
// blob's metadata so anyone can see who holds it.
import type { BlockBlobClient as BlobClient } from '@azure/storage-blob';
import { randomUUID } from 'node:crypto';
import { BlobStore } from './blobs.ts';
import type { StorageConfig } from './storage-config.ts';
import { StorageInputError, statusOf, wrapStorageError } from './errors.ts';

export interface BlobLeaseOptions {
  /** Default 'leases'. */
  container?: string;
  /** Usually the stack name. */
  blob: string;
  /** Who holds the lease (e.g. host/pid), shown by holder(). Several objects may share it. */
  holderId: string;
  /** 15..60 seconds (Azure's range). Default 30. */
  durationSeconds?: number;
  cfg?: StorageConfig;
  /**
   * The Azure lease id (a GUID); fresh for each object by default, so two objects never both
   * hold the lease, even with the same holderId in one process. Pass a saved one to resume.
   */
  leaseId?: string;
}

export interface LeaseHolder {
  leased: boolean;
  holderId?: string;
  /** When the current holder acquired the lease (ISO time). */
  since?: string;
}

export interface KeepAliveOptions {
  /** Called once when the lease is gone (taken, broken, or not renewable for a full duration). */
  onLost?: (reason: Error) => void;
  /** Renewal period; default a third of the duration. */
  intervalMs?: number;
}

export interface LeaseKeepAlive {
  /** Stops renewing (does not release) and waits for a renewal in flight. */
  stop(): Promise<void>;
  readonly lost: boolean;
}

export class BlobLease {
  readonly container: string;
  readonly blob: string;
  readonly holderId: string;
  readonly durationSeconds: number;
  /** The Azure lease id this object uses. */
  readonly leaseId: string;
  private readonly cfg?: StorageConfig;
  private client?: Promise<BlobClient>;

  constructor(opts: BlobLeaseOptions) {
    const { container = 'leases', blob, holderId, durationSeconds = 30, cfg, leaseId = randomUUID() } = opts;
    if (typeof blob !== 'string' || !blob || blob.length > 1024 || blob.endsWith('/') || blob.endsWith('.')) {
      throw new StorageInputError(`lease: blob name ${JSON.stringify(blob)} is not valid (1-1024 characters, not ending with '/' or '.')`);
    }
    if (typeof holderId !== 'string' || !holderId.trim()) {
      throw new StorageInputError(`lease '${container}/${blob}': holderId must be a non-empty string`);
    }
    if (!Number.isInteger(durationSeconds) || durationSeconds < 15 || durationSeconds > 60) {
      throw new StorageInputError(`lease '${container}/${blob}': durationSeconds must be an integer from 15 to 60, got ${durationSeconds}`);
    }
    this.container = container;
    this.blob = blob;
    this.holderId = holderId;
    this.durationSeconds = durationSeconds;
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(leaseId)) {
      throw new StorageInputError(`lease '${container}/${blob}': leaseId '${leaseId}' is not a GUID`);
    }
    this.leaseId = leaseId;
    this.cfg = cfg;
  }

  /** Takes the lease if it is free (or already ours). False when someone else holds it. */
  async acquire(): Promise<boolean> {
    let blob = await this.blobClient();
    try {
      await blob.getBlobLeaseClient(this.leaseId).acquireLease(this.durationSeconds);
    } catch (err) {
      if (statusOf(err) === 409) return false;
      if (statusOf(err) !== 404) throw wrapStorageError(err, `${this.where()}: acquire`);
      // The lease blob was deleted since we created it: create it again and retry once.
      this.client = undefined;
      blob = await this.blobClient();
      try {
        await blob.getBlobLeaseClient(this.leaseId).acquireLease(this.durationSeconds);
      } catch (again) {
        if (statusOf(again) === 409) return false;
        throw wrapStorageError(again, `${this.where()}: acquire`);
      }
    }
    try {
      await blob.setMetadata(
        { holderid: encodeURIComponent(this.holderId), since: new Date().toISOString() },
        { conditions: { leaseId: this.leaseId } },
      );
    } catch (err) {
      // Lost it in between (broken at once): report as not acquired.
      if (statusOf(err) === 412 || statusOf(err) === 409) return false;
      throw wrapStorageError(err, `${this.where()}: record holder`);
    }
    return true;
  }

  /** Extends the lease. False when it is no longer ours (expired and taken, or broken). */
  async renew(): Promise<boolean> {
    const blob = await this.blobClient();
    try {
      await blob.getBlobLeaseClient(this.leaseId).renewLease();
      return true;
    } catch (err) {
      const status = statusOf(err);
      if (status === 409 || status === 412 || status === 404) return false;
      throw wrapStorageError(err, `${this.where()}: renew`);
    }
  }

  /** Gives the lease up. False when it was not ours to give. */
  async release(): Promise<boolean> {
    const blob = await this.blobClient();
    try {
      await blob.setMetadata({}, { conditions: { leaseId: this.leaseId } });
      await blob.getBlobLeaseClient(this.leaseId).releaseLease();
      return true;
    } catch (err) {
      const status = statusOf(err);
      if (status === 409 || status === 412 || status === 404) return false;
      throw wrapStorageError(err, `${this.where()}: release`);
    }
  }

  /** Ends whoever's lease at once, so another holder can acquire it (for stuck holders). */
  async break(): Promise<void> {
    const blob = await this.blobClient();
    try {
      await blob.getBlobLeaseClient().breakLease(0);
    } catch (err) {
      // No lease to break: already free.
      if (statusOf(err) === 409) return;
      throw wrapStorageError(err, `${this.where()}: break`);
    }
  }

  async holder(): Promise<LeaseHolder> {
    const blob = await this.blobClient();
    try {
      const props = await blob.getProperties();
      if (props.leaseStatus !== 'locked') return { leased: false };
      const raw = props.metadata?.holderid;
      return {
        leased: true,
        ...(raw ? { holderId: decodeURIComponent(raw) } : {}),
        ...(props.metadata?.since ? { since: props.metadata.since } : {}),
      };
    } catch (err) {
      if (statusOf(err) === 404) return { leased: false };
      throw wrapStorageError(err, `${this.where()}: holder`);
    }
  }

  /**
   * Renews in the background until stopped. Network errors are retried; the lease counts as
   * lost when a renewal is refused or none succeeded for a whole duration.
   */
  keepAlive(opts: KeepAliveOptions = {}): LeaseKeepAlive {
    const intervalMs = opts.intervalMs ?? (this.durationSeconds * 1000) / 3;
    let lost = false;
    let stopped = false;
    let lastRenewed = Date.now();
    let inFlight: Promise<void> | undefined;
    const lose = (reason: Error) => {
      if (lost) return;
      lost = true;
      clearInterval(timer);
      opts.onLost?.(reason);
    };
    const tick = async () => {
      try {
        if (await this.renew()) lastRenewed = Date.now();
        else lose(new Error(`${this.where()}: the lease was taken or broken; '${this.holderId}' no longer holds it`));
      } catch (err) {
        if (Date.now() - lastRenewed >= this.durationSeconds * 1000) {
          lose(new Error(`${this.where()}: could not renew for ${this.durationSeconds}s: ${(err as Error).message}`));
        }
      }
    };
    const timer = setInterval(() => {
      if (!inFlight && !stopped && !lost) inFlight = tick().finally(() => (inFlight = undefined));
    }, intervalMs);
    // Renewing must never be what keeps a finished process alive.
    timer.unref();
    return {
      get lost() {
        return lost;
      },
      async stop() {
        stopped = true;
        clearInterval(timer);
        await inFlight;
      },
    };
  }

  private blobClient(): Promise<BlobClient> {
    this.client ??= (async () => {
      const store = await BlobStore.open(this.container, this.cfg);
      const blob = store.blobClient(this.blob);
      try {
        // An empty blob to lease; 409/412 mean it exists already (possibly leased).
        await blob.upload('', 0, { conditions: { ifNoneMatch: '*' } });
      } catch (err) {
        const status = statusOf(err);
        if (status !== 409 && status !== 412) throw wrapStorageError(err, `${this.where()}: create`);
      }
      return blob;
    })().catch((err) => {
      this.client = undefined;
      throw err;
    });
    return this.client;
  }

  private where(): string {
    return `lease '${this.container}/${this.blob}'`;
  }
}
