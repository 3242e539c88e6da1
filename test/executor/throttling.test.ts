/**
 * Sustained 429s slow a run down and never stop it: a throttled call waits as long as the service asks,
 * a burst of 429s lowers the rate once, the rate climbs back, and a throttled or failed status write is
 * sent again without reading every identity again.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIN_RATE_FACTOR, TokenBucket } from '../../src/services/executor/rate-limiter.js';
import { throttled, transient } from './fakes.js';
import { HUB_A, type Harness, harness, seed } from './harness.js';
import { groupDevicesPlan, wholeGroupPlan } from './plans.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.cleanup();
});

const fleet = (n: number) => Array.from({ length: n }, (_, i) => ({ reg: `dev-${i}`, hub: HUB_A }));

describe('token bucket after 429s', () => {
  it('a burst of 429s (calls admitted before the rate was lowered) lowers it once', () => {
    const b = new TokenBucket(600, 1, 1, 0);
    const full = b.rate(0);
    // Eight calls admitted at t=0..7 all come back 429 at t=10..17.
    for (let k = 0; k < 8; k++) b.penalize(10 + k, 100, 60_000, k);
    expect(b.rate(200) / full).toBeCloseTo(1 / 2);
    // A call admitted after the lowering that meets a 429 is news: the rate is lowered again.
    b.penalize(300, 100, 60_000, 250);
    expect(b.rate(450) / full).toBeCloseTo(1 / 4);
  });

  it('never goes below its floor, however many lowerings', () => {
    const b = new TokenBucket(600, 1, 1, 0);
    for (let k = 0; k < 40; k++) b.penalize(k * 10, 1, 60_000, k * 10);
    expect(b.rate(500) / b.rate(10_000_000)).toBeCloseTo(MIN_RATE_FACTOR);
  });

  it('climbs back toward the allowance a step at a time, and is back within the window', () => {
    const b = new TokenBucket(600, 1, 1, 0);
    const full = b.rate(0);
    b.penalize(0, 0, 60_000, 0);
    b.penalize(1, 0, 60_000, 1);
    expect(b.rate(10_000) / full).toBeCloseTo(1 / 4);
    expect(b.slowed(10_000)).toBe(true);
    // Each quarter window after the first adds a quarter of the allowance.
    expect(b.rate(31_000) / full).toBeCloseTo(1 / 2);
    expect(b.rate(46_000) / full).toBeCloseTo(0.75);
    expect(b.rate(61_000) / full).toBeCloseTo(1);
    expect(b.slowed(61_000)).toBe(false);
  });
});

describe('executor under sustained 429s', () => {
  it('a call throttled 30 times in a row still completes: throttling alone never fails a step', async () => {
    const A = { reg: 'dev-a', hub: HUB_A };
    seed(h, [A]);
    h.dps.script.fail('deleteRegistration:dev-a', ...Array.from({ length: 30 }, () => throttled(1)));
    const summary = await (await h.start(groupDevicesPlan([A]))).done;
    expect(summary.state).toBe('completed');
    expect(summary.results.find((r) => r.stepId === 'cleanup:0')).toMatchObject({ outcome: 'succeeded' });
    expect(h.dps.script.count('deleteRegistration:dev-a')).toBe(31);
  });

  it('a throttled hub write is sent again without reading the identities again', async () => {
    const devices = fleet(10);
    seed(h, devices);
    h.hubA.script.fail('disableDevices', ...Array.from({ length: 5 }, () => throttled(1)));
    const summary = await (await h.start(wholeGroupPlan(devices))).done;
    expect(summary.state).toBe('completed');
    expect(h.hubA.script.count('disableDevices')).toBe(6);
    for (const d of devices) expect(h.hubA.script.count(`readIdentity:${d.reg}`), d.reg).toBe(1);
    expect([...h.hubA.devices.values()].every((d) => d.status === 'disabled')).toBe(true);
  });

  it('a failed identity read is read again alone; the others are not', async () => {
    const devices = fleet(6);
    seed(h, devices);
    h.hubA.script.fail('readIdentity:dev-3', throttled(1), transient(), throttled(1));
    const summary = await (await h.start(wholeGroupPlan(devices))).done;
    expect(summary.state).toBe('completed');
    expect(h.hubA.script.count('readIdentity:dev-3')).toBe(4);
    for (const d of devices.filter((x) => x.reg !== 'dev-3')) {
      expect(h.hubA.script.count(`readIdentity:${d.reg}`), d.reg).toBe(1);
    }
    expect(h.hubA.bulkCalls.filter((c) => c.kind === 'disableDevices')).toHaveLength(1);
  });
});
