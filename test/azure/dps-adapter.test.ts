import { X509Certificate } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BLOCKER_TAG } from '../../src/core/model.js';
import {
  createProvisioningClient,
  type ProvisioningServiceClient,
} from '../../src/services/azure/clients.js';
import { observeRequest } from '../../src/services/azure/deadline.js';
import { AzureDpsAdapter } from '../../src/services/azure/dps-adapter.js';
import { buildPorts, resolveTarget } from '../../src/services/azure/target.js';
import { collect, deviceChain, type Sandbox, startSandbox, withWrongKey } from './support.js';

// The real ProvisioningServiceClient against the real emulator; data made through the service API.
let sb: Sandbox;
let raw: ProvisioningServiceClient;
const symmetricIds = Array.from({ length: 12 }, (_, i) => `t-sym-${String(i).padStart(2, '0')}`);

type Keys = { primaryKey: string; secondaryKey: string };
const keysOf = async (id: string): Promise<Keys> =>
  (await raw.getIndividualEnrollmentAttestationMechanism(id)).responseBody.symmetricKey as Keys;

// A fresh emulator per test: each test stands alone, in any order (npm run test:shuffle).
beforeEach(async () => {
  sb = await startSandbox({ bearerTokens: ['entra-test-token'] }, { pageSize: 5 });
  raw = createProvisioningClient(sb.target.dps, sb.target.endpoint);
  for (const id of symmetricIds) {
    await raw.createOrUpdateIndividualEnrollment({
      registrationId: id,
      attestation: { type: 'symmetricKey' },
      provisioningStatus: 'enabled',
    } as any);
  }
  await raw.createOrUpdateEnrollmentGroup({
    enrollmentGroupId: 't-group',
    attestation: { type: 'symmetricKey' },
    provisioningStatus: 'enabled',
  } as any);
  const hub = sb.emulator.hubs[0].host;
  const now = new Date().toISOString();
  for (let i = 0; i < 13; i++) {
    const registrationId = `t-group-dev-${String(i).padStart(2, '0')}`;
    sb.emulator.store.putRegistration({
      registrationId,
      enrollment: { kind: 'group', id: 't-group' },
      deviceId: registrationId,
      assignedHub: hub,
      status: 'assigned',
      createdDateTimeUtc: now,
      lastUpdatedDateTimeUtc: now,
      etag: `etag-${i}`,
    });
  }
});
afterEach(() => sb?.emulator.stop());

describe('DPS adapter reads', () => {
  it('gets an enrollment, and undefined for one that does not exist', async () => {
    const e = await sb.ports.dps.getEnrollment('t-sym-00');
    expect(e).toMatchObject({
      registrationId: 't-sym-00',
      provisioningStatus: 'enabled',
      attestation: { type: 'symmetricKey' },
    });
    expect(e?.etag).toBeTruthy();
    expect(await sb.ports.dps.getEnrollment('no-such-enrollment')).toBeUndefined();
    expect(await sb.ports.dps.getGroup('no-such-group')).toBeUndefined();
  });

  it('maps X.509 certificate info with upper-case thumbprints', async () => {
    const { leaf } = await deviceChain('t-x509-read');
    await raw.createOrUpdateIndividualEnrollment({
      registrationId: 't-x509-read',
      attestation: { type: 'x509', x509: { clientCertificates: { primary: { certificate: leaf } } } },
    } as any);
    const e = await sb.ports.dps.getEnrollment('t-x509-read');
    const cert = new X509Certificate(leaf);
    expect(e?.attestation.type).toBe('x509');
    const [info] = e?.attestation.type === 'x509' ? e.attestation.clientCertificates : [];
    expect(info.sha1Thumbprint).toBe(cert.fingerprint.replaceAll(':', ''));
    expect(info.sha256Thumbprint).toBe(cert.fingerprint256.replaceAll(':', ''));
    expect(info.subjectName).toContain('t-x509-read');
    expect(info.notAfter).toBe(new Date(cert.validTo).toISOString());
  });

  it('lists every enrollment across several pages, each exactly once', async () => {
    const { items, pages } = await collect(sb.ports.dps.listEnrollments());
    const ids = items.map((e) => e.registrationId);
    expect(pages).toBeGreaterThan(2);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(symmetricIds));
    expect(ids.length).toBe(sb.emulator.store.dps.enrollments.size);
  });

  it("lists a group's registration records across pages, with the group and hub", async () => {
    const { items, pages } = await collect(sb.ports.dps.listGroupRegistrations('t-group'));
    expect(pages).toBe(3);
    expect(items.map((r) => r.registrationId)).toEqual(
      Array.from({ length: 13 }, (_, i) => `t-group-dev-${String(i).padStart(2, '0')}`),
    );
    expect(items[0]).toMatchObject({
      enrollmentGroupId: 't-group',
      assignedHub: sb.emulator.hubs[0].host,
      status: 'assigned',
    });
  });

  it('lists groups and gets a registration record', async () => {
    const { items } = await collect(sb.ports.dps.listGroups());
    expect(items.map((g) => g.enrollmentGroupId)).toContain('t-group');
    expect(await sb.ports.dps.getRegistration('t-group-dev-03')).toMatchObject({
      deviceId: 't-group-dev-03',
      etag: 'etag-3',
    });
    expect(await sb.ports.dps.getRegistration('nobody')).toBeUndefined();
  });
});

