/**
 * The jobs path's waits, through the executor against the emulator (the hub) and Azurite (the storage),
 * real SDK clients: a step on a hub busy with another import/export job waits for it (one job at a time
 * per hub), and a run stopped during its import job resumes by re-attaching to that job.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateJobsSeconds } from '../../src/core/hub-path.js';
import type { HubJobState } from '../../src/core/hub-job-state.js';
import type { Plan } from '../../src/core/plan-types.js';
import { createRegistry, type Registry } from '../../src/services/azure/clients.js';
import { execute, resumeRun } from '../../src/services/executor/index.js';
import { openJournal, readJournal } from '../../src/services/journal/index.js';
import { openJobStorage } from '../../src/services/storage/job-storage.js';
import { poolOf } from '../../src/services/storage/job-storage-pool.js';
import { type Sandbox, startSandbox } from '../azure/support.js';
import { type AzuriteHandle, startAzurite } from '../support/azurite.js';
import { planOf } from './plans.js';

let azurite: AzuriteHandle;
let sb: Sandbox;
let raw: Registry;
let host: string;
let hubName: string;
let root: string;
const N = 300;
const ids = Array.from({ length: N }, (_, i) => `wait-${String(i).padStart(4, '0')}`);

const disablePlan = (): Plan =>
  planOf(
    { kind: 'group', groupId: 'g1' },
    { disenroll: 'disable', deregister: 'disable', deleteRegistrations: false, deleteGroup: false },
    [
      {
        phase: 'deregister',
        op: { kind: 'hubJobDevices', hub: host, action: 'disable', deviceIds: ids },
        registrationIds: ids,
      },
    ],
    [],
  );

const options = async (container: string) => ({
  dps: sb.ports.dps,
  hubs: sb.ports.hubs,
  journalOptions: { env: { XDG_STATE_HOME: root } },
  limits: { timeScale: 1000, callTimeoutMs: 10_000 },
  jobStorage: poolOf(openJobStorage(await azurite.container(container))),
  jobPollMs: 20,
});

const addAll = async () => {
  for (let at = 0; at < N; at += 100)
    await raw.addDevices(ids.slice(at, at + 100).map((deviceId) => ({ deviceId, status: 'enabled' })));
};

/** Enabled again (the first test disabled them), straight in the emulator's store. */
const enableAll = () => {
  const hub = sb.emulator.store.hubByHost(host);
  for (const id of ids) {
    const d = hub?.devices.get(id);
    if (d) d.status = 'enabled';
  }
  sb.emulator.store.touch();
};

const statuses = async (): Promise<Record<string, number>> => {
  const out: Record<string, number> = {};
  for await (const page of sb.ports.hubs.get(host)?.listDevices() ?? [])
    for (const d of page) if (ids.includes(d.deviceId)) out[d.status] = (out[d.status] ?? 0) + 1;
  return out;
};

