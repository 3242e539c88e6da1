/**
 * Fleet scale through the compiled program, on the emulator + Azurite with the real SDK clients: a large
 * group on ONE S1 hub disabled via `--hub-path jobs`, the run killed (SIGKILL) during its import job and
 * resumed (the resume re-attaches to that job: the emulator counts one import job for the hub and the
 * step), then restored through jobs. No key or SAS in any output, the journals, or a leftover blob.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AzuriteHandle } from '../support/azurite.js';
import { jsonLines, policyKeys, secretsIn, waitUntil } from '../support/cli.js';
import { type CliFixture, deviceOn } from './fixture.js';
import { buildOneHubFleet, startJobsFleet } from './hub-jobs-fleet.js';

// The size (HUB_JOBS_DEVICES=N tries another).
const DEVICES = Number(process.env.HUB_JOBS_DEVICES ?? 20_000);
const GROUP = 'jobs-fleet';
// The emulator runs an S1 hub 60x faster (a service minute a real second); the client paces itself to
// it as an S1 hub of 60 units (the same operations a real second), so it reads 20,000 identities in
// seconds, not minutes. A job processes 6,000 devices a service minute: each job over the fleet lasts a
// few real seconds, long enough to be killed inside.
const TIME_SCALE = 60;
const JOB_RATE = 6_000;
// The records name the hub: no lookup of the IDs on the other hubs.
const CLIENT = [
  '--hub-tier',
  'S1',
  '--hub-units',
  String(TIME_SCALE),
  ...['hub-eu', 'hub-us', 'hub-asia'].flatMap((h) => ['--skip-hub-lookup', h]),
];

let f: CliFixture;
let azurite: AzuriteHandle;
let storage: string;
let sig: string;
let ids: string[];
let hubEu: string;

beforeAll(async () => {
  ({ f, azurite, storage, sig, ids, hubEu } = await startJobsFleet({
    container: 'fleet-jobs',
    group: GROUP,
    devices: DEVICES,
    timeScale: TIME_SCALE,
    jobRate: JOB_RATE,
  }));
}, 120_000);

afterAll(async () => {
  await f?.close();
  await azurite?.stop();
});

/** Some device keys of the fleet (what an export writes to storage): none may leave it. */
const deviceKeys = (): string[] => {
  const hub = [...f.emulator.store.hubs.values()].find((h) => h.name === 'hub-eu');
  if (!hub) return [];
  return [0, 1, Math.floor(DEVICES / 2), DEVICES - 1].flatMap((i) => {
    const d = hub.devices.get(ids[i]);
    if (!d) return [];
    const k = f.emulator.store.deviceKeys(hub, d);
    return [k.primaryKey, k.secondaryKey];
  });
};

/** Nothing secret in a text: no policy key, no device key, no SAS signature. */
const expectNoSecret = (what: string, text: string) => {
  expect(secretsIn(text, [...policyKeys(f.emulator), ...deviceKeys()]), what).toEqual([]);
  expect(text.includes(sig), `${what} holds the storage SAS`).toBe(false);
  expect(/[?&]sig=/.test(text), `${what} holds a SAS signature`).toBe(false);
};

const jobRecords = (journal: string): Record<string, unknown>[] =>
  jsonLines(readFileSync(journal, 'utf8')).filter((r) => r.type === 'job');

const statuses = () => {
  const out: Record<string, number> = {};
  for (const id of ids) {
    const s = deviceOn(f.emulator, hubEu, id)?.status ?? 'gone';
    out[s] = (out[s] ?? 0) + 1;
  }
  return out;
};

let runId: string;
let runJournal: string;

