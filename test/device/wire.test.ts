/**
 * The device registration API on the wire: status codes and bodies the SDK hides, the poll's
 * credential check, the registration limit, plain HTTP and the HTTPS device endpoint, and the
 * device client's own deadline.
 */
import https from 'node:https';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseEndpoint } from '../../src/services/azure/endpoint.js';
import { registerDevice } from '../../src/services/device/register.js';
import { startEmulator } from '../../src/services/emulator/index.js';
import { cachedChain, generateChain } from '../support/certs.js';
import { enrollGroup, enrollIndividual, key, startWorld, type World } from './harness.js';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.close());
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
    enrollGroup(world, 'factory', { signingPem: chain.intermediate.pem });
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
    const chain = await cachedChain('factory', {
      leafCn: 'cam-1',
      rootCn: 'Factory Root',
      intermediateCn: 'Factory CA',
    });
    const outcome = await registerDevice({
      endpoint: parseEndpoint(world.emulator.url, world.emulator.ca),
      idScope: world.emulator.device.idScope,
      registrationId: 'cam-1',
      certPem: chain.leafAndIntermediatePem,
      keyPem: chain.intermediate.keyPem,
    });
    expect(outcome).toMatchObject({
      outcome: 'error',
      reason: expect.stringContaining('certificate or key cannot be used'),
    });
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
