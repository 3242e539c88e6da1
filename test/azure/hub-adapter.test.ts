import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRegistry, type Registry } from '../../src/services/azure/clients.js';
import { observeRequest } from '../../src/services/azure/deadline.js';
import { AzureHubAdapter } from '../../src/services/azure/hub-adapter.js';
import { buildPorts, resolveTarget } from '../../src/services/azure/target.js';
import type { HubPort } from '../../src/core/ports.js';
import { collect, type Sandbox, startSandbox, withWrongKey } from './support.js';

// The real Registry against the real emulator; devices made through the service API.
let sb: Sandbox;
let hub: HubPort;
let host: string;
let raw: Registry;
const ids = Array.from({ length: 10 }, (_, i) => `d-${String(i).padStart(2, '0')}`);
const THUMBPRINT = 'A1B2C3D4E5F60718293A4B5C6D7E8F9012345678';

const identity = async (id: string) => (await raw.get(id)).responseBody as any;

// A fresh emulator per test: each test stands alone, in any order (npm run test:shuffle).
beforeEach(async () => {
  sb = await startSandbox({}, { hubPageSize: 4 });
  host = sb.emulator.hubs[0].host;
  hub = sb.ports.hubs.get(host) as HubPort;
  raw = createRegistry(sb.target.hubs.get(host) as any, sb.target.endpoint);
  await raw.addDevices(ids.map((deviceId) => ({ deviceId, status: 'enabled' })));
  await raw.create({
    deviceId: 'd-x509',
    status: 'enabled',
    authentication: { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: THUMBPRINT } },
  } as any);
});
afterEach(() => sb?.emulator.stop());

describe('hub adapter reads', () => {
  it('gets a device with its identity ETag, and undefined for a missing one', async () => {
    const device = await hub.getDevice('d-00');
    expect(device).toMatchObject({ hub: host, deviceId: 'd-00', status: 'enabled' });
    expect(device?.etag).toBe((await identity('d-00')).etag);
    expect(device?.lastActivityTime).toBeUndefined();
    expect(JSON.stringify(device)).not.toMatch(/primaryKey|symmetricKey/);
    expect(await hub.getDevice('nobody')).toBeUndefined();
  });

  it('lists every device across several pages, with the identity ETag and never the twin ETag', async () => {
    const { items, pages } = await collect(hub.listDevices());
    expect(pages).toBe(3);
    expect(items.map((d) => d.deviceId).sort()).toEqual([...ids, 'd-x509'].sort());
    const d01 = items.find((d) => d.deviceId === 'd-01');
    expect(d01?.etag).toBe((await identity('d-01')).etag);
  });
});

describe('hub adapter lookup by device ID', () => {
  it('finds the identities among the IDs in one query, IDs with commas and quotes included', async () => {
    const odd = ['odd,id', "it's-1", 'a=b(c)!'];
    await raw.addDevices(odd.map((deviceId) => ({ deviceId, status: 'enabled' })));
    const queries = () => sb.emulator.stats().operations['hub:query']?.['200'] ?? 0;
    const before = queries();
    const found = await hub.findDevices(['d-03', ...odd, 'odd', 'it', 'nobody', 'd-03']);
    expect(found.map((d) => d.deviceId).sort()).toEqual(['a=b(c)!', 'd-03', "it's-1", 'odd,id']);
    expect(found.find((d) => d.deviceId === 'd-03')).toMatchObject({ hub: host, status: 'enabled' });
    expect(queries() - before).toBe(1);
  });

  it('an ID no query can quote safely (both quote marks) is never put in a query: it is read on its own', async () => {
    const reads = () => sb.emulator.stats().operations['hub:getDevice']?.['404'] ?? 0;
    const before = reads();
    const found = await hub.findDevices([`both'"quotes`, 'd-04']);
    expect(found.map((d) => d.deviceId)).toEqual(['d-04']);
    expect(reads() - before).toBe(1);
  });
});

