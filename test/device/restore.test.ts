/**
 * Restore of a one-device-of-group run, proven with real devices (the official device SDK): the run's
 * blocker refuses the device; restore deletes exactly that blocker, its verify passes, and the device
 * registers again through its group. Symmetric-key and X.509 groups.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Selection } from '../../src/core/selection.js';
import { generateChain } from '../support/certs.js';
import {
  type Device,
  enrollGroup,
  enrollIndividual,
  expectAssigned,
  groupDevice,
  key,
  startWorld,
  type World,
} from './harness.js';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.close());

/** Deprovisions one device of the group, then restores that run; returns the restore's summary. */
async function deprovisionThenRestore(groupId: string, device: Device) {
  const selection: Selection = {
    kind: 'groupDevices',
    groupId,
    devices: [{ registrationId: device.registrationId }],
  };
  const { summary } = await world.deprovision(selection, { disenroll: 'disable', deregister: 'disable' });
  expect(world.emulator.store.dps.enrollments.get(device.registrationId)?.provisioningStatus).toBe(
    'disabled',
  );
  expect((await world.register(device)).outcome).toBe('refused');

  const backend = world.backend();
  const planned = await backend.planRestore(summary.journalPath);
  if (!planned.ok) throw new Error(planned.refusal.message);
  const deletes = planned.plan.steps.filter((s) => s.op.kind === 'deleteBlocker');
  expect(deletes.map((s) => s.op)).toEqual([
    expect.objectContaining({ registrationId: device.registrationId, groupId, etag: expect.any(String) }),
  ]);
  expect(planned.plan.warnings.map((w) => w.message)).toContain(
    `Deleting blocker ${device.registrationId} lets the device provision again through group ${groupId}: ` +
      `restore deletes exactly the blocker run ${summary.runId} wrote.`,
  );
  return (await backend.run(planned.plan)).done;
}

describe('restore of a one-device blocker run', () => {
  it('symmetric key: the blocker is deleted, verify passes, and the device registers again through the group', async () => {
    const groupKey = key(71);
    enrollGroup(world, 'restore-meters', { symmetricKey: { primaryKey: groupKey, secondaryKey: key(72) } });
    const device = groupDevice(groupKey, 'restore-meter-1');
    const neighbour = groupDevice(groupKey, 'restore-meter-2');
    expectAssigned(await world.register(device));
    expectAssigned(await world.register(neighbour));

    const restored = await deprovisionThenRestore('restore-meters', device);
    expect(restored.state).toBe('completed');
    expect(restored.results.filter((r) => r.stepId.startsWith('verify')).map((r) => r.outcome)).toEqual([
      'succeeded',
    ]);
    expect(world.emulator.store.dps.enrollments.has(device.registrationId)).toBe(false);
    expectAssigned(await world.register(device));
  });

  it('X.509 (blocker from the device certificate): deleted, and the device registers again through the group', async () => {
    const chain = await generateChain({
      leafCn: 'restore-cam-1',
      rootCn: 'Restore Root',
      intermediateCn: 'Restore CA',
    });
    const device = { registrationId: 'restore-cam-1', chain };
    world.hold(device);
    enrollGroup(world, 'restore-cams', { signingPem: chain.intermediate.pem });
    expectAssigned(await world.register(device));

    const restored = await deprovisionThenRestore('restore-cams', device);
    expect(restored.state).toBe('completed');
    expect(world.emulator.store.dps.enrollments.has(device.registrationId)).toBe(false);
    expectAssigned(await world.register(device));
  });

  it("restore's verify fails when a target is not back as it was (blocked again after the plan)", async () => {
    const groupKey = key(81);
    enrollGroup(world, 'restore-valves', { symmetricKey: { primaryKey: groupKey, secondaryKey: key(82) } });
    const device = groupDevice(groupKey, 'restore-valve-1');
    expectAssigned(await world.register(device));
    const { summary } = await world.deprovision(
      { kind: 'group', groupId: 'restore-valves' },
      { disenroll: 'disable', deregister: 'disable' },
    );
    const backend = world.backend();
    const planned = await backend.planRestore(summary.journalPath);
    if (!planned.ok) throw new Error(planned.refusal.message);
    // Between the plan and the run, someone blocks the device with a disabled individual enrollment.
    enrollIndividual(world, device.registrationId, {
      symmetricKey: { primaryKey: key(83), secondaryKey: key(84) },
    });
    const stored = world.emulator.store.dps.enrollments.get(device.registrationId)!;
    stored.provisioningStatus = 'disabled';
    world.emulator.store.touch();

    const restored = await (await backend.run(planned.plan)).done;
    expect(restored.state).toBe('completedWithFailures');
    const verify = restored.results.find((r) => r.stepId.startsWith('verify'));
    expect(verify).toMatchObject({ outcome: 'failed' });
    expect(verify?.message).toMatch(/^restore-valve-1 is not back as it was: DPS still refuses it/);
  });
});
