/**
 * Enrollment groups, proven with real devices: whole groups disabled (X.509 on an intermediate and on a
 * root, symmetric key), one device of a group stopped by a disabled blocker while another still gets
 * in, and a deleted group whose devices come back through an enabled group higher in their chain.
 * Refusals must match `verify` (blocked); returns must have been predicted and warned about.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Selection } from '../../src/core/selection.js';
import { generateChain } from '../support/certs.js';
import {
  type Device,
  enrollGroup,
  expectAssigned,
  groupDevice,
  key,
  startWorld,
  warningCodesFor,
  type World,
} from './harness.js';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.close());

async function verdicts(selection: Selection): Promise<Record<string, string>> {
  const list = await world.backend().verify(selection);
  return Object.fromEntries(list.map((v) => [v.registrationId, v.verdict]));
}

/** Two X.509 devices under one root and intermediate (names unique per test: groups are per DPS). */
async function x509Devices(name: string): Promise<{ root: string; intermediate: string; devices: Device[] }> {
  const first = await generateChain({
    leafCn: `${name}-1`,
    rootCn: `${name} Root`,
    intermediateCn: `${name} CA`,
  });
  const second = await generateChain({ leafCn: `${name}-2`, ca: first });
  const devices = [
    { registrationId: `${name}-1`, chain: first },
    { registrationId: `${name}-2`, chain: second },
  ];
  for (const d of devices) world.hold(d);
  return { root: first.root.pem, intermediate: first.intermediate.pem, devices };
}

async function registerAll(devices: Device[]): Promise<void> {
  for (const d of devices) expectAssigned(await world.register(d));
}

describe('a whole group disabled', () => {
  it('X.509 group on the intermediate: refused, though an enabled group holds their root', async () => {
    const { root, intermediate, devices } = await x509Devices('press');
    enrollGroup(world, 'press-line', { signingPem: intermediate });
    world.emulator.store.dps.caCertificates.set('press-root', root);
    enrollGroup(world, 'press-root', { caName: 'press-root' });
    await registerAll(devices);

    await world.deprovision(
      { kind: 'group', groupId: 'press-line' },
      { disenroll: 'disable', deregister: 'disable' },
    );
    for (const d of devices) {
      expect(await world.register(d)).toMatchObject({ outcome: 'refused', registrationStatus: 'disabled' });
    }
    expect(await verdicts({ kind: 'group', groupId: 'press-line' })).toEqual({
      'press-1': 'blocked',
      'press-2': 'blocked',
    });
  });

  it('X.509 group on the root: its devices are refused', async () => {
    const { root, devices } = await x509Devices('lathe');
    enrollGroup(world, 'lathe-root', { signingPem: root });
    await registerAll(devices);

    await world.deprovision(
      { kind: 'group', groupId: 'lathe-root' },
      { disenroll: 'disable', deregister: 'delete' },
    );
    for (const d of devices) {
      expect(await world.register(d)).toMatchObject({ outcome: 'refused', registrationStatus: 'disabled' });
      expect([...world.emulator.store.hubs.values()].some((h) => h.devices.has(d.registrationId))).toBe(
        false,
      );
    }
    expect(await verdicts({ kind: 'group', groupId: 'lathe-root' })).toEqual({
      'lathe-1': 'blocked',
      'lathe-2': 'blocked',
    });
  });

  it('symmetric-key group: its devices are refused', async () => {
    const groupKey = key(40);
    enrollGroup(world, 'tanks', { symmetricKey: { primaryKey: groupKey, secondaryKey: key(41) } });
    const devices = [groupDevice(groupKey, 'tank-1'), groupDevice(groupKey, 'tank-2')];
    await registerAll(devices);

    await world.deprovision(
      { kind: 'group', groupId: 'tanks' },
      { disenroll: 'disable', deregister: 'disable' },
    );
    for (const d of devices) {
      expect(await world.register(d)).toMatchObject({ outcome: 'refused', registrationStatus: 'disabled' });
    }
    expect(await verdicts({ kind: 'group', groupId: 'tanks' })).toEqual({
      'tank-1': 'blocked',
      'tank-2': 'blocked',
    });
  });
});