describe('hub adapter status changes', () => {
  it('disables several devices in one call, per-device results, identities otherwise unchanged', async () => {
    const before = { sas: await identity('d-00'), x509: await identity('d-x509') };
    const results = await hub.setDevicesStatus(
      [{ deviceId: 'd-00' }, { deviceId: 'd-01' }, { deviceId: 'missing-device' }, { deviceId: 'd-x509' }],
      'disabled',
    );
    expect(results).toEqual([
      { id: 'd-00', ok: true },
      { id: 'd-01', ok: true },
      { id: 'missing-device', ok: false, code: 'DeviceNotFound', message: 'no such device on the hub' },
      { id: 'd-x509', ok: true },
    ]);
    const after = { sas: await identity('d-00'), x509: await identity('d-x509') };
    expect(after.sas.status).toBe('disabled');
    expect(after.sas.authentication.symmetricKey).toEqual(before.sas.authentication.symmetricKey);
    expect(after.x509.status).toBe('disabled');
    expect(after.x509.authentication.type).toBe('selfSigned');
    expect(after.x509.authentication.x509Thumbprint.primaryThumbprint).toBe(THUMBPRINT);
    expect((await hub.getDevice('d-01'))?.status).toBe('disabled');
  });

  it('does not write a device already in the wanted state, and says so', async () => {
    await raw.update({ ...(await identity('d-00')), status: 'disabled' });
    const etag = (await identity('d-00')).etag;
    expect(await hub.setDevicesStatus([{ deviceId: 'd-00' }], 'disabled')).toEqual([
      { id: 'd-00', ok: true, unchanged: true },
    ]);
    expect((await identity('d-00')).etag).toBe(etag);
  });

  it('re-enables, and refuses a device whose ETag is not the one given', async () => {
    for (const id of ['d-01', 'd-02']) await raw.update({ ...(await identity(id)), status: 'disabled' });
    const etag = (await identity('d-01')).etag;
    const results = await hub.setDevicesStatus(
      [
        { deviceId: 'd-01', etag },
        { deviceId: 'd-02', etag: 'stale' },
      ],
      'enabled',
    );
    expect(results[0]).toEqual({ id: 'd-01', ok: true });
    expect(results[1]).toMatchObject({ id: 'd-02', ok: false, code: 'PreconditionFailed' });
    expect((await identity('d-01')).status).toBe('enabled');
  });

  it('reports a device changed between the read and the bulk write, and writes the others', async () => {
    const registry = createRegistry(sb.target.hubs.get(host) as any, sb.target.endpoint, {
      onRequest: observeRequest,
    });
    const get = registry.get.bind(registry);
    (registry as any).get = async (id: string) => {
      const answer = await get(id);
      if (id === 'd-04') {
        // Someone else writes the device right after our read.
        const current = await identity(id);
        await raw.update({ ...current, statusReason: 'changed by someone else' });
      }
      return answer;
    };
    const adapter = new AzureHubAdapter(registry, host, { timeoutMs: 5000 });
    const results = await adapter.setDevicesStatus([{ deviceId: 'd-04' }, { deviceId: 'd-05' }], 'disabled');
    expect(results[0]).toMatchObject({ id: 'd-04', ok: false });
    expect(results[0].code).toBeTruthy();
    expect(results[1]).toEqual({ id: 'd-05', ok: true });
    expect((await identity('d-04')).status).toBe('enabled');
    expect((await identity('d-05')).status).toBe('disabled');
  });

  it('refuses batches outside 1..100 devices before calling the service', async () => {
    const many = Array.from({ length: 101 }, (_, i) => ({ deviceId: `x-${i}` }));
    await expect(hub.setDevicesStatus(many, 'disabled')).rejects.toMatchObject({ kind: 'badRequest' });
    await expect(hub.deleteDevices([])).rejects.toMatchObject({ kind: 'badRequest' });
  });
});

describe('hub adapter deletes', () => {
  it('deletes in one call; a missing device stays a per-device DeviceNotFound', async () => {
    const results = await hub.deleteDevices([{ deviceId: 'd-06' }, { deviceId: 'gone-already' }]);
    expect(results[0]).toEqual({ id: 'd-06', ok: true });
    expect(results[1]).toMatchObject({ id: 'gone-already', ok: false, code: 'DeviceNotFound' });
    expect(await hub.getDevice('d-06')).toBeUndefined();
  });

  it('deletes only unchanged devices when ETags are given', async () => {
    const etag = (await identity('d-07')).etag;
    const results = await hub.deleteDevices([
      { deviceId: 'd-07', etag },
      { deviceId: 'd-08', etag: 'stale' },
      { deviceId: 'd-09' },
    ]);
    expect(results.map((r) => [r.id, r.ok])).toEqual([
      ['d-07', true],
      ['d-08', false],
      ['d-09', true],
    ]);
    expect(results[1].code).toBeTruthy();
    expect(await hub.getDevice('d-08')).toBeDefined();
    expect(await hub.getDevice('d-07')).toBeUndefined();
  });
});

describe('hub adapter failures', () => {
  it('maps a wrong key to unauthorized', async () => {
    const wrong = withWrongKey(sb.emulator.hubs[0].connectionString);
    const target = resolveTarget({
      dps: sb.emulator.dps.connectionString,
      hubs: [wrong],
      endpoint: sb.emulator.url,
      env: {},
      configPath: false,
    });
    const wrongHub = buildPorts(target).hubs.get(host) as HubPort;
    const err = await wrongHub.getDevice('d-00').catch((e) => e);
    expect(err).toMatchObject({
      name: 'ServiceError',
      kind: 'unauthorized',
      details: { status: 401, target: host },
    });
    expect(err.message).not.toContain(wrong.split('SharedAccessKey=')[1]);
  });

  it('maps the hub throttling (429) to throttled, with the Retry-After wait', async () => {
    // A slowed service clock: the query bucket holds one query.
    const slow = await startSandbox({ throttle: true, tier: 'S1', timeScale: 0.05 });
    try {
      const slowHub = slow.ports.hubs.get(slow.emulator.hubs[0].host) as HubPort;
      await collect(slowHub.listDevices());
      const err = await collect(slowHub.listDevices()).catch((e) => e);
      expect(err).toMatchObject({ name: 'ServiceError', kind: 'throttled', details: { status: 429 } });
      expect(err.details.retryAfterMs).toBeGreaterThan(0);
      expect(err.retryable).toBe(true);
    } finally {
      await slow.emulator.stop();
    }
  });

  it('times out a bulk call the hub never answers', async () => {
    const slowHub = buildPorts(sb.target, { timeoutMs: 300 }).hubs.get(host) as HubPort;
    sb.emulator.setFaults({ hangRate: 1, only: ['hub'] });
    try {
      await expect(slowHub.deleteDevices([{ deviceId: 'd-08' }])).rejects.toMatchObject({ kind: 'timeout' });
    } finally {
      sb.emulator.setFaults(undefined);
    }
    expect(await hub.getDevice('d-08')).toBeDefined();
  });
});
