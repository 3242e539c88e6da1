/**
 * The hub half of the proof, with the official device client (`azure-iot-device` + HTTP transport):
 * a device provisions through DPS (official provisioning client), then talks to the hub DPS assigned
 * with the credentials it registered with. The tool's run disables (or deletes) its hub identity; the
 * same client with the same credentials is refused (401, UnauthorizedError). `restore` re-enables it
 * and the same client sends again. Symmetric key and X.509, individual and group.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actions, Selection } from '../../src/core/selection.js';
import { openHubDevice } from '../../src/services/device/send.js';
import { parseEndpoint } from '../../src/services/azure/endpoint.js';
import { cachedChain, generateChain } from '../support/certs.js';
import {
  type Device,
  enrollGroup,
  enrollIndividual,
  expectAssigned,
  groupDevice,
  key,
  startWorld,
  trustOnHubs,
  type World,
} from './harness.js';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.close());

const SENT = { outcome: 'sent' };
const REFUSED = { outcome: 'refused', status: 401 };

async function restore(journalPath: string) {
  const backend = world.backend();
  const planned = await backend.planRestore(journalPath);
  if (!planned.ok) throw new Error(planned.refusal.message);
  const summary = await (await backend.run(planned.plan)).done;
  expect(summary.state).toBe('completed');
}

/** Provision, send, deprovision (refused: telemetry and polling), then restore (sends again). */
async function proveDisableAndRestore(device: Device, selection: Selection, actions: Partial<Actions>) {
  const assigned = expectAssigned(await world.register(device));
  const client = world.hubClient(device, assigned);
  try {
    expect(await client.send()).toMatchObject({ ...SENT, hub: assigned.assignedHub });
    expect(await client.poll()).toMatchObject(SENT);

    const { summary } = await world.deprovision(selection, { deregister: 'disable', ...actions });
    const identity = world.emulator.store.hubByHost(assigned.assignedHub)?.devices.get(assigned.deviceId);
    expect(identity?.status).toBe('disabled');
    const refused = await client.send();
    expect(refused).toMatchObject(REFUSED);
    expect(refused.outcome === 'refused' && refused.reason).toContain('disabled');
    // What the device's own code sees: the SDK's UnauthorizedError.
    expect(refused).toMatchObject({ errorName: 'UnauthorizedError' });
    expect(await client.poll()).toMatchObject(REFUSED);

    await restore(summary.journalPath);
    expect(await client.send()).toMatchObject(SENT);
  } finally {
    await client.close();
  }
}

/** Provision, send, deregister with delete: the same client is refused. */
async function proveDelete(device: Device, selection: Selection) {
  const assigned = expectAssigned(await world.register(device));
  const client = world.hubClient(device, assigned);
  try {
    expect(await client.send()).toMatchObject(SENT);
    await world.deprovision(selection, { disenroll: 'disable', deregister: 'delete' });
    expect(world.emulator.store.hubByHost(assigned.assignedHub)?.devices.has(assigned.deviceId)).toBe(false);
    const refused = await client.send();
    expect(refused).toMatchObject(REFUSED);
    expect(refused.outcome === 'refused' && refused.reason).toContain('not registered');
  } finally {
    await client.close();
  }
}

const individual = (registrationId: string): Selection => ({ kind: 'enrollment', registrationId });
const oneOfGroup = (groupId: string, registrationId: string): Selection => ({
  kind: 'groupDevices',
  groupId,
  devices: [{ registrationId }],
});

describe('symmetric key', () => {
  it('individual enrollment: sends, is refused once disabled on its hub, sends again after restore', async () => {
    const keys = { primaryKey: key(31), secondaryKey: key(32) };
    enrollIndividual(world, 'send-pump-1', { symmetricKey: keys });
    await proveDisableAndRestore(
      { registrationId: 'send-pump-1', symmetricKey: keys.primaryKey },
      individual('send-pump-1'),
      { disenroll: 'disable' },
    );
  });

  it('individual enrollment: refused once deleted from its hub', async () => {
    const keys = { primaryKey: key(33), secondaryKey: key(34) };
    enrollIndividual(world, 'send-pump-2', { symmetricKey: keys });
    await proveDelete(
      { registrationId: 'send-pump-2', symmetricKey: keys.primaryKey },
      individual('send-pump-2'),
    );
  });

  it('group device (derived key): sends, refused once disabled, sends again after restore', async () => {
    const groupKey = key(35);
    enrollGroup(world, 'send-meters', { symmetricKey: { primaryKey: groupKey, secondaryKey: key(36) } });
    await proveDisableAndRestore(
      groupDevice(groupKey, 'send-meter-1'),
      oneOfGroup('send-meters', 'send-meter-1'),
      { disenroll: 'disable' },
    );
  });

  it('group device: refused once deleted from its hub', async () => {
    const groupKey = key(37);
    enrollGroup(world, 'send-meters-2', { symmetricKey: { primaryKey: groupKey, secondaryKey: key(38) } });
    await proveDelete(groupDevice(groupKey, 'send-meter-2'), oneOfGroup('send-meters-2', 'send-meter-2'));
  });
});