describe('DPS adapter status changes', () => {
  it('disables a symmetric-key enrollment and keeps its keys (a PUT without them rotates them)', async () => {
    const before = await keysOf('t-sym-01');
    const read = await sb.ports.dps.getEnrollment('t-sym-01');
    const written = await sb.ports.dps.setEnrollmentStatus('t-sym-01', 'disabled');
    expect(written.provisioningStatus).toBe('disabled');
    expect(written.etag).not.toBe(read?.etag);
    expect(JSON.stringify(written)).not.toContain(before.primaryKey);
    expect((await sb.ports.dps.getEnrollment('t-sym-01'))?.provisioningStatus).toBe('disabled');
    expect(await keysOf('t-sym-01')).toEqual(before);
    const again = await sb.ports.dps.setEnrollmentStatus('t-sym-01', 'enabled');
    expect(again.provisioningStatus).toBe('enabled');
    expect(await keysOf('t-sym-01')).toEqual(before);
  });

  it('disables and re-enables a group, and an X.509 enrollment read back with info only', async () => {
    const { leaf } = await deviceChain('t-x509-read');
    await raw.createOrUpdateIndividualEnrollment({
      registrationId: 't-x509-read',
      attestation: { type: 'x509', x509: { clientCertificates: { primary: { certificate: leaf } } } },
    } as any);
    expect((await sb.ports.dps.setGroupStatus('t-group', 'disabled')).provisioningStatus).toBe('disabled');
    expect((await sb.ports.dps.getGroup('t-group'))?.provisioningStatus).toBe('disabled');
    expect((await sb.ports.dps.setGroupStatus('t-group', 'enabled')).provisioningStatus).toBe('enabled');
    const x509 = await sb.ports.dps.setEnrollmentStatus('t-x509-read', 'disabled');
    expect(x509).toMatchObject({ provisioningStatus: 'disabled', attestation: { type: 'x509' } });
  });

  it('answers an enrollment already in the wanted state without writing', async () => {
    const before = await sb.ports.dps.getEnrollment('t-sym-02');
    const same = await sb.ports.dps.setEnrollmentStatus('t-sym-02', 'enabled');
    expect(same.etag).toBe(before?.etag);
  });

  it('rejects a status change of a missing enrollment as notFound', async () => {
    await expect(sb.ports.dps.setEnrollmentStatus('missing-one', 'disabled')).rejects.toMatchObject({
      kind: 'notFound',
    });
  });

  /** An adapter whose reads are followed by a concurrent write from a second client (changing the ETag). */
  function racingAdapter(times: number) {
    const client = createProvisioningClient(sb.target.dps, sb.target.endpoint, { onRequest: observeRequest });
    const get = client.getIndividualEnrollment.bind(client);
    let reads = 0;
    (client as any).getIndividualEnrollment = async (id: string) => {
      const answer = await get(id);
      reads += 1;
      if (reads <= times) {
        const current = (await raw.getIndividualEnrollment(id)).responseBody as any;
        const attestation = (await raw.getIndividualEnrollmentAttestationMechanism(id)).responseBody;
        await raw.createOrUpdateIndividualEnrollment({
          ...current,
          attestation,
          registrationState: undefined,
          reprovisionPolicy: { updateHubAssignment: false, migrateDeviceData: true },
        });
      }
      return answer;
    };
    return {
      adapter: new AzureDpsAdapter(client, sb.target.dps.host, { timeoutMs: 5000 }),
      reads: () => reads,
    };
  }

  it('re-reads and retries when the ETag changed between read and write (412)', async () => {
    const { adapter, reads } = racingAdapter(1);
    const written = await adapter.setEnrollmentStatus('t-sym-03', 'disabled');
    expect(reads()).toBe(2);
    // The second attempt wrote over the concurrent change, not over the stale read.
    expect(written).toMatchObject({
      provisioningStatus: 'disabled',
      reprovisionPolicy: { updateHubAssignment: false, migrateDeviceData: true },
    });
  });

  it('gives up with preconditionFailed when the ETag keeps changing', async () => {
    const { adapter, reads } = racingAdapter(99);
    await expect(adapter.setEnrollmentStatus('t-sym-04', 'disabled')).rejects.toMatchObject({
      name: 'ServiceError',
      kind: 'preconditionFailed',
    });
    expect(reads()).toBe(3);
    expect((await sb.ports.dps.getEnrollment('t-sym-04'))?.provisioningStatus).toBe('enabled');
  });
});

