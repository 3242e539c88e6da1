import { afterEach, describe, expect, it } from 'vitest';
import { type EmulatorHandle, startEmulator } from '../../src/services/emulator/index.js';
import { controlRequest, dpsClient, failure, hubClient } from './helpers.js';

/** Resolves with 'deadline' if the call has not settled after `ms` (the client's own deadline). */
function withDeadline(p: Promise<unknown>, ms: number): Promise<unknown> {
  return Promise.race([
    p.then(
      () => 'settled',
      () => 'settled',
    ),
    new Promise((r) => setTimeout(() => r('deadline'), ms)),
  ]);
}

describe('emulator: injected faults', () => {
  let em: EmulatorHandle | undefined;
  afterEach(async () => {
    await em?.stop();
    em = undefined;
  });

  it('answers 500/503 in the service shape, in the same order for the same seed', async () => {
    const run = async () => {
      const e = await startEmulator({ throttle: false, faults: { seed: 7, error5xxRate: 0.5 } });
      const registry = hubClient(e);
      const outcomes: string[] = [];
      for (let i = 0; i < 12; i++)
        outcomes.push(
          await registry.get('x').then(
            () => 'ok',
            (err) => err.name,
          ),
        );
      await e.stop();
      return outcomes;
    };
    const first = await run();
    expect(first).toContain('DeviceNotFoundError');
    expect(first.some((o) => o === 'InternalServerError' || o === 'ServiceUnavailableError')).toBe(true);
    expect(await run()).toEqual(first);
  });

  it('destroys connections before or after applying the operation', async () => {
    em = await startEmulator({ throttle: false });
    const registry = hubClient(em);
    await registry.addDevices([{ deviceId: 'd-1' }, { deviceId: 'd-2' }] as any);
    em.setFaults({ resetRate: 1 });
    const before = await failure(registry.delete('d-1'));
    expect(before.code ?? before.message).toMatch(/ECONNRESET|socket hang up/);
    em.setFaults({ resetAfterRate: 1 });
    await failure(registry.delete('d-2'));
    em.setFaults(undefined);
    expect((await registry.get('d-1')).responseBody.deviceId).toBe('d-1'); // never applied
    expect((await failure(registry.get('d-2'))).name).toBe('DeviceNotFoundError'); // applied, answer lost
    const stats = em.stats();
    expect(stats.operations['hub:deleteDevice']).toEqual({ reset: 1, resetAfter: 1 });
    expect(stats.destructive['hub-eu.azure-devices.net/d-1']).toEqual({ create: 1 });
    expect(stats.destructive['hub-eu.azure-devices.net/d-2']).toEqual({ create: 1, delete: 1 });
  });

  it('hangs and delays requests of the services named only; stop() still returns', async () => {
    em = await startEmulator({ throttle: false, faults: { hangRate: 1, only: ['dps'] } });
    const hung = dpsClient(em).getIndividualEnrollment('x');
    expect(await withDeadline(hung, 300)).toBe('deadline');
    expect((await failure(hubClient(em).get('x'))).name).toBe('DeviceNotFoundError'); // hub unaffected
    // Latency: a request delayed by 60 s cannot be answered within the client's 300 ms deadline.
    em.setFaults({ latencyMs: 60_000, only: ['hub'] });
    expect(await withDeadline(hubClient(em).get('x'), 300)).toBe('deadline');
    await em.stop(); // closes the hanging and delayed connections
    expect(await withDeadline(hung, 1000)).toBe('settled');
  });

  it('sets faults and reads stats over HTTP', async () => {
    em = await startEmulator({ throttle: false });
    expect((await controlRequest(em, 'PUT', '/_emulator/faults', { error5xxRate: 2 })).status).toBe(400);
    expect(
      (await controlRequest(em, 'PUT', '/_emulator/faults', { error5xxRate: 1, only: ['hub'] })).status,
    ).toBe(200);
    const err = await failure(hubClient(em).get('x'));
    expect(['InternalServerError', 'ServiceUnavailableError']).toContain(err.name);
    await controlRequest(em, 'PUT', '/_emulator/faults', null);
    expect((await failure(hubClient(em).get('x'))).name).toBe('DeviceNotFoundError');
    const stats = await controlRequest(em, 'GET', '/_emulator/stats');
    expect(Object.values(stats.body.operations['hub:getDevice']).reduce((a: any, b: any) => a + b, 0)).toBe(
      2,
    );
    expect((await controlRequest(em, 'DELETE', '/_emulator/stats')).status).toBe(204);
    expect(em.stats().operations).toEqual({});
  });

  it('answers 429 with the Retry-After asked for, without applying the operation, until cleared', async () => {
    em = await startEmulator({ throttle: false });
    const registry = hubClient(em);
    await registry.addDevices([{ deviceId: 'd-1' }] as any);
    expect(
      (await controlRequest(em, 'PUT', '/_emulator/faults', { throttleRate: 1, retryAfterSeconds: -1 }))
        .status,
    ).toBe(400);
    expect(
      (
        await controlRequest(em, 'PUT', '/_emulator/faults', {
          throttleRate: 1,
          retryAfterSeconds: 600,
          only: ['hub'],
        })
      ).status,
    ).toBe(200);
    const err = await failure(registry.delete('d-1'));
    expect(err.name).toBe('ThrottlingError');
    expect(err.response?.headers?.['retry-after']).toBe('600');
    // DPS is not affected.
    expect((await failure(dpsClient(em).getIndividualEnrollment('x'))).name).not.toBe('ThrottlingError');
    em.setFaults(undefined);
    expect((await registry.get('d-1')).responseBody.deviceId).toBe('d-1'); // the delete was never applied
    expect(em.stats().operations['hub:deleteDevice']).toEqual({ '429': 1 });
  });
});
