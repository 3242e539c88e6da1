/**
 * The hub adapter reads when an identity's status last changed (identity: statusUpdatedTime, twin:
 * statusUpdateTime): restore uses it to see that a device's status changed after the run it undoes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry } from '../../src/services/azure/clients.js';
import type { HubPort } from '../../src/core/ports.js';
import { collect, type Sandbox, startSandbox } from './support.js';

let sb: Sandbox;
let hub: HubPort;

beforeAll(async () => {
  sb = await startSandbox({});
  const host = sb.emulator.hubs[0].host;
  hub = sb.ports.hubs.get(host) as HubPort;
  const raw = createRegistry(sb.target.hubs.get(host) as any, sb.target.endpoint);
  await raw.addDevices([{ deviceId: 'st-1', status: 'enabled' } as any]);
});
afterAll(() => sb?.emulator.stop());

describe('status change time', () => {
  it('a status change is dated after it was asked for, by a single read and by the device list', async () => {
    const asked = new Date(Date.now() - 1000).toISOString();
    await hub.setDevicesStatus([{ deviceId: 'st-1' }], 'disabled');
    const read = await hub.getDevice('st-1');
    expect(read?.statusUpdatedTime).toBeDefined();
    expect(Date.parse(read?.statusUpdatedTime as string)).toBeGreaterThanOrEqual(Date.parse(asked));
    const { items } = await collect(hub.listDevices());
    expect(items.find((d) => d.deviceId === 'st-1')?.statusUpdatedTime).toBe(read?.statusUpdatedTime);
  });
});
