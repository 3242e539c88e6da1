/**
 * The emulator's shared access policies carry permissions, as the services' do: besides the owner policy
 * each service has a read-only one (DPS `enrollmentread`: EnrollmentRead + RegistrationStatusRead; a hub
 * `registryRead`: RegistryRead). A read-only policy reads everything and is refused (401, the missing
 * permission named) every change, which then is not applied.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type EmulatorHandle, startEmulator } from '../../src/services/emulator/index.js';
import { dpsClient, failure, hubClient } from './helpers.js';

let em: EmulatorHandle | undefined;
afterEach(async () => {
  await em?.stop();
  em = undefined;
});

describe('emulator: read-only access policies', () => {
  it('a hub read-only policy reads identities and is refused every registry write (nothing applied)', async () => {
    em = await startEmulator({ seed: 'demo', throttle: false });
    const hub = em.store.hubs.get('hub-eu') ?? [...em.store.hubs.values()][0];
    const index = em.hubs.findIndex((h) => h.host === hub.host);
    const deviceId = [...hub.devices.keys()][0];
    const reader = hubClient(em, index, em.hubs[index].readOnlyConnectionString);
    expect((await reader.get(deviceId)).responseBody.deviceId).toBe(deviceId);
    const refused = await failure(reader.delete(deviceId));
    expect(refused.response?.statusCode ?? refused.statusCode).toBe(401);
    expect(String(refused.responseBody ?? refused.message)).toContain('RegistryWrite');
    const bulk = await failure(reader.removeDevices([{ deviceId }] as any, true));
    expect(bulk.response?.statusCode ?? bulk.statusCode).toBe(401);
    expect(hub.devices.has(deviceId)).toBe(true);
    expect(em.stats().destructive).toEqual({});
    // The owner policy still writes.
    await hubClient(em, index).delete(deviceId);
    expect(hub.devices.has(deviceId)).toBe(false);
  });

  it('the DPS read-only policy reads enrollments and records, and is refused enrollment and record writes', async () => {
    em = await startEmulator({ seed: 'demo', throttle: false });
    const [registrationId] = [...em.store.dps.enrollments.keys()];
    const [recordId] = [...em.store.dps.registrations.keys()];
    const reader = dpsClient(em, em.dps.readOnlyConnectionString);
    expect((await reader.getIndividualEnrollment(registrationId)).responseBody.registrationId).toBe(
      registrationId,
    );
    const enrollment = await failure(reader.deleteIndividualEnrollment(registrationId));
    expect(enrollment.response?.statusCode ?? enrollment.statusCode).toBe(401);
    expect(String(enrollment.responseBody ?? enrollment.message)).toContain('EnrollmentWrite');
    const record = await failure(reader.deleteDeviceRegistrationState(recordId));
    expect(String(record.responseBody ?? record.message)).toContain('RegistrationStatusWrite');
    expect(em.store.dps.enrollments.has(registrationId)).toBe(true);
    expect(em.store.dps.registrations.has(recordId)).toBe(true);
    expect(em.stats().destructive).toEqual({});
  });
});
