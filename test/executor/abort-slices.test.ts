/**
 * Abort in the middle of a hub bulk step sent in slices: the slice in flight finishes, no later slice
 * and no retry is sent, the journal names the devices the sent slices settled, and `resume` sends
 * only the rest (without reading first when nothing was left unanswered).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resumeRun } from '../../src/services/executor/index.js';
import { throttled, until } from './fakes.js';
import { HUB_A, type Harness, harness, seed } from './harness.js';
import { wholeGroupPlan } from './plans.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.cleanup();
});

// S1, one unit: 100 identity operations a minute, slices of 50.
const fleet = (n: number) => Array.from({ length: n }, (_, i) => ({ reg: `dev-${i}`, hub: HUB_A }));
const writes = (h: Harness) => h.hubA.bulkCalls.filter((c) => c.kind === 'disableDevices');

describe('abort during a hub step sent in slices', () => {
  it('sends no slice after the abort; the journal records the settled slice; resume sends only the rest', async () => {
    const devices = fleet(150);
    seed(h, devices);
    const hold = h.hubA.script.gate('disableDevices');
    const handle = await h.start(wholeGroupPlan(devices));
    await until(() => writes(h).length === 1, 'the first slice in flight');
    handle.abort();
    hold();
    const summary = await handle.done;
    expect(summary.state).toBe('aborted');
    // The slice in flight finished; the two after it were never sent.
    expect(writes(h).map((c) => c.ids.length)).toEqual([50]);
    const disabled = [...h.hubA.devices.values()]
      .filter((d) => d.status === 'disabled')
      .map((d) => d.deviceId);
    expect(disabled).toHaveLength(50);

    const journal = await h.journal(summary.journalPath);
    const step = 'deregister:0';
    // Exactly those 50 are journaled as done; nothing of the step is left unanswered.
    const done = (journal.progress.get(step) ?? []).filter((d) => d.outcome === 'succeeded').map((d) => d.id);
    expect(done.sort()).toEqual(disabled.sort());
    expect(journal.unknownSteps).not.toContain(step);
    expect(journal.results.has(step)).toBe(false);

    const resumed = await (await resumeRun(summary.journalPath, h.options())).done;
    expect(resumed.state).toBe('completed');
    // Only the 100 not done are sent, with no read first (their state was known).
    expect(
      writes(h)
        .slice(1)
        .flatMap((c) => c.ids)
        .sort(),
    ).toEqual(
      devices
        .map((d) => d.reg)
        .filter((id) => !disabled.includes(id))
        .sort(),
    );
    expect(h.hubA.script.count('findDevices')).toBe(0);
    // Each device written once over both sessions.
    const all = writes(h).flatMap((c) => c.ids);
    expect(new Set(all).size).toBe(150);
    expect(all).toHaveLength(150);
    const result = resumed.results.find((r) => r.stepId === step);
    expect(result?.outcome).toBe('succeeded');
    expect(result?.devices).toHaveLength(150);
  });

  it('does not retry a throttled slice after the abort; resume reads the unanswered slice in bulk', async () => {
    const devices = fleet(150);
    seed(h, devices);
    const hold = h.hubA.script.gate('disableDevices');
    h.hubA.script.fail('disableDevices', throttled(10));
    const handle = await h.start(wholeGroupPlan(devices));
    await until(() => writes(h).length === 1, 'the first slice in flight');
    handle.abort();
    hold();
    const summary = await handle.done;
    expect(summary.state).toBe('aborted');
    // The 429 came after the abort: the slice is not sent again, and nothing after it.
    expect(writes(h)).toHaveLength(1);
    expect([...h.hubA.devices.values()].every((d) => d.status === 'enabled')).toBe(true);

    const resumed = await (await resumeRun(summary.journalPath, h.options())).done;
    expect(resumed.state).toBe('completed');
    // The unanswered slice's devices are read back in queries of up to 100 IDs, not one by one.
    expect(h.hubA.script.count('findDevices')).toBe(2);
    expect(h.hubA.script.calls.filter((c) => c.startsWith('getDevice:'))).toEqual([]);
    expect([...h.hubA.devices.values()].every((d) => d.status === 'disabled')).toBe(true);
  });
});

describe('the ETA', () => {
  it('comes from the operations left and the allowed rates (not the pace so far)', async () => {
    const devices = fleet(100);
    seed(h, devices);
    const holdGroup = h.dps.script.gate('getGroup:g1');
    const handle = await h.start(wholeGroupPlan(devices), { limits: { timeScale: 1 } });
    // Nothing done yet: 100 devices to disable on an S1 hub (a read and a write each: 200 operations
    // at 100 a minute) outweigh DPS (the group, 100 record deletes at 1,000 a minute).
    expect(handle.progress().eta?.remainingMs).toBeCloseTo(120_000, -3);
    handle.abort();
    holdGroup();
    const summary = await handle.done;
    expect(summary.state).toBe('aborted');
    expect(handle.progress().eta).toBeUndefined();
  });
});
