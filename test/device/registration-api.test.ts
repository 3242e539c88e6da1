/**
 * The emulator's DPS device registration API, driven by the official device SDK: who gets in, what
 * DPS writes (registration record, hub identity), and how refusals reach the device.
 */
import https from 'node:https';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseEndpoint } from '../../src/services/azure/endpoint.js';
import { attemptWithHeldCredentials } from '../../src/services/device/held-credentials.js';
import { registerDevice } from '../../src/services/device/register.js';
import { startEmulator } from '../../src/services/emulator/index.js';
import { cachedChain, generateChain } from '../support/certs.js';
import {
  enrollGroup,
  enrollIndividual,
  expectAssigned,
  groupDevice,
  key,
  startWorld,
  type World,
} from './harness.js';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.close());

const store = () => world.emulator.store;

describe('symmetric-key devices', () => {
  it('an individual enrollment lets its device in; DPS creates the hub identity with its keys', async () => {
    const keys = { primaryKey: key(1), secondaryKey: key(2) };
    enrollIndividual(world, 'pump-1', { symmetricKey: keys });
    const { assignedHub, deviceId } = expectAssigned(
      await world.register({ registrationId: 'pump-1', symmetricKey: keys.secondaryKey }),
    );
    expect(deviceId).toBe('pump-1');
    const record = store().dps.registrations.get('pump-1');
    expect(record).toMatchObject({
      status: 'assigned',
      assignedHub,
      substatus: 'initialAssignment',
      enrollment: { kind: 'individual', id: 'pump-1' },
    });
    const identity = store().hubByHost(assignedHub)?.devices.get('pump-1');
    expect(identity).toMatchObject({
      status: 'enabled',
      authType: 'sas',
      primaryKey: keys.primaryKey,
      secondaryKey: keys.secondaryKey,
    });

    // Again: same hub, same identity, and the record says it was provisioned before.
    const again = expectAssigned(
      await world.register({ registrationId: 'pump-1', symmetricKey: keys.primaryKey }),
    );
    expect(again.assignedHub).toBe(assignedHub);
    expect(store().dps.registrations.get('pump-1')?.substatus).toBe('reprovisionedToInitialAssignment');
    expect(store().hubByHost(assignedHub)?.devices.get('pump-1')?.etag).toBe(identity?.etag);
  });

  it('a wrong key is a 401 and changes nothing', async () => {
    enrollIndividual(world, 'pump-2', { symmetricKey: { primaryKey: key(3), secondaryKey: key(4) } });
    const outcome = await world.register({ registrationId: 'pump-2', symmetricKey: key(5) });
    expect(outcome).toMatchObject({ outcome: 'refused', status: 401 });
    expect(store().dps.registrations.has('pump-2')).toBe(false);
  });

  it('a group device gets in with the key derived for it, never with the group key itself', async () => {
    const groupKeys = { primaryKey: key(6), secondaryKey: key(7) };
    enrollGroup(world, 'meters', { symmetricKey: groupKeys });
    const meter = groupDevice(groupKeys.primaryKey, 'meter-1');
    const { assignedHub } = expectAssigned(await world.register(meter));
    expect(store().dps.registrations.get('meter-1')?.enrollment).toEqual({ kind: 'group', id: 'meters' });
    expect(store().hubByHost(assignedHub)?.devices.get('meter-1')?.primaryKey).toBe(meter.symmetricKey);
    expect(await world.register(groupDevice(groupKeys.secondaryKey, 'meter-2'))).toMatchObject({
      outcome: 'assigned',
    });

    const raw = await world.register({ registrationId: 'meter-3', symmetricKey: groupKeys.primaryKey });
    expect(raw).toMatchObject({ outcome: 'refused', status: 401 });
    // A key derived for another registration ID proves nothing either.
    expect(
      await world.register({ registrationId: 'meter-4', symmetricKey: meter.symmetricKey }),
    ).toMatchObject({
      outcome: 'refused',
      status: 401,
    });
  });

  it('a disabled group ends the operation with status "disabled", and DPS records it', async () => {
    const groupKeys = { primaryKey: key(8), secondaryKey: key(9) };
    enrollGroup(world, 'retired', { symmetricKey: groupKeys });
    store().putGroup({ ...store().dps.groups.get('retired')!, provisioningStatus: 'disabled' });
    const outcome = await world.register(groupDevice(groupKeys.primaryKey, 'old-1'));
    expect(outcome).toMatchObject({ outcome: 'refused', registrationStatus: 'disabled' });
    expect(store().dps.registrations.get('old-1')).toMatchObject({
      status: 'disabled',
      enrollment: { kind: 'group', id: 'retired' },
    });
    expect([...store().hubs.values()].some((h) => h.devices.has('old-1'))).toBe(false);
  });

  it('a device disabled on its hub stays disabled when it provisions again', async () => {
    const keys = { primaryKey: key(10), secondaryKey: key(11) };
    enrollIndividual(world, 'pump-3', { symmetricKey: keys });
    const { assignedHub } = expectAssigned(
      await world.register({ registrationId: 'pump-3', symmetricKey: keys.primaryKey }),
    );
    const hub = store().hubByHost(assignedHub)!;
    store().putDevice(hub, { ...hub.devices.get('pump-3')!, status: 'disabled' });
    expectAssigned(await world.register({ registrationId: 'pump-3', symmetricKey: keys.primaryKey }));
    expect(hub.devices.get('pump-3')?.status).toBe('disabled');
  });

  it('follows the reprovision policy when the enrollment moves to another hub', async () => {
    const keys = { primaryKey: key(12), secondaryKey: key(13) };
    const [first, second] = [...store().hubs.keys()];
    const reenroll = (
      id: string,
      hubs: string[],
      policy: { updateHubAssignment: boolean; migrateDeviceData: boolean },
    ) => {
      enrollIndividual(world, id, { symmetricKey: keys });
      store().putEnrollment({
        ...store().dps.enrollments.get(id)!,
        iotHubs: hubs,
        reprovisionPolicy: policy,
      });
    };
    for (const [id, policy, hub, substatus] of [
      ['valve-1', { updateHubAssignment: true, migrateDeviceData: true }, second, 'deviceDataMigrated'],
      ['valve-2', { updateHubAssignment: true, migrateDeviceData: false }, second, 'deviceDataReset'],
      [
        'valve-3',
        { updateHubAssignment: false, migrateDeviceData: true },
        first,
        'reprovisionedToInitialAssignment',
      ],
    ] as const) {
      reenroll(id, [first], policy);
      expect(
        expectAssigned(await world.register({ registrationId: id, symmetricKey: keys.primaryKey }))
          .assignedHub,
      ).toBe(first);
      reenroll(id, [second], policy);
      expect(
        expectAssigned(await world.register({ registrationId: id, symmetricKey: keys.primaryKey }))
          .assignedHub,
      ).toBe(hub);
      expect(store().dps.registrations.get(id)?.substatus).toBe(substatus);
    }
  });
});

