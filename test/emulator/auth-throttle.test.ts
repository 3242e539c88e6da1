import { request as httpRequest } from 'node:http';
import iothub from 'azure-iothub';
import { RestApiClient as HubRestApiClient } from 'azure-iothub/dist/common-http/rest_api_client.js';
import { SharedAccessSignature } from 'azure-iot-common';
import { afterEach, describe, expect, it } from 'vitest';
import { createProvisioningClient, createRegistry } from '../../src/services/azure/clients.js';
import { EmulatorHubHttp, parseEndpoint } from '../../src/services/azure/endpoint.js';
import { authorize } from '../../src/services/emulator/auth.js';
import { type EmulatorHandle, startEmulator } from '../../src/services/emulator/index.js';
import { dpsClient, failure, hubClient, withWrongKey } from './helpers.js';

describe('emulator: authorization', () => {
  let em: EmulatorHandle | undefined;
  afterEach(async () => {
    await em?.stop();
    em = undefined;
  });

  it('401 for a wrong key, an expired SAS, an unknown bearer token; a configured token works', async () => {
    em = await startEmulator({ throttle: false, bearerTokens: ['entra-token-1'] });
    const wrongDps = await failure(
      dpsClient(em, withWrongKey(em.dps.connectionString)).getIndividualEnrollment('x'),
    );
    expect(wrongDps.name).toBe('UnauthorizedError');
    expect(JSON.parse(wrongDps.responseBody)).toMatchObject({ errorCode: 401002 });
    expect(wrongDps.responseBody).not.toContain('SharedAccessSignature');
    const wrongHub = await failure(hubClient(em, 0, withWrongKey(em.hubs[0].connectionString)).get('x'));
    expect(wrongHub.name).toBe('UnauthorizedError');
    expect(JSON.parse(wrongHub.responseBody).Message).toMatch(/^ErrorCode:IotHubUnauthorizedAccess;/);

    // A SAS given as a string is sent as is (never extended): one that expired a minute ago.
    const hub = em.hubs[0];
    const key = /SharedAccessKey=([^;]+)/.exec(hub.connectionString)?.[1] as string;
    const expired = SharedAccessSignature.create(
      hub.host,
      'iothubowner',
      key,
      Math.floor(Date.now() / 1000) - 60,
    );
    const config = { host: hub.host, sharedAccessSignature: expired.toString() };
    const rest = new HubRestApiClient(config as any, 'test', new EmulatorHubHttp(parseEndpoint(em.url)));
    const registry = new iothub.Registry(config as any, rest as any);
    const expiredErr = await failure(registry.get('x'));
    expect(expiredErr.name).toBe('UnauthorizedError');
    expect(expiredErr.message).toMatch(/expired/);

    const credential = (token: string) => ({
      getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }),
    });
    const ep = parseEndpoint(em.url);
    const good = createRegistry(
      { kind: 'tokenCredential', host: hub.host, credential: credential('entra-token-1') },
      ep,
    );
    expect((await failure(good.get('x'))).name).toBe('DeviceNotFoundError'); // authorized, then not found
    const bad = createProvisioningClient(
      { kind: 'tokenCredential', host: em.dps.host, credential: credential('other') },
      ep,
    );
    expect((await failure(bad.getIndividualEnrollment('x'))).name).toBe('UnauthorizedError');
  });

  it('checks that the token was issued for the host called, and its policy', () => {
    const policy = {
      name: 'iothubowner',
      primaryKey: Buffer.alloc(32, 1).toString('base64'),
      secondaryKey: 'AA==',
    };
    const now = Math.floor(Date.now() / 1000);
    const token = (sr: string, skn = 'iothubowner') =>
      SharedAccessSignature.create(sr, skn, policy.primaryKey, now + 60).toString();
    const target = { host: 'hub-us.azure-devices.net', policies: [policy] };
    expect(() => authorize(token('hub-us.azure-devices.net'), target, new Set(), now)).not.toThrow();
    expect(() => authorize(token('hub-eu.azure-devices.net'), target, new Set(), now)).toThrow(
      /resource \(sr\)/,
    );
    expect(() => authorize(token('hub-us.azure-devices.net', 'device'), target, new Set(), now)).toThrow(
      /policy/,
    );
    expect(() => authorize(undefined, target, new Set(), now)).toThrow(/no Authorization/);
  });
});

