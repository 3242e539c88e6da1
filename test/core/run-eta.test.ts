import { describe, expect, it } from 'vitest';
import { estimateJobsRemainingMs, estimateRemainingMs } from '../../src/core/run-eta.js';

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

describe('estimateJobsRemainingMs: hub job steps left at the pace of the job model', () => {
  it('a job not started counts whole; a started one counts what is left of it, never below zero', () => {
    expect(estimateJobsRemainingMs([{ estimateMs: 120_000 }], 50_000)).toBe(120_000);
    expect(estimateJobsRemainingMs([{ estimateMs: 120_000, startedAtMs: 20_000 }], 50_000)).toBe(90_000);
    expect(estimateJobsRemainingMs([{ estimateMs: 120_000, startedAtMs: 0 }], 500_000)).toBe(0);
  });

  it('jobs sharing one container take turns (they add up); with more lanes they overlap, the longest at least', () => {
    const jobs = [{ estimateMs: 60_000 }, { estimateMs: 60_000 }, { estimateMs: 30_000, startedAtMs: 0 }];
    expect(estimateJobsRemainingMs(jobs, 10_000)).toBe(140_000);
    expect(estimateJobsRemainingMs(jobs, 10_000, 3)).toBe(60_000);
    expect(estimateJobsRemainingMs([], 0)).toBe(0);
  });
});
