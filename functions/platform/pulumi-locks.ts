// The lock files of Pulumi's azblob (DIY) backend, `.pulumi/locks/organization/<project>/<stack>/<id>.json`.
// A process that dies during an update leaves its lock behind and the stack stays busy for ever.
// Such a lock is recognised here and removed, but only by the holder of the stack's blob lease:
// exactly one Nexus instance may decide that another one is dead.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { BlobStore } from './blobs.ts';
import type { BlobLease } from './leases.ts';
import type { StorageConfig } from './storage-config.ts';
import type { StaleLockClearer, StackLock } from '../../stacks/engine/busy.ts';

export interface LockLocation {
  project: string;
  stack: string;
  /** Container of the Pulumi state (default `pulumi-state`). */
  container?: string;
  /** Folder inside the container when the backend URL has a path (`azblob://c/prefix`). */
  prefix?: string;
  cfg?: StorageConfig;
}

export function lockFolder(loc: Pick<LockLocation, 'project' | 'stack' | 'prefix'>): string {
  const prefix = loc.prefix ? loc.prefix.replace(/^\/+|\/+$/g, '') + '/' : '';
  return `${prefix}.pulumi/locks/organization/${loc.project}/${loc.stack}/`;
}

/** The locks currently held on a stack (normally none, or the one update that runs). */
export async function listStackLocks(loc: LockLocation): Promise<StackLock[]> {
  const store = await BlobStore.open(loc.container ?? 'pulumi-state', loc.cfg);
  const locks: StackLock[] = [];
  for (const key of await store.list(lockFolder(loc))) {
    if (!key.endsWith('.json')) continue;
    const body = await store.getJson<Partial<StackLock>>(key);
    // Deleted between list and read: the update finished.
    if (!body) continue;
    locks.push({
      key,
      pid: Number(body.pid ?? 0),
      username: String(body.username ?? ''),
      hostname: String(body.hostname ?? ''),
      timestamp: String(body.timestamp ?? ''),
    });
  }
  return locks;
}

export interface StalenessOptions {
  now?: Date;
  /** This machine's name, as Pulumi records it (os.hostname()). */
  host?: string;
  /** Whether a process of this machine is running. */
  isAlive?: (pid: number) => boolean;
  /** A lock of another machine is stale after this long (default 3600; NEXUS_PULUMI_LOCK_STALE_SECONDS through the configuration). */
  otherHostStaleAfterSeconds?: number;
}

export function processIsAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A killed process whose parent has not reaped it yet still answers kill(0) but is dead (Linux). */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

/**
 * Whether a lock's process is gone. On this machine that is certain (the pid is not running).
 * For another machine it cannot be checked, so a lock older than the limit counts as stale: the
 * lease holder is the only instance allowed to update, and an update of another instance that
 * lost its lease stops itself long before then.
 */
export function staleness(lock: StackLock, opts: StalenessOptions = {}): { stale: boolean; reason: string } {
  const host = opts.host ?? hostname();
  const isAlive = opts.isAlive ?? processIsAlive;
  if (lock.hostname === host) {
    return isAlive(lock.pid)
      ? { stale: false, reason: `pid ${lock.pid} is still running on ${host}` }
      : { stale: true, reason: `pid ${lock.pid} is not running on ${host}` };
  }
  const limit = opts.otherHostStaleAfterSeconds ?? 3600;
  const taken = Date.parse(lock.timestamp);
  const ageSeconds = ((opts.now ?? new Date()).getTime() - taken) / 1000;
  if (Number.isNaN(taken)) return { stale: true, reason: `the lock has no readable time (${JSON.stringify(lock.timestamp)})` };
  return ageSeconds > limit
    ? { stale: true, reason: `taken on ${lock.hostname} ${Math.round(ageSeconds)}s ago, more than ${limit}s` }
    : { stale: false, reason: `taken on ${lock.hostname} ${Math.round(ageSeconds)}s ago` };
}

export interface ClearResult {
  cleared: StackLock[];
  kept: { lock: StackLock; reason: string }[];
}

/**
 * Removes the stale locks of a stack, if `lease` is held by its caller (a renewal with its lease
 * id succeeds only for the holder). Without the lease nothing is touched.
 */
export async function clearStaleLocks(loc: LockLocation, lease: BlobLease, opts: StalenessOptions = {}): Promise<ClearResult> {
  const result: ClearResult = { cleared: [], kept: [] };
  if (!(await lease.renew())) {
    for (const lock of await listStackLocks(loc)) result.kept.push({ lock, reason: `'${lease.holderId}' does not hold the lease of ${lease.blob}` });
    return result;
  }
  const store = await BlobStore.open(loc.container ?? 'pulumi-state', loc.cfg);
  for (const lock of await listStackLocks(loc)) {
    const s = staleness(lock, opts);
    if (s.stale && lock.key) {
      await store.delete(lock.key);
      result.cleared.push(lock);
    } else {
      result.kept.push({ lock, reason: s.reason });
    }
  }
  return result;
}

/** The engine's StaleLockClearer for the holder of `lease` (see openStack's `staleLocks`). */
export function leaseHolderLockClearer(
  lease: BlobLease,
  where: Omit<LockLocation, 'project' | 'stack'> = {},
  opts: StalenessOptions = {},
): StaleLockClearer {
  return {
    async clearStale(ref) {
      const r = await clearStaleLocks({ ...where, ...ref }, lease, opts);
      return r.cleared.length;
    },
  };
}
