import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/services/executor/clock.js';
import { DEFAULT_LIMITS, hubOpsPerMinute } from '../../src/services/executor/limits.js';
import { ServiceLimiter, StoppedError, TokenBucket } from '../../src/services/executor/rate-limiter.js';
import { HUB_A, harness, seed } from './harness.js';
import { groupDevicesPlan } from './plans.js';

/** A clock the test moves by hand: sleeps resolve when `advance` passes their deadline. */
class ManualClock implements Clock {
  t = 0;
  private timers: { at: number; resolve: () => void }[] = [];
  now = () => this.t;
  sleep = (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve) => {
      const timer = { at: this.t + ms, resolve };
      this.timers.push(timer);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  async advance(ms: number): Promise<void> {
    this.t += ms;
    const due = this.timers.filter((x) => x.at <= this.t);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const x of due) x.resolve();
    for (let k = 0; k < 5; k++) await Promise.resolve();
  }
}

const flush = async () => {
  for (let k = 0; k < 5; k++) await Promise.resolve();
};

describe('token bucket', () => {
  it('allows a burst, then the configured rate', () => {
    // 60 per minute with a 10 s burst: 10 at once, then one per second.
    const b = new TokenBucket(60, 1, 10, 0);
    for (let k = 0; k < 10; k++) expect(b.tryTake(1, 0)).toBe(0);
    expect(b.tryTake(1, 0)).toBe(1000);
    expect(b.tryTake(1, 999)).toBe(1);
    expect(b.tryTake(1, 1000)).toBe(0);
  });

  it('lets a bulk call bigger than a burst go when full, then holds the average rate', () => {
    // S1, one unit: 100 identity operations a minute.
    const b = new TokenBucket(hubOpsPerMinute({ tier: 'S1', units: 1 }), 1, 10, 0);
    expect(b.tryTake(100, 0)).toBe(0);
    // 100 devices spent: the next call of 50 waits until the minute's allowance covers it.
    const wait = b.tryTake(50, 0);
    expect(wait).toBeGreaterThanOrEqual(60_000);
    expect(wait).toBeLessThanOrEqual(61_000);
  });

  it('scales with the tier and units, and with timeScale', () => {
    expect(hubOpsPerMinute({ tier: 'S3', units: 2 })).toBe(10_000);
    expect(hubOpsPerMinute({ tier: 'S2', units: 3 })).toBe(300);
    const real = new TokenBucket(600, 1, 1, 0);
    const fast = new TokenBucket(600, 60, 1, 0);
    real.tryTake(10, 0);
    fast.tryTake(10, 0);
    // Ten operations at 600 a minute: one second; sixty times faster: 1/60 of it.
    expect(real.tryTake(10, 0)).toBe(1000);
    expect(fast.tryTake(10, 0)).toBe(17);
  });

  it('after a 429 holds calls for Retry-After and halves the rate for a while', () => {
    const b = new TokenBucket(60, 1, 1, 0);
    b.penalize(0, 5000, 60_000);
    expect(b.tryTake(1, 0)).toBe(5000);
    // Half the rate: a token takes two seconds to come back.
    expect(b.tryTake(1, 5000)).toBe(2000);
    expect(b.tryTake(1, 7000)).toBe(0);
    // After the window, the configured rate again.
    expect(b.rate(70_000)).toBeCloseTo(1 / 1000);
  });
});

describe('service limiter', () => {
  it('serves each service in order at its own rate, and reports and clears throttling', async () => {
    const clock = new ManualClock();
    const events: string[] = [];
    const limiter = new ServiceLimiter(clock, (s) => (s === 'dps' ? 60 : 600), 1, 10, 1000, {
      throttled: (s, w) => events.push(`throttled ${s} ${w}`),
      cleared: (s) => events.push(`cleared ${s}`),
    });
    const granted: string[] = [];
    for (let k = 0; k < 12; k++) void limiter.acquire('dps', 1).then(() => granted.push(`dps${k}`));
    void limiter.acquire('hub', 50).then(() => granted.push('hub'));
    await flush();
    // dps: a 10-call burst; the hub is independent of the dps queue.
    expect(granted).toEqual([...Array.from({ length: 10 }, (_, k) => `dps${k}`), 'hub']);
    expect(events).toEqual(['throttled dps 1000']);
    await clock.advance(1000);
    expect(granted.at(-1)).toBe('dps10');
    await clock.advance(1000);
    expect(granted.at(-1)).toBe('dps11');
    // The second wait is reported when the first has ended (the screen never counts down to "0s" and
    // stays there while calls still wait), then cleared when the queue is served.
    expect(events).toEqual(['throttled dps 1000', 'throttled dps 1000', 'cleared dps']);
  });

  it('on stop rejects waiting calls, except reads that complete a change already made', async () => {
    const clock = new ManualClock();
    const limiter = new ServiceLimiter(clock, () => 60, 1, 1, 1000, {
      throttled: () => {},
      cleared: () => {},
    });
    await limiter.acquire('dps', 1);
    const interruptible = limiter.acquire('dps', 1);
    const followUp = limiter.acquire('dps', 1, false);
    limiter.stopAll();
    await expect(interruptible).rejects.toBeInstanceOf(StoppedError);
    await expect(limiter.acquire('dps', 1)).rejects.toBeInstanceOf(StoppedError);
    let done = false;
    void followUp.then(() => {
      done = true;
    });
    await clock.advance(1000);
    expect(done).toBe(true);
  });
});

describe('executor under hub limits', () => {
  it('spaces hub batches at the tier rate and shows the client-side wait as throttling', async () => {
    const h = await harness();
    try {
      const devices = Array.from({ length: 100 }, (_, k) => ({ reg: `d${k}`, hub: HUB_A }));
      seed(h, devices);
      // S1, one unit, 60 times faster: 100 devices a second. Each batch of 50 exceeds the 10 s burst.
      const handle = await h.start(groupDevicesPlan(devices, { batch: 50 }), {
        limits: { ...DEFAULT_LIMITS, timeScale: 60, callTimeoutMs: 5000 },
      });
      const summary = await handle.done;
      expect(h.seen.some((p) => p.throttled?.service === HUB_A)).toBe(true);
      expect(summary.state).toBe('completed');
      expect(h.hubA.bulkCalls.map((c) => c.ids.length)).toEqual([50, 50]);
      expect(h.seen.at(-1)?.throttled).toBeUndefined();
    } finally {
      await h.cleanup();
    }
  });
});