describe('DPS adapter deletes', () => {
  it('deletes with a current ETag, refuses a stale one, and reports a missing one', async () => {
    const e = await sb.ports.dps.getEnrollment('t-sym-05');
    await expect(sb.ports.dps.deleteEnrollment('t-sym-05', 'stale-etag')).rejects.toMatchObject({
      kind: 'preconditionFailed',
    });
    await sb.ports.dps.deleteEnrollment('t-sym-05', e?.etag);
    expect(await sb.ports.dps.getEnrollment('t-sym-05')).toBeUndefined();
    await expect(sb.ports.dps.deleteEnrollment('t-sym-05')).rejects.toMatchObject({ kind: 'notFound' });
  });

  it('deletes registration records and groups', async () => {
    await sb.ports.dps.deleteRegistration('t-group-dev-12', 'etag-12');
    expect(await sb.ports.dps.getRegistration('t-group-dev-12')).toBeUndefined();
    await raw.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: 't-group-gone',
      attestation: { type: 'symmetricKey' },
    } as any);
    await sb.ports.dps.deleteGroup('t-group-gone');
    expect(await sb.ports.dps.getGroup('t-group-gone')).toBeUndefined();
  });
});

describe('blockers', () => {
  it('creates a disabled symmetric-key blocker, tagged, without keys in the model', async () => {
    const blocker = await sb.ports.dps.createBlocker({
      registrationId: 't-group-dev-00',
      groupId: 't-group',
      runId: 'run-1',
    });
    expect(blocker).toMatchObject({
      registrationId: 't-group-dev-00',
      provisioningStatus: 'disabled',
      attestation: { type: 'symmetricKey' },
      blocker: { groupId: 't-group', runId: 'run-1' },
    });
    const reread = (await raw.getIndividualEnrollment('t-group-dev-00')).responseBody as any;
    expect(reread.provisioningStatus).toBe('disabled');
    expect(reread.initialTwin.tags[BLOCKER_TAG]).toEqual({ groupId: 't-group', runId: 'run-1' });
    const keys = await keysOf('t-group-dev-00');
    expect(keys.primaryKey).toBeTruthy();
    expect(JSON.stringify(blocker)).not.toContain(keys.primaryKey);
  });

  it('creates a disabled X.509 blocker from the leaf of a PEM chain', async () => {
    const { chain, leaf } = await deviceChain('t-x509-dev');
    const blocker = await sb.ports.dps.createBlocker({
      registrationId: 't-x509-dev',
      groupId: 'x509-group',
      certificatePem: chain,
    });
    expect(blocker.provisioningStatus).toBe('disabled');
    expect(blocker.blocker).toEqual({ groupId: 'x509-group' });
    const certs = blocker.attestation.type === 'x509' ? blocker.attestation.clientCertificates : [];
    expect(certs.map((c) => c.sha1Thumbprint)).toEqual([
      new X509Certificate(leaf).fingerprint.replaceAll(':', ''),
    ]);
  });

  it('refuses to create a blocker over an existing enrollment, and leaves that one alone', async () => {
    await expect(
      sb.ports.dps.createBlocker({ registrationId: 't-sym-07', groupId: 't-group' }),
    ).rejects.toMatchObject({
      kind: 'conflict',
      message: expect.stringContaining('exists already'),
    });
    const untouched = await sb.ports.dps.getEnrollment('t-sym-07');
    expect(untouched?.provisioningStatus).toBe('enabled');
    expect(untouched?.blocker).toBeUndefined();
  });

  it('refuses a certificate that is not PEM', async () => {
    await expect(
      sb.ports.dps.createBlocker({
        registrationId: 't-bad-pem',
        groupId: 'g',
        certificatePem: 'not a certificate',
      }),
    ).rejects.toMatchObject({ kind: 'badRequest' });
  });
});

