/**
 * An enrollment's initialTwin, applied when DPS first assigns a device (official device client), and
 * carried to the new hub when the device moves with migrateDeviceData; with a reset it starts again
 * from the initialTwin. Read back through the real Registry client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry } from '../../src/services/azure/clients.js';
import { parseEndpoint } from '../../src/services/azure/endpoint.js';
import { parseEnrollment } from '../../src/services/emulator/dps-model.js';
import { expectAssigned, key, startWorld, type World } from './harness.js';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.close());

async function twinOf(hubHost: string, deviceId: string): Promise<any> {
  const hub = world.emulator.hubs.find((h) => h.host === hubHost);
  if (!hub) throw new Error(`no hub ${hubHost}`);
  const registry = createRegistry(
    { kind: 'connectionString', host: hub.host, connectionString: hub.connectionString },
    parseEndpoint(world.emulator.url, world.emulator.ca),
  );
  return (await registry.getTwin(deviceId)).responseBody;
}

function enroll(id: string, hubs: string[], migrateDeviceData: boolean, seed: number) {
  const { store } = world.emulator;
  const keys = { primaryKey: key(seed), secondaryKey: key(seed + 1) };
  const body = {
    registrationId: id,
    provisioningStatus: 'enabled',
    allocationPolicy: 'static',
    iotHubHostName: hubs[0],
    iotHubs: hubs,
    reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData },
    attestation: { type: 'symmetricKey', symmetricKey: keys },
    initialTwin: { tags: { site: 'berlin' }, properties: { desired: { interval: 30 } } },
  };
  store.putEnrollment(parseEnrollment(body, id, store.dps.enrollments.get(id), store));
  return { registrationId: id, symmetricKey: keys.primaryKey };
}

describe("an enrollment's initialTwin", () => {
  const hosts = () => [...world.emulator.store.hubs.keys()];

  it('is the twin of the identity DPS creates, and moves with the device when migrating', async () => {
    const [first, second] = hosts();
    const device = enroll('twin-1', [first], true, 51);
    const assigned = expectAssigned(await world.register(device));
    const twin = await twinOf(assigned.assignedHub, 'twin-1');
    expect(twin.tags).toEqual({ site: 'berlin' });
    expect(twin.properties.desired).toMatchObject({ interval: 30 });

    // An operator changes the twin on the hub; the enrollment now sends the device to another hub.
    const stored = world.emulator.store.hubByHost(first)?.devices.get('twin-1');
    if (stored) stored.tags = { site: 'berlin', line: 'B' };
    enroll('twin-1', [second], true, 51);
    const moved = expectAssigned(await world.register(device));
    expect(moved.assignedHub).toBe(second);
    expect((await twinOf(second, 'twin-1')).tags).toEqual({ site: 'berlin', line: 'B' });
  });

  it('starts again from the initialTwin when the device moves without its data', async () => {
    const [first, second] = hosts();
    const device = enroll('twin-2', [first], false, 61);
    expectAssigned(await world.register(device));
    const stored = world.emulator.store.hubByHost(first)?.devices.get('twin-2');
    if (stored) stored.tags = { site: 'changed' };
    enroll('twin-2', [second], false, 61);
    expectAssigned(await world.register(device));
    expect((await twinOf(second, 'twin-2')).tags).toEqual({ site: 'berlin' });
  });
});
