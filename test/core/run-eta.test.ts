import { describe, expect, it } from 'vitest';
import { estimateRemainingMs } from '../../src/core/run-eta.js';

describe('estimateRemainingMs: operations left at each service allowed rate', () => {
  it('is the slowest service: 300 hub operations at 100 a minute take 3 minutes beside a quick DPS', () => {
    const ms = estimateRemainingMs(
      [
        { service: 'dps', ops: 103, opsPerMinute: 1000 },
        { service: 'hub-us', ops: 300, opsPerMinute: 100 },
      ],
      0,
    );
    expect(ms).toBe(180_000);
  });

  it('adds what is left of a 429 hold on that service', () => {
    expect(
      estimateRemainingMs([{ service: 'hub', ops: 50, opsPerMinute: 100, heldUntilMs: 40_000 }], 10_000),
    ).toBe(60_000);
    // A hold that has ended adds nothing.
    expect(
      estimateRemainingMs([{ service: 'hub', ops: 50, opsPerMinute: 100, heldUntilMs: 5_000 }], 10_000),
    ).toBe(30_000);
  });

  it('does not depend on the pace so far: the same work left gives the same time, however long the run took', () => {
    const loads = [{ service: 'hub', ops: 200, opsPerMinute: 100 * 30 }];
    expect(estimateRemainingMs(loads, 1_000)).toBe(estimateRemainingMs(loads, 900_000));
    expect(estimateRemainingMs(loads, 0)).toBe(4_000);
  });

  it('is 0 with nothing left, and unknown when a service with work has no rate', () => {
    expect(estimateRemainingMs([], 0)).toBe(0);
    expect(estimateRemainingMs([{ service: 'hub', ops: 0, opsPerMinute: 0 }], 0)).toBe(0);
    expect(estimateRemainingMs([{ service: 'hub', ops: 5, opsPerMinute: 0 }], 0)).toBeUndefined();
  });
});
