/**
 * How one service call is made: under the service's rate limit, with the intent journaled durably
 * first when it changes something, retried as the error kind allows (429: wait Retry-After and slow
 * the service down, for as long as the service asks while the run goes; transient and timeout: back
 * off; ETag conflict: call again at once, the adapter re-reads). A call that succeeded is never
 * repeated; after a stop no call that changes something starts or is retried.
 */
import { isServiceError, ServiceError } from '../../core/errors.js';
import type { PlanStep } from '../../core/plan-types.js';
import type { RunJournal } from '../journal/writer.js';
import type { Clock } from './clock.js';
import { backoffMs, type RunLimits } from './limits.js';
import type { CallFn } from './step-types.js';
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
  /** An intent was journaled (the step now has a call whose effect is unknown until it answers). */
  onIntent?: () => void;
}

export const makeCall = (c: CallContext): CallFn => {
  const { step, attempts, limits, limiter } = c;
  // Once the step's change is made, its follow-up reads finish even during an abort; a call that
  // changes something never starts (nor is retried) after a stop.
  let committed = false;
  return async (service, cost, destructive, fn) => {
    const stoppable = destructive || !committed;
    let tries = 0;
    let throttledTries = 0;
    for (;;) {
      const spend = typeof cost === 'function' ? cost() : cost;
      const admittedAt = await limiter.acquire(service, spend, stoppable);
      if (destructive) {
        await c.journal().appendIntent(step.id, c.firstAttempt + attempts.n, step.call);
        attempts.n++;
        c.onIntent?.();
        // The stop may have come while the intent was made durable: the call is not sent then (the
        // intent without an outcome makes a resume read before acting).
        if (limiter.stopped) throw new StoppedError();
      }
      try {
        const value = await withTimeout(fn(), limits.callTimeoutMs);
        if (destructive) committed = true;
        return value;
      } catch (e) {
        if (!isServiceError(e)) throw e;
        if (e.kind === 'throttled') {
          // A 429 says "wait", not "no": while the run goes, the call waits as long as the service asks
          // (in the limiter: on the run's clock, visible, and abortable). Only a read finishing a change
          // during a stop gives up, so that the stop is not held up for long.
          throttledTries++;
          if (limiter.stopped && (stoppable || throttledTries >= limits.maxThrottledAttempts)) {
            if (stoppable) throw new StoppedError();
            throw e;
          }
          // The service answered: it is up, only busy. Faults are counted when they come in a row.
          tries = 0;
          const told = e.details.retryAfterMs;
          const wait = told ?? backoffMs(limits, throttledTries, c.random);
          limiter.penalize(
            service,
            wait,
            limits.adaptWindowMs / limits.timeScale,
            admittedAt,
            told ? spend : 0,
          );
          continue;
        }
        if (e.kind !== 'transient' && e.kind !== 'timeout' && e.kind !== 'preconditionFailed') throw e;
        if (++tries >= limits.maxAttempts) throw e;
        if (stoppable && limiter.stopped) throw new StoppedError();
        if (e.kind !== 'preconditionFailed') {
          const signal = stoppable ? c.stopSignal() : undefined;
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
