// Waiting in tests: every wait has a deadline, so a regression fails naming what never happened
// instead of hanging the suite.

export interface WaitOptions {
  /** What is awaited, for the error ("the lease to expire"). */
  what: string;
  /** Give up after this long (ms). */
  timeoutMs: number;
  /** Pause between checks (ms, default 50). */
  intervalMs?: number;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Calls `check` until it returns something other than undefined, false or null, and resolves to
 * that; throws `timed out after N ms waiting for <what>` when the deadline passes first. An error
 * thrown by `check` is not retried: it fails the wait at once.
 */
export async function waitFor<T>(check: () => T | Promise<T>, opts: WaitOptions): Promise<Exclude<T, undefined | false | null>> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false && v !== null) return v as Exclude<T, undefined | false | null>;
    if (Date.now() >= deadline) throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}`);
    await sleep(Math.min(opts.intervalMs ?? 50, Math.max(0, deadline - Date.now())));
  }
}
