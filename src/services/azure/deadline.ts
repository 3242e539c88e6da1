/**
 * A deadline on every SDK call. The SDKs have no timeouts: a server that never answers leaves their
 * promise pending forever. Each call runs in an async scope that collects the HTTP requests the SDK
 * builds for it (see ClientOptions.onRequest), so a call past its deadline rejects with a 'timeout'
 * ServiceError and its sockets are destroyed; whatever the SDK reports afterwards is ignored. Calls are
 * made once: retries (Retry-After, backoff, abort) belong to the executor's limiter (executor/calls.ts,
 * and executor/read-limiter.ts for the session's reads).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ClientRequest } from 'node:http';
import { ServiceError } from '../../core/errors.js';
import { type Access, toServiceError } from './service-errors.js';

export const DEFAULT_TIMEOUT_MS = 30_000;

interface CallScope {
  requests: Set<ClientRequest>;
  expired: boolean;
}

const callScope = new AsyncLocalStorage<CallScope>();

/** Give to createProvisioningClient / createRegistry as `onRequest`. */
export function observeRequest(request: ClientRequest): void {
  const scope = callScope.getStore();
  if (!scope) return;
  // A request built after the deadline (a slow token fetch) must not go out on its own.
  if (scope.expired) request.destroy();
  else scope.requests.add(request);
}

export interface CallContext {
  /** What is being done, for messages: "get enrollment 'pump-0007'". */
  action: string;
  /** Host name of the DPS or hub. */
  target: string;
  timeoutMs: number;
  /** How the call signs in: a refusal then names the role or permissions to grant. */
  access?: Access;
}

/**
 * Runs one SDK call under a deadline and maps its failure to a ServiceError. `start` must create the
 * SDK request synchronously or from promises it chains (the async scope follows them).
 */
export function sdkCall<T>(ctx: CallContext, start: () => Promise<T> | T): Promise<T> {
  const scope: CallScope = { requests: new Set(), expired: false };
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      scope.expired = true;
      for (const request of scope.requests) request.destroy();
      const seconds = Math.round(ctx.timeoutMs / 100) / 10;
      reject(
        new ServiceError('timeout', `${ctx.action} on ${ctx.target} failed: no answer within ${seconds} s`, {
          target: ctx.target,
        }),
      );
    }, ctx.timeoutMs);
    const finish = (ok: boolean, value: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (ok) resolve(value as T);
      else reject(toServiceError(value, ctx.action, ctx.target, ctx.access));
    };
    try {
      Promise.resolve(callScope.run(scope, start)).then(
        (value) => finish(true, value),
        (err) => finish(false, err),
      );
    } catch (err) {
      finish(false, err);
    }
  });
}

/** The callback form of an SDK method as a promise (some promise forms never settle). */
export function fromCallback<T>(invoke: (done: (err: unknown, result?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    invoke((err, result) => (err ? reject(err) : resolve(result as T)));
  });
}