const created = () => {
  const c = sb.emulator.jobsCreated()[hubName];
  return { export: c?.export ?? 0, import: c?.import ?? 0 };
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hub-jobs-wait-'));
  azurite = await startAzurite();
  // 300 devices at 18,000 a minute: a job over them lasts about a second, plus its overhead.
  sb = await startSandbox({ jobRate: 18_000 });
  host = sb.emulator.hubs[0].host;
  hubName = sb.emulator.hubs[0].name;
  raw = createRegistry(sb.target.hubs.get(host) as any, sb.target.endpoint);
  await addAll();
}, 60_000);
afterAll(async () => {
  await sb?.emulator.stop();
  await azurite?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

// One story over one fleet (each test starts from what the one before left): the tests keep their
// order in the shuffled pass; the file still runs at any point among the others.
describe('import/export jobs: waits', { shuffle: false }, () => {
  it('a step on a hub busy with another job waits for it, saying why, then runs its own', async () => {
    const other = await azurite.container('someone-else');
    await raw.exportDevicesToBlob(other, true);
    const before = created();
    const opts = await options('busy');
    const journal = await openJournal(
      { target: { dpsHost: sb.target.dps.host, hubHosts: [host] }, plan: disablePlan() } as any,
      opts.journalOptions,
    );
    const handle = execute(disablePlan(), { ...opts, journal });
    const said: HubJobState[] = [];
    const etaWhileWaiting: number[] = [];
    handle.subscribe((p) => {
      for (const j of p.jobs ?? []) said.push(j);
      if (p.jobs?.some((j) => j.status === 'waiting') && p.eta) etaWhileWaiting.push(p.eta.remainingMs);
    });
    const summary = await handle.done;
    expect(summary.results[0]?.outcome).toBe('succeeded');
    // Before its jobs start, the ETA holds their whole estimated time (export and import of N devices at
    // the job model's pace, scaled like the limits), not only the handful of job calls.
    const jobsMs = (estimateJobsSeconds(N, 'disable') * 1000) / 1000;
    expect(etaWhileWaiting.length).toBeGreaterThan(0);
    for (const ms of etaWhileWaiting) expect(ms).toBeGreaterThanOrEqual(jobsMs);
    expect(
      said.some(
        (j) =>
          j.hub === host &&
          j.status === 'waiting' &&
          j.reason === 'another import/export job is active on the hub',
      ),
    ).toBe(true);
    expect(said.some((j) => j.hub === host && j.type === 'import' && j.status === 'completed')).toBe(true);
    expect(await statuses()).toEqual({ disabled: N });
    expect(sb.emulator.jobsCreated()[hubName]).toEqual({
      export: before.export + 1,
      import: before.import + 1,
    });
  }, 60_000);

  it('a run stopped during its import job resumes by re-attaching: one import job, blobs kept for it, then gone', async () => {
    enableAll();
    expect(await statuses()).toEqual({ enabled: N });
    const before = created();
    const opts = await options('stopped');
    const journal = await openJournal(
      { target: { dpsHost: sb.target.dps.host, hubHosts: [host] }, plan: disablePlan() } as any,
      opts.journalOptions,
    );
    const handle = execute(disablePlan(), { ...opts, journal });
    // Stopped as soon as the import job is seen: the hub has not read its input yet, or is applying it.
    const unsubscribe = handle.subscribe((p) => {
      if (p.jobs?.some((j) => j.type === 'import' && j.status !== 'waiting')) handle.abort();
    });
    const stopped = await handle.done;
    unsubscribe();
    expect(stopped.state).toBe('aborted');
    expect(sb.emulator.jobsCreated()[hubName]).toEqual({
      export: before.export + 1,
      import: before.import + 1,
    });
    // The hub may still read its input: the stop leaves it for the job.
    expect(await azurite.blobs('stopped')).toContain('devices.txt');
    const contents = await readJournal(handle.journalPath);
    expect([...(contents.jobs?.get('deregister:0') ?? [])].map((j) => j.jobType)).toEqual([
      'export',
      'import',
    ]);

    const resumed = await resumeRun(handle.journalPath, opts);
    const summary = await resumed.done;
    expect(summary.state).toBe('completed');
    // The progress says the job was waited for again, not started again.
    expect(resumed.progress().jobs).toContainEqual({
      hub: host,
      type: 'import',
      status: 'completed',
      reattached: true,
    });
    expect(summary.results.find((r) => r.stepId === 'deregister:0')?.outcome).toBe('succeeded');
    // Re-attached: no second job.
    expect(sb.emulator.jobsCreated()[hubName]).toEqual({
      export: before.export + 1,
      import: before.import + 1,
    });
    expect(await statuses()).toEqual({ disabled: N });
    expect(await azurite.blobs('stopped')).toEqual([]);
  }, 60_000);

  it('an import job the journal missed (died between creating and journaling it) is found again, not repeated', async () => {
    enableAll();
    const before = created();
    const opts = await options('unjournaled');
    const journal = await openJournal(
      { target: { dpsHost: sb.target.dps.host, hubHosts: [host] }, plan: disablePlan() } as any,
      opts.journalOptions,
    );
    const handle = execute(disablePlan(), { ...opts, journal });
    const unsubscribe = handle.subscribe((p) => {
      if (p.jobs?.some((j) => j.type === 'import' && j.status !== 'waiting')) handle.abort();
    });
    expect((await handle.done).state).toBe('aborted');
    unsubscribe();
    // As if the process died before the import job's record was written.
    const text = await readFile(handle.journalPath, 'utf8');
    const without = text
      .split('\n')
      .filter((l) => !(l.includes('"type":"job"') && l.includes('"jobType":"import"')))
      .join('\n');
    expect(without).not.toBe(text);
    await writeFile(handle.journalPath, without);

    const summary = await (await resumeRun(handle.journalPath, opts)).done;
    expect(summary.state).toBe('completed');
    const step = summary.results.find((r) => r.stepId === 'deregister:0');
    // Disabled by this run (restore re-enables them), not found "already disabled" by a new export.
    expect(step?.devices?.filter((d) => d.outcome === 'succeeded')).toHaveLength(N);
    expect(created()).toEqual({ export: before.export + 1, import: before.import + 1 });
    expect(await statuses()).toEqual({ disabled: N });
    expect(await azurite.blobs('unjournaled')).toEqual([]);
  }, 60_000);
});
