/** Paging over the SDKs' query objects, passing the continuation token (next() alone repeats page one). */
import { ServiceError } from '../../core/errors.js';
import { type CallContext, readCall } from './deadline.js';
import { type Json, asJson } from './json.js';

export interface SdkQuery {
  hasMoreResults: boolean;
  continuationToken: string | null | undefined;
  next(continuationToken?: string | null): Promise<{ responseBody?: unknown; result?: unknown }>;
}

/** Yields each page's items; every page request has its own deadline. */
export async function* pages<T>(
  ctx: CallContext,
  createQuery: () => SdkQuery,
  map: (item: Json) => T,
): AsyncGenerator<T[]> {
  const query = createQuery();
  let previousToken: string | null | undefined;
  let page = 0;
  while (query.hasMoreResults) {
    const token = query.continuationToken;
    if (page > 0 && (token === previousToken || !token)) {
      // A server that hands back the same token would make us loop forever on one page.
      throw new ServiceError('unknown', `${ctx.action} on ${ctx.target} failed: paging did not advance`, {
        target: ctx.target,
      });
    }
    previousToken = token;
    const answer = await readCall({ ...ctx, action: `${ctx.action} (page ${page + 1})` }, () =>
      query.next(token),
    );
    page += 1;
    const body = (answer.responseBody ?? answer.result) as unknown;
    const items = Array.isArray(body) ? body : [];
    yield items.map((item) => map(asJson(item) ?? {}));
  }
}
