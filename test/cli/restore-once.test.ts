/**
 * Restore undoes exactly one run, once, and never a later one: a second restore is refused naming the
 * first; a target a later run acted on stays as that run left it, and the restore names that run; a
 * target someone else changed since is left and listed; a one-device run's blocker is deleted (with
 * If-Match on the ETag the run left); restore's verify checks the targets are back, then exits 0.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines } from '../support/cli.js';
import { type CliFixture, findDevice, groupDevices, startCliFixture, stateOf } from './fixture.js';

let f: CliFixture;

beforeAll(async () => {
  f = await startCliFixture({ seed: 'demo', timeScale: 120 });
});

afterAll(async () => {
  await f?.close();
});

const GROUP = 'smart-meters-eu';
const DISABLED_BEFORE = 'meter-eu-0011';
const statusOf = (id: string) => findDevice(f.emulator, id)?.device.status;

async function run(args: string[]): Promise<string> {
  const r = await f.cli(['run', ...args, '--yes', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return String(jsonLines(r.stdout)[0].runId);
}

const journal = async (runId: string) =>
  (await readFile(join(f.stateHome, 'iot-deprovision', 'runs', `${runId}.jsonl`), 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, any>);

describe('restore undoes exactly one run, once', () => {
  const ids: Record<string, string> = {};

  it('a restore is a run of its own naming the run it restores; restoring again is refused, naming it', async () => {
    ids.kiosk = await run([
      '--enrollment',
      'kiosk-madrid-0005',
      '--disenroll',
      'disable',
      '--deregister',
      'disable',
    ]);
    const first = await f.cli(['restore', ids.kiosk, '--yes', '--json']);
    expect(first.code).toBe(0);
    ids.kioskRestore = String(jsonLines(first.stdout)[0].runId);
    expect((await journal(ids.kioskRestore))[0]).toMatchObject({ type: 'header', restoreOf: ids.kiosk });
    expect(f.emulator.store.dps.enrollments.get('kiosk-madrid-0005')?.provisioningStatus).toBe('enabled');

    // Disabled again by hand since: a second restore must not touch it.
    const before = stateOf(f.emulator);
    const second = await f.cli(['restore', ids.kiosk, '--yes']);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`run ${ids.kiosk} was already restored by run ${ids.kioskRestore}`);
    expect(second.stderr).toMatch(/nothing changed/);
    expect(stateOf(f.emulator)).toBe(before);

    const runs = await f.cli(['runs'], { target: false });
    expect(runs.stdout).toContain(`restored by ${ids.kioskRestore}`);
    expect(runs.stdout).toContain(`restores run ${ids.kiosk}`);
    const { runs: all } = JSON.parse((await f.cli(['runs', '--json'], { target: false })).stdout) as {
      runs: { runId: string; restoredBy?: string[] }[];
    };
    expect(all.find((r) => r.runId === ids.kiosk)?.restoredBy).toEqual([ids.kioskRestore]);
  });

  it('a device a later run acted on stays as that run left it, and the restore names that run', async () => {
    // Run A: the whole group, disabled. Run B (later): one device of it, blocker + hub delete.
    ids.a = await run(['--group', GROUP, '--disenroll', 'disable', '--deregister', 'disable']);
    ids.b = await run([
      '--group',
      GROUP,
      '--device',
      'meter-eu-0003',
      '--device',
      'meter-eu-0004',
      '--disenroll',
      'disable',
      '--deregister',
      'delete',
    ]);
    expect(findDevice(f.emulator, 'meter-eu-0003')).toBeUndefined();

    const restore = await f.cli(['restore', ids.a, '--yes']);
    expect(restore.code, restore.stdout + restore.stderr).toBe(0);
    const out = restore.stdout + restore.stderr;
    expect(out).toMatch(
      new RegExp(`meter-eu-0003[^\\n]*because run ${ids.b} acted on it after run ${ids.a}`),
    );
    expect(out).toMatch(/: completed$/m);

    // B's devices: as B left them (hub identity deleted, blocker in place); the others: back.
    expect(findDevice(f.emulator, 'meter-eu-0003')).toBeUndefined();
    expect(findDevice(f.emulator, 'meter-eu-0004')).toBeUndefined();
    for (const id of ['meter-eu-0003', 'meter-eu-0004']) {
      expect(f.emulator.store.dps.enrollments.get(id)?.provisioningStatus, id).toBe('disabled');
    }
    expect(f.emulator.store.dps.groups.get(GROUP)?.provisioningStatus).toBe('enabled');
    for (const id of groupDevices(f.emulator, GROUP)) {
      if (id === 'meter-eu-0003' || id === 'meter-eu-0004') continue;
      expect(statusOf(id), id).toBe(id === DISABLED_BEFORE ? 'disabled' : 'enabled');
    }
  });

  it('a target someone else changed since the run (its ETag) is left and listed; the rest comes back', async () => {
    ids.pump = await run(['--enrollment', 'pump-0007', '--disenroll', 'disable', '--deregister', 'disable']);
    const outcome = (await journal(ids.pump)).find(
      (r) => r.type === 'outcome' && r.result.stepId.startsWith('disenroll'),
    );
    const stored = f.emulator.store.dps.enrollments.get('pump-0007')!;
    // The journal holds the ETag the run's own write left.
    expect(outcome?.result.etag).toBe(stored.etag);
    // Someone else writes it (still disabled): a new ETag.
    stored.etag = 'changed-by-someone-else';
    f.emulator.store.touch();

    const restore = await f.cli(['restore', ids.pump, '--yes']);
    expect(restore.code).toBe(0);
    expect(restore.stderr + restore.stdout).toMatch(
      new RegExp(`enrollments/pump-0007, because its ETag is not the one run ${ids.pump} left`),
    );
    expect(f.emulator.store.dps.enrollments.get('pump-0007')?.provisioningStatus).toBe('disabled');
    expect(statusOf('pump-0007')).toBe('enabled');
  });

  it('restore of a one-device run deletes its blocker (If-Match on the ETag it left) and verifies it is back', async () => {
    const device = 'meter-eu-0009';
    ids.one = await run([
      '--group',
      GROUP,
      '--device',
      device,
      '--disenroll',
      'disable',
      '--deregister',
      'disable',
    ]);
    const blocker = f.emulator.store.dps.enrollments.get(device);
    expect(blocker?.provisioningStatus).toBe('disabled');
    const recorded = (await journal(ids.one)).find(
      (r) => r.type === 'outcome' && r.result.stepId.startsWith('disenroll'),
    );
    expect(recorded?.result.etag).toBe(blocker?.etag);

    const plan = await f.cli(['restore', ids.one]);
    expect(plan.stdout).toContain(`DELETE enrollments/${device} (If-Match: ${blocker?.etag})`);
    expect(plan.stdout).toMatch(
      new RegExp(`Deleting blocker ${device} lets the device provision again through group ${GROUP}`),
    );

    const restore = await f.cli(['restore', ids.one, '--yes', '--json']);
    expect(restore.code).toBe(0);
    const summary = jsonLines(restore.stdout).at(-1) as Record<string, any>;
    expect(summary).toMatchObject({ event: 'summary', state: 'completed' });
    const verify = (summary.results as { stepId: string; outcome: string }[]).filter((r) =>
      r.stepId.startsWith('verify'),
    );
    expect(verify.map((r) => r.outcome)).toEqual(['succeeded']);
    expect(f.emulator.store.dps.enrollments.has(device)).toBe(false);
    expect(statusOf(device)).toBe('enabled');
  });

  it('a blocker changed since the run is left and listed, not deleted', async () => {
    const device = 'meter-eu-0010';
    const one = await run([
      '--group',
      GROUP,
      '--device',
      device,
      '--disenroll',
      'disable',
      '--deregister',
      'disable',
    ]);
    const blocker = f.emulator.store.dps.enrollments.get(device)!;
    blocker.etag = 'rewritten-by-someone';
    f.emulator.store.touch();
    const restore = await f.cli(['restore', one, '--yes']);
    expect(restore.code).toBe(0);
    expect(restore.stderr + restore.stdout).toMatch(
      new RegExp(`blocker ${device}, because its ETag is not the one`),
    );
    expect(f.emulator.store.dps.enrollments.get(device)?.provisioningStatus).toBe('disabled');
    expect(statusOf(device)).toBe('enabled');
  });

  it('the summary of a one-device run says what restore undoes', async () => {
    const r = await f.cli([
      'run',
      '--group',
      'legacy-sensors',
      '--device',
      'legacy-sensor-0001',
      '--disenroll',
      'disable',
      '--deregister',
      'delete',
      '--yes',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Undo the temporary actions with: npx iot-deprovision restore \S+ --yes$/m);
    expect(r.stdout).toMatch(
      /Restore deletes the blocker it wrote, so that device can provision again through group legacy-sensors; what it deleted stays deleted/,
    );
  });
});
