/**
 * IoT Edge on the emulator's hubs, through the real Registry client: an Edge device gets a scope of its
 * own, children name it in parentScopes, module identities live under their device and die with it,
 * and a hub query finds a gateway's children.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatorHandle, startEmulator } from '../../src/services/emulator/index.js';
import { failure, hubClient } from './helpers.js';

let em: EmulatorHandle;
beforeAll(async () => {
  em = await startEmulator({ throttle: false });
});
afterAll(() => em.stop());

describe('Edge gateways, children and modules', () => {
  it('scopes, modules, the children query, and a delete that takes the modules with it', async () => {
    const registry = hubClient(em, 0);
    const gw = (await registry.create({ deviceId: 'gw-1', capabilities: { iotEdge: true } } as any))
      .responseBody as any;
    expect(gw.capabilities).toEqual({ iotEdge: true });
    expect(gw.deviceScope).toMatch(/^ms-azure-iot-edge:\/\/gw-1-\d+$/);
    const child = (await registry.create({ deviceId: 'leaf-1', deviceScope: gw.deviceScope } as any))
      .responseBody as any;
    expect(child.parentScopes).toEqual([gw.deviceScope]);
    await registry.create({ deviceId: 'loner' } as any);
    // A later update keeps the gateway's scope.
    const again = (await registry.update({ ...gw, status: 'disabled' })).responseBody as any;
    expect(again.deviceScope).toBe(gw.deviceScope);

    await registry.addModule({ deviceId: 'gw-1', moduleId: 'edgeAgent' } as any);
    await registry.addModule({ deviceId: 'gw-1', moduleId: 'tempSensor' } as any);
    expect(
      ((await registry.getModulesOnDevice('gw-1')).responseBody as any[]).map((m) => m.moduleId),
    ).toEqual(['edgeAgent', 'tempSensor']);
    const dup = await failure(registry.addModule({ deviceId: 'gw-1', moduleId: 'edgeAgent' } as any));
    expect(dup.response?.statusCode).toBe(409);

    const children = await registry
      .createQuery(`SELECT * FROM devices WHERE ARRAY_CONTAINS(parentScopes, '${gw.deviceScope}')`)
      .next();
    expect((children.result as any[]).map((t) => t.deviceId)).toEqual(['leaf-1']);
    const modules = await registry
      .createQuery("SELECT * FROM devices.modules WHERE deviceId = 'gw-1'")
      .next();
    expect((modules.result as any[]).map((t) => t.moduleId)).toEqual(['edgeAgent', 'tempSensor']);

    await registry.delete('gw-1');
    expect((await failure(registry.getModule('gw-1', 'edgeAgent'))).response?.statusCode).toBe(404);
    await registry.create({ deviceId: 'gw-1', capabilities: { iotEdge: true } } as any);
    expect((await registry.getModulesOnDevice('gw-1')).responseBody).toEqual([]);
  });
});
