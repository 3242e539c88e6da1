/**
 * How one service call is made: under the service's rate limit, with the intent journaled durably
 * first when it changes something, retried as the error kind allows (429: wait Retry-After and slow
 * the service down; transient and timeout: back off; ETag conflict: call again at once, the adapter
 * re-reads). A call that succeeded is never repeated.
 */
import { isServiceError, ServiceError } from '../../core/errors.js';
import type { PlanStep } from '../../core/plan-types.js';
import type { RunJournal } from '../journal/writer.js';
import type { Clock } from './clock.js';
import { backoffMs, type RunLimits } from './limits.js';
import type { CallFn } from './operations.js';
import { type ServiceLimiter, StoppedError } from './rate-limiter.js';

export interface CallContext {
  step: PlanStep;
  /** Destructive attempts made by this step in this session (counted here). */
  attempts: { n: number };
  /** The number the next intent carries (continues across resumed sessions). */
  firstAttempt: number;
  limiter: ServiceLimiter;
  journal: () => RunJournal;
  stopSignal: () => AbortSignal;
  limits: RunLimits;
  clock: Clock;
  random: () => number;
}

export const makeCall = (c: CallContext): CallFn => {
  const { step, attempts, limits, limiter } = c;
  // Once the step's change is made, its follow-up reads finish even during an abort.
  let committed = false;
  return async (service, cost, destructive, fn) => {
    let tries = 0;
    let throttledTries = 0;
    for (;;) {
      await limiter.acquire(service, cost, !committed);
      if (destructive) {
        await c.journal().appendIntent(step.id, c.firstAttempt + attempts.n, step.call);
        attempts.n++;
      }
      try {
        const value = await withTimeout(fn(), limits.callTimeoutMs);
        if (destructive) committed = true;
        return value;
      } catch (e) {
        if (!isServiceError(e)) throw e;
        if (e.kind === 'throttled') {
          if (++throttledTries >= limits.maxThrottledAttempts) throw e;
          const wait = e.details.retryAfterMs ?? backoffMs(limits, throttledTries, c.random);
          limiter.penalize(service, wait, limits.adaptWindowMs / limits.timeScale);
          continue;
        }
        if (e.kind !== 'transient' && e.kind !== 'timeout' && e.kind !== 'preconditionFailed') throw e;
        if (++tries >= limits.maxAttempts) throw e;
        if (e.kind !== 'preconditionFailed') {
          const signal = committed ? undefined : c.stopSignal();
          await c.clock.sleep(backoffMs(limits, tries, c.random), signal);
          if (signal?.aborted) throw new StoppedError();
        }
      }
    }
  };
};

/** The SDKs never time out on their own: a call without an answer counts as a timeout (and is retried). */
const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> => {
  if (!Number.isFinite(ms) || ms <= 0) return p;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ServiceError('timeout', `no answer within ${Math.round(ms / 1000)} s`)),
      ms,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
};
