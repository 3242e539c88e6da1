import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubJobsPort } from '../../src/core/ports.js';
import { createRegistry } from '../../src/services/azure/clients.js';
import { createReadLimiter } from '../../src/services/executor/read-limiter.js';
import { readHubByExport } from '../../src/services/session/export-read.js';
import { openJobStorage } from '../../src/services/storage/job-storage.js';
import { poolOf } from '../../src/services/storage/job-storage-pool.js';
import { type Sandbox, startSandbox } from '../azure/support.js';
import { type AzuriteHandle, startAzurite } from '../support/azurite.js';

// verify's read of one hub through an export job: the real SDK adapters against the emulator, Azurite
// as job storage. Each test its own devices and container (the tests run in any order).
let azurite: AzuriteHandle;
let sb: Sandbox;
let host: string;

beforeAll(async () => {
  azurite = await startAzurite();
  sb = await startSandbox({ jobRate: 600_000 });
  host = sb.emulator.hubs[0].host;
}, 60_000);
afterAll(async () => {
  await sb?.emulator.stop();
  await azurite?.stop();
});

const seed = async (prefix: string, n: number): Promise<string[]> => {
  const registry = createRegistry(sb.target.hubs.get(host) as never, sb.target.endpoint);
  const ids = Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);
  for (let at = 0; at < ids.length; at += 100)
    await registry.addDevices(
      ids.slice(at, at + 100).map((deviceId, i) => ({
        deviceId,
        status: at + i === 0 ? ('disabled' as const) : ('enabled' as const),
      })),
    );
  return ids;
};

const readerOf = async (container: string, jobs: HubJobsPort) => ({
  storage: poolOf(openJobStorage(await azurite.container(container))),
  jobs,
  limiter: createReadLimiter({ dpsHost: sb.target.dps.host, limits: { timeScale: 1000 } }),
  jobPollMs: 50,
  timeScale: 1000,
});

/** The hub's job port, its export call replaced. */
const hubJobs = (exportDevices: (real: HubJobsPort) => HubJobsPort['exportDevices']): HubJobsPort => {
  const real = sb.ports.hubs.get(host)?.jobs as HubJobsPort;
  return {
    exportDevices: exportDevices(real),
    importDevices: (input, output) => real.importDevices(input, output),
    getJob: (id) => real.getJob(id),
    cancelJob: (id) => real.cancelJob(id),
    listJobs: () => real.listJobs(),
  };
};

describe('reading a hub through one export job without keys', () => {
  it('keeps the wanted devices with their statuses, asks for no keys, and leaves no blob', async () => {
    const ids = await seed('wanted', 150);
    const asked: boolean[] = [];
    const spy = hubJobs((real) => (url, excludeKeys) => {
      asked.push(excludeKeys);
      return real.exportDevices(url, excludeKeys);
    });
    const o = await readerOf('export-wanted', spy);
    const wanted = new Set([...ids.slice(0, 10), 'not-on-the-hub']);
    const { devices, left } = await readHubByExport(o, host, wanted);
    expect(asked).toEqual([true]);
    expect(left).toBeUndefined();
    expect(devices.map((d) => [d.deviceId, d.status]).sort()).toEqual(
      ids.slice(0, 10).map((id, i) => [id, i === 0 ? 'disabled' : 'enabled']),
    );
    expect(devices.every((d) => d.hub === host && d.etag)).toBe(true);
    expect(await azurite.blobs('export-wanted')).toEqual([]);
  });

  it('refuses an export that carries device keys (a hub ignoring excludeKeys), never quoting one, and deletes it', async () => {
    const ids = await seed('keyed', 5);
    const ignoring = hubJobs((real) => (url) => real.exportDevices(url, false));
    const o = await readerOf('export-keyed', ignoring);
    const hub = sb.emulator.store.hubByHost(host);
    const device = hub?.devices.get(ids[0]);
    const keys = hub && device ? sb.emulator.store.deviceKeys(hub, device) : undefined;
    const failure = await readHubByExport(o, host, new Set(ids)).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(failure).toMatch(/wrote device keys although asked for none/);
    expect(keys?.primaryKey).toBeTruthy();
    expect(failure).not.toContain(keys?.primaryKey);
    expect(await azurite.blobs('export-keyed')).toEqual([]);
  });
});

describe('a read stopped while its export job runs', () => {
  let slow: Sandbox;
  beforeAll(async () => {
    // A device a minute: the job runs for minutes, far longer than the test needs to stop it.
    slow = await startSandbox({ jobRate: 1 });
  }, 60_000);
  afterAll(async () => {
    await slow?.emulator.stop();
  });

  it('cancels the job (no file written after the read ended) and leaves no blob', async () => {
    const slowHost = slow.emulator.hubs[0].host;
    const real = slow.ports.hubs.get(slowHost)?.jobs as HubJobsPort;
    const stop = new AbortController();
    let jobId = '';
    const jobs: HubJobsPort = {
      // Stopped as soon as the job exists (Ctrl-C while verify waits for it).
      exportDevices: async (url, excludeKeys) => {
        const job = await real.exportDevices(url, excludeKeys);
        jobId = job.jobId;
        stop.abort();
        return job;
      },
      importDevices: (input, output) => real.importDevices(input, output),
      getJob: (id) => real.getJob(id),
      cancelJob: (id) => real.cancelJob(id),
      listJobs: () => real.listJobs(),
    };
    const o = {
      storage: poolOf(openJobStorage(await azurite.container('export-stopped'))),
      jobs,
      limiter: createReadLimiter({ dpsHost: slow.target.dps.host, limits: { timeScale: 1000 } }),
      jobPollMs: 50,
      signal: stop.signal,
    };
    await expect(readHubByExport(o, slowHost, new Set(['any']))).rejects.toThrow();
    expect((await real.getJob(jobId)).status).toBe('cancelled');
    expect(await azurite.blobs('export-stopped')).toEqual([]);
  });
});
