/**
 * A device is never left live on a hub: every hub identity it has is deregistered, whatever its
 * registration record says. Real devices register through the official device SDK; the tool's real
 * backend plans and runs against the emulator; the emulator's hubs are the proof.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollIndividual, expectAssigned, key, startWorld, type World } from './harness.js';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.close());

const hosts = () => [...world.emulator.store.hubs.keys()];
const identityOn = (hub: string, deviceId: string) =>
  world.emulator.store.hubByHost(hub)?.devices.get(deviceId);
const enrollment = (registrationId: string) => ({ kind: 'enrollment' as const, registrationId });

function symmetricKeyDevice(id: string, seed: number) {
  const keys = { primaryKey: key(seed), secondaryKey: key(seed + 1) };
  enrollIndividual(world, id, { symmetricKey: keys });
  return { registrationId: id, symmetricKey: keys.primaryKey };
}

describe('a record with status disabled that still names its hub', () => {
  it('the plan deregisters that identity from the record alone; the device is refused at DPS and its identity is disabled', async () => {
    const device = symmetricKeyDevice('meter-refused-1', 11);
    const { assignedHub } = expectAssigned(await world.register(device));

    // Disenrolled at DPS, hub identity kept: the device tries again and DPS refuses it.
    await world.deprovision(enrollment(device.registrationId), { disenroll: 'disable', deregister: 'none' });
    expect(await world.register(device)).toMatchObject({
      outcome: 'refused',
      registrationStatus: 'disabled',
    });
    const record = world.emulator.store.dps.registrations.get(device.registrationId);
    // What the emulator does, as DPS does: the refused attempt's record says disabled and keeps the hub.
    expect(record).toMatchObject({ status: 'disabled', assignedHub });
    expect(identityOn(assignedHub, device.registrationId)?.status).toBe('enabled');

    // No lookup on any hub: the identity must come from the record, whatever its status.
    const { plan } = await world.deprovision(
      enrollment(device.registrationId),
      { disenroll: 'disable', deregister: 'disable' },
      { skipHubLookup: hosts() },
    );
    expect(identityOn(assignedHub, device.registrationId)?.status).toBe('disabled');
    expect(plan.hubIdentities?.find((h) => h.hub === assignedHub)).toMatchObject({
      byRecord: 1,
      byLookup: 0,
    });
    expect(plan.warnings.map((w) => w.code)).not.toContain('not-assigned');
    expect(await world.register(device)).toMatchObject({
      outcome: 'refused',
      registrationStatus: 'disabled',
    });
  });
});

describe('identities no record names, found by lookup', () => {
  it('a device DPS moved to another hub: the identities on the old hub and on the new one are both deregistered', async () => {
    const device = symmetricKeyDevice('meter-moved-1', 21);
    const first = expectAssigned(await world.register(device));
    // The enrollment now links only another hub: DPS re-provisions the device there on its next
    // registration and leaves the old identity where it was.
    const other = hosts().find((h) => h !== first.assignedHub) as string;
    const stored = world.emulator.store.dps.enrollments.get(device.registrationId);
    if (!stored) throw new Error('the enrollment is missing');
    world.emulator.store.putEnrollment({ ...stored, iotHubs: [other] });
    const second = expectAssigned(await world.register(device));
    expect(second.assignedHub).toBe(other);
    expect(identityOn(first.assignedHub, device.registrationId)?.status).toBe('enabled');
    expect(identityOn(other, device.registrationId)?.status).toBe('enabled');

    const { plan, warnings, summary } = await world.deprovision(enrollment(device.registrationId), {
      disenroll: 'disable',
      deregister: 'disable',
    });
    expect(identityOn(first.assignedHub, device.registrationId)?.status).toBe('disabled');
    expect(identityOn(other, device.registrationId)?.status).toBe('disabled');
    expect(plan.hubIdentities?.find((h) => h.hub === first.assignedHub)).toMatchObject({
      byRecord: 0,
      byLookup: 1,
      foundByLookup: [device.registrationId],
      lookup: 'searched',
    });
    expect(plan.hubIdentities?.find((h) => h.hub === other)).toMatchObject({ byRecord: 1, byLookup: 0 });
    expect(warnings.find((w) => w.code === 'hub-identity-by-lookup')?.message).toContain(first.assignedHub);
    // The run's verify reads both hubs back.
    const [verdict] = summary.verify;
    expect(verdict.hubs).toEqual(
      expect.arrayContaining([
        { hub: first.assignedHub, deviceId: device.registrationId, status: 'disabled' },
        { hub: other, deviceId: device.registrationId, status: 'disabled' },
      ]),
    );
    expect(await world.register(device)).toMatchObject({
      outcome: 'refused',
      registrationStatus: 'disabled',
    });
  });

  it('a device whose registration record was deleted: its identity is found by lookup and deleted', async () => {
    const device = symmetricKeyDevice('meter-norecord-1', 31);
    const { assignedHub } = expectAssigned(await world.register(device));
    world.emulator.store.deleteRegistration(device.registrationId);

    const { plan } = await world.deprovision(enrollment(device.registrationId), {
      disenroll: 'disable',
      deregister: 'delete',
    });
    expect(identityOn(assignedHub, device.registrationId)).toBeUndefined();
    expect(plan.snapshot).toEqual([]);
    expect(plan.hubIdentities?.find((h) => h.hub === assignedHub)).toMatchObject({
      byRecord: 0,
      byLookup: 1,
    });
    const [verdict] = await world.backend().verify(enrollment(device.registrationId));
    expect(verdict).toMatchObject({ verdict: 'blocked' });
    expect(await world.register(device)).toMatchObject({
      outcome: 'refused',
      registrationStatus: 'disabled',
    });
  });
});
