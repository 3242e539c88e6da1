/** How fast the executor may call the services, and how it retries. Defaults are the documented limits. */

export type HubTier = 'F1' | 'B1' | 'B2' | 'B3' | 'S1' | 'S2' | 'S3';

export interface HubCapacity {
  tier: HubTier;
  units: number;
}

export interface RunLimits {
  /** DPS service operations per minute per instance (documented default 1,000). */
  dpsOpsPerMinute: number;
  /** Per hub host (lower case); hubs not listed use `defaultHub`. */
  hubs: Record<string, HubCapacity>;
  defaultHub: HubCapacity;
  /**
   * Runs every rate and every wait of our own this many times faster (tests, benchmarks), so the
   * ratios between them stay those of the real limits. Retry-After from the service is honoured as given.
   */
  timeScale: number;
  /** How much of a minute's allowance may go in one burst. */
  burstSeconds: number;
  /** Calls in flight at once per service (a DPS instance, a hub). */
  maxInFlightPerService: number;
  /** Attempts per call for transient failures, timeouts and ETag conflicts in a row (a 429 between them starts the count again). */
  maxAttempts: number;
  /**
   * Attempts, after a stop, of a read that completes a change already made while the service keeps
   * answering 429. While a run goes, a throttled call waits as long as the service asks.
   */
  maxThrottledAttempts: number;
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** After a 429 the rate is halved; it climbs back to the allowance over this long. */
  adaptWindowMs: number;
  /** A client-side wait at least this long is reported as THROTTLED. */
  throttleNoticeMs: number;
  /** Give up waiting for one call after this long (not scaled): it counts as a timeout and is retried. */
  callTimeoutMs: number;
}

export const DEFAULT_LIMITS: RunLimits = {
  dpsOpsPerMinute: 1000,
  hubs: {},
  defaultHub: { tier: 'S1', units: 1 },
  timeScale: 1,
  burstSeconds: 10,
  maxInFlightPerService: 8,
  maxAttempts: 8,
  maxThrottledAttempts: 3,
  baseBackoffMs: 500,
  maxBackoffMs: 30_000,
  adaptWindowMs: 60_000,
  throttleNoticeMs: 1_000,
  callTimeoutMs: 120_000,
};

/** Identity registry operations per minute per unit (each device of a bulk call counts one). */
const HUB_IDENTITY_OPS_PER_UNIT: Record<HubTier, number> = {
  F1: 100,
  B1: 100,
  S1: 100,
  B2: 100,
  S2: 100,
  B3: 5000,
  S3: 5000,
};

export const hubOpsPerMinute = (c: HubCapacity): number =>
  HUB_IDENTITY_OPS_PER_UNIT[c.tier] * Math.max(1, c.units);

export const resolveLimits = (partial: Partial<RunLimits> = {}): RunLimits => {
  const limits = { ...DEFAULT_LIMITS, ...partial };
  if (!(limits.timeScale > 0)) throw new RangeError('timeScale must be a positive number');
  return limits;
};

/** Exponential backoff with full jitter, scaled. */
export const backoffMs = (limits: RunLimits, attempt: number, random: () => number = Math.random): number => {
  const ceiling = Math.min(limits.maxBackoffMs, limits.baseBackoffMs * 2 ** Math.max(0, attempt - 1));
  return (ceiling / 2 + (random() * ceiling) / 2) / limits.timeScale;
};