describe('DPS adapter failures', () => {
  it('maps a wrong key to unauthorized, naming the target and not the key', async () => {
    const wrong = withWrongKey(sb.emulator.dps.connectionString);
    const target = resolveTarget({ dps: wrong, endpoint: sb.emulator.url, env: {}, configPath: false });
    const { dps } = buildPorts(target, { timeoutMs: 5000 });
    const err = await dps.getEnrollment('t-sym-00').catch((e) => e);
    expect(err).toMatchObject({ name: 'ServiceError', kind: 'unauthorized', details: { status: 401 } });
    expect(err.message).toMatch(
      /^get enrollment 't-sym-00' on sandbox-dps\.azure-devices-provisioning\.net failed: 401/,
    );
    expect(err.message).not.toContain(wrong.split('SharedAccessKey=')[1]);
  });

  it('signs in with an injected Entra ID credential (bearer token)', async () => {
    const credential = (token: string) => ({
      getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }),
    });
    const ok = resolveTarget({
      dps: sb.emulator.dps.host,
      endpoint: sb.emulator.url,
      credential: credential('entra-test-token'),
      env: {},
      configPath: false,
    });
    expect((await buildPorts(ok).dps.getEnrollment('t-sym-00'))?.registrationId).toBe('t-sym-00');
    const refused = resolveTarget({
      dps: sb.emulator.dps.host,
      endpoint: sb.emulator.url,
      credential: credential('some-other-token'),
      env: {},
      configPath: false,
    });
    await expect(buildPorts(refused).dps.getEnrollment('t-sym-00')).rejects.toMatchObject({
      kind: 'unauthorized',
    });
  });

  it('times out a call the service never answers, and works again afterwards', async () => {
    const { dps } = buildPorts(sb.target, { timeoutMs: 300 });
    sb.emulator.setFaults({ hangRate: 1, only: ['dps'] });
    try {
      await expect(dps.getEnrollment('t-sym-00')).rejects.toMatchObject({ kind: 'timeout', retryable: true });
      await expect(collect(dps.listEnrollments())).rejects.toMatchObject({ kind: 'timeout' });
    } finally {
      sb.emulator.setFaults(undefined);
    }
    // Once the fault is gone the service answers again (read with the suite's roomier deadline).
    expect((await sb.ports.dps.getEnrollment('t-sym-00'))?.registrationId).toBe('t-sym-00');
  });

  it('maps injected 5xx answers and connection resets to transient', async () => {
    sb.emulator.setFaults({ error5xxRate: 1, only: ['dps'] });
    try {
      await expect(sb.ports.dps.getGroup('t-group')).rejects.toMatchObject({ kind: 'transient' });
      sb.emulator.setFaults({ resetRate: 1, only: ['dps'] });
      await expect(sb.ports.dps.getGroup('t-group')).rejects.toMatchObject({ kind: 'transient' });
    } finally {
      sb.emulator.setFaults(undefined);
    }
  });
});
