/**
 * Client-side rate limits: one token bucket per service (a DPS instance, a hub), so the run stays
 * under the documented limits instead of learning them from 429s. A 429 holds the service's calls for
 * the Retry-After and halves its rate once per burst; the rate then climbs back toward the allowance.
 */
import type { Clock } from './clock.js';

export class StoppedError extends Error {
  override readonly name = 'StoppedError';
  constructor() {
    super('the run is stopping');
  }
}

/** The lowest share of its allowance a service is slowed to after 429s. */
export const MIN_RATE_FACTOR = 1 / 64;

export class TokenBucket {
  private tokens: number;
  private last: number;
  /** Share of the configured rate in force since `factorSince` (lowered by a 429, then recovering). */
  private factor = 1;
  private factorSince = 0;
  /** When the rate was last lowered: a 429 for a call admitted before it belongs to the same burst. */
  private loweredAt = Number.NEGATIVE_INFINITY;
  private recoverMs = 60_000;
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

  /**
   * The share of the allowance in force: after a 429 it stays lowered for a quarter of the window,
   * then climbs back by a quarter of the allowance per quarter window (additive increase).
   */
  private factorAt(now: number): number {
    if (this.factor >= 1) return 1;
    const step = this.recoverMs / 4;
    const steps = Math.floor(Math.max(0, now - this.factorSince) / step);
    return Math.min(1, this.factor + Math.max(0, steps - 1) * 0.25);
  }

  /** Tokens per millisecond, as configured and adapted. */
  rate(now: number): number {
    return (this.perMinute * this.timeScale * this.factorAt(now)) / 60_000;
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

  /** Operations a minute allowed now (scaled, lowered after a 429), and until when calls are held. */
  pace(now: number): { opsPerMinute: number; heldUntilMs: number } {
    return { opsPerMinute: this.rate(now) * 60_000, heldUntilMs: this.holdUntil };
  }

  /** True while a 429 keeps the rate lowered. */
  slowed(now: number): boolean {
    return this.factorAt(now) < 1;
  }

  /**
   * The service said 429 to a call admitted at `admittedAt`: hold every call for `waitMs`; and lower the
   * rate by half, once per burst: a 429 for a call admitted before the last lowering is an echo of the
   * same overload (calls already in flight), not news, so it only extends the hold. A Retry-After of
   * `waitMs` for a call of `cost` operations says the service refills about `cost / waitMs` per
   * millisecond: the rate goes no higher than that.
   */
  penalize(now: number, waitMs: number, windowMs: number, admittedAt: number = now, cost = 0): void {
    this.holdUntil = Math.max(this.holdUntil, now + waitMs);
    if (admittedAt >= this.loweredAt) {
      const allowance = (this.perMinute * this.timeScale) / 60_000;
      const told = cost > 0 && waitMs > 0 ? cost / waitMs / allowance : 1;
      this.factor = Math.max(Math.min(this.factorAt(now) / 2, told), MIN_RATE_FACTOR);
      this.factorSince = Math.max(now, this.holdUntil);
      this.loweredAt = now;
      this.recoverMs = windowMs;
    }
    // Nothing accrues while held: after a 429, the first call waits out the hold and one interval.
    this.tokens = Math.min(this.tokens, 0);
    this.last = Math.max(this.last, this.holdUntil);
  }
}

interface Waiter {
  cost: number;
  interruptible: boolean;
  resolve: (admittedAt: number) => void;
  reject: (e: unknown) => void;
}

interface ServiceLane {
  bucket: TokenBucket;
  queue: Waiter[];
  /** Set while a timer waits to serve the queue; aborting it wakes the lane early. */
  waking: AbortController | undefined;
  throttled: boolean;
  /** The end of the wait last reported. */
  throttledUntil: number;
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
        throttledUntil: 0,
      };
      this.lanes.set(service, lane);
    }
    return lane;
  }

  /**
   * Waits (FIFO per service) until `cost` operations may be spent. An interruptible wait rejects with
   * StoppedError on stop; the others (a read that completes a change already made) still get their turn.
   * Answers the time the call was admitted (give it to `penalize` if the call meets a 429).
   */
  acquire(service: string, cost: number, interruptible = true): Promise<number> {
    if (interruptible && this.stop.signal.aborted) return Promise.reject(new StoppedError());
    const lane = this.lane(service);
    return new Promise<number>((resolve, reject) => {
      lane.queue.push({ cost, interruptible, resolve, reject });
      this.serve(service, lane);
    });
  }

  /**
   * A 429 for a call admitted at `admittedAt` (see `acquire`'s answer): hold the service's calls and
   * slow it down, once per burst.
   */
  penalize(service: string, waitMs: number, windowMs: number, admittedAt?: number, cost?: number): void {
    const lane = this.lane(service);
    lane.bucket.penalize(this.clock.now(), waitMs, windowMs, admittedAt, cost);
    this.flag(service, lane, waitMs);
  }

  /** True once stopAll was called (until restart). */
  get stopped(): boolean {
    return this.stop.signal.aborted;
  }

  /** The service's allowed rate now and its hold (for the ETA). */
  pace(service: string): { opsPerMinute: number; heldUntilMs: number } {
    return this.lane(service).bucket.pace(this.clock.now());
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
      // Nobody left to serve: do not keep the process waiting for a timer, nor show a wait.
      if (lane.queue.length === 0) {
        lane.waking?.abort();
        if (lane.throttled) {
          lane.throttled = false;
          this.events.cleared(service);
        }
      } else this.serve(service, lane);
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
      lane.queue.shift()?.resolve(this.clock.now());
    }
    if (lane.throttled) {
      lane.throttled = false;
      this.events.cleared(service);
    }
  }

  /** Reports a wait; again when it ends later than the one reported (the screen counts to its end). */
  private flag(service: string, lane: ServiceLane, waitMs: number): void {
    const until = this.clock.now() + waitMs;
    if (lane.throttled && until <= lane.throttledUntil) return;
    lane.throttled = true;
    lane.throttledUntil = until;
    this.events.throttled(service, waitMs);
  }
}
