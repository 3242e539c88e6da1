import { describe, expect, it } from 'vitest';
import { chooseHubReadPath, hubReadLines } from '../../src/core/hub-read-path.js';
import { hubQueriesPerMinute } from '../../src/core/hub-lookup.js';

const s1 = hubQueriesPerMinute({ tier: 'S1', units: 1 });
const base = { queriesPerMinute: s1, storageConfigured: true };

describe("verify's hub read path", () => {
  it('auto: 100,000 IDs on one S1 hub take one export job (1,000 queries would take 50 min)', () => {
    const d = chooseHubReadPath({ ...base, choice: 'auto', deviceIds: 100_000 });
    expect(d).toMatchObject({ path: 'export', queries: 1000, queriesSeconds: 3000 });
    // One job: a minute of overhead, 60,000 devices a minute.
    expect(d.exportSeconds).toBe(160);
    expect(d.reason).toBe('1,000 queries, 50 min by queries; a job ~3 min');
  });

  it('auto: a few hundred IDs stay on queries; the threshold moves with the query budget', () => {
    expect(chooseHubReadPath({ ...base, choice: 'auto', deviceIds: 500 }).path).toBe('queries');
    // On S1 a query per 100 IDs costs 3 s: past ~2,100 IDs the queries take longer than one job.
    expect(chooseHubReadPath({ ...base, choice: 'auto', deviceIds: 2_000 }).path).toBe('queries');
    expect(chooseHubReadPath({ ...base, choice: 'auto', deviceIds: 2_200 }).path).toBe('export');
    const s3 = hubQueriesPerMinute({ tier: 'S3', units: 1 });
    expect(
      chooseHubReadPath({ ...base, choice: 'auto', deviceIds: 100_000, queriesPerMinute: s3 }).path,
    ).toBe('queries');
  });

  it('no job storage, or --hub-path calls: queries, saying why; --hub-path jobs: the export job', () => {
    const none = chooseHubReadPath({ ...base, choice: 'auto', deviceIds: 100_000, storageConfigured: false });
    expect(none).toMatchObject({ path: 'queries', reason: expect.stringMatching(/--job-storage/) });
    const calls = chooseHubReadPath({ ...base, choice: 'calls', deviceIds: 100_000 });
    expect(calls).toMatchObject({ path: 'queries', reason: expect.stringMatching(/^--hub-path calls/) });
    expect(chooseHubReadPath({ ...base, choice: 'jobs', deviceIds: 5 })).toMatchObject({
      path: 'export',
      reason: '--hub-path jobs',
    });
  });

  it('one line per hub in 80 columns, the host shortened or the line cut when it would not fit', () => {
    const lines = hubReadLines([
      { hub: 'hub-eu.azure-devices.net', path: 'export', reason: '--hub-path jobs', deviceIds: 100_000 },
      {
        hub: 'a-very-long-hub-name-for-the-fleet.azure-devices.net',
        path: 'queries',
        reason: '--hub-path calls: 1,000 queries, 50 min',
        deviceIds: 100_000,
      },
    ]);
    expect(lines[0]).toBe('Hub reads:');
    expect(lines[1]).toBe('  hub-eu.azure-devices.net: export job, no keys, 100,000 IDs (--hub-path jobs)');
    expect(lines[2]).toMatch(/^ {2}a-very-long-hub-name-for-the-fleet: queries/);
    expect(lines.every((l) => l.length <= 80)).toBe(true);
    expect(hubReadLines([])).toEqual([]);
  });
});
