/**
 * On-call: devices known by their IDs, spread over an individual enrollment and two enrollment groups,
 * plus an ID found nowhere. One plan, one run (one journal), verify says each is blocked, one restore.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliFixture, findDevice, startCliFixture } from './fixture.js';

let f: CliFixture;

beforeAll(async () => {
  f = await startCliFixture({ seed: 'demo', timeScale: 120 });
});

afterAll(async () => {
  await f?.close();
});

const SOLO = 'pump-0007';
const METER = 'meter-eu-0003';
const PLC = 'plc-hamburg-0002';
const GHOST = 'ghost-device-0000';

describe('--device-id / --devices-from: devices wherever they are enrolled', () => {
  it('three IDs over an individual enrollment and two groups, plus an unknown one: one plan, run, verify blocked, restore', async () => {
    const { store } = f.emulator;
    const list = join(f.stateHome, 'lost-shipment.txt');
    writeFileSync(list, `# lost shipment 2024-05\n${PLC}\n\n   ${GHOST}   # not ours?\n`);
    const selector = ['--device-id', SOLO, '--device-id', METER, '--devices-from', list];
    const hubs = [SOLO, METER, PLC].map((id) => findDevice(f.emulator, id)?.hub);
    expect(hubs.every((h) => h !== undefined)).toBe(true);

    const plan = await f.cli(['plan', ...selector, '--disenroll', 'disable', '--deregister', 'disable']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('4 devices');
    const where = /^Plan: .*\((.*)\)$/m.exec(plan.stdout)?.[1] ?? '';
    expect(where.split(', ').sort()).toEqual(
      [
        '1 individual enrollment',
        '1 in group smart-meters-eu',
        '1 in group plc-hamburg',
        '1 not in DPS',
      ].sort(),
    );
    expect(plan.stdout).toContain(`PUT enrollments/${SOLO} provisioningStatus=disabled`);
    expect(plan.stdout).toMatch(new RegExp(`PUT enrollments/${METER} \\(new, provisioningStatus=disabled`));
    expect(plan.stdout).toMatch(new RegExp(`PUT enrollments/${PLC} \\(new, provisioningStatus=disabled`));
    expect(plan.stdout).toContain(`${GHOST}: found nowhere`);
    // Planning changed nothing.
    expect(store.dps.enrollments.get(SOLO)?.provisioningStatus).toBe('enabled');
    expect(store.dps.enrollments.has(METER)).toBe(false);

    const run = await f.cli([
      'run',
      ...selector,
      '--disenroll',
      'disable',
      '--deregister',
      'disable',
      '--yes',
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const runId = /^Run (\S+): /m.exec(run.stdout)?.[1] as string;
    expect(runId).toBeDefined();
    expect(store.dps.enrollments.get(SOLO)?.provisioningStatus).toBe('disabled');
    expect(store.dps.enrollments.get(METER)?.provisioningStatus).toBe('disabled');
    expect(store.dps.enrollments.get(PLC)?.provisioningStatus).toBe('disabled');
    // Only the named devices: their groups stay enabled.
    expect(store.dps.groups.get('smart-meters-eu')?.provisioningStatus).toBe('enabled');
    expect(store.dps.groups.get('plc-hamburg')?.provisioningStatus).toBe('enabled');
    for (const id of [SOLO, METER, PLC])
      expect(findDevice(f.emulator, id)?.device.status, id).toBe('disabled');

    const verify = await f.cli(['verify', ...selector]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toContain('Re-enrollment: 3 blocked, 0 possible, 0 allowed');

    const runs = await f.cli(['runs'], { target: false });
    expect(runs.stdout.match(/^\d{8}T\d{6}Z-[0-9a-f]{6} /gm)?.length).toBe(1);

    const restore = await f.cli(['restore', runId, '--yes']);
    expect(restore.code, restore.stdout + restore.stderr).toBe(0);
    expect(store.dps.enrollments.get(SOLO)?.provisioningStatus).toBe('enabled');
    expect(store.dps.enrollments.has(METER)).toBe(false);
    expect(store.dps.enrollments.has(PLC)).toBe(false);
    for (const id of [SOLO, METER, PLC])
      expect(findDevice(f.emulator, id)?.device.status, id).toBe('enabled');
  });

  it('refuses a --devices-from file without IDs, and --device-id with --group, with exit 2 and nothing changed', async () => {
    const empty = join(f.stateHome, 'empty.txt');
    writeFileSync(empty, '# nothing here\n\n');
    const r1 = await f.cli(['plan', '--devices-from', empty]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain('no device ID in it');
    const r2 = await f.cli(['plan', '--device-id', SOLO, '--group', 'smart-meters-eu']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('use them without --enrollment, --group');
  });
});
