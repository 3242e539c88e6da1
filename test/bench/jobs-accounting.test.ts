import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AzuriteHandle, startAzurite } from '../../bench/azurite.js';
import { accountOperations, callsFloorMinutes, runCase } from '../../bench/jobs.js';
import type { EmulatorStats } from '../../src/services/emulator/index.js';

// The jobs benchmark's accounting (bench/jobs.ts): what it counts from the emulator's stats, on made-up
// stats and on tiny fleets run through the real executor, emulator and Azurite. No timings asserted.

const HUB = 'hub-a.azure-devices.net';

describe('accountOperations', () => {
  it('counts single identity calls, bulk devices less job writes, job calls and queries apart', () => {
    const stats: EmulatorStats = {
      operations: {
        'hub:getDevice': { '200': 5, '404': 1, '429': 3 },
        'hub:putDevice': { '200': 1, '412': 1, reset: 2 },
        'hub:bulkUpdateIfMatchETag': { '200': 1 },
        'hub:createJob:export': { '200': 1 },
        'hub:createJob:import': { '200': 1, '409': 1 },
        'hub:getJob': { '200': 7 },
        'hub:query': { '200': 2 },
        'hub:statistics': { '200': 4 },
        'dps:getEnrollment': { '200': 9 },
      },
      destructive: {
        // 5 written by the bulk call, 3 by an import job, 1 by the single PUT.
        ...Object.fromEntries(['b1', 'b2', 'b3', 'b4', 'b5'].map((d) => [`${HUB}/${d}`, { disable: 1 }])),
        ...Object.fromEntries(['j1', 'j2', 'j3'].map((d) => [`${HUB}/${d}`, { disable: 1 }])),
        [`${HUB}/p1`]: { disable: 1 },
        // Not this run's hub devices: a module, another hub, DPS.
        [`${HUB}/p1/modules/m1`]: { delete: 1 },
        'hub-b.azure-devices.net/x1': { disable: 1 },
        'dps/enrollments/e1': { disable: 1 },
      },
      requests: 0,
    };
    expect(accountOperations(stats, [HUB], 3)).toEqual({
      singleIdentityOps: 8,
      bulkCalls: 1,
      bulkDevices: 5,
      identityOps: 13,
      jobCreates: 3,
      jobReads: 7,
      queries: 2,
      throttled: 3,
    });
  });

  it('counts no bulk devices when no bulk call was answered, whatever the hub wrote through jobs', () => {
    const stats: EmulatorStats = {
      operations: { 'hub:createJob:import': { '200': 1 }, 'hub:getJob': { '200': 2 } },
      destructive: { [`${HUB}/d1`]: { delete: 1 }, [`${HUB}/d2`]: { delete: 1 } },
      requests: 3,
    };
    const acc = accountOperations(stats, [HUB]);
    expect(acc.identityOps).toBe(0);
    expect(acc.bulkDevices).toBe(0);
    expect(acc.jobCreates).toBe(1);
  });

  it('puts the calls floor at the busiest hub: two operations a device to disable, one to delete', () => {
    expect(callsFloorMinutes(100_000, 1, 'disable')).toBe(2000);
    expect(callsFloorMinutes(100_000, 1, 'delete')).toBe(1000);
    expect(callsFloorMinutes(100_000, 3, 'delete')).toBeCloseTo(333.34, 6);
  });
});

describe('runCase on tiny fleets (executor + emulator + Azurite)', () => {
  let azurite: AzuriteHandle;
  let stateHome: string;
  const base = { devices: 40, timeScale: 1000 };
  beforeAll(async () => {
    stateHome = await mkdtemp(join(tmpdir(), 'jobs-bench-test-'));
    azurite = await startAzurite();
  }, 60_000);
  afterAll(async () => {
    await azurite?.stop();
    if (stateHome) await rm(stateHome, { recursive: true, force: true });
  });

  it('calls path: a disable is a read and a write per device, a delete one operation per device', async () => {
    const disable = await runCase({ ...base, path: 'calls', action: 'disable', hubs: 1, stateHome });
    expect(disable.done).toBe(40);
    expect(disable.accounting.singleIdentityOps).toBe(40);
    expect(disable.accounting.bulkDevices).toBe(40);
    expect(disable.accounting.identityOps).toBe(80);
    expect(disable.accounting.jobCreates).toBe(0);
    const del = await runCase({ ...base, path: 'calls', action: 'delete', hubs: 1, stateHome });
    expect(del.done).toBe(40);
    expect(del.accounting.identityOps).toBe(40);
  }, 60_000);

  it('jobs path: no identity operation, an export and an import job to disable, one import to delete', async () => {
    const disable = await runCase({ ...base, path: 'jobs', action: 'disable', hubs: 1, stateHome, azurite });
    expect(disable.done).toBe(40);
    expect(disable.claimedNotDone).toBe(0);
    expect(disable.accounting.identityOps).toBe(0);
    expect(disable.accounting.jobCreates).toBe(2);
    expect(Object.values(disable.jobsCreated)).toEqual([{ export: 1, import: 1 }]);
    expect(disable.jobs.map((j) => `${j.type}:${j.status}`).sort()).toEqual([
      'export:completed',
      'import:completed',
    ]);
    // Every job's own time is read from the hub (an end time for each: the overhead has a base).
    expect(disable.jobs.every((j) => Number.isFinite(j.ms))).toBe(true);
    expect(disable.blobsLeft).toBe(0);
    const del = await runCase({ ...base, path: 'jobs', action: 'delete', hubs: 1, stateHome, azurite });
    expect(del.done).toBe(40);
    expect(del.accounting.identityOps).toBe(0);
    expect(Object.values(del.jobsCreated)).toEqual([{ export: 0, import: 1 }]);
  }, 60_000);

  it('jobs path over three hubs, a container each: jobs counted per hub, every device done', async () => {
    const r = await runCase({
      ...base,
      path: 'jobs',
      action: 'disable',
      hubs: 3,
      stateHome,
      azurite,
      containerPerHub: true,
    });
    expect(r.hubs).toBe(3);
    expect(r.done).toBe(40);
    expect(r.accounting.identityOps).toBe(0);
    expect(Object.values(r.jobsCreated)).toEqual([
      { export: 1, import: 1 },
      { export: 1, import: 1 },
      { export: 1, import: 1 },
    ]);
    expect(r.jobs).toHaveLength(6);
  }, 60_000);
});
