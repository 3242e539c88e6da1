/**
 * Whole enrollment groups through `run --group ... --yes` then `verify`, on the demo fleet: the group
 * disabled (or deleted), every device deregistered on its OWN hub, registration records cleaned up on
 * request; and the X.509 group on an intermediate deleted while a root group is enabled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliFixture, deviceOn, findDevice, groupDevices, startCliFixture } from './fixture.js';

let f: CliFixture;

beforeAll(async () => {
  f = await startCliFixture({ seed: 'demo', timeScale: 120 });
});

afterAll(async () => {
  await f?.close();
});

/** Each device of a group with the hub its registration record names, before anything runs. */
function assignedHubs(groupId: string): Map<string, string> {
  const { store } = f.emulator;
  const out = new Map<string, string>();
  for (const id of groupDevices(f.emulator, groupId)) {
    const hub = store.dps.registrations.get(id)?.assignedHub;
    if (!hub) throw new Error(`demo device ${id} has no assigned hub`);
    out.set(id, hub);
  }
  return out;
}

const withDevices = (groupId: string, ids: Iterable<string>) => [
  'verify',
  '--group',
  groupId,
  ...[...ids].flatMap((id) => ['--device', id]),
];

describe('run --group ... --yes, then verify', () => {
  it('disable the group, disable every device on its own hub (X.509 group by CA reference)', async () => {
    const group = 'contoso-root-ca';
    const hubs = assignedHubs(group);
    expect(new Set(hubs.values()).size).toBe(3);

    const run = await f.cli([
      'run',
      '--group',
      group,
      '--disenroll',
      'disable',
      '--deregister',
      'disable',
      '--yes',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/: completed$/m);
    expect(run.stdout).toContain(`Re-enrollment: ${hubs.size} blocked, 0 possible, 0 allowed`);

    const { store } = f.emulator;
    expect(store.dps.groups.get(group)?.provisioningStatus).toBe('disabled');
    for (const [id, hub] of hubs) {
      expect(deviceOn(f.emulator, hub, id)?.status, id).toBe('disabled');
      expect(findDevice(f.emulator, id)?.hub, `${id} stays on its hub`).toBe(hub);
    }
    // Disabling keeps the records: they are what maps each device to its hub.
    expect(groupDevices(f.emulator, group)).toEqual([...hubs.keys()]);

    const verify = await f.cli(['verify', '--group', group]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain(`Re-enrollment: ${hubs.size} blocked, 0 possible, 0 allowed`);
  });

  it('disable the group, delete every device on its own hub, with --delete-registrations', async () => {
    const group = 'smart-meters-eu';
    const hubs = assignedHubs(group);
    const devicesElsewhere =
      [...f.emulator.store.hubs.values()].reduce((n, h) => n + h.devices.size, 0) - hubs.size;

    const run = await f.cli([
      'run',
      '--group',
      group,
      '--disenroll',
      'disable',
      '--deregister',
      'delete',
      '--delete-registrations',
      '--yes',
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/caution: Deleting 15 registration records is permanent/);
    expect(run.stdout).toContain(`Re-enrollment: ${hubs.size} blocked, 0 possible, 0 allowed`);

    const { store } = f.emulator;
    expect(store.dps.groups.get(group)?.provisioningStatus).toBe('disabled');
    for (const [id, hub] of hubs) {
      expect(deviceOn(f.emulator, hub, id), id).toBeUndefined();
      expect(store.dps.registrations.has(id), id).toBe(false);
    }
    expect([...store.hubs.values()].reduce((n, h) => n + h.devices.size, 0)).toBe(devicesElsewhere);

    // Without records, the devices are named one by one (the run journal's snapshot lists them).
    const verify = await f.cli(withDevices(group, hubs.keys()));
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain(`Re-enrollment: ${hubs.size} blocked, 0 possible, 0 allowed`);
  });

  it('delete everything: devices, registration records, then the group (--delete-group)', async () => {
    const group = 'legacy-sensors';
    const hubs = assignedHubs(group);
    expect(f.emulator.store.dps.groups.get(group)?.provisioningStatus).toBe('disabled');

    const run = await f.cli([
      'run',
      '--group',
      group,
      '--disenroll',
      'delete',
      '--deregister',
      'delete',
      '--delete-registrations',
      '--delete-group',
      '--yes',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/: completed$/m);
    // The group was disabled already: its disable step is "already done", not repeated.
    expect(run.stdout).toMatch(/disenroll +done 0, already done 1/);
    expect(f.emulator.stats().destructive[`dps/enrollmentGroups/${group}`]).toEqual({ delete: 1 });

    const { store } = f.emulator;
    expect(store.dps.groups.has(group)).toBe(false);
    for (const [id, hub] of hubs) {
      expect(deviceOn(f.emulator, hub, id), id).toBeUndefined();
      expect(store.dps.registrations.has(id), id).toBe(false);
    }

    // Nothing is left to enroll these symmetric-key devices: they are blocked.
    const verify = await f.cli(withDevices(group, hubs.keys()));
    expect(verify.stdout).toContain(`Re-enrollment: ${hubs.size} blocked, 0 possible, 0 allowed`);
    expect(verify.code).toBe(0);
  });

  it('X.509 group on the intermediate deleted, root group enabled: DANGER, verify not blocked', async () => {
    const { store } = f.emulator;
    // A root group whose certificate DPS can show (uploaded, not a CA reference), so the danger is certain.
    const root = store.demoSecrets.authorities['contoso-root-ca']?.certPem as string;
    const template = store.dps.groups.get('factory-line-berlin');
    if (!template) throw new Error('demo group factory-line-berlin is missing');
    store.putGroup({
      ...template,
      enrollmentGroupId: 'contoso-root-uploaded',
      provisioningStatus: 'enabled',
      attestation: { type: 'x509', x509: { signingCertificates: { primary: root } } },
    });
    const group = 'factory-line-berlin';
    const hubs = assignedHubs(group);

    const run = await f.cli([
      'run',
      '--group',
      group,
      '--disenroll',
      'delete',
      '--deregister',
      'disable',
      '--yes',
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /!! DANGER: Once enrollment group factory-line-berlin is deleted, \d+ devices/,
    );
    expect(run.stderr).toMatch(
      /can re-enroll: .*enrollment group contoso-root-uploaded holds .*Contoso Root CA/,
    );
    expect(run.stderr).toMatch(/recommended: Keep enrollment group factory-line-berlin \(disabled\)/);
    expect(store.dps.groups.has(group)).toBe(false);
    expect(store.dps.groups.get('contoso-root-uploaded')?.provisioningStatus).toBe('enabled');
    for (const [id, hub] of hubs) expect(deviceOn(f.emulator, hub, id)?.status, id).toBe('disabled');

    const verify = await f.cli(['verify', '--group', group]);
    expect(verify.code).toBe(1);
    const counts = /Re-enrollment: 0 blocked, (\d+) possible, (\d+) allowed/.exec(verify.stdout);
    expect(counts, verify.stdout).not.toBeNull();
    expect(Number(counts?.[1]) + Number(counts?.[2])).toBe(hubs.size);
  });
});