describe('one device of a group, through a disabled blocker', () => {
  it('X.509: the blocker made from its certificate refuses it; its neighbour still registers', async () => {
    const { intermediate, devices } = await x509Devices('drill');
    const [stolen, neighbour] = devices as [Device & { chain: { chainPem: string } }, Device];
    enrollGroup(world, 'drill-line', { signingPem: intermediate });
    await registerAll(devices);

    const selection: Selection = {
      kind: 'groupDevices',
      groupId: 'drill-line',
      devices: [{ registrationId: stolen.registrationId, certificatePem: stolen.chain.chainPem }],
    };
    await world.deprovision(selection, { disenroll: 'disable', deregister: 'disable' });
    expect(world.emulator.store.dps.enrollments.get(stolen.registrationId)).toMatchObject({
      provisioningStatus: 'disabled',
      attestation: { type: 'x509' },
    });

    expect(await world.register(stolen)).toMatchObject({
      outcome: 'refused',
      registrationStatus: 'disabled',
    });
    expect(await world.register(neighbour)).toMatchObject({ outcome: 'assigned' });
    expect(await verdicts(selection)).toEqual({ [stolen.registrationId]: 'blocked' });
  });

  it('symmetric key: the blocker with its registration ID refuses it; its neighbour registers', async () => {
    const groupKey = key(42);
    enrollGroup(world, 'pumps', { symmetricKey: { primaryKey: groupKey, secondaryKey: key(43) } });
    const stolen = groupDevice(groupKey, 'pump-a');
    const neighbour = groupDevice(groupKey, 'pump-b');
    await registerAll([stolen, neighbour]);

    const selection: Selection = {
      kind: 'groupDevices',
      groupId: 'pumps',
      devices: [{ registrationId: 'pump-a' }],
    };
    await world.deprovision(selection, { disenroll: 'disable', deregister: 'disable' });

    // The blocker's keys are not the device's: DPS finds the individual enrollment first and refuses the key.
    expect(await world.register(stolen)).toMatchObject({ outcome: 'refused', status: 401 });
    expect(await world.register(neighbour)).toMatchObject({ outcome: 'assigned' });
    expect(await verdicts(selection)).toEqual({ 'pump-a': 'blocked' });
  });
});

describe('a group deleted under an enabled group on its root', () => {
  it('its devices come back through the root group, and the plan named them', async () => {
    const { root, intermediate, devices } = await x509Devices('mill');
    enrollGroup(world, 'mill-line', { signingPem: intermediate });
    enrollGroup(world, 'mill-root', { signingPem: root });
    await registerAll(devices);

    const { warnings, summary } = await world.deprovision(
      { kind: 'group', groupId: 'mill-line' },
      { disenroll: 'delete', deregister: 'delete', deleteRegistrations: true },
    );
    for (const d of devices) {
      expect(warningCodesFor(warnings, d.registrationId)).toContain('reenroll-through-higher-group');
      expect(summary.verify.find((v) => v.registrationId === d.registrationId)?.verdict).not.toBe('blocked');
    }
    expect(warnings.find((w) => w.code === 'reenroll-through-higher-group')?.path).toBe(
      'enrollmentGroups/mill-root',
    );

    for (const d of devices) {
      const back = expectAssigned(await world.register(d));
      expect(world.emulator.store.dps.registrations.get(d.registrationId)?.enrollment).toEqual({
        kind: 'group',
        id: 'mill-root',
      });
      expect(world.emulator.store.hubByHost(back.assignedHub)?.devices.get(d.registrationId)?.status).toBe(
        'enabled',
      );
    }
  });
});
