import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProvisioningClient } from '../../src/services/azure/clients.js';
import { observeRequest, readCall, sdkCall } from '../../src/services/azure/deadline.js';
import { parseEndpoint } from '../../src/services/azure/endpoint.js';

// Reads change nothing: a passing 503 must not fail a plan or a verify. Writes are the executor's to retry.
const DPS = 'dps1.azure-devices-provisioning.net';
let failuresLeft = 0;
let requests = 0;
let retryAfter: string | undefined;
let server: http.Server;
let client: ReturnType<typeof createProvisioningClient>;

beforeAll(async () => {
  server = http.createServer((_req, res) => {
    requests++;
    if (failuresLeft > 0) {
      failuresLeft--;
      const status = retryAfter ? 429 : 503;
      res.writeHead(status, { 'content-type': 'application/json', ...(retryAfter ? { 'retry-after': retryAfter } : {}) });
      res.end(JSON.stringify({ errorCode: status * 1000, message: 'busy' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ registrationId: 'r1', provisioningStatus: 'enabled' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  client = createProvisioningClient(
    {
      kind: 'connectionString',
      host: DPS,
      connectionString: `HostName=${DPS};SharedAccessKeyName=owner;SharedAccessKey=a2V5a2V5`,
    },
    parseEndpoint(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    { onRequest: observeRequest },
  );
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const ctx = { action: "get enrollment 'r1'", target: DPS, timeoutMs: 5000 };

describe('readCall', () => {
  it('retries a read through passing 5xx answers', async () => {
    failuresLeft = 2;
    requests = 0;
    retryAfter = undefined;
    const answer = await readCall(ctx, () => client.getIndividualEnrollment('r1'));
    expect(answer.responseBody.registrationId).toBe('r1');
    expect(requests).toBe(3);
  });

  it('hands a long Retry-After back to the caller instead of waiting hidden', async () => {
    failuresLeft = 1;
    requests = 0;
    retryAfter = '60';
    await expect(readCall(ctx, () => client.getIndividualEnrollment('r1'))).rejects.toMatchObject({ kind: 'throttled' });
    expect(requests).toBe(1);
  });

  it('leaves a single call (a write path) unretried', async () => {
    failuresLeft = 1;
    requests = 0;
    retryAfter = undefined;
    await expect(sdkCall(ctx, () => client.getIndividualEnrollment('r1'))).rejects.toMatchObject({ kind: 'transient' });
    expect(requests).toBe(1);
  });
});