// One story over one fleet (each test starts from what the one before left): the tests keep their
// order in the shuffled pass; the file still runs at any point among the others.
describe(`${DEVICES.toLocaleString('en-US')} devices on one S1 hub through import/export jobs`, {
  shuffle: false,
}, () => {
  it('a run killed during its import job resumes by re-attaching to that job: one import job, every device disabled once', async () => {
    f.emulator.resetStats();
    const child = f.spawn([
      'run',
      '--group',
      GROUP,
      '--disenroll',
      'disable',
      '--deregister',
      'disable',
      '--hub-path',
      'jobs',
      '--job-storage',
      storage,
      '--yes',
      ...CLIENT,
    ]);
    runJournal = await waitUntil(() => /journal (\S+\.jsonl)/.exec(child.output().stderr)?.[1], 50);
    runId = /Run (\S+) started/.exec(child.output().stderr)?.[1] as string;
    // Killed as soon as the import job is journaled: the hub is then applying it.
    await waitUntil(() => {
      try {
        return jobRecords(runJournal).some((r) => r.jobType === 'import') ? true : undefined;
      } catch {
        return undefined;
      }
    }, 50);
    child.child.kill('SIGKILL');
    const killed = await child.result;
    expect(killed.signal).toBe('SIGKILL');
    expect(f.emulator.jobsCreated()['hub-eu']).toEqual({ export: 1, import: 1 });
    const journaled = jobRecords(runJournal);
    expect(journaled.map((r) => r.jobType)).toEqual(['export', 'import']);
    // The journal names the job and its blobs, never the container's URL or SAS.
    expect(journaled[1]).toMatchObject({ hub: hubEu, blobs: ['devices.txt', 'importErrors.log'] });

    const resume = await f.cli(['resume', '--job-storage', storage, ...CLIENT]);
    expect(resume.stderr).not.toMatch(/iot-deprovision:/);
    expect(resume.code).toBe(0);
    expect(resume.stdout).toMatch(/: completed$/m);
    // The progress line shows the job's state on its hub (it stays shown once the job ended), and that
    // the resume waited for the job the killed process created instead of starting another.
    expect(resume.stderr).toContain(`[import job on ${hubEu} (re-attached after resume): completed]`);
    // Re-attached: still one export and one import job for the hub and this step.
    expect(f.emulator.jobsCreated()['hub-eu']).toEqual({ export: 1, import: 1 });
    expect(jobRecords(runJournal)).toHaveLength(2);
    expect(statuses()).toEqual({ disabled: DEVICES });
    // Every device written exactly once (the import job's update), none twice.
    const destructive = f.emulator.stats().destructive;
    const wrong = ids.filter((id) => {
      const counts = destructive[`${hubEu}/${id}`] ?? {};
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      return total !== 1;
    });
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(f.emulator.store.dps.groups.get(GROUP)?.provisioningStatus).toBe('disabled');
    // The device keys the export wrote are gone from storage; none is in the journal or the outputs.
    expect(await azurite.blobs('fleet-jobs')).toEqual([]);
    expectNoSecret('the journal', readFileSync(runJournal, 'utf8'));
    expectNoSecret('the outputs', f.outputs.join('\n'));
  }, 600_000);

  it('restore re-enables the fleet through jobs, as the run went; storage left empty, no secret anywhere', async () => {
    const before = { ...f.emulator.jobsCreated()['hub-eu'] };
    const plan = await f.cli(['restore', runId, '--job-storage', storage, ...CLIENT]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(
      new RegExp(`${hubEu.replace(/\./g, '\\.')}: jobs \\(run ${runId} went through jobs on this hub\\)`),
    );
    expect(plan.stdout).toContain(`status=enabled, ${DEVICES.toLocaleString('en-US')} devices`);

    // Without job storage the run's path cannot be taken: said before anything changes.
    const noStorage = await f.cli(['restore', runId, '--yes', ...CLIENT]);
    expect(noStorage.code).toBe(2);
    expect(noStorage.stderr).toMatch(/import\/export jobs: give --job-storage/);
    expect(statuses()).toEqual({ disabled: DEVICES });

    const r = await f.cli(['restore', runId, '--yes', '--job-storage', storage, ...CLIENT]);
    expect(r.stderr).not.toMatch(/iot-deprovision:/);
    expect(r.code).toBe(0);
    expect(statuses()).toEqual({ enabled: DEVICES });
    expect(f.emulator.jobsCreated()['hub-eu']).toEqual({
      export: before.export + 1,
      import: before.import + 1,
    });
    expect(f.emulator.store.dps.groups.get(GROUP)?.provisioningStatus).toBe('enabled');
    expect(await azurite.blobs('fleet-jobs')).toEqual([]);
    const restoreJournal = /Journal: (\S+)/.exec(r.stdout)?.[1] as string;
    expectNoSecret('the restore journal', readFileSync(restoreJournal, 'utf8'));
    expectNoSecret('the outputs', f.outputs.join('\n'));
  }, 600_000);
});

// One story over one fleet (each test starts from what the one before left): the tests keep their
// order in the shuffled pass; the file still runs at any point among the others.
describe('through jobs, smaller groups on the other hubs', { shuffle: false }, () => {
  const SMALL = 5000;

  it('a device changed between the export and the import is caught by its ETag and finished on the call path', async () => {
    const group = buildOneHubFleet(f.emulator, 'jobs-etag', SMALL, 'hub-us');
    const hubUs = f.emulator.hubs.find((h) => h.name === 'hub-us')?.host as string;
    const last = group[group.length - 1];
    const importsBefore = f.emulator.jobsCreated()['hub-us']?.import ?? 0;
    // As soon as the import job exists (its input already written with the exported ETags), someone
    // changes the last device: the import applies it last, after the others' chunks.
    let changed = false;
    const watch = setInterval(() => {
      if (changed || (f.emulator.jobsCreated()['hub-us']?.import ?? 0) === importsBefore) return;
      const hub = [...f.emulator.store.hubs.values()].find((h) => h.name === 'hub-us');
      const d = hub?.devices.get(last);
      if (d) {
        d.etag = f.emulator.store.newHubEtag();
        changed = true;
      }
    }, 5);
    const r = await f.cli([
      'run',
      '--group',
      'jobs-etag',
      '--disenroll',
      'disable',
      '--deregister',
      'disable',
      '--hub-path',
      'jobs',
      '--job-storage',
      storage,
      '--yes',
      '--json',
      ...CLIENT,
    ]);
    clearInterval(watch);
    expect(changed).toBe(true);
    expect(r.code).toBe(0);
    const summary = jsonLines(r.stdout).find((l) => l.event === 'summary') as any;
    expect(summary.state).toBe('completed');
    expect(group.filter((id) => deviceOn(f.emulator, hubUs, id)?.status !== 'disabled')).toEqual([]);
    const started = jsonLines(r.stdout).find((l) => l.event === 'started') as { journal: string };
    const journal = readFileSync(started.journal, 'utf8');
    expect(journal).toContain('changed since the export: finished on the call path');
    expect(f.emulator.jobsCreated()['hub-us']?.import).toBe(importsBefore + 1);
    expect(await azurite.blobs('fleet-jobs')).toEqual([]);
  }, 300_000);

  it('a delete goes through one import job (no export for the step); its restore says the identities cannot come back', async () => {
    const group = buildOneHubFleet(f.emulator, 'jobs-delete', SMALL, 'hub-asia');
    const hubAsia = f.emulator.hubs.find((h) => h.name === 'hub-asia')?.host as string;
    const counted = f.emulator.jobsCreated()['hub-asia'];
    const before = { export: counted?.export ?? 0, import: counted?.import ?? 0 };
    const r = await f.cli([
      'run',
      '--group',
      'jobs-delete',
      '--disenroll',
      'disable',
      '--deregister',
      'delete',
      '--hub-path',
      'jobs',
      '--job-storage',
      storage,
      '--yes',
      ...CLIENT,
    ]);
    expect(r.stderr).not.toMatch(/iot-deprovision:/);
    expect(r.code).toBe(0);
    expect(group.filter((id) => deviceOn(f.emulator, hubAsia, id) !== undefined)).toEqual([]);
    // The step: one import job. The verify phase (--hub-path jobs) reads the hub by one export job
    // without keys: the run's only export.
    expect(f.emulator.jobsCreated()['hub-asia']).toEqual({
      export: before.export + 1,
      import: before.import + 1,
    });
    const deleteRun = /restore (\S+) --yes/.exec(r.stdout)?.[1] as string;
    const undo = await f.cli(['restore', deleteRun, '--yes', '--job-storage', storage, ...CLIENT]);
    expect(undo.code).toBe(0);
    expect(`${undo.stdout}${undo.stderr}`).toMatch(
      /5,000 hub device identities on [^:]*hub-asia[^:]*: deletions cannot be restored/,
    );
    // The group comes back enabled; the identities do not, and no job ran for them.
    expect(f.emulator.store.dps.groups.get('jobs-delete')?.provisioningStatus).toBe('enabled');
    expect(f.emulator.jobsCreated()['hub-asia']).toEqual({
      export: before.export + 1,
      import: before.import + 1,
    });
    expect(await azurite.blobs('fleet-jobs')).toEqual([]);
    expectNoSecret('the outputs', f.outputs.join('\n'));
  }, 300_000);
});
