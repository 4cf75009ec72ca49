// A stack locked by another update is reported as such, with who holds it, instead of the CLI's
// raw error text.

/** One lock file of the DIY (azblob) backend, as Pulumi writes it. */
export interface StackLock {
  /** Blob name, e.g. `.pulumi/locks/organization/nexus/alz/<uuid>.json`. */
  key?: string;
  pid: number;
  username: string;
  hostname: string;
  /** ISO time the lock was taken. */
  timestamp: string;
}

/**
 * Clears lock files left by dead processes. The production implementation is
 * functions/platform/pulumi-locks.ts `leaseHolderLockClearer`, which only acts for the holder of
 * the stack's blob lease. Returns how many locks it removed.
 */
export interface StaleLockClearer {
  clearStale(ref: { project: string; stack: string }): Promise<number>;
}

export class StackBusyError extends Error {
  constructor(readonly stack: string, readonly locks: StackLock[], readonly cause?: unknown) {
    super(
      `stack ${stack} is busy: another update holds it` +
        (locks.length
          ? ` (${locks.map((l) => `${l.username}@${l.hostname} pid ${l.pid} since ${l.timestamp}`).join('; ')})`
          : '') +
        '; try again when it has finished',
    );
    this.name = 'StackBusyError';
  }
}

const LOCK_LINE = /^\s*(\S+): created by (.*?)@(\S+) \(pid (\d+)\) at (\S+)\s*$/;

/** Lock holders from the CLI's "the stack is currently locked by N lock(s)" message. */
export function locksFromMessage(text: string): StackLock[] {
  // The CLI's text can appear twice in an error (stdout and stderr): one entry per lock file.
  const out = new Map<string, StackLock>();
  for (const line of text.split('\n')) {
    const m = LOCK_LINE.exec(line);
    if (m) {
      const key = m[1].replace(/^[a-z]+:\/\/[^/]*\/?/, '').replace(/\?.*$/, '');
      out.set(key, { key, username: m[2], hostname: m[3], pid: Number(m[4]), timestamp: m[5] });
    }
  }
  return [...out.values()];
}

export function isLockedMessage(text: string): boolean {
  return text.includes('the stack is currently locked by') || text.includes('[409] Conflict: Another update is currently in progress');
}
