import http from 'node:http';
import type { AddressInfo } from 'node:net';
// CommonJS packages: only their default export is promised to ESM.
import httpBase from 'azure-iot-http-base';
import hubRest from 'azure-iothub/dist/common-http/rest_api_client.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProvisioningClient } from '../../src/services/azure/clients.js';
import { observeRequest, sdkCall } from '../../src/services/azure/deadline.js';
import { parseEndpoint } from '../../src/services/azure/endpoint.js';
import { retryAfterMs, scrubSecrets, toServiceError } from '../../src/services/azure/service-errors.js';

// The SDKs' own translation of an HTTP failure, so the mapping is tested against their real error objects.
function hubError(status: number, body: string, headers: Record<string, string> = {}) {
  return hubRest.RestApiClient.translateError(body, { statusCode: status, headers } as any);
}
function dpsError(status: number, body: string, headers: Record<string, string> = {}) {
  return httpBase.RestApiClient.translateError(body, { statusCode: status, headers } as any);
}

const HUB = 'hub-a.azure-devices.net';
const DPS = 'dps1.azure-devices-provisioning.net';

describe('SDK errors -> ServiceError', () => {
  const cases: [string, unknown, string, string | undefined][] = [
    [
      '404 device',
      hubError(404, '{"Message":"ErrorCode:DeviceNotFound;Device d1 not found"}'),
      'notFound',
      'DeviceNotFound',
    ],
    [
      '404 enrollment',
      dpsError(404, '{"errorCode":404201,"message":"Enrollment not found"}'),
      'notFound',
      '404201',
    ],
    [
      '409',
      hubError(409, '{"Message":"ErrorCode:DeviceAlreadyExists;exists"}'),
      'conflict',
      'DeviceAlreadyExists',
    ],
    ['412', dpsError(412, '{"errorCode":412002,"message":"etag mismatch"}'), 'preconditionFailed', '412002'],
    ['401', dpsError(401, '{"errorCode":401002,"message":"unauthorized"}'), 'unauthorized', '401002'],
    [
      '403',
      hubError(403, '{"Message":"ErrorCode:IotHubQuotaExceeded;quota"}'),
      'forbidden',
      'IotHubQuotaExceeded',
    ],
    ['400', hubError(400, '{"Message":"ErrorCode:ArgumentInvalid;bad"}'), 'badRequest', 'ArgumentInvalid'],
    ['500', hubError(500, '{"Message":"ErrorCode:ServerError;oops"}'), 'transient', 'ServerError'],
    ['503', dpsError(503, '{"errorCode":503000,"message":"busy"}'), 'transient', '503000'],
    ['502', hubError(502, 'bad gateway'), 'transient', undefined],
  ];
  for (const [name, err, kind, code] of cases) {
    it(`maps ${name} by status`, () => {
      const mapped = toServiceError(err, 'get device', HUB);
      expect(mapped.kind).toBe(kind);
      expect(mapped.details.code).toBe(code);
      expect(mapped.details.target).toBe(HUB);
      expect(mapped.message).toMatch(new RegExp(`^get device on ${HUB} failed: \\d{3}`));
    });
  }

  it('maps 429 with Retry-After seconds, and the DPS error code header', () => {
    const mapped = toServiceError(
      dpsError(429, '{"message":"slow down"}', { 'retry-after': '7', 'x-ms-error-code': 'ThrottlingError' }),
      'list enrollments',
      DPS,
    );
    expect(mapped).toMatchObject({
      kind: 'throttled',
      details: { retryAfterMs: 7000, code: 'ThrottlingError', status: 429 },
    });
    expect(mapped.retryable).toBe(true);
  });

  it('maps socket failures to transient and keeps their code', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(toServiceError(reset, 'get device', HUB)).toMatchObject({
      kind: 'transient',
      details: { code: 'ECONNRESET' },
    });
    expect(toServiceError(new Error('socket hang up'), 'get device', HUB).kind).toBe('transient');
    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND nohub.azure-devices.net'), {
      code: 'ENOTFOUND',
    });
    expect(toServiceError(dns, 'get device', HUB).kind).toBe('unknown');
  });

  it('maps by error name when there is no response (sign-in failures, SDK argument checks)', () => {
    const noSignIn = Object.assign(new Error('Please run az login'), { name: 'CredentialUnavailableError' });
    const mapped = toServiceError(noSignIn, 'get enrollment', DPS);
    expect(mapped.kind).toBe('unauthorized');
    expect(mapped.message).toMatch(/\(check the connection string's key, or sign in again with az login\)$/);
    const argument = Object.assign(new Error('The device array has an invalid size of 101'), {
      name: 'ArgumentError',
    });
    expect(toServiceError(argument, 'delete devices', HUB).kind).toBe('badRequest');
  });

  it('never carries a secret the service or SDK echoed', () => {
    const body = JSON.stringify({
      Message:
        'ErrorCode:IotHubUnauthorizedAccess;bad token SharedAccessSignature ' +
        'sr=hub-a.azure-devices.net&sig=AbC%2Bdef&se=1&skn=iothubowner',
    });
    const mapped = toServiceError(hubError(401, body), 'get device', HUB);
    expect(mapped.message).not.toMatch(/AbC%2Bdef|sig=AbC/);
    expect(mapped.message).toContain('[redacted]');
    const leaky = new Error('cannot parse HostName=h;SharedAccessKeyName=o;SharedAccessKey=c2VjcmV0a2V5');
    expect(toServiceError(leaky, 'connect', HUB).message).not.toContain('c2VjcmV0a2V5');
  });
});

