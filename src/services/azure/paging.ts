/** Paging over the SDKs' query objects, passing the continuation token (next() alone repeats page one). */
import { ServiceError } from '../../core/errors.js';
import { type CallContext, sdkCall } from './deadline.js';
import { type Json, asJson } from './json.js';

export interface SdkQuery {
  hasMoreResults: boolean;
  continuationToken: string | null | undefined;
  next(continuationToken?: string | null): Promise<{ responseBody?: unknown; result?: unknown }>;
}

/**
 * Each page's items; every page request has its own deadline and is made once. A page that failed can
 * be asked for again: the iterator's `next()` after a rejection requests the same page (same token),
 * so the caller's retry layer (session/reads.ts) retries one page, not the whole list.
 */
export function pages<T>(
  ctx: CallContext,
  createQuery: () => SdkQuery,
  map: (item: Json) => T,
): AsyncIterable<T[]> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T[]> {
      let query: SdkQuery | undefined;
      let previousToken: string | null | undefined;
      let page = 0;
      return {
        async next(): Promise<IteratorResult<T[]>> {
          query ??= createQuery();
          if (!query.hasMoreResults) return { done: true, value: undefined };
          const token = query.continuationToken;
          if (page > 0 && (token === previousToken || !token)) {
            // A server that hands back the same token would make us loop forever on one page.
            throw new ServiceError(
              'unknown',
              `${ctx.action} on ${ctx.target} failed: paging did not advance`,
              {
                target: ctx.target,
              },
            );
          }
          const current = query;
          const answer = await sdkCall({ ...ctx, action: `${ctx.action} (page ${page + 1})` }, () =>
            current.next(token),
          );
          previousToken = token;
          page += 1;
          const body = (answer.responseBody ?? answer.result) as unknown;
          const items = Array.isArray(body) ? body : [];
          return { done: false, value: items.map((item) => map(asJson(item) ?? {})) };
        },
      };
    },
  };
}
