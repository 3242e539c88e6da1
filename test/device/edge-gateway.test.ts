/**
 * Deprovisioning an IoT Edge gateway, with real devices: the gateway and three children provision
 * through DPS (official device client), the children are placed under the gateway on the hub (as an
 * operator sets their parent), and the gateway has two modules. The plan finds the children with a hub
 * query and warns; with includeChildren they are deregistered too (and refused by the hub), restore brings
 * them back; a delete counts and removes the gateway's modules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry } from '../../src/services/azure/clients.js';
import { parseEndpoint } from '../../src/services/azure/endpoint.js';
import { enrollIndividual, expectAssigned, key, startWorld, type World } from './harness.js';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.close());

function registryOf(hubHost: string) {
  const hub = world.emulator.hubs.find((h) => h.host === hubHost);
  if (!hub) throw new Error(`no hub ${hubHost}`);
  return createRegistry(
    { kind: 'connectionString', host: hub.host, connectionString: hub.connectionString },
    parseEndpoint(world.emulator.url, world.emulator.ca),
  );
}

/** A gateway with two modules and three children on its hub; returns their devices and the hub. */
async function edgeSite(prefix: string, seed: number) {
  const { store } = world.emulator;
  const gatewayId = `${prefix}-gw`;
  const gwKeys = { primaryKey: key(seed), secondaryKey: key(seed + 1) };
  enrollIndividual(world, gatewayId, { symmetricKey: gwKeys });
  const enrollment = store.dps.enrollments.get(gatewayId);
  if (enrollment) store.putEnrollment({ ...enrollment, capabilities: { iotEdge: true } });
  const gw = expectAssigned(
    await world.register({ registrationId: gatewayId, symmetricKey: gwKeys.primaryKey }),
  );
  const registry = registryOf(gw.assignedHub);
  const identity = (await registry.get(gatewayId)).responseBody as any;
  expect(identity.capabilities).toEqual({ iotEdge: true });
  expect(identity.deviceScope).toMatch(/^ms-azure-iot-edge:\/\//);
  await registry.addModule({ deviceId: gatewayId, moduleId: 'opcPublisher' } as any);
  await registry.addModule({ deviceId: gatewayId, moduleId: 'modbus' } as any);

  const children = [];
  for (let i = 1; i <= 3; i++) {
    const id = `${prefix}-plc-${i}`;
    const keys = { primaryKey: key(seed + 10 + i), secondaryKey: key(seed + 20 + i) };
    enrollIndividual(world, id, { symmetricKey: keys });
    const e = store.dps.enrollments.get(id);
    if (e) store.putEnrollment({ ...e, iotHubs: [gw.assignedHub] });
    const device = { registrationId: id, symmetricKey: keys.primaryKey };
    const assigned = expectAssigned(await world.register(device));
    expect(assigned.assignedHub).toBe(gw.assignedHub);
    const child = (await registry.get(id)).responseBody as any;
    await registry.update({ ...child, deviceScope: identity.deviceScope });
    children.push({ device, assigned });
  }
  return { gatewayId, hub: gw.assignedHub, children };
}

const statusOf = (hub: string, id: string) => world.emulator.store.hubByHost(hub)?.devices.get(id)?.status;

describe('an IoT Edge gateway and its children', () => {
  it('left out by default: the plan warns, names them, and they keep talking to the hub', async () => {
    const site = await edgeSite('edge-a', 101);
    const { warnings, plan } = await world.deprovision(
      { kind: 'enrollment', registrationId: site.gatewayId },
      { disenroll: 'disable', deregister: 'disable' },
    );
    const warning = warnings.find((w) => w.code === 'edge-children');
    expect(warning?.severity).toBe('caution');
    expect(warning?.registrationIds).toEqual(['edge-a-plc-1', 'edge-a-plc-2', 'edge-a-plc-3']);
    expect(warning?.message).toContain('is an IoT Edge gateway with 3 child devices');
    expect(warning?.recommendation).toContain('--include-children');
    expect(plan.counts.modulesDeleted).toBeUndefined();
    expect(statusOf(site.hub, site.gatewayId)).toBe('disabled');
    for (const c of site.children) {
      expect(statusOf(site.hub, c.assigned.deviceId)).toBe('enabled');
      const client = world.hubClient(c.device, c.assigned);
      expect(await client.send()).toMatchObject({ outcome: 'sent' });
      await client.close();
    }
  });

  it('included: the children are disabled with it and refused by the hub; restore brings them back', async () => {
    const site = await edgeSite('edge-b', 201);
    const { summary, warnings } = await world.deprovision(
      { kind: 'enrollment', registrationId: site.gatewayId },
      { disenroll: 'disable', deregister: 'disable', includeChildren: true },
    );
    expect(warnings.find((w) => w.code === 'edge-children')?.severity).toBe('info');
    const clients = site.children.map((c) => world.hubClient(c.device, c.assigned));
    try {
      for (const [i, c] of site.children.entries()) {
        expect(statusOf(site.hub, c.assigned.deviceId)).toBe('disabled');
        expect(await clients[i].send()).toMatchObject({ outcome: 'refused', status: 401 });
      }
      const backend = world.backend();
      const planned = await backend.planRestore(summary.journalPath);
      if (!planned.ok) throw new Error(planned.refusal.message);
      const restored = await (await backend.run(planned.plan)).done;
      expect(restored.results.filter((r) => r.outcome === 'failed')).toEqual([]);
      expect(restored.state).toBe('completed');
      for (const [i, c] of site.children.entries()) {
        expect(statusOf(site.hub, c.assigned.deviceId)).toBe('enabled');
        expect(await clients[i].send()).toMatchObject({ outcome: 'sent' });
      }
      expect(statusOf(site.hub, site.gatewayId)).toBe('enabled');
    } finally {
      for (const c of clients) await c.close();
    }
  });

  it('deleted: the review counts the modules the delete removes, and they are gone', async () => {
    const site = await edgeSite('edge-c', 301);
    const { plan, warnings } = await world.deprovision(
      { kind: 'enrollment', registrationId: site.gatewayId },
      { disenroll: 'disable', deregister: 'delete' },
    );
    expect(plan.counts.modulesDeleted).toBe(2);
    const modules = warnings.find((w) => w.code === 'edge-modules')?.message ?? '';
    expect(modules).toContain('2 module identities');
    expect(modules).toMatch(/modbus/);
    expect(modules).toMatch(/opcPublisher/);
    expect(world.emulator.store.hubByHost(site.hub)?.devices.has(site.gatewayId)).toBe(false);
    const gone = await registryOf(site.hub)
      .getModule(site.gatewayId, 'modbus')
      .catch((e: any) => e);
    expect(gone.response?.statusCode).toBe(404);
  });
});
