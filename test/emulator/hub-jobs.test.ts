import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isServiceError } from '../../src/core/errors.js';
import type { HubJobInfo, HubJobsPort, HubPort } from '../../src/core/ports.js';
import { createRegistry, type Registry } from '../../src/services/azure/clients.js';
import { openJobStorage } from '../../src/services/storage/job-storage.js';
import { type Sandbox, startSandbox } from '../azure/support.js';
import { type AzuriteHandle, startAzurite } from '../support/azurite.js';

// The hub's import/export jobs through azure-iothub's Registry, against the emulator, with Azurite as
// the storage both the emulator (the hub) and the test read and write through @azure/storage-blob.
let azurite: AzuriteHandle;
let sb: Sandbox;
let slow: Sandbox;
let jobs: HubJobsPort;
let raw: Registry;
const ids = Array.from({ length: 30 }, (_, i) => `j-${String(i).padStart(2, '0')}`);

const settle = async (port: HubJobsPort, job: HubJobInfo): Promise<HubJobInfo> => {
  let now = job;
  for (let i = 0; i < 400 && (now.status === 'enqueued' || now.status === 'running'); i++) {
    await new Promise((r) => setTimeout(r, 50));
    now = await port.getJob(job.jobId);
  }
  return now;
};
const lines = (text: string | undefined) =>
  (text ?? '')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

beforeAll(async () => {
  azurite = await startAzurite();
  sb = await startSandbox({ jobRate: 600_000 });
  slow = await startSandbox({ jobRate: 1 });
  const host = sb.emulator.hubs[0].host;
  jobs = (sb.ports.hubs.get(host) as HubPort).jobs as HubJobsPort;
  raw = createRegistry(sb.target.hubs.get(host) as any, sb.target.endpoint);
  await raw.addDevices(ids.map((deviceId) => ({ deviceId, status: 'enabled' })));
}, 60_000);
afterAll(async () => {
  await sb?.emulator.stop();
  await slow?.emulator.stop();
  await azurite?.stop();
});

// One story over one fleet (each test starts from what the one before left): the tests keep their
// order in the shuffled pass; the file still runs at any point among the others.
describe('hub import/export jobs (emulator + Azurite)', { shuffle: false }, () => {
  it('exports every identity with its ETag, with keys or without them', async () => {
    const url = await azurite.container('export-keys');
    const storage = openJobStorage(url);
    const job = await jobs.exportDevices(url, false);
    expect(job.status).toBe('enqueued');
    expect((await settle(jobs, job)).status).toBe('completed');
    const exported = lines(await storage.readText('devices.txt'));
    expect(exported.map((d) => d.id).sort()).toEqual(ids);
    const d0 = (await raw.get('j-00')).responseBody as any;
    const line0 = exported.find((d) => d.id === 'j-00');
    expect(line0.eTag).toBe(d0.etag);
    expect(line0.authentication.symmetricKey.primaryKey).toBe(d0.authentication.symmetricKey.primaryKey);

    const bare = await azurite.container('export-bare');
    const done = await settle(jobs, await jobs.exportDevices(bare, true));
    expect(done.status).toBe('completed');
    const text = (await openJobStorage(bare).readText('devices.txt')) ?? '';
    expect(lines(text)).toHaveLength(ids.length);
    expect(text).not.toContain(d0.authentication.symmetricKey.primaryKey);
  });

  it('imports under importMode and ETags: a stale ETag fails in importErrors.log, keys are kept', async () => {
    const url = await azurite.container('import-1');
    const storage = openJobStorage(url);
    await settle(jobs, await jobs.exportDevices(url, false));
    const exported = lines(await storage.readText('devices.txt'));
    // j-01 changes after the export: its ETag in the file is stale.
    const before = (await raw.get('j-01')).responseBody as any;
    await raw.update({ ...before, statusReason: 'changed meanwhile' });
    const input = exported
      .filter((d) => ['j-00', 'j-01', 'j-02'].includes(d.id))
      .map((d) => JSON.stringify({ ...d, status: 'disabled', importMode: 'updateIfMatchETag' }));
    input.push(JSON.stringify({ id: 'j-03', eTag: 'stale', importMode: 'deleteIfMatchETag' }));
    input.push(JSON.stringify({ id: 'j-04', importMode: 'delete' }));
    await storage.writeText('devices.txt', `${input.join('\n')}\n`);
    const keys0 = ((await raw.get('j-00')).responseBody as any).authentication.symmetricKey;
    const job = await settle(jobs, await jobs.importDevices(url, url));
    expect(job).toMatchObject({ status: 'completed', progress: 100 });
    const errors = lines(await storage.readText('importErrors.log'));
    expect(errors.map((e) => [e.deviceId, e.errorCode]).sort()).toEqual([
      ['j-01', 'PreconditionFailed'],
      ['j-03', 'PreconditionFailed'],
    ]);
    const identityOf = async (id: string) => (await raw.get(id)).responseBody as any;
    expect((await identityOf('j-00')).status).toBe('disabled');
    expect((await identityOf('j-00')).authentication.symmetricKey).toMatchObject(keys0);
    expect((await identityOf('j-02')).status).toBe('disabled');
    expect((await identityOf('j-01')).status).toBe('enabled');
    expect((await identityOf('j-03')).status).toBe('enabled');
    await expect(raw.get('j-04')).rejects.toThrow();
    const listed = await jobs.listJobs();
    expect(listed.find((j) => j.jobId === job.jobId)).toMatchObject({ type: 'import', status: 'completed' });
    expect(JSON.stringify(listed)).not.toMatch(/sig=/);
  });

  it('fails an import whose input blob is missing, with a reason that carries no SAS', async () => {
    const url = await azurite.container('import-missing');
    const job = await settle(jobs, await jobs.importDevices(url, url));
    expect(job.status).toBe('failed');
    expect(job.failureReason).toMatch(/devices\.txt/);
    expect(job.failureReason).not.toMatch(/sig=/);
  });

  it('refuses a second job on a busy hub with 409, and cancels the active one', async () => {
    const host = slow.emulator.hubs[0].host;
    const port = (slow.ports.hubs.get(host) as HubPort).jobs as HubJobsPort;
    const r = createRegistry(slow.target.hubs.get(host) as any, slow.target.endpoint);
    await r.addDevices([{ deviceId: 'busy-1', status: 'enabled' } as any]);
    const url = await azurite.container('busy');
    const first = await port.exportDevices(url, true);
    const second = await port.exportDevices(url, true).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isServiceError(second) && second.kind).toBe('conflict');
    // Another hub of the same emulator is not busy.
    const other = slow.ports.hubs.get(slow.emulator.hubs[1].host)?.jobs as HubJobsPort;
    const elsewhere = await other.exportDevices(url.replace('/busy?', '/busy?'), true);
    expect(elsewhere.status).toBe('enqueued');
    expect((await port.cancelJob(first.jobId)).status).toBe('cancelled');
    expect((await port.getJob(first.jobId)).status).toBe('cancelled');
    await other.cancelJob(elsewhere.jobId);
    expect(slow.emulator.jobsCreated()[slow.emulator.hubs[0].name]).toEqual({ export: 1, import: 0 });
  });
});