describe('X.509 devices', () => {
  it('a group on the intermediate accepts the chains it signs, sent with or without it', async () => {
    const chain = await cachedChain('factory', {
      leafCn: 'cam-1',
      rootCn: 'Factory Root',
      intermediateCn: 'Factory CA',
    });
    enrollGroup(world, 'factory', { signingPem: chain.intermediate.pem });
    const { assignedHub } = expectAssigned(await world.register({ registrationId: 'cam-1', chain }));
    expect(store().dps.registrations.get('cam-1')?.enrollment).toEqual({ kind: 'group', id: 'factory' });
    expect(store().hubByHost(assignedHub)?.devices.get('cam-1')?.authType).toBe('certificateAuthority');

    const leafOnly = await registerDevice({
      endpoint: parseEndpoint(world.emulator.url, world.emulator.ca),
      idScope: world.emulator.device.idScope,
      registrationId: 'cam-1',
      certPem: chain.leaf.pem,
      keyPem: chain.leaf.keyPem,
      pollingIntervalMs: 20,
    });
    expect(leafOnly).toMatchObject({ outcome: 'assigned', assignedHub });
  });

  it('refuses with 401: a CN that is not the registration ID, and a chain no group holds', async () => {
    const chain = await cachedChain('factory', {
      leafCn: 'cam-1',
      rootCn: 'Factory Root',
      intermediateCn: 'Factory CA',
    });
    const wrongId = await registerDevice({
      endpoint: parseEndpoint(world.emulator.url, world.emulator.ca),
      idScope: world.emulator.device.idScope,
      registrationId: 'cam-99',
      certPem: chain.leafAndIntermediatePem,
      keyPem: chain.leaf.keyPem,
      pollingIntervalMs: 20,
    });
    expect(wrongId).toMatchObject({ outcome: 'refused', status: 401 });
    expect(wrongId.outcome === 'refused' && wrongId.reason).toContain('CN');

    const stranger = await generateChain({
      leafCn: 'cam-2',
      rootCn: 'Stranger Root',
      intermediateCn: 'Stranger CA',
    });
    expect(await world.register({ registrationId: 'cam-2', chain: stranger })).toMatchObject({
      outcome: 'refused',
      status: 401,
    });
    expect(store().dps.registrations.has('cam-2')).toBe(false);
  });

  it('an individual enrollment accepts only its own certificate, and comes before any group', async () => {
    const ca = await cachedChain('factory', {
      leafCn: 'cam-1',
      rootCn: 'Factory Root',
      intermediateCn: 'Factory CA',
    });
    const mine = await generateChain({ leafCn: 'cam-3', ca });
    const impostor = await generateChain({ leafCn: 'cam-3', ca });
    enrollIndividual(world, 'cam-3', { certificatePem: mine.leaf.pem });
    const { assignedHub } = expectAssigned(await world.register({ registrationId: 'cam-3', chain: mine }));
    expect(store().dps.registrations.get('cam-3')?.enrollment).toEqual({ kind: 'individual', id: 'cam-3' });
    expect(store().hubByHost(assignedHub)?.devices.get('cam-3')?.authType).toBe('selfSigned');
    // The impostor's chain is one the enabled group "factory" accepts: the individual enrollment decides.
    expect(await world.register({ registrationId: 'cam-3', chain: impostor })).toMatchObject({
      outcome: 'refused',
      status: 401,
    });
  });
});

