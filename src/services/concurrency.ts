import pMap from 'p-map';

/**
 * Runs `fn` over items with at most `limit` in flight, results in input order (p-map). After a failure no
 * new item starts (the calls already sent finish), and the first failure is what the caller gets.
 */
export function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  return pMap(items, (item) => fn(item), { concurrency: Math.max(1, limit) });
}

export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Runs `fn` over items with at most `limit` in flight; every item runs, each answer kept in input order. */
export function settleLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<Settled<R>[]> {
  return mapLimited(items, limit, async (item): Promise<Settled<R>> => {
    try {
      return { ok: true, value: await fn(item) };
    } catch (error) {
      return { ok: false, error };
    }
  });
}