describe('X.509', () => {
  it('individual enrollment (thumbprint): sends, refused once disabled, sends again after restore', async () => {
    const chain = await generateChain({
      leafCn: 'send-robot-1',
      rootCn: 'Send Root 1',
      intermediateCn: 'Send CA 1',
    });
    const device = { registrationId: 'send-robot-1', chain };
    world.hold(device);
    enrollIndividual(world, 'send-robot-1', { certificatePem: chain.leaf.pem });
    await proveDisableAndRestore(device, individual('send-robot-1'), { disenroll: 'disable' });
  });

  it('individual enrollment: refused once deleted from its hub', async () => {
    const chain = await generateChain({
      leafCn: 'send-robot-2',
      rootCn: 'Send Root 2',
      intermediateCn: 'Send CA 2',
    });
    const device = { registrationId: 'send-robot-2', chain };
    world.hold(device);
    enrollIndividual(world, 'send-robot-2', { certificatePem: chain.leaf.pem });
    await proveDelete(device, individual('send-robot-2'));
  });

  it('group device (CA-authenticated on the hub): sends, refused once disabled, sends again after restore', async () => {
    const ca = await cachedChain('send-line', {
      leafCn: 'unused',
      rootCn: 'Send Line Root',
      intermediateCn: 'Send Line CA',
    });
    trustOnHubs(world, 'send-line-root', ca.root.pem);
    enrollGroup(world, 'send-line', { signingPem: ca.intermediate.pem });
    const chain = await generateChain({ leafCn: 'send-cam-1', ca });
    const device = { registrationId: 'send-cam-1', chain };
    world.hold(device);
    await proveDisableAndRestore(device, oneOfGroup('send-line', 'send-cam-1'), { disenroll: 'disable' });
  });

  it('group device: refused once deleted from its hub', async () => {
    const ca = await cachedChain('send-line', {
      leafCn: 'unused',
      rootCn: 'Send Line Root',
      intermediateCn: 'Send Line CA',
    });
    trustOnHubs(world, 'send-line-root', ca.root.pem);
    enrollGroup(world, 'send-line', { signingPem: ca.intermediate.pem });
    const chain = await generateChain({ leafCn: 'send-cam-2', ca });
    const device = { registrationId: 'send-cam-2', chain };
    world.hold(device);
    await proveDelete(device, oneOfGroup('send-line', 'send-cam-2'));
  });
});

describe('credentials the hub refuses (401), counted in the stats', () => {
  it('a wrong key, an expired token, a certificate of another device, a chain to a CA the hub does not trust', async () => {
    const endpoint = parseEndpoint(world.emulator.url, world.emulator.ca);
    const keys = { primaryKey: key(41), secondaryKey: key(42) };
    enrollIndividual(world, 'send-pump-9', { symmetricKey: keys });
    const pump = expectAssigned(
      await world.register({ registrationId: 'send-pump-9', symmetricKey: keys.primaryKey }),
    );

    const chain = await generateChain({
      leafCn: 'send-robot-9',
      rootCn: 'Send Root 9',
      intermediateCn: 'Send CA 9',
    });
    world.hold({ registrationId: 'send-robot-9', chain });
    enrollIndividual(world, 'send-robot-9', { certificatePem: chain.leaf.pem });
    const robot = expectAssigned(await world.register({ registrationId: 'send-robot-9', chain }));
    // A CA group whose root no hub trusts: DPS assigns the device, its hub refuses it.
    const untrusted = await generateChain({
      leafCn: 'send-cam-9',
      rootCn: 'Untrusted Root',
      intermediateCn: 'Untrusted CA',
    });
    enrollGroup(world, 'send-untrusted', { signingPem: untrusted.intermediate.pem });
    const cam = expectAssigned(await world.register({ registrationId: 'send-cam-9', chain: untrusted }));
    const other = await generateChain({
      leafCn: 'send-robot-9',
      rootCn: 'Other Root',
      intermediateCn: 'Other CA',
    });

    const before = world.emulator.stats().operations['hub:deviceTelemetry']?.['401'] ?? 0;
    const attempt = async (options: Parameters<typeof openHubDevice>[0]) => {
      const client = openHubDevice(options);
      try {
        return await client.send();
      } finally {
        await client.close();
      }
    };
    const pumpAt = { endpoint, hubHost: pump.assignedHub, deviceId: pump.deviceId };
    expect(await attempt({ ...pumpAt, symmetricKey: key(99) })).toMatchObject(REFUSED);
    const { SharedAccessSignature } = (await import('azure-iot-common')).default;
    const resource = encodeURIComponent(`${pump.assignedHub}/devices/${pump.deviceId}`);
    const expired = SharedAccessSignature.create(
      resource,
      '',
      keys.primaryKey,
      Math.floor(Date.now() / 1000) - 60,
    );
    const refusedExpired = await attempt({ ...pumpAt, sharedAccessSignature: expired.toString() });
    expect(refusedExpired).toMatchObject(REFUSED);
    expect(refusedExpired.outcome === 'refused' && refusedExpired.reason).toContain('expired');
    // The right key still works: the refusals above were about the credential alone.
    expect(await attempt({ ...pumpAt, symmetricKey: keys.primaryKey })).toMatchObject(SENT);

    const robotAt = { endpoint, hubHost: robot.assignedHub, deviceId: robot.deviceId };
    expect(
      await attempt({ ...robotAt, certPem: other.leafAndIntermediatePem, keyPem: other.leaf.keyPem }),
    ).toMatchObject(REFUSED);
    const camAt = { endpoint, hubHost: cam.assignedHub, deviceId: cam.deviceId };
    const refusedCa = await attempt({
      ...camAt,
      certPem: untrusted.leafAndIntermediatePem,
      keyPem: untrusted.leaf.keyPem,
    });
    expect(refusedCa).toMatchObject(REFUSED);
    expect(refusedCa.outcome === 'refused' && refusedCa.reason).toContain('verified on this hub');

    const after = world.emulator.stats().operations['hub:deviceTelemetry']?.['401'] ?? 0;
    expect(after - before).toBe(4);
  });
});
