/**
 * Client-side rate limits: one token bucket per service (a DPS instance, a hub), so the run stays
 * under the documented limits instead of learning them from 429s. A 429 halves that service's rate
 * for a while and holds its calls for the Retry-After.
 */
import type { Clock } from './clock.js';

export class StoppedError extends Error {
  override readonly name = 'StoppedError';
  constructor() {
    super('the run is stopping');
  }
}

export class TokenBucket {
  private tokens: number;
  private last: number;
  private factor = 1;
  private restoreAt = 0;
  private holdUntil = 0;
  readonly capacity: number;

  constructor(
    private readonly perMinute: number,
    private readonly timeScale: number,
    burstSeconds: number,
    now: number,
  ) {
    this.capacity = Math.max(1, (perMinute * burstSeconds) / 60);
    this.tokens = this.capacity;
    this.last = now;
  }

  /** Tokens per millisecond, as configured and adapted. */
  rate(now: number): number {
    if (this.factor < 1 && now >= this.restoreAt) this.factor = 1;
    return (this.perMinute * this.timeScale * this.factor) / 60_000;
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.last);
    this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.rate(now));
    this.last = now;
  }

  /**
   * Takes `cost` tokens and answers 0, or answers how long to wait first. A call costing more than
   * a burst may start once the bucket is full and leaves it in debt: the average rate still holds.
   */
  tryTake(cost: number, now: number): number {
    if (now < this.holdUntil) return this.holdUntil - now;
    this.refill(now);
    const need = Math.min(cost, this.capacity);
    if (this.tokens >= need) {
      this.tokens -= cost;
      return 0;
    }
    // The epsilon keeps float dust from adding a millisecond to an exact wait.
    return Math.max(1, Math.ceil((need - this.tokens) / this.rate(now) - 1e-6));
  }

  /** True while a 429 keeps the rate lowered. */
  slowed(now: number): boolean {
    return this.rate(now) < (this.perMinute * this.timeScale) / 60_000;
  }

  /** The service said 429: hold every call for `waitMs`, and halve the rate for `windowMs`. */
  penalize(now: number, waitMs: number, windowMs: number): void {
    this.holdUntil = Math.max(this.holdUntil, now + waitMs);
    this.factor = Math.max(this.factor / 2, 1 / 16);
    this.restoreAt = now + windowMs;
    // Nothing accrues while held: after a 429, the first call waits out the hold and one interval.
    this.tokens = Math.min(this.tokens, 0);
    this.last = Math.max(this.last, this.holdUntil);
  }
}

interface Waiter {
  cost: number;
  interruptible: boolean;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface ServiceLane {
  bucket: TokenBucket;
  queue: Waiter[];
  /** Set while a timer waits to serve the queue; aborting it wakes the lane early. */
  waking: AbortController | undefined;
  throttled: boolean;
}

export interface LimiterEvents {
  throttled(service: string, waitMs: number): void;
  cleared(service: string): void;
}

export class ServiceLimiter {
  private readonly lanes = new Map<string, ServiceLane>();
  private stop = new AbortController();

  constructor(
    private readonly clock: Clock,
    private readonly rateOf: (service: string) => number,
    private readonly timeScale: number,
    private readonly burstSeconds: number,
    private readonly noticeMs: number,
    private readonly events: LimiterEvents,
  ) {}

  private lane(service: string): ServiceLane {
    let lane = this.lanes.get(service);
    if (!lane) {
      lane = {
        bucket: new TokenBucket(this.rateOf(service), this.timeScale, this.burstSeconds, this.clock.now()),
        queue: [],
        waking: undefined,
        throttled: false,
      };
      this.lanes.set(service, lane);
    }
    return lane;
  }

  /**
   * Waits (FIFO per service) until `cost` operations may be spent. An interruptible wait rejects with
   * StoppedError on stop; the others (a read that completes a change already made) still get their turn.
   */
  acquire(service: string, cost: number, interruptible = true): Promise<void> {
    if (interruptible && this.stop.signal.aborted) return Promise.reject(new StoppedError());
    const lane = this.lane(service);
    return new Promise<void>((resolve, reject) => {
      lane.queue.push({ cost, interruptible, resolve, reject });
      this.serve(service, lane);
    });
  }

  /** A 429: hold the service's calls and slow it down. Returns the wait applied. */
  penalize(service: string, waitMs: number, windowMs: number): void {
    const lane = this.lane(service);
    lane.bucket.penalize(this.clock.now(), waitMs, windowMs);
    this.flag(service, lane, waitMs);
  }

  /** True while the service's last 429 keeps its rate lowered. */
  isSlowed(service: string): boolean {
    return this.lanes.get(service)?.bucket.slowed(this.clock.now()) ?? false;
  }

  /** Rejects every interruptible waiting call (abort); later ones reject until `restart`. */
  stopAll(): void {
    this.stop.abort();
    for (const [service, lane] of this.lanes) {
      const stopped = lane.queue.filter((w) => w.interruptible);
      lane.queue = lane.queue.filter((w) => !w.interruptible);
      for (const w of stopped) w.reject(new StoppedError());
      // Nobody left to serve: do not keep the process waiting for a timer.
      if (lane.queue.length === 0) lane.waking?.abort();
      else this.serve(service, lane);
    }
  }

  restart(): void {
    if (this.stop.signal.aborted) this.stop = new AbortController();
  }

  private serve(service: string, lane: ServiceLane): void {
    while (lane.queue.length > 0) {
      const wait = lane.bucket.tryTake(lane.queue[0].cost, this.clock.now());
      if (wait > 0) {
        if (wait >= this.noticeMs / this.timeScale) this.flag(service, lane, wait);
        if (!lane.waking) {
          const waking = new AbortController();
          lane.waking = waking;
          void this.clock.sleep(wait, waking.signal).then(() => {
            lane.waking = undefined;
            this.serve(service, lane);
          });
        }
        return;
      }
      lane.queue.shift()!.resolve();
    }
    if (lane.throttled) {
      lane.throttled = false;
      this.events.cleared(service);
    }
  }

  private flag(service: string, lane: ServiceLane, waitMs: number): void {
    if (lane.throttled) return;
    lane.throttled = true;
    this.events.throttled(service, waitMs);
  }
}
