// One optimistic-concurrency retry loop: read, decide, write pinned to what was read; when another
// writer got there first, wait a little and do it all again.

export interface ConflictRetryOptions {
  /** Rounds before giving up. */
  maxAttempts: number;
  /** Whether an error means "someone else wrote first" (worth another round); others are thrown at once. */
  isConflict: (err: unknown) => boolean;
  /** The error to throw when the last round also conflicted (default: that conflict itself). */
  giveUp?: (err: unknown, attempts: number) => unknown;
  /** The pause after conflicted round `attempt` (default conflictBackoffMs). */
  backoffMs?: (attempt: number) => number;
  /** Waits between rounds (tests pass their own). */
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The pause before round `attempt + 1`: random, growing, at most 250 ms. */
export function conflictBackoffMs(attempt: number, random: () => number = Math.random): number {
  return random() * Math.min(5 * 2 ** attempt, 250);
}

/**
 * Runs `round(attempt)` (attempt counts from 1) until it returns without a conflict. The random
 * backoff spreads out writers that collided, so one of them wins the next round instead of all of
 * them colliding again.
 */
export async function retryOnConflict<R>(round: (attempt: number) => Promise<R>, opts: ConflictRetryOptions): Promise<R> {
  const sleep = opts.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await round(attempt);
    } catch (err) {
      if (!opts.isConflict(err)) throw err;
      if (attempt >= opts.maxAttempts) throw opts.giveUp ? opts.giveUp(err, attempt) : err;
      await sleep((opts.backoffMs ?? conflictBackoffMs)(attempt));
    }
  }
}
