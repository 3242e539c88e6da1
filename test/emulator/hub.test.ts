import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatorHandle, startEmulator } from '../../src/services/emulator/index.js';
import { failure, hubClient } from './helpers.js';

// The IoT Hub identity registry through the real Registry client, one registry per Host header.
describe('emulator: IoT Hub registry API', () => {
  let em: EmulatorHandle;
  let eu: ReturnType<typeof hubClient>;
  let us: ReturnType<typeof hubClient>;
  beforeAll(async () => {
    em = await startEmulator({ throttle: false });
    eu = hubClient(em, 0);
    us = hubClient(em, 1);
  });
  afterAll(() => em.stop());

  it('creates, reads, disables and deletes a device; hubs are told apart by host', async () => {
    const created = (await eu.create({ deviceId: 'sensor-0001' })).responseBody;
    expect(created).toMatchObject({
      deviceId: 'sensor-0001',
      status: 'enabled',
      connectionState: 'Disconnected',
    });
    expect((created.authentication as any)?.type).toBe('sas');
    expect(created.authentication?.symmetricKey?.primaryKey).toEqual(expect.any(String));
    expect((await failure(us.get('sensor-0001'))).name).toBe('DeviceNotFoundError');

    const exists = await failure(eu.create({ deviceId: 'sensor-0001' }));
    expect(exists.name).toBe('DeviceAlreadyExistsError');

    const read = (await eu.get('sensor-0001')).responseBody;
    const disabled = (await eu.update({ ...read, status: 'disabled', statusReason: 'stolen' })).responseBody;
    expect(disabled.status).toBe('disabled');
    expect(disabled.etag).not.toBe(read.etag);
    expect(disabled.authentication?.symmetricKey?.primaryKey).toBe(
      read.authentication?.symmetricKey?.primaryKey,
    );
    expect(em.stats().destructive['hub-eu.azure-devices.net/sensor-0001']).toEqual({ create: 1, disable: 1 });

    await eu.delete('sensor-0001');
    const gone = await failure(eu.get('sensor-0001'));
    expect(gone.name).toBe('DeviceNotFoundError');
    expect(JSON.parse(gone.responseBody).Message).toMatch(/^ErrorCode:DeviceNotFound;/);
    expect((await failure(eu.delete('sensor-0001'))).name).toBe('DeviceNotFoundError');
  });

  it('answers 412 to a quoted stale ETag on a single-device write', async () => {
    const created = (await eu.create({ deviceId: 'etag-0001' })).responseBody;
    await eu.update({ ...created, status: 'disabled' });
    const rest = (eu as any)._restApiClient;
    const err: any = await new Promise((resolve) =>
      rest.executeApiCall(
        'PUT',
        '/devices/etag-0001?api-version=2021-04-12',
        { 'Content-Type': 'application/json; charset=utf-8', 'If-Match': `"${created.etag}"` },
        { ...created, status: 'enabled' },
        (e: unknown) => resolve(e),
      ),
    );
    expect(err?.name).toBe('InvalidEtagError');
    expect((await eu.get('etag-0001')).responseBody.status).toBe('disabled');
  });

  it('runs bulk operations with per-device errors and the registry import modes', async () => {
    await eu.create({ deviceId: 'bulk-1' });
    const add = (
      await eu.addDevices([{ deviceId: 'bulk-1' }, { deviceId: 'bulk-2' }, { deviceId: 'bulk-3' }] as any)
    ).responseBody as any;
    expect(add.isSuccessful).toBe(false);
    expect(add.errors).toEqual([
      { deviceId: 'bulk-1', errorCode: 'DeviceAlreadyExists', errorStatus: expect.any(String) },
    ]);

    const b2 = (await eu.get('bulk-2')).responseBody;
    const guarded = (
      await eu.removeDevices(
        [
          { ...b2, etag: 'stale' },
          { deviceId: 'missing', etag: 'x' },
        ] as any,
        false,
      )
    ).responseBody as any;
    expect(guarded.errors.map((e: any) => [e.deviceId, e.errorCode])).toEqual([
      ['bulk-2', 'PreconditionFailed'],
      ['missing', 'DeviceNotFound'],
    ]);
    const removed = (await eu.removeDevices([b2, { deviceId: 'bulk-3' }] as any, false)).responseBody as any;
    // DeleteIfMatchETag needs the ETag: bulk-3 was sent without one.
    expect(removed.errors.map((e: any) => e.deviceId)).toEqual(['bulk-3']);
    const forced = (await eu.removeDevices([{ deviceId: 'bulk-3' }] as any, true)).responseBody as any;
    expect(forced).toEqual({ isSuccessful: true, errors: [], warnings: [] });

    // Update creates a device that is missing: a disable racing a delete brings the device back, disabled.
    const revived = (await eu.updateDevices([{ deviceId: 'bulk-2', status: 'disabled' }] as any, true))
      .responseBody as any;
    expect(revived.isSuccessful).toBe(true);
    expect((await eu.get('bulk-2')).responseBody.status).toBe('disabled');
    expect(em.stats().operations['hub:bulkDelete']).toEqual({ '200': 1 });
    expect(em.stats().operations['hub:bulkDeleteIfMatchETag']).toEqual({ '200': 2 });

    const duplicate = await failure(eu.addDevices([{ deviceId: 'dup' }, { deviceId: 'dup' }] as any));
    expect(duplicate.name).toBe('ArgumentError');
    expect(duplicate.message).toMatch(/more than once/);
  });

  it('queries twins page by page; a twin ETag is not the identity ETag', async () => {
    for (let i = 0; i < 5; i++)
      await us.create({ deviceId: `query-${i}`, status: i % 2 ? 'disabled' : 'enabled' });
    const query = us.createQuery('SELECT * FROM devices', 2);
    const twins: any[] = [];
    while (query.hasMoreResults) {
      const page = await query.next(query.continuationToken ?? undefined);
      twins.push(...(page.result as any[]));
    }
    expect(twins.map((t) => t.deviceId)).toEqual(['query-0', 'query-1', 'query-2', 'query-3', 'query-4']);
    const identity = (await us.get('query-0')).responseBody;
    expect(twins[0].deviceEtag).toBe(identity.etag);
    expect(twins[0].etag).not.toBe(identity.etag);

    const disabled = await us.createQuery("SELECT * FROM devices WHERE status = 'disabled'").next();
    expect((disabled.result as any[]).map((t) => t.deviceId)).toEqual(['query-1', 'query-3']);
    const count = await us.createQuery('SELECT COUNT() AS n FROM devices').next();
    expect(count.result).toEqual([{ n: 5 }]);
    const unsupported = await failure(us.createQuery('SELECT * FROM devices.jobs').next());
    expect(unsupported.name).toBe('ArgumentError');

    const stats = (await us.getRegistryStatistics()).responseBody as any;
    expect(stats).toEqual({ totalDeviceCount: 5, enabledDeviceCount: 3, disabledDeviceCount: 2 });
  });
});
