/**
 * The emulator's DPS device registration API, driven by the official device SDK: who gets in, what
 * DPS writes (registration record, hub identity), and how refusals reach the device.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEndpoint } from '../../src/services/azure/endpoint.js';
import { attemptWithHeldCredentials } from '../../src/services/device/held-credentials.js';
import { registerDevice } from '../../src/services/device/register.js';
import { cachedChain, generateChain } from '../support/certs.js';
import {
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

const store = () => world.emulator.store;

describe('symmetric-key devices', () => {
  it('an individual enrollment lets its device in; DPS creates the hub identity with its keys', async () => {
    const keys = { primaryKey: key(1), secondaryKey: key(2) };
    enrollIndividual(world, 'pump-1', { symmetricKey: keys });
    const { assignedHub, deviceId } = expectAssigned(
      await world.register({ registrationId: 'pump-1', symmetricKey: keys.secondaryKey }),
    );
    expect(deviceId).toBe('pump-1');
    const record = store().dps.registrations.get('pump-1');
    expect(record).toMatchObject({
      status: 'assigned',
      assignedHub,
      substatus: 'initialAssignment',
      enrollment: { kind: 'individual', id: 'pump-1' },
    });
    const identity = store().hubByHost(assignedHub)?.devices.get('pump-1');
    expect(identity).toMatchObject({
      status: 'enabled',
      authType: 'sas',
      primaryKey: keys.primaryKey,
      secondaryKey: keys.secondaryKey,
    });

    // Again: same hub, same identity, and the record says it was provisioned before.
    const again = expectAssigned(
      await world.register({ registrationId: 'pump-1', symmetricKey: keys.primaryKey }),
    );
    expect(again.assignedHub).toBe(assignedHub);
    expect(store().dps.registrations.get('pump-1')?.substatus).toBe('reprovisionedToInitialAssignment');
    expect(store().hubByHost(assignedHub)?.devices.get('pump-1')?.etag).toBe(identity?.etag);
  });

  it('a wrong key is a 401 and changes nothing', async () => {
    enrollIndividual(world, 'pump-2', { symmetricKey: { primaryKey: key(3), secondaryKey: key(4) } });
    const outcome = await world.register({ registrationId: 'pump-2', symmetricKey: key(5) });
    expect(outcome).toMatchObject({ outcome: 'refused', status: 401 });
    expect(store().dps.registrations.has('pump-2')).toBe(false);
  });

  it('a group device gets in with the key derived for it, never with the group key itself', async () => {
    const groupKeys = { primaryKey: key(6), secondaryKey: key(7) };
    enrollGroup(world, 'meters', { symmetricKey: groupKeys });
    const meter = groupDevice(groupKeys.primaryKey, 'meter-1');
    const { assignedHub } = expectAssigned(await world.register(meter));
    expect(store().dps.registrations.get('meter-1')?.enrollment).toEqual({ kind: 'group', id: 'meters' });
    expect(store().hubByHost(assignedHub)?.devices.get('meter-1')?.primaryKey).toBe(meter.symmetricKey);
    expect(await world.register(groupDevice(groupKeys.secondaryKey, 'meter-2'))).toMatchObject({
      outcome: 'assigned',
    });

    const raw = await world.register({ registrationId: 'meter-3', symmetricKey: groupKeys.primaryKey });
    expect(raw).toMatchObject({ outcome: 'refused', status: 401 });
    // A key derived for another registration ID proves nothing either.
    expect(
      await world.register({ registrationId: 'meter-4', symmetricKey: meter.symmetricKey }),
    ).toMatchObject({
      outcome: 'refused',
      status: 401,
    });
  });

  it('a disabled group ends the operation with status "disabled", and DPS records it', async () => {
    const groupKeys = { primaryKey: key(8), secondaryKey: key(9) };
    enrollGroup(world, 'retired', { symmetricKey: groupKeys });
    store().putGroup({ ...store().dps.groups.get('retired')!, provisioningStatus: 'disabled' });
    const outcome = await world.register(groupDevice(groupKeys.primaryKey, 'old-1'));
    expect(outcome).toMatchObject({ outcome: 'refused', registrationStatus: 'disabled' });
    expect(store().dps.registrations.get('old-1')).toMatchObject({
      status: 'disabled',
      enrollment: { kind: 'group', id: 'retired' },
    });
    expect([...store().hubs.values()].some((h) => h.devices.has('old-1'))).toBe(false);
  });

  it('a device disabled on its hub stays disabled when it provisions again', async () => {
    const keys = { primaryKey: key(10), secondaryKey: key(11) };
    enrollIndividual(world, 'pump-3', { symmetricKey: keys });
    const { assignedHub } = expectAssigned(
      await world.register({ registrationId: 'pump-3', symmetricKey: keys.primaryKey }),
    );
    const hub = store().hubByHost(assignedHub)!;
    store().putDevice(hub, { ...hub.devices.get('pump-3')!, status: 'disabled' });
    expectAssigned(await world.register({ registrationId: 'pump-3', symmetricKey: keys.primaryKey }));
    expect(hub.devices.get('pump-3')?.status).toBe('disabled');
  });

  it('follows the reprovision policy when the enrollment moves to another hub', async () => {
    const keys = { primaryKey: key(12), secondaryKey: key(13) };
    const [first, second] = [...store().hubs.keys()];
    const reenroll = (
      id: string,
      hubs: string[],
      policy: { updateHubAssignment: boolean; migrateDeviceData: boolean },
    ) => {
      enrollIndividual(world, id, { symmetricKey: keys });
      store().putEnrollment({
        ...store().dps.enrollments.get(id)!,
        iotHubs: hubs,
        reprovisionPolicy: policy,
      });
    };
    for (const [id, policy, hub, substatus] of [
      ['valve-1', { updateHubAssignment: true, migrateDeviceData: true }, second, 'deviceDataMigrated'],
      ['valve-2', { updateHubAssignment: true, migrateDeviceData: false }, second, 'deviceDataReset'],
      [
        'valve-3',
        { updateHubAssignment: false, migrateDeviceData: true },
        first,
        'reprovisionedToInitialAssignment',
      ],
    ] as const) {
      reenroll(id, [first], policy);
      expect(
        expectAssigned(await world.register({ registrationId: id, symmetricKey: keys.primaryKey }))
          .assignedHub,
      ).toBe(first);
      reenroll(id, [second], policy);
      expect(
        expectAssigned(await world.register({ registrationId: id, symmetricKey: keys.primaryKey }))
          .assignedHub,
      ).toBe(hub);
      expect(store().dps.registrations.get(id)?.substatus).toBe(substatus);
    }
  });
});

describe('X.509 devices', () => {
  it('a group on the intermediate accepts the chains it signs, sent with or without it', async () => {
    const chain = await cachedChain('factory', {
      leafCn: 'cam-1',
      rootCn: 'Factory Root',
      intermediateCn: 'Factory CA',
    });
    enrollGroup(world, 'factory', { signingPem: chain.intermediate.pem });
    const { assignedHub } = expectAssigned(await world.register({ registrationId: 'cam-1', chain }));
    expect(store().dps.registrations.get('cam-1')?.enrollment).toEqual({ kind: 'group', id: 'factory' });
    expect(store().hubByHost(assignedHub)?.devices.get('cam-1')?.authType).toBe('certificateAuthority');

    const leafOnly = await registerDevice({
      endpoint: parseEndpoint(world.emulator.url, world.emulator.ca),
      idScope: world.emulator.device.idScope,
      registrationId: 'cam-1',
      certPem: chain.leaf.pem,
      keyPem: chain.leaf.keyPem,
      pollingIntervalMs: 20,
    });
    expect(leafOnly).toMatchObject({ outcome: 'assigned', assignedHub });
  });

  it('refuses with 401: a CN that is not the registration ID, and a chain no group holds', async () => {
    const chain = await cachedChain('factory', {
      leafCn: 'cam-1',
      rootCn: 'Factory Root',
      intermediateCn: 'Factory CA',
    });
    const wrongId = await registerDevice({
      endpoint: parseEndpoint(world.emulator.url, world.emulator.ca),
      idScope: world.emulator.device.idScope,
      registrationId: 'cam-99',
      certPem: chain.leafAndIntermediatePem,
      keyPem: chain.leaf.keyPem,
      pollingIntervalMs: 20,
    });
    expect(wrongId).toMatchObject({ outcome: 'refused', status: 401 });
    expect(wrongId.outcome === 'refused' && wrongId.reason).toContain('CN');

    const stranger = await generateChain({
      leafCn: 'cam-2',
      rootCn: 'Stranger Root',
      intermediateCn: 'Stranger CA',
    });
    expect(await world.register({ registrationId: 'cam-2', chain: stranger })).toMatchObject({
      outcome: 'refused',
      status: 401,
    });
    expect(store().dps.registrations.has('cam-2')).toBe(false);
  });

  it('an individual enrollment accepts only its own certificate, and comes before any group', async () => {
    const ca = await cachedChain('factory', {
      leafCn: 'cam-1',
      rootCn: 'Factory Root',
      intermediateCn: 'Factory CA',
    });
    const mine = await generateChain({ leafCn: 'cam-3', ca });
    const impostor = await generateChain({ leafCn: 'cam-3', ca });
    enrollIndividual(world, 'cam-3', { certificatePem: mine.leaf.pem });
    const { assignedHub } = expectAssigned(await world.register({ registrationId: 'cam-3', chain: mine }));
    expect(store().dps.registrations.get('cam-3')?.enrollment).toEqual({ kind: 'individual', id: 'cam-3' });
    expect(store().hubByHost(assignedHub)?.devices.get('cam-3')?.authType).toBe('selfSigned');
    // The impostor's chain is one the enabled group "factory" accepts: the individual enrollment decides.
    expect(await world.register({ registrationId: 'cam-3', chain: impostor })).toMatchObject({
      outcome: 'refused',
      status: 401,
    });
  });
});

describe('attempts with the credentials the sandbox holds', () => {
  it('registers a device whose key is held, and does not attempt a TPM device', async () => {
    const keys = { primaryKey: key(50), secondaryKey: key(51) };
    enrollIndividual(world, 'pump-held', { symmetricKey: keys });
    store().demoSecrets.devices['pump-held'] = { symmetricKey: keys.primaryKey };
    const now = new Date().toISOString();
    store().putEnrollment({
      registrationId: 'gw-tpm',
      attestation: { type: 'tpm', tpm: { endorsementKey: 'AAAA' } },
      provisioningStatus: 'enabled',
      etag: 'e1',
      createdDateTimeUtc: now,
      lastUpdatedDateTimeUtc: now,
    });
    const attempt = attemptWithHeldCredentials(world.emulator);
    expect(await attempt('pump-held')).toMatchObject({ outcome: 'assigned', deviceId: 'pump-held' });
    const tpm = await attempt('gw-tpm');
    expect(tpm).toMatchObject({ outcome: 'unavailable' });
    expect(tpm.outcome === 'unavailable' && tpm.reason).toContain(
      'TPM attestation is not supported by the emulator',
    );
    expect(await attempt('nobody')).toMatchObject({
      outcome: 'unavailable',
      reason: expect.stringContaining('no key or certificate'),
    });
  });
});
