// The stack's blob lease during a run: taken (waiting a while if asked), kept alive in the
// background, and renewed on the spot before an apply rather than trusted from the background.
import type { BlobLease, LeaseKeepAlive } from '../platform/leases.ts';
import { maskSecrets, type Logger } from '../platform/logger.ts';
import type { EngineStack } from './deps.ts';
import type { CommitFacts } from './commit-facts.ts';

/** What a run shares with its lease's keep-alive and its engine calls. */
export interface RunControl {
  lost?: Error;
  applying: boolean;
  engine?: EngineStack;
  engineMs: number;
  /** Identities that may not approve this run's changes: its commit's author(s). */
  authors: string[];
  /** GitOps: the commits the run would apply (judged by the commit gates). */
  facts?: CommitFacts;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Takes the lease, trying again for up to `waitMs`; false when another instance keeps it. */
export async function acquireLease(lease: BlobLease, waitMs: number): Promise<boolean> {
  const until = Date.now() + waitMs;
  for (;;) {
    if (await lease.acquire()) return true;
    if (Date.now() >= until) return false;
    await sleep(Math.min(2000, Math.max(200, until - Date.now())));
  }
}

/** Renews the lease in the background; once lost, an apply in flight is cancelled cleanly. */
export function keepLease(lease: BlobLease, ctl: RunControl, log: Logger): LeaseKeepAlive {
  return lease.keepAlive({
    onLost: (err) => {
      ctl.lost = err;
      log.warn({ err: maskSecrets(err.message) }, 'stack lease lost');
      // The run is then recorded as interrupted.
      if (ctl.applying) void ctl.engine?.cancel().catch(() => undefined);
    },
  });
}

/**
 * Whether the lease is still this run's, renewed now: the background renewal may not have
 * noticed yet that another instance took the stack.
 */
export async function leaseStillHeld(lease: BlobLease, ctl: RunControl, who: { stack: string; holderId: string }, log: Logger): Promise<boolean> {
  if (!ctl.lost && !(await lease.renew().catch(() => false))) {
    ctl.lost = new Error(`the lease of stack ${who.stack} is no longer held by ${who.holderId}`);
    log.warn('stack lease lost before apply; not applying');
  }
  return !ctl.lost;
}
