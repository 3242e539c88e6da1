/**
 * Job storage as a pool of containers, through the executor against the emulator (the hubs) and Azurite
 * (the storage), real SDK clients: with a container per hub the hubs' jobs run at once (with one they take
 * turns); each job is journaled with its container, and a resumed step takes back that container even
 * when another one is free — found by the journal, or by the claim marker when the journal missed the job.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubJobState } from '../../src/core/hub-job-state.js';
import type { Plan } from '../../src/core/plan-types.js';
import { createRegistry } from '../../src/services/azure/clients.js';
import { execute, resumeRun } from '../../src/services/executor/index.js';
import { openJournal, readJournal } from '../../src/services/journal/index.js';
import { openJobStorage } from '../../src/services/storage/job-storage.js';
import { type JobStoragePool, poolOf } from '../../src/services/storage/job-storage-pool.js';
import { type Sandbox, startSandbox } from '../azure/support.js';
import { type AzuriteHandle, startAzurite } from '../support/azurite.js';
import { planOf } from './plans.js';

let azurite: AzuriteHandle;
let sb: Sandbox;
let hosts: string[];
let root: string;
const N = 200;
/** Each test its own devices (the tests run in any order). */
const idsOf = (name: string, hub: number) =>
  Array.from({ length: N }, (_, i) => `pool-${name}-${hub}-${String(i).padStart(3, '0')}`);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'jobs-pool-'));
  azurite = await startAzurite();
  sb = await startSandbox();
  hosts = sb.emulator.hubs.slice(0, 2).map((h) => h.host);
}, 60_000);
afterAll(async () => {
  await sb?.emulator.stop();
  await azurite?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

const seed = async (name: string, hubs: number): Promise<void> => {
  for (let i = 0; i < hubs; i++) {
    const registry = createRegistry(sb.target.hubs.get(hosts[i]) as any, sb.target.endpoint);
    const ids = idsOf(name, i);
    for (let at = 0; at < ids.length; at += 100)
      await registry.addDevices(ids.slice(at, at + 100).map((deviceId) => ({ deviceId, status: 'enabled' })));
  }
};

const disablePlan = (name: string, hubs: number): Plan =>
  planOf(
    { kind: 'group', groupId: 'g1' },
    { disenroll: 'disable', deregister: 'disable', deleteRegistrations: false, deleteGroup: false },
    hosts.slice(0, hubs).map((hub, i) => ({
      phase: 'deregister' as const,
      op: { kind: 'hubJobDevices' as const, hub, action: 'disable' as const, deviceIds: idsOf(name, i) },
      registrationIds: idsOf(name, i),
    })),
    [],
  );

const poolOver = async (names: string[]): Promise<JobStoragePool> =>
  poolOf(await Promise.all(names.map(async (n) => openJobStorage(await azurite.container(n)))));

const optionsWith = (jobStorage: JobStoragePool) => ({
  dps: sb.ports.dps,
  hubs: sb.ports.hubs,
  journalOptions: { env: { XDG_STATE_HOME: root } },
  limits: { timeScale: 1000, callTimeoutMs: 10_000 },
  jobStorage,
  jobPollMs: 20,
});

const disabledOn = async (host: string, ids: string[]): Promise<number> => {
  const want = new Set(ids);
  let n = 0;
  for await (const page of sb.ports.hubs.get(host)?.listDevices() ?? [])
    for (const d of page) if (want.has(d.deviceId) && d.status === 'disabled') n++;
  return n;
};

const hubNameOf = (host: string) => host.split('.')[0];
const created = (host: string) => {
  const c = sb.emulator.jobsCreated()[hubNameOf(host)];
  return { export: c?.export ?? 0, import: c?.import ?? 0 };
};

/** Runs the plan; the most hubs whose jobs were active (queued or running) at one moment. */
const runCountingOverlap = async (plan: Plan, jobStorage: JobStoragePool) => {
  const opts = optionsWith(jobStorage);
  const journal = await openJournal(
    { target: { dpsHost: sb.target.dps.host, hubHosts: hosts }, plan } as any,
    opts.journalOptions,
  );
  const handle = execute(plan, { ...opts, journal });
  let most = 0;
  const active = (j: HubJobState) => j.status === 'queued' || j.status === 'running';
  const unsubscribe = handle.subscribe((p) => {
    most = Math.max(most, new Set((p.jobs ?? []).filter(active).map((j) => j.hub)).size);
  });
  const summary = await handle.done;
  unsubscribe();
  return { summary, most, journalPath: handle.journalPath };
};

describe('job storage of several containers', () => {
  it("a container per hub: the two hubs' jobs run at once, each step journaled with its own container", async () => {
    await seed('once', 2);
    const { summary, most, journalPath } = await runCountingOverlap(
      disablePlan('once', 2),
      await poolOver(['pool-a', 'pool-b']),
    );
    expect(summary.state).toBe('completed');
    expect(most).toBe(2);
    for (const [i, host] of hosts.entries()) expect(await disabledOn(host, idsOf('once', i))).toBe(N);
    const records = (await readFile(journalPath, 'utf8'))
      .split('\n')
      .filter((l) => l.includes('"type":"job"'))
      .map((l) => JSON.parse(l) as { stepId: string; container?: string });
    const byStep = new Map<string, Set<string | undefined>>();
    for (const r of records) byStep.set(r.stepId, (byStep.get(r.stepId) ?? new Set()).add(r.container));
    expect(byStep.size).toBe(2);
    const containers = [...byStep.values()].map((s) => [...s]);
    // Both jobs of a step (export, import) in one container; the two steps in different ones.
    for (const c of containers) expect(c).toHaveLength(1);
    expect(new Set(containers.flat()).size).toBe(2);
    for (const c of containers.flat()) expect(c).toMatch(/\/pool-[ab]$/);
    expect(records.every((r) => !JSON.stringify(r).includes('sig='))).toBe(true);
    // Every blob gone (they hold device keys), claim markers included.
    expect(await azurite.blobs('pool-a')).toEqual([]);
    expect(await azurite.blobs('pool-b')).toEqual([]);
  }, 60_000);

  it("one container: the two hubs' jobs take turns (never active at once)", async () => {
    await seed('turns', 2);
    const { summary, most } = await runCountingOverlap(disablePlan('turns', 2), await poolOver(['pool-one']));
    expect(summary.state).toBe('completed');
    expect(most).toBe(1);
    for (const [i, host] of hosts.entries()) expect(await disabledOn(host, idsOf('turns', i))).toBe(N);
  }, 60_000);

  /** A run of one hub's step stopped during its import job (taken in the pool's first container). */
  const stoppedDuringImport = async (name: string, pool: JobStoragePool) => {
    await seed(name, 1);
    const opts = optionsWith(pool);
    const plan = disablePlan(name, 1);
    const journal = await openJournal(
      { target: { dpsHost: sb.target.dps.host, hubHosts: [hosts[0]] }, plan } as any,
      opts.journalOptions,
    );
    const handle = execute(plan, { ...opts, journal });
    const unsubscribe = handle.subscribe((p) => {
      if (p.jobs?.some((j) => j.type === 'import' && j.status !== 'waiting')) handle.abort();
    });
    expect((await handle.done).state).toBe('aborted');
    unsubscribe();
    return handle.journalPath;
  };

  it('a resumed step takes back the container its job was journaled with, though another is free and tried first', async () => {
    const before = created(hosts[0]);
    const journalPath = await stoppedDuringImport('resume', await poolOver(['pool-c', 'pool-d']));
    const jobs = (await readJournal(journalPath)).jobs?.get('deregister:0') ?? [];
    expect(jobs.map((j) => [j.jobType, j.container?.split('/').pop()])).toEqual([
      ['export', 'pool-c'],
      ['import', 'pool-c'],
    ]);
    // The input stays for the hub's job: in pool-c only.
    expect(await azurite.blobs('pool-c')).toContain('devices.txt');
    expect(await azurite.blobs('pool-d')).toEqual([]);

    // Given only the other container: bad input before anything runs, naming where the job's results are.
    await expect(resumeRun(journalPath, optionsWith(await poolOver(['pool-d'])))).rejects.toThrow(
      /results are in .*pool-c, which is not among the job storage given now: nothing was done/,
    );
    expect(created(hosts[0])).toEqual({ export: before.export + 1, import: before.import + 1 });

    // Both again, the free one first: the step re-attaches to its import job in pool-c.
    const resumed = await resumeRun(journalPath, optionsWith(await poolOver(['pool-d', 'pool-c'])));
    const summary = await resumed.done;
    expect(summary.state).toBe('completed');
    expect(resumed.progress().jobs).toContainEqual({
      hub: hosts[0],
      type: 'import',
      status: 'completed',
      reattached: true,
    });
    expect(created(hosts[0])).toEqual({ export: before.export + 1, import: before.import + 1 });
    expect(await disabledOn(hosts[0], idsOf('resume', 0))).toBe(N);
    expect(await azurite.blobs('pool-c')).toEqual([]);
    expect(await azurite.blobs('pool-d')).toEqual([]);
  }, 60_000);

  it('a step whose jobs the journal missed takes back the container its claim marker names: its import is not repeated', async () => {
    const before = created(hosts[0]);
    const journalPath = await stoppedDuringImport('marker', await poolOver(['pool-e', 'pool-f']));
    // As if the process died before any job record was written: no container journaled.
    const text = await readFile(journalPath, 'utf8');
    const without = text
      .split('\n')
      .filter((l) => !l.includes('"type":"job"'))
      .join('\n');
    expect(without).not.toBe(text);
    await writeFile(journalPath, without);

    const summary = await (await resumeRun(journalPath, optionsWith(await poolOver(['pool-f', 'pool-e']))))
      .done;
    expect(summary.state).toBe('completed');
    const step = summary.results.find((r) => r.stepId === 'deregister:0');
    // Disabled by this run (its import found again in pool-e), not "already disabled" by a new export.
    expect(step?.devices?.filter((d) => d.outcome === 'succeeded')).toHaveLength(N);
    expect(created(hosts[0])).toEqual({ export: before.export + 1, import: before.import + 1 });
    expect(await azurite.blobs('pool-e')).toEqual([]);
    expect(await azurite.blobs('pool-f')).toEqual([]);
  }, 60_000);
});
