// Row keys that sort newest first: an inverted microsecond clock plus a random suffix, so
// concurrent processes never collide.

const MAX_MICROS = 8_999_999_999_999_999; // below 2^53; about year 2255 in microseconds

/**
 * A source of newest-first keys: each key it issues sorts before every key it issued earlier,
 * even within one millisecond or when the wall clock steps back (it counts on by a microsecond).
 * Whoever needs that order within a series of keys (an append-only table, the reconciler's run
 * ids) holds one; the order is per source, not per process.
 */
export class NewestFirstKeys {
  private lastMicros = 0;

  next(now = Date.now()): string {
    this.lastMicros = Math.max(now * 1000, this.lastMicros + 1);
    return keyAt(this.lastMicros);
  }
}

/**
 * A newest-first key for `now`. With `keys` it comes from that source (strictly ordered after its
 * earlier keys); without, it is ordered by the millisecond only (still unique by its suffix).
 */
export function newestFirstKey(now = Date.now(), keys?: NewestFirstKeys): string {
  return keys ? keys.next(now) : keyAt(now * 1000);
}

function keyAt(micros: number): string {
  const inverted = String(MAX_MICROS - micros).padStart(16, '0');
  const suffix = Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return `${inverted}-${suffix}`;
}
