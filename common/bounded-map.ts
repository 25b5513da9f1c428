// Running async work over a list with a bound on how much runs at once.
//
// Not p-map: on the first failure p-map rejects while the other calls still run (stopOnError),
// or runs every item and rejects with all errors (stopOnError: false). Our callers clean up
// after a failure (temporary files, a half-made checkout, uploads), so they need the third
// behaviour: no new work after the first failure, and the call settles only once the work
// already running has settled.

/**
 * Calls `work` on each item, at most `limit` at once, in order of the items. Resolves with
 * the results in the items' order. On failure no further item is started, and the first
 * error is thrown once every call already running has settled.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}