describe('attempts with the credentials the sandbox holds', () => {
  it('registers a device whose key is held, and does not attempt a TPM device', async () => {
    const keys = { primaryKey: key(50), secondaryKey: key(51) };
    enrollIndividual(world, 'pump-held', { symmetricKey: keys });
    store().demoSecrets.devices['pump-held'] = { symmetricKey: keys.primaryKey };
    const now = new Date().toISOString();
    store().putEnrollment({
      registrationId: 'gw-tpm',
      attestation: { type: 'tpm', tpm: { endorsementKey: 'AAAA' } },
      provisioningStatus: 'enabled',
      etag: 'e1',
      createdDateTimeUtc: now,
      lastUpdatedDateTimeUtc: now,
    });
    const attempt = attemptWithHeldCredentials(world.emulator);
    expect(await attempt('pump-held')).toMatchObject({ outcome: 'assigned', deviceId: 'pump-held' });
    const tpm = await attempt('gw-tpm');
    expect(tpm).toMatchObject({ outcome: 'unavailable' });
    expect(tpm.outcome === 'unavailable' && tpm.reason).toContain(
      'TPM attestation is not supported by the emulator',
    );
    expect(await attempt('nobody')).toMatchObject({
      outcome: 'unavailable',
      reason: expect.stringContaining('no key or certificate'),
    });
  });
});

