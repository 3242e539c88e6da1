import { describe, expect, it } from 'vitest';
import { chooseHubPath } from '../../src/core/hub-path.js';

const base = { action: 'disable' as const, tier: 'S1' as const, units: 1, storageConfigured: true };

describe('hub path choice', () => {
  it('auto takes jobs for a large selection on S1, calls for a small one', () => {
    const big = chooseHubPath({ ...base, choice: 'auto', devices: 100_000 });
    expect(big.path).toBe('jobs');
    // 100,000 status changes on one S1 unit: 2,000 minutes on the call path.
    expect(big.callsSeconds).toBe(120_000);
    expect(big.jobsSeconds).toBeLessThan(big.callsSeconds);
    expect(chooseHubPath({ ...base, choice: 'auto', devices: 20 }).path).toBe('calls');
  });

  it('auto stays on calls without job storage, and on a hub whose throttle makes calls faster', () => {
    expect(
      chooseHubPath({ ...base, choice: 'auto', devices: 100_000, storageConfigured: false }),
    ).toMatchObject({
      path: 'calls',
      reason: expect.stringMatching(/--job-storage/),
    });
    const s3 = chooseHubPath({ ...base, choice: 'auto', devices: 1_000, tier: 'S3', units: 10 });
    expect(s3.path).toBe('calls');
  });

  it('an explicit choice wins, with both estimates still given', () => {
    const d = chooseHubPath({ ...base, choice: 'jobs', devices: 5 });
    expect(d).toMatchObject({ path: 'jobs', reason: '--hub-path jobs' });
    expect(d.callsSeconds).toBeGreaterThan(0);
    expect(chooseHubPath({ ...base, choice: 'calls', devices: 1e6 }).path).toBe('calls');
  });
});
