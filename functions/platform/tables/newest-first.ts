// Row keys that sort newest first: an inverted microsecond time plus a random suffix, so
// concurrent processes never collide.

const MAX_MICROS = 8_999_999_999_999_999; // below 2^53; about year 2255 in microseconds

/**
 * A newest-first key for `now` (default the wall clock), unique by its random suffix; keys of the
 * same millisecond are in no particular order unless `keys` is given: then it sorts before every
 * earlier key of that source. The wall clock, never a monotonic one: keys of several processes
 * (and instances) are compared with each other, and a process's monotonic clock drifts from theirs.
 */
export function newestFirstKey(now?: number, keys?: NewestFirstKeys): string {
  if (keys) return keys.next(now);
  return keyAt((now ?? Date.now()) * 1000);
}

/**
 * A source of newest-first keys: each sorts before every key it issued earlier, even for the same
 * millisecond or when the wall clock steps back (it counts on by a microsecond). Whoever needs that
 * order holds one (an append-only table for its rows, the reconciler for its run ids).
 */
export class NewestFirstKeys {
  private lastMicros = 0;

  next(now: number = Date.now()): string {
    this.lastMicros = Math.max(now * 1000, this.lastMicros + 1);
    return keyAt(this.lastMicros);
  }
}

function keyAt(micros: number): string {
  const inverted = String(MAX_MICROS - micros).padStart(16, '0');
  const suffix = Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return `${inverted}-${suffix}`;
}
