/**
 * Runs under injected faults (20% 5xx, 5% connection resets) and a 429 storm (the emulator is a slow
 * S1 hub while the client is told it may go at S3 speed): every device still ends in its intended
 * state and the command exits 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultSpec } from '../../src/services/emulator/index.js';
import { type CliResult, waitUntil } from '../support/cli.js';
import { type CliFixture, deviceOn, startCliFixture } from './fixture.js';
import { buildFleet } from './fleet.js';

let f: CliFixture;
// Too fast for the emulator's S1 hubs: the hubs answer 429 with Retry-After.
const OVER_EAGER = ['--hub-tier', 'S3', '--hub-units', '10'];
const FAULTS: FaultSpec = { error5xxRate: 0.2, resetRate: 0.05, seed: 42 };

beforeAll(async () => {
  f = await startCliFixture({ tier: 'S1', units: 1, timeScale: 30 });
});

afterAll(async () => {
  await f?.close();
});

/** Answers per status across operations whose name starts with `prefix` ("hub:", "dps:", "" = all). */
function answers(prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [op, byStatus] of Object.entries(f.emulator.stats().operations)) {
    if (!op.startsWith(prefix)) continue;
    for (const [status, n] of Object.entries(byStatus)) out[status] = (out[status] ?? 0) + n;
  }
  return out;
}

/** Faults from the first request of the command to its end. */
async function runWithFaults(args: string[], spec: FaultSpec): Promise<CliResult> {
  f.emulator.setFaults(spec);
  try {
    return await f.cli(args);
  } finally {
    f.emulator.setFaults(undefined);
  }
}

/**
 * Faults from the moment the run has started (plan read, journal open) to its end: what the executor
 * must survive. (The reads that build the plan are the last test's subject.)
 */
async function runWithFaultsOnceStarted(args: string[], spec: FaultSpec): Promise<CliResult> {
  const child = f.spawn(args);
  await waitUntil(() => (/^Run \S+ started; journal /m.test(child.output().stderr) ? true : undefined), 5);
  f.emulator.setFaults(spec);
  try {
    return await child.result;
  } finally {
    f.emulator.setFaults(undefined);
  }
}

describe('faults and throttling', () => {
  it('900 devices on S1 hubs deleted through 5xx, resets and a 429 storm: each once, exit 0', async () => {
    const fleet = buildFleet(f.emulator, 'storm', 900, { disabledEvery: 50 });
    f.emulator.resetStats();
    const run = await runWithFaultsOnceStarted(
      ['run', '--group', 'storm', '--disenroll', 'disable', '--deregister', 'delete', '--yes', ...OVER_EAGER],
      FAULTS,
    );
    expect(run.stdout, run.stderr).toMatch(/^Run \S+: completed$/m);
    expect(run.code).toBe(0);
    const hub = answers('hub:');
    const all = answers('');
    // The storm and the faults really happened, else this proves nothing.
    expect(hub['429'] ?? 0).toBeGreaterThan(0);
    expect((all['500'] ?? 0) + (all['503'] ?? 0)).toBeGreaterThan(0);
    expect(all.reset ?? 0).toBeGreaterThan(0);

    expect(f.emulator.store.dps.groups.get('storm')?.provisioningStatus).toBe('disabled');
    const destructive = f.emulator.stats().destructive;
    const wrong = [...fleet.hubOf].filter(
      ([id, h]) => deviceOn(f.emulator, h, id) !== undefined || destructive[`${h}/${id}`]?.delete !== 1,
    );
    expect(wrong).toEqual([]);

    const verify = await f.cli(['verify', '--group', 'storm']);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('Re-enrollment: 900 blocked, 0 possible, 0 allowed');
  });

  it('a group deleted with devices and records, resets after writes too: all gone once, exit 0', async () => {
    const fleet = buildFleet(f.emulator, 'flaky', 45);
    f.emulator.resetStats();
    // resetAfter: the write is applied, then the connection drops: the retry must take "not found" as done.
    const run = await runWithFaultsOnceStarted(
      [
        'run',
        '--group',
        'flaky',
        '--disenroll',
        'delete',
        '--deregister',
        'delete',
        '--delete-registrations',
        '--delete-group',
        '--yes',
        ...OVER_EAGER,
      ],
      { ...FAULTS, resetAfterRate: 0.05, seed: 7 },
    );
    expect(run.stdout, run.stderr).toMatch(/^Run \S+: completed$/m);
    expect(run.code).toBe(0);
    expect(answers('').resetAfter ?? 0).toBeGreaterThan(0);
    const { store } = f.emulator;
    expect(store.dps.groups.has('flaky')).toBe(false);
    const destructive = f.emulator.stats().destructive;
    for (const [id, h] of fleet.hubOf) {
      expect(deviceOn(f.emulator, h, id), id).toBeUndefined();
      expect(store.dps.registrations.has(id), id).toBe(false);
      expect(destructive[`${h}/${id}`], id).toEqual({ delete: 1 });
      expect(destructive[`dps/registrations/${id}`], id).toEqual({ delete: 1 });
    }
  });

  it('150 devices disabled on their hubs through 5xx and resets: all disabled, exit 0', async () => {
    const fleet = buildFleet(f.emulator, 'patchy', 150, { disabledEvery: 25 });
    const run = await runWithFaultsOnceStarted(
      [
        'run',
        '--group',
        'patchy',
        '--disenroll',
        'disable',
        '--deregister',
        'disable',
        '--yes',
        ...OVER_EAGER,
      ],
      { ...FAULTS, seed: 9 },
    );
    expect(run.stdout, run.stderr).toMatch(/^Run \S+: completed$/m);
    expect(run.code).toBe(0);
    const notDisabled = [...fleet.hubOf].filter(
      ([id, h]) => deviceOn(f.emulator, h, id)?.status !== 'disabled',
    );
    expect(notDisabled).toEqual([]);
  });

  it('faults from the first request (the reads that build the plan too): still done, exit 0', async () => {
    const fleet = buildFleet(f.emulator, 'early', 30);
    const run = await runWithFaults(
      ['run', '--group', 'early', '--disenroll', 'disable', '--deregister', 'delete', '--yes', ...OVER_EAGER],
      { ...FAULTS, seed: 5 },
    );
    expect(run.stderr).not.toMatch(/^iot-deprovision: /m);
    expect(run.code).toBe(0);
    expect(f.emulator.store.dps.groups.get('early')?.provisioningStatus).toBe('disabled');
    expect([...fleet.hubOf].filter(([id, h]) => deviceOn(f.emulator, h, id))).toEqual([]);
  });
});
