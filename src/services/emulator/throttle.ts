/**
 * Service limits as token buckets. A bucket holds one service minute of operations (fewer when time is
 * slowed, so tests reach the limit quickly) and refills at the per-minute rate times timeScale. A call
 * costing more than the bucket holds (a bulk call on a slowed clock) goes through only when the bucket
 * is full, leaving it in debt, as the hub queues such work before it answers 429.
 */
import type { HubTier } from './types.js';

export const DPS_OPERATIONS_PER_MINUTE = 1000;

const HUB_LIMITS: Record<HubTier, { identity: number; query: number }> = {
  S1: { identity: 100, query: 20 },
  S2: { identity: 100, query: 20 },
  S3: { identity: 5000, query: 1000 },
};

export type Admission = { ok: true } | { ok: false; retryAfterSeconds: number };

export class TokenBucket {
  private tokens: number;
  private last: number;
  readonly capacity: number;
  private readonly perMs: number;

  constructor(perMinute: number, timeScale: number, now: number) {
    this.capacity = Math.max(1, perMinute * Math.min(1, timeScale));
    this.perMs = (perMinute * timeScale) / 60_000;
    this.tokens = this.capacity;
    this.last = now;
  }

  take(cost: number, now: number): Admission {
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs);
    this.last = now;
    if (this.tokens >= cost || this.tokens >= this.capacity) {
      this.tokens -= cost;
      return { ok: true };
    }
    const needed = Math.min(cost, this.capacity) - this.tokens;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(needed / this.perMs / 1000)) };
  }

  /** Gives back what a call took that the service then refused for bad input. */
  give(cost: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + cost);
  }
}

export type BucketName = 'dps' | 'hubIdentity' | 'hubQuery';

export interface ThrottleOptions {
  enabled: boolean;
  tier: HubTier;
  units: number;
  timeScale: number;
}

export class Throttle {
  private readonly buckets = new Map<string, TokenBucket>();
  constructor(
    private readonly opts: ThrottleOptions,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** `scope` is the DPS or hub host: each instance has its own limits. */
  admit(bucket: BucketName, scope: string, cost: number): Admission {
    if (!this.opts.enabled || cost <= 0) return { ok: true };
    const key = `${bucket}:${scope}`;
    let b = this.buckets.get(key);
    const now = this.clock();
    if (!b) {
      b = new TokenBucket(this.perMinute(bucket), this.opts.timeScale, now);
      this.buckets.set(key, b);
    }
    return b.take(cost, now);
  }

  /** Undoes an admission: the call was refused for bad input, which costs nothing on the services. */
  refund(bucket: BucketName, scope: string, cost: number): void {
    if (!this.opts.enabled || cost <= 0) return;
    this.buckets.get(`${bucket}:${scope}`)?.give(cost);
  }

  private perMinute(bucket: BucketName): number {
    if (bucket === 'dps') return DPS_OPERATIONS_PER_MINUTE;
    const limits = HUB_LIMITS[this.opts.tier];
    return (bucket === 'hubIdentity' ? limits.identity : limits.query) * this.opts.units;
  }
}
