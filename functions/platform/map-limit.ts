// One bounded worker pool for every "do these N things, at most k at a time" in Nexus.

/**
 * Runs `fn` over `items` with at most `limit` calls in flight and resolves to the results in the
 * order of `items` (not the order they finished). A limit that is not a number of at least 1 (0,
 * negative, NaN from a bad setting) runs one at a time rather than nothing at all. After the first
 * failure no new item starts; the calls in flight finish, then the first error is thrown.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const width = Math.min(items.length, Number.isFinite(limit) && limit >= 1 ? Math.floor(limit) : 1);
  const results = new Array<R>(items.length);
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  if (failed) throw failed.error;
  return results;
}
