import { describe, expect, it } from 'vitest';
import { DEFAULT_JOB_MODEL, estimateJobsSeconds } from '../../src/core/hub-path.js';
import {
  expectedJobMs,
  JOB_POLL_BASE_MS,
  JOB_POLL_MAX_MS,
  jobPollCeilingMs,
} from '../../src/core/job-poll.js';

describe('how often a job is read: the ceiling follows its expected duration', () => {
  it('is a twentieth of the expected duration between the base and the most', () => {
    // 100,000 devices by the default model: a minute of overhead and 100 s of devices; read every 8 s.
    expect(jobPollCeilingMs(160_000, 2000, 30_000)).toBe(8000);
    expect(jobPollCeilingMs(expectedJobMs(100_000), JOB_POLL_BASE_MS)).toBe(8000);
    expect(jobPollCeilingMs(100_000, 2000, 30_000)).toBe(5000);
  });

  it('never goes below the base: a short job is read as before', () => {
    expect(jobPollCeilingMs(10_000, 2000, 30_000)).toBe(2000);
    expect(jobPollCeilingMs(40_000, 2000, 30_000)).toBe(2000);
    expect(jobPollCeilingMs(60, 20, 30)).toBe(20);
  });

  it('never goes above the most (30 s of service time by default)', () => {
    expect(jobPollCeilingMs(3_600_000, 2000, 30_000)).toBe(30_000);
    expect(jobPollCeilingMs(3_600_000, 2000)).toBe(JOB_POLL_MAX_MS);
    expect(JOB_POLL_MAX_MS).toBe(30_000);
    // Scaled time (a run 200 times faster): the most is 150 ms.
    expect(jobPollCeilingMs(expectedJobMs(1_000_000) / 200, 10, JOB_POLL_MAX_MS / 200)).toBe(150);
  });

  it('keeps the base when the base is above the most (the caller asked for no faster reads)', () => {
    // A sandbox at 60x reading every 2 s of its own time: 30 s of service time is 500 ms there.
    expect(jobPollCeilingMs(expectedJobMs(100_000) / 60, 2000, 30_000 / 60)).toBe(2000);
  });

  it('is the base when nothing is expected', () => {
    expect(jobPollCeilingMs(undefined, 2000, 30_000)).toBe(2000);
    expect(jobPollCeilingMs(0, 1500, 30_000)).toBe(1500);
    expect(jobPollCeilingMs(Number.NaN, 1500, 30_000)).toBe(1500);
    expect(jobPollCeilingMs(-5, 1500, 30_000)).toBe(1500);
  });

  it('ignores a most that is no number (the default most instead)', () => {
    expect(jobPollCeilingMs(3_600_000, 2000, Number.NaN)).toBe(JOB_POLL_MAX_MS);
    expect(jobPollCeilingMs(3_600_000, 2000, 0)).toBe(JOB_POLL_MAX_MS);
  });

  it("one job's expected duration is the job model's: a delete step is one job, a disable two", () => {
    for (const n of [0, 1, 300, 100_000]) {
      expect(expectedJobMs(n)).toBe(estimateJobsSeconds(n, 'delete') * 1000);
      expect(2 * expectedJobMs(n)).toBe(estimateJobsSeconds(n, 'disable') * 1000);
    }
    expect(expectedJobMs(0)).toBe(DEFAULT_JOB_MODEL.overheadSeconds * 1000);
    const slow = { overheadSeconds: 10, devicesPerMinute: 600 };
    expect(expectedJobMs(600, slow)).toBe(70_000);
  });
});
