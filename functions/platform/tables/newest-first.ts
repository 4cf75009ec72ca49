// Row keys that sort newest first: an inverted microsecond clock plus a random suffix, so
// concurrent processes never collide.

const MAX_MICROS = 8_999_999_999_999_999; // below 2^53; about year 2255 in microseconds

/**
 * A newest-first key. Without `now`, from this process's monotonic clock: each such key sorts
 * before every earlier one made in this process (see tickMicros). With `now` (a caller's own
 * clock, which may repeat a millisecond), ordered by that time only, unless `keys` is given:
 * then it sorts before every earlier key of that source.
 */
export function newestFirstKey(now?: number, keys?: NewestFirstKeys): string {
  if (keys) return keys.next(now);
  return keyAt(now === undefined ? tickMicros() : now * 1000);
}

/**
 * A source of newest-first keys for a caller's own times: each key sorts before every key it
 * issued earlier, even for the same millisecond or when the time steps back (it counts on by a
 * microsecond). Whoever needs that order for keys it times itself holds one (the reconciler's run ids).
 */
export class NewestFirstKeys {
  private lastMicros = 0;

  next(now?: number): string {
    this.lastMicros = Math.max(now === undefined ? tickMicros() : now * 1000, this.lastMicros + 1);
    return keyAt(this.lastMicros);
  }
}

/**
 * Microseconds since the epoch, strictly later than at the moment of the call: the monotonic
 * clock is read until it ticks to the next microsecond (well under a microsecond of waiting).
 * Two calls in one process therefore never return the same value, and a later call returns a
 * larger one, without any state kept between calls.
 */
export function tickMicros(): number {
  const read = () => Math.floor((performance.timeOrigin + performance.now()) * 1000);
  const start = read();
  let m = read();
  while (m <= start) m = read();
  return m;
}

function keyAt(micros: number): string {
  const inverted = String(MAX_MICROS - micros).padStart(16, '0');
  const suffix = Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return `${inverted}-${suffix}`;
}
