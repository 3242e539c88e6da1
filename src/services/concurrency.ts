/**
 * Runs `fn` over items with at most `limit` in flight, results in input order. After a failure no new
 * item starts (the calls already sent finish), and the first failure is what the caller gets.
 */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return out;
}

export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Runs `fn` over items with at most `limit` in flight; every item runs, each answer kept in input order. */
export async function settleLimited<T, R>(
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
