import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HUB_A, type Harness, harness, seed } from './harness.js';
import { wholeGroupPlan } from './plans.js';

// An S1 hub with one unit allows 100 identity operations a minute; a bulk call must fit in half of that,
// or it meets a full-bucket requirement at the service and comes back 429 however long the client waits.
let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.cleanup();
});

const fleet = (n: number) => Array.from({ length: n }, (_, i) => ({ reg: `dev-${i}`, hub: HUB_A }));

describe('hub steps are sent in slices the hub can take', () => {
  it('disables 100 devices on S1 in calls of 50 (the reads and the write of a status change are calls of their own)', async () => {
    const devices = fleet(100);
    seed(h, devices);
    const summary = await (await h.start(wholeGroupPlan(devices), { limits: { timeScale: 100_000 } })).done;
    expect(summary.state).toBe('completed');
    const sizes = h.hubA.bulkCalls.filter((c) => c.kind === 'disableDevices').map((c) => c.ids.length);
    expect(sizes).toEqual([50, 50]);
    // Each identity read once, before its write.
    expect(h.hubA.script.calls.filter((c) => c.startsWith('readIdentity:'))).toHaveLength(100);
    expect([...h.hubA.devices.values()].every((d) => d.status === 'disabled')).toBe(true);
  });

  it('sends 100 devices in one call on S3', async () => {
    const devices = fleet(100);
    seed(h, devices);
    const limits = { timeScale: 100_000, defaultHub: { tier: 'S3' as const, units: 1 } };
    await (await h.start(wholeGroupPlan(devices), { limits })).done;
    expect(h.hubA.bulkCalls.filter((c) => c.kind === 'disableDevices').map((c) => c.ids.length)).toEqual([
      100,
    ]);
  });
});
