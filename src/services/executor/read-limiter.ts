/**
 * The session's reads (plan, verify, restore, lists) under the same per-service limits and the same
 * retry rules as a run's calls: one ServiceLimiter lane per service (a DPS instance, a hub's identity
 * registry, a hub's query budget) and `makeCall` for Retry-After, backoff and abort. The adapters only
 * apply a deadline and map errors; this is the one place a read is tried again.
 */
import { hubQueriesPerMinute } from '../../core/hub-lookup.js';
import type { PlanStep } from '../../core/plan-types.js';
import type { RunJournal } from '../journal/writer.js';
import { makeCall } from './calls.js';
import { type Clock, systemClock } from './clock.js';
import { hubOpsPerMinute, resolveLimits, type RunLimits } from './limits.js';
import { ServiceLimiter } from './rate-limiter.js';

/** Reads change nothing: they are never journaled, and their step is only a name. */
const READ_STEP: PlanStep = {
  id: 'read',
  phase: 'verify',
  op: { kind: 'verify', registrationIds: [] },
  call: 'read',
  destructive: false,
  registrationIds: [],
};
const noJournal = (): RunJournal => {
  throw new Error('a read is never journaled');
};

/** The lane of a hub's query budget (queries are billed apart from identity registry operations). */
export const queryLane = (hubHost: string): string => `${hubHost.toLowerCase()} queries`;

export interface ReadLimiterOptions {
  /** The DPS host: its lane gets DPS's operations a minute; every other lane is a hub's. */
  dpsHost: string;
  limits?: Partial<RunLimits>;
  clock?: Clock;
  random?: () => number;
  /** Ctrl-C: waiting and retried reads stop (they reject). */
  signal?: AbortSignal;
}

export interface ReadLimiter {
  /**
   * One read of `cost` operations on `lane` (the DPS host, a hub host, or `queryLane(hub)`), waited for
   * under the lane's rate and retried as a run's reads are (429: as long as the service asks; transient
   * and timeout: backoff, a few times).
   */
  read<T>(lane: string, cost: number, fn: () => Promise<T>): Promise<T>;
}

export function createReadLimiter(options: ReadLimiterOptions): ReadLimiter {
  const limits = resolveLimits(options.limits);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const dpsLane = options.dpsHost.toLowerCase();
  const capacity = (hub: string) => limits.hubs[hub] ?? limits.hubs[hub.toLowerCase()] ?? limits.defaultHub;
  const rateOf = (lane: string): number => {
    if (lane === dpsLane) return limits.dpsOpsPerMinute;
    if (lane.endsWith(' queries')) return hubQueriesPerMinute(capacity(lane.slice(0, -' queries'.length)));
    return hubOpsPerMinute(capacity(lane));
  };
  const limiter = new ServiceLimiter(
    clock,
    rateOf,
    limits.timeScale,
    limits.burstSeconds,
    limits.throttleNoticeMs,
    {
      throttled: () => {},
      cleared: () => {},
    },
  );
  const stop = new AbortController();
  const onAbort = () => {
    stop.abort();
    limiter.stopAll();
  };
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    read<T>(lane: string, cost: number, fn: () => Promise<T>): Promise<T> {
      const call = makeCall({
        step: READ_STEP,
        attempts: { n: 0 },
        firstAttempt: 1,
        limiter,
        journal: noJournal,
        stopSignal: () => stop.signal,
        limits,
        clock,
        random,
      });
      return call(lane.toLowerCase(), cost, false, fn);
    },
  };
}
