import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ServiceError } from '../../src/core/errors.js';
import { createProvisioningClient } from '../../src/services/azure/clients.js';
import { observeRequest } from '../../src/services/azure/deadline.js';
import { AzureDpsAdapter } from '../../src/services/azure/dps-adapter.js';
import { parseEndpoint } from '../../src/services/azure/endpoint.js';
import { pages, type SdkQuery } from '../../src/services/azure/paging.js';
import type { Clock } from '../../src/services/executor/clock.js';
import { createReadLimiter } from '../../src/services/executor/read-limiter.js';
import { limitedDps } from '../../src/services/session/reads.js';

// Reads change nothing: a passing 503 must not fail a plan or a verify. The adapter makes each call once;
// the read limiter (the executor's limiter and makeCall) is the one layer that tries it again.
const DPS = 'dps1.azure-devices-provisioning.net';
let failuresLeft = 0;
let requests = 0;
let retryAfter: string | undefined;
let server: http.Server;
let adapter: AzureDpsAdapter;

beforeAll(async () => {
  server = http.createServer((_req, res) => {
    requests++;
    if (failuresLeft > 0) {
      failuresLeft--;
      const status = retryAfter ? 429 : 503;
      res.writeHead(status, {
        'content-type': 'application/json',
        ...(retryAfter ? { 'retry-after': retryAfter } : {}),
      });
      res.end(JSON.stringify({ errorCode: status * 1000, message: 'busy' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        registrationId: 'r1',
        provisioningStatus: 'enabled',
        attestation: { type: 'symmetricKey' },
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = createProvisioningClient(
    {
      kind: 'connectionString',
      host: DPS,
      connectionString: `HostName=${DPS};SharedAccessKeyName=owner;SharedAccessKey=a2V5a2V5`,
    },
    parseEndpoint(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    { onRequest: observeRequest },
  );
  adapter = new AzureDpsAdapter(client, DPS, { timeoutMs: 5000 });
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  failuresLeft = 0;
  requests = 0;
  retryAfter = undefined;
});

/** A clock whose sleeps pass at once, moving its time on: waits are visible without being waited. */
function steppingClock(): Clock & { slept: number } {
  let now = 0;
  const clock = {
    slept: 0,
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
      clock.slept += ms;
    },
  };
  return clock;
}

describe('one retry layer for reads', () => {
  it("the adapter makes a read once: a 503 is the caller's to retry", async () => {
    failuresLeft = 1;
    await expect(adapter.getEnrollment('r1')).rejects.toMatchObject({ kind: 'transient' });
    expect(requests).toBe(1);
  });

  it('the read limiter retries a read through passing 5xx answers, backing off on its clock', async () => {
    failuresLeft = 2;
    const clock = steppingClock();
    const dps = limitedDps(adapter, createReadLimiter({ dpsHost: DPS, clock, random: () => 0.5 }));
    const answer = await dps.getEnrollment('r1');
    expect(answer?.registrationId).toBe('r1');
    expect(requests).toBe(3);
    expect(clock.slept).toBeGreaterThan(0);
  });

  it('a long Retry-After is waited in the limiter (on its clock), then the read succeeds', async () => {
    failuresLeft = 1;
    retryAfter = '60';
    const clock = steppingClock();
    const dps = limitedDps(adapter, createReadLimiter({ dpsHost: DPS, clock }));
    expect((await dps.getEnrollment('r1'))?.registrationId).toBe('r1');
    expect(requests).toBe(2);
    expect(clock.now()).toBeGreaterThanOrEqual(60_000);
  });

  it('a read waiting out a Retry-After stops when the session is aborted', async () => {
    failuresLeft = 5;
    retryAfter = '60';
    const abort = new AbortController();
    const dps = limitedDps(adapter, createReadLimiter({ dpsHost: DPS, signal: abort.signal }));
    const read = dps.getEnrollment('r1');
    read.catch(() => {});
    await expect.poll(() => requests).toBe(1);
    abort.abort();
    await expect(read).rejects.toMatchObject({ name: 'StoppedError' });
    expect(requests).toBe(1);
  });

  it('a list whose second page fails once is read again from that page, not from the start', async () => {
    const asked: (string | null | undefined)[] = [];
    let failed = false;
    const query: SdkQuery = {
      hasMoreResults: true,
      continuationToken: undefined,
      async next(token) {
        asked.push(token);
        if (token === 'p2' && !failed) {
          failed = true;
          throw new ServiceError('transient', 'reset');
        }
        const page = token === undefined ? 1 : token === 'p2' ? 2 : 3;
        query.continuationToken = page < 3 ? `p${page + 1}` : undefined;
        query.hasMoreResults = page < 3;
        return { responseBody: [{ id: `item-${page}` }] };
      },
    };
    const limiter = createReadLimiter({ dpsHost: DPS, clock: steppingClock() });
    const list = pages(
      { action: 'list', target: DPS, timeoutMs: 5000 },
      () => query,
      (x) => String(x.id),
    );
    const iterator = list[Symbol.asyncIterator]();
    const items: string[] = [];
    for (;;) {
      const next = await limiter.read(DPS, 1, () => iterator.next());
      if (next.done) break;
      items.push(...next.value);
    }
    expect(items).toEqual(['item-1', 'item-2', 'item-3']);
    expect(asked).toEqual([undefined, 'p2', 'p2', 'p3']);
  });
});
