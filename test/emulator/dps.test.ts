import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSelfSignedDeviceCertificate } from '../../src/services/emulator/certs.js';
import { type EmulatorHandle, startEmulator } from '../../src/services/emulator/index.js';
import { provision } from '../../src/services/emulator/seed-shared.js';
import { dpsClient, failure, runBulk } from './helpers.js';

// The DPS service API through the real ProvisioningServiceClient.
describe('emulator: DPS service API', () => {
  let em: EmulatorHandle;
  let dps: ReturnType<typeof dpsClient>;
  beforeAll(async () => {
    em = await startEmulator({ throttle: false });
    dps = dpsClient(em);
  });
  afterAll(() => em.stop());

  const symmetric = (registrationId: string, extra: object = {}) =>
    ({ registrationId, attestation: { type: 'symmetricKey' }, ...extra }) as any;

  it('generates missing keys, changes the ETag on every write, answers 412 to a stale one', async () => {
    const created = (await dps.createOrUpdateIndividualEnrollment(symmetric('pump-0100'))).responseBody;
    expect(created.provisioningStatus).toBe('enabled');
    expect(created.attestation.symmetricKey).toEqual({}); // keys only through the attestation mechanism
    const keys = (await dps.getIndividualEnrollmentAttestationMechanism('pump-0100')).responseBody as any;
    expect(Buffer.from(keys.symmetricKey.primaryKey, 'base64')).toHaveLength(32);

    const disabled = (
      await dps.createOrUpdateIndividualEnrollment({
        ...created,
        provisioningStatus: 'disabled',
        attestation: keys,
      })
    ).responseBody;
    expect(disabled.provisioningStatus).toBe('disabled');
    expect(disabled.etag).not.toBe(created.etag);
    const again = (await dps.getIndividualEnrollmentAttestationMechanism('pump-0100')).responseBody as any;
    expect(again.symmetricKey).toEqual(keys.symmetricKey); // sent back, so kept

    const stale = await failure(
      dps.createOrUpdateIndividualEnrollment({ ...created, provisioningStatus: 'enabled' }),
    );
    expect(stale.name).toBe('InvalidEtagError');
    expect(stale.response.statusCode).toBe(412);
    const body = JSON.parse(stale.responseBody);
    expect(body).toMatchObject({
      errorCode: 412002,
      message: expect.any(String),
      trackingId: expect.any(String),
    });
    expect(stale.response.headers['x-ms-error-code']).toBe('412002');

    expect((await failure(dps.deleteIndividualEnrollment('pump-0100', created.etag))).name).toBe(
      'InvalidEtagError',
    );
    await dps.deleteIndividualEnrollment('pump-0100', disabled.etag);
    const gone = await failure(dps.getIndividualEnrollment('pump-0100'));
    expect(gone.response.statusCode).toBe(404);
    expect(JSON.parse(gone.responseBody).errorCode).toBe(404201);
  });

  it('answers X.509 certificate info computed from the stored PEM, kept on round trips', async () => {
    const cert = await createSelfSignedDeviceCertificate('camera-0300');
    const enrollment = {
      registrationId: 'camera-0300',
      attestation: { type: 'x509', x509: { clientCertificates: { primary: { certificate: cert.certPem } } } },
    } as any;
    const created = (await dps.createOrUpdateIndividualEnrollment(enrollment)).responseBody as any;
    const info = created.attestation.x509.clientCertificates.primary.info;
    const node = new X509Certificate(cert.certPem);
    expect(created.attestation.x509.clientCertificates.primary.certificate).toBeUndefined();
    expect(info.subjectName).toBe('CN=camera-0300');
    expect(info.sha1Thumbprint).toBe(node.fingerprint.replace(/:/g, ''));
    expect(info.sha256Thumbprint).toBe(node.fingerprint256.replace(/:/g, ''));
    expect(new Date(info.notAfterUtc).getTime()).toBe(new Date(node.validTo).getTime());

    // What a client read back (info only) can be written back: the stored certificate stays.
    await dps.createOrUpdateIndividualEnrollment({ ...created, provisioningStatus: 'disabled' });
    expect(em.store.dps.enrollments.get('camera-0300')?.attestation.x509?.clientCertificates?.primary).toBe(
      cert.certPem.trim(),
    );
    const broken = { ...enrollment, registrationId: 'camera-0301' };
    broken.attestation = {
      type: 'x509',
      x509: { clientCertificates: { primary: { certificate: 'not a cert' } } },
    };
    const bad = await failure(dps.createOrUpdateIndividualEnrollment(broken));
    expect(bad.name).toBe('ArgumentError');
  });

  it('manages enrollment groups and their attestation mechanism (lowercase path)', async () => {
    const group = { enrollmentGroupId: 'meters-0001', attestation: { type: 'symmetricKey' } } as any;
    const created = (await dps.createOrUpdateEnrollmentGroup(group)).responseBody;
    expect((await dps.getEnrollmentGroup('meters-0001')).responseBody.etag).toBe(created.etag);
    const mechanism = (await dps.getEnrollmentGroupAttestationMechanism('meters-0001')).responseBody as any;
    expect(mechanism.type).toBe('symmetricKey');
    expect(mechanism.symmetricKey.primaryKey).toEqual(expect.any(String));
    const tpmGroup = await failure(
      dps.createOrUpdateEnrollmentGroup({
        enrollmentGroupId: 'tpm-group',
        attestation: { type: 'tpm' },
      } as any),
    );
    expect(tpmGroup.response.statusCode).toBe(400);
    await dps.deleteEnrollmentGroup('meters-0001');
    expect((await failure(dps.getEnrollmentGroup('meters-0001'))).response.statusCode).toBe(404);
  });

  it('pages enrollment queries with x-ms-continuation', async () => {
    // Whatever earlier tests of this file left (in whatever order they ran) is listed too.
    const before = [...em.store.dps.enrollments.keys()];
    for (let i = 0; i < 7; i++) await dps.createOrUpdateIndividualEnrollment(symmetric(`valve-${i}`));
    const query = dps.createIndividualEnrollmentQuery({ query: 'SELECT * FROM enrollments' }, 3);
    const seen: string[] = [];
    let pages = 0;
    while (query.hasMoreResults) {
      const page = await query.next(query.continuationToken ?? undefined);
      seen.push(...(page.responseBody as unknown as any[]).map((e) => e.registrationId));
      pages += 1;
    }
    const expected = [...before, ...[0, 1, 2, 3, 4, 5, 6].map((i) => `valve-${i}`)];
    // Every enrollment once across the pages (the order is the service's own).
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...expected].sort());
    // Pages of 3: at least three pages, so the continuation token was followed twice.
    expect(pages).toBe(Math.ceil(expected.length / 3));
    expect(pages).toBeGreaterThanOrEqual(3);
  });

  it('answers a WHERE on provisioningStatus correctly, and refuses a query it cannot run', async () => {
    await dps.createOrUpdateIndividualEnrollment({
      ...symmetric('valve-off'),
      provisioningStatus: 'disabled',
    } as any);
    const disabled = dps.createIndividualEnrollmentQuery(
      { query: "SELECT * FROM enrollments WHERE provisioningStatus = 'disabled'" },
      3,
    );
    const seen: { registrationId: string; provisioningStatus: string }[] = [];
    while (disabled.hasMoreResults) {
      const page = await disabled.next(disabled.continuationToken ?? undefined);
      seen.push(...(page.responseBody as unknown as any[]));
    }
    // Exactly the disabled ones the emulator holds (earlier tests of this file may have disabled some).
    const held = [...em.store.dps.enrollments.values()]
      .filter((e) => e.provisioningStatus === 'disabled')
      .map((e) => [e.registrationId, 'disabled']);
    expect(held).toContainEqual(['valve-off', 'disabled']);
    expect(seen.map((e) => [e.registrationId, e.provisioningStatus])).toEqual(held);
    const refused = await failure(
      dps.createIndividualEnrollmentQuery({ query: 'SELECT registrationId FROM enrollments' }).next(),
    );
    expect(refused.response.statusCode).toBe(400);
  });

  it('runs bulk operations item by item, at most 10 per call', async () => {
    await dps.createOrUpdateIndividualEnrollment(symmetric('bulk-existing'));
    const result = await runBulk(dps, {
      mode: 'create',
      enrollments: [symmetric('bulk-new-1'), symmetric('bulk-existing'), symmetric('bulk-new-2')],
    });
    expect(result.isSuccessful).toBe(false);
    expect(result.errors).toEqual([
      { registrationId: 'bulk-existing', errorCode: 409201, errorStatus: expect.any(String) },
    ]);
    expect(em.store.dps.enrollments.has('bulk-new-2')).toBe(true);
    const deleted = await runBulk(dps, {
      mode: 'delete',
      enrollments: [symmetric('bulk-new-1'), symmetric('nope')],
    });
    expect(deleted.errors.map((e: any) => [e.registrationId, e.errorCode])).toEqual([['nope', 404201]]);
    expect(em.store.dps.enrollments.has('bulk-new-1')).toBe(false);
    const eleven = Array.from({ length: 11 }, (_, i) => symmetric(`eleven-${i}`));
    const tooMany = await failure(runBulk(dps, { mode: 'create', enrollments: eleven }));
    expect(tooMany.name).toBe('ArgumentError');
  });

  it('pages over 10,000 registration records of a group; gets and deletes one record', async () => {
    const hub = [...em.store.hubs.values()][1];
    const at = new Date().toISOString();
    for (let i = 0; i < 10_050; i++) {
      const registrationId = `meter-${String(i).padStart(5, '0')}`;
      provision(em.store, {
        registrationId,
        enrollment: { kind: 'group', id: 'big-group' },
        hub,
        authType: 'sas',
        at,
      });
    }
    em.store.touch();
    const query = dps.createEnrollmentGroupDeviceRegistrationStateQuery({ query: '*' }, 'big-group', 1000);
    const ids = new Set<string>();
    let pages = 0;
    while (query.hasMoreResults) {
      const page = await query.next(query.continuationToken ?? undefined);
      for (const r of page.responseBody as unknown as any[]) ids.add(r.registrationId);
      pages += 1;
    }
    expect(pages).toBe(11);
    expect(ids.size).toBe(10_050);

    const record = (await dps.getDeviceRegistrationState('meter-00042')).responseBody;
    expect(record).toMatchObject({
      registrationId: 'meter-00042',
      assignedHub: hub.host,
      status: 'assigned',
    });
    expect((await failure(dps.deleteDeviceRegistrationState('meter-00042', 'stale'))).name).toBe(
      'InvalidEtagError',
    );
    await dps.deleteDeviceRegistrationState('meter-00042', record.etag);
    expect((await failure(dps.getDeviceRegistrationState('meter-00042'))).response.statusCode).toBe(404);
    expect(em.stats().destructive['dps/registrations/meter-00042']).toEqual({ delete: 1 });
  });
});