/** A raw HTTPS call to the device API, for what the SDK hides (bodies, headers). */
function rawDeviceCall(
  method: string,
  path: string,
  options: { authorization?: string; body?: unknown; cert?: string; key?: string } = {},
): Promise<{ status: number; contentType?: string; body: any }> {
  const url = new URL(world.emulator.url);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: url.port,
        method,
        path,
        ca: world.emulator.ca,
        servername: 'localhost',
        cert: options.cert,
        key: options.key,
        headers: {
          Host: `${world.emulator.device.host}:${url.port}`,
          'content-type': 'application/json',
          ...(options.authorization ? { authorization: options.authorization } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            body: text ? JSON.parse(text) : undefined,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
}

describe('the wire', () => {
  it('answers 202 then 200 with JSON, and a poll must come from the device that registered', async () => {
    const chain = await cachedChain('factory', {
      leafCn: 'cam-1',
      rootCn: 'Factory Root',
      intermediateCn: 'Factory CA',
    });
    const scope = world.emulator.device.idScope;
    const put = await rawDeviceCall('PUT', `/${scope}/registrations/cam-1/register?api-version=2019-03-31`, {
      body: { registrationId: 'cam-1' },
      cert: chain.leafAndIntermediatePem,
      key: chain.leaf.keyPem,
    });
    expect(put).toMatchObject({ status: 202, body: { status: 'assigning' } });
    expect(put.contentType).toContain('application/json');
    const operation = put.body.operationId;
    const pollPath = `/${scope}/registrations/cam-1/operations/${operation}?api-version=2019-03-31`;
    const poll = await rawDeviceCall('GET', pollPath, {
      cert: chain.leafAndIntermediatePem,
      key: chain.leaf.keyPem,
    });
    expect(poll).toMatchObject({
      status: 200,
      body: {
        status: 'assigned',
        registrationState: {
          registrationId: 'cam-1',
          deviceId: 'cam-1',
          x509: { enrollmentGroupId: 'factory' },
        },
      },
    });
    expect(poll.contentType).toContain('application/json');

    const other = await generateChain({ leafCn: 'cam-1', ca: chain });
    expect(
      (await rawDeviceCall('GET', pollPath, { cert: other.leafAndIntermediatePem, key: other.leaf.keyPem }))
        .status,
    ).toBe(401);
    expect((await rawDeviceCall('GET', pollPath)).status).toBe(401);
  });

  it('refuses what it cannot check, saying why', async () => {
    const scope = world.emulator.device.idScope;
    const tpm = await rawDeviceCall('PUT', `/${scope}/registrations/gw-1/register?api-version=2019-03-31`, {
      body: { registrationId: 'gw-1', tpm: { endorsementKey: 'AAAA', storageRootKey: 'AAAA' } },
    });
    expect(tpm.status).toBe(400);
    expect(tpm.body.message).toContain('TPM attestation is not supported by the emulator');

    const nothing = await rawDeviceCall(
      'PUT',
      `/${scope}/registrations/gw-1/register?api-version=2019-03-31`,
      { body: { registrationId: 'gw-1' } },
    );
    expect(nothing.status).toBe(401);
    expect(nothing.body).toMatchObject({ errorCode: 401002 });

    const keys = { primaryKey: key(20), secondaryKey: key(21) };
    enrollIndividual(world, 'pump-9', { symmetricKey: keys });
    const wrongScope = await registerDevice({
      endpoint: parseEndpoint(world.emulator.url, world.emulator.ca),
      idScope: '0neFFFFFFFF',
      registrationId: 'pump-9',
      symmetricKey: keys.primaryKey,
      pollingIntervalMs: 20,
    });
    expect(wrongScope).toMatchObject({ outcome: 'refused', status: 401 });
  });

  it('counts registrations in the stats and in the 1,000-a-minute device registration limit', async () => {
    const limited = await startEmulator({ timeScale: 0.001 });
    try {
      const now = new Date().toISOString();
      const keys = { primaryKey: key(30), secondaryKey: key(31) };
      limited.store.putEnrollment({
        registrationId: 'pump-x',
        attestation: { type: 'symmetricKey', symmetricKey: keys },
        provisioningStatus: 'enabled',
        etag: 'e1',
        createdDateTimeUtc: now,
        lastUpdatedDateTimeUtc: now,
      });
      const attempt = () =>
        registerDevice({
          endpoint: parseEndpoint(limited.url),
          idScope: limited.device.idScope,
          registrationId: 'pump-x',
          symmetricKey: keys.primaryKey,
          pollingIntervalMs: 20,
        });
      // Plain HTTP works for symmetric keys; the bucket holds one registration on this slowed clock.
      expect(await attempt()).toMatchObject({ outcome: 'assigned' });
      expect(await attempt()).toMatchObject({ outcome: 'error', status: 429 });
      expect(limited.stats().operations['device:register']).toEqual({ 202: 1, 429: 1 });
      expect(limited.stats().destructive['dps/registrations/pump-x']).toEqual({ assign: 1 });
    } finally {
      await limited.stop();
    }
  });

  it("says so when the device's key does not go with its certificate", async () => {
    const chain = await cachedChain('factory', { leafCn: 'cam-1', rootCn: 'Factory Root', intermediateCn: 'Factory CA' });
    const outcome = await registerDevice({
      endpoint: parseEndpoint(world.emulator.url, world.emulator.ca),
      idScope: world.emulator.device.idScope,
      registrationId: 'cam-1',
      certPem: chain.leafAndIntermediatePem,
      keyPem: chain.intermediate.keyPem,
    });
    expect(outcome).toMatchObject({ outcome: 'error', reason: expect.stringContaining('certificate or key cannot be used') });
  });

  it('gives up at its deadline when DPS never answers, and ends its requests', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      // Read and ignore the request, so that the client's hang-up is seen.
      socket.resume();
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const outcome = await registerDevice({
        endpoint: parseEndpoint(`http://127.0.0.1:${port}`),
        idScope: world.emulator.device.idScope,
        registrationId: 'pump-1',
        symmetricKey: key(1),
        timeoutMs: 300,
      });
      expect(outcome).toEqual({ outcome: 'error', reason: 'no answer from DPS within 0.3 s' });
      await vi.waitFor(() => expect(sockets.size).toBe(0));
    } finally {
      silent.close();
    }
  });

  it('a plain-HTTP emulator opens an HTTPS device endpoint for X.509 devices', async () => {
    const plain = await startEmulator({});
    try {
      const chain = await cachedChain('factory', {
        leafCn: 'cam-1',
        rootCn: 'Factory Root',
        intermediateCn: 'Factory CA',
      });
      const now = new Date().toISOString();
      plain.store.putGroup({
        enrollmentGroupId: 'factory',
        attestation: { type: 'x509', x509: { signingCertificates: { primary: chain.intermediate.pem } } },
        provisioningStatus: 'enabled',
        etag: 'e1',
        createdDateTimeUtc: now,
        lastUpdatedDateTimeUtc: now,
      });
      const attempt = (endpoint: ReturnType<typeof parseEndpoint>) =>
        registerDevice({
          endpoint,
          idScope: plain.device.idScope,
          registrationId: 'cam-1',
          certPem: chain.leafAndIntermediatePem,
          keyPem: chain.leaf.keyPem,
          pollingIntervalMs: 20,
        });
      // Without TLS there is no certificate to present.
      expect(await attempt(parseEndpoint(plain.url))).toMatchObject({ outcome: 'refused', status: 401 });
      const device = await plain.deviceEndpoint();
      expect(device.url).toMatch(/^https:/);
      expect(await attempt(parseEndpoint(device.url, device.ca))).toMatchObject({
        outcome: 'assigned',
        deviceId: 'cam-1',
      });
    } finally {
      await plain.stop();
    }
  });
});