describe('scrubbing and Retry-After', () => {
  it('redacts keys, SAS tokens, bearer tokens and key fields', () => {
    const text = scrubSecrets(
      'SharedAccessKey=abc123==; Authorization: Bearer eyJhbGciOi.x.y ' +
        '{"primaryKey":"k1","secondaryKey":"k2"}',
    );
    expect(text).not.toMatch(/abc123|eyJhbGciOi|k1|k2/);
  });

  it('reads seconds, milliseconds and HTTP dates', () => {
    expect(retryAfterMs({ 'retry-after': '2' })).toBe(2000);
    expect(retryAfterMs({ 'x-ms-retry-after-ms': '150' })).toBe(150);
    expect(
      retryAfterMs(
        { 'retry-after': 'Wed, 21 Oct 2015 07:28:05 GMT' },
        Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'),
      ),
    ).toBe(5000);
    expect(retryAfterMs({})).toBeUndefined();
  });
});

describe('deadline on an SDK call', () => {
  let server: http.Server;
  let port: number;
  let closedSockets = 0;
  beforeAll(async () => {
    // Answers nothing, ever: the SDK alone would wait forever.
    server = http.createServer((req) => {
      req.socket.on('close', () => {
        closedSockets += 1;
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });

  it('rejects with a timeout ServiceError and closes the hanging request', async () => {
    const client = createProvisioningClient(
      {
        kind: 'connectionString',
        host: DPS,
        connectionString: `HostName=${DPS};SharedAccessKeyName=owner;SharedAccessKey=a2V5a2V5`,
      },
      parseEndpoint(`http://127.0.0.1:${port}`),
      { onRequest: observeRequest },
    );
    const call = sdkCall({ action: "get enrollment 'r1'", target: DPS, timeoutMs: 1500 }, () =>
      client.getIndividualEnrollment('r1'),
    );
    await expect(call).rejects.toMatchObject({
      name: 'ServiceError',
      kind: 'timeout',
      message: `get enrollment 'r1' on ${DPS} failed: no answer within 1.5 s`,
    });
    await expect.poll(() => closedSockets, { timeout: 5000 }).toBe(1);
  });
});