describe('emulator: throttling', () => {
  let em: EmulatorHandle | undefined;
  afterEach(async () => {
    await em?.stop();
    em = undefined;
  });

  it('429 with Retry-After once the hub identity budget is spent; bulk costs one per device', async () => {
    // timeScale 0.05: the S1 budget of 100 per minute holds 5 operations and refills 5 per minute.
    em = await startEmulator({ tier: 'S1', units: 1, timeScale: 0.05 });
    const registry = hubClient(em, 0);
    await registry.addDevices([1, 2, 3, 4].map((i) => ({ deviceId: `t-${i}` })) as any);
    await registry.get('t-1');
    const throttled = await failure(registry.get('t-2'));
    expect(throttled.name).toBe('ThrottlingError');
    expect(JSON.parse(throttled.responseBody).Message).toMatch(/^ErrorCode:ThrottlingException;/);
    expect(Number(throttled.response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another hub has its own budget.
    expect((await failure(hubClient(em, 1).get('t-1'))).name).toBe('DeviceNotFoundError');
    expect(em.stats().operations['hub:getDevice']).toMatchObject({ '429': 1 });
  });

  it('bad input is a 400 even when the budget is spent, and a refused call spends none of it', async () => {
    // timeScale 0.05: 5 identity operations; hub queries hold 1.
    em = await startEmulator({ tier: 'S1', units: 1, timeScale: 0.05 });
    const registry = hubClient(em, 0);
    await registry.addDevices([1, 2, 3, 4, 5].map((i) => ({ deviceId: `o-${i}` })) as any);
    expect((await failure(registry.get('o-1'))).name).toBe('ThrottlingError');
    // 101 devices: the size is checked before the budget.
    // The SDK refuses 101 devices itself, so this one goes over plain HTTP with the owner policy's token.
    const { SharedAccessSignature } = (await import('azure-iot-common')).default;
    const hub = em.hubs[0];
    const policyKey = /SharedAccessKey=([^;]+)/.exec(hub.connectionString)?.[1] as string;
    const token = SharedAccessSignature.create(
      hub.host,
      'iothubowner',
      policyKey,
      Math.floor(Date.now() / 1000) + 600,
    );
    const tooMany = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        `${em?.url}/devices?api-version=2021-04-12`,
        {
          method: 'POST',
          headers: { host: hub.host, authorization: token.toString(), 'content-type': 'application/json' },
        },
        (res) => {
          let body = '';
          res.on('data', (c) => {
            body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end(
        JSON.stringify(Array.from({ length: 101 }, (_, i) => ({ id: `x-${i}`, importMode: 'create' }))),
      );
    });
    expect(tooMany.status).toBe(400);
    expect((JSON.parse(tooMany.body) as { Message: string }).Message).toMatch(/^ErrorCode:TooManyDevices;/);

    // A query the hub cannot run is refused and costs nothing: the next good query still gets through.
    const bad = await failure(registry.createQuery('SELECT * FROM devices WHERE deviceId LIKE "o%"').next());
    expect(bad.response?.statusCode).toBe(400);
    expect(JSON.parse(bad.responseBody).Message).toMatch(/^ErrorCode:ArgumentInvalid;/);
    const ok = await registry
      .createQuery("SELECT * FROM devices WHERE STARTS_WITH(deviceId, 'o-') OR deviceId = 'none'")
      .next();
    expect((ok.result as { deviceId: string }[]).map((t) => t.deviceId)).toEqual([
      'o-1',
      'o-2',
      'o-3',
      'o-4',
      'o-5',
    ]);
  });

  it('limits hub queries and DPS operations separately; throttle:false lifts every limit', async () => {
    // timeScale 0.01: DPS holds 10 operations, hub queries 1 (0.2 rounded up), refilled per slowed minute.
    em = await startEmulator({ tier: 'S1', timeScale: 0.01 });
    const registry = hubClient(em, 0);
    await registry.createQuery('SELECT * FROM devices').next();
    expect((await failure(registry.createQuery('SELECT * FROM devices').next())).name).toBe(
      'ThrottlingError',
    );
    const dps = dpsClient(em);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => dps.getIndividualEnrollment('nobody')),
    );
    const statuses = results.map((r) =>
      r.status === 'rejected' ? (r.reason as any).response?.statusCode : 200,
    );
    expect(statuses.filter((s) => s === 404)).toHaveLength(10); // 1,000 per minute x 0.01
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
    await em.stop();

    em = await startEmulator({ tier: 'S1', timeScale: 0.05, throttle: false });
    const free = hubClient(em, 0);
    for (let i = 0; i < 10; i++) await free.createQuery('SELECT * FROM devices').next();
    expect(em.stats().operations['hub:query']).toEqual({ '200': 10 });
  });
});
