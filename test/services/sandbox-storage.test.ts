/**
 * The sandbox's own job storage (Azurite), through the sandbox itself (src/services/session/sandbox.ts):
 * available to the planner without running; started only by a job step; and, with a state file kept
 * between runs, a run stopped during a job step resumes in a NEW sandbox (new emulator, new Azurite:
 * the journaled job and its blobs are gone) by starting the step afresh.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/core/plan-types.js';
import type { Actions, Selection } from '../../src/core/selection.js';
import { readJournal } from '../../src/services/journal/index.js';
import type { SessionBackend } from '../../src/services/session/create-backend.js';
import { type SandboxOptions, startSandbox } from '../../src/services/session/sandbox.js';
import { SANDBOX_STORAGE } from '../../src/services/storage/sandbox-storage.js';

const GROUP: Selection = { kind: 'group', groupId: 'smart-meters-eu' };
const DISABLE: Actions = {
  disenroll: 'disable',
  deregister: 'disable',
  deleteRegistrations: false,
  deleteGroup: false,
};
/** Azurite's development account key: published, and still never written anywhere by the tool. */
const ACCOUNT_KEY_START = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1';

let root: string;
const env = () => ({ XDG_STATE_HOME: root, XDG_CONFIG_HOME: root });
const open = (state: string, options: Partial<SandboxOptions> = {}) =>
  startSandbox({ statePath: join(root, state), env: env(), ...options });

const planOf = async (backend: { plan: SessionBackend['plan'] }): Promise<Plan> => {
  const planned = await backend.plan(GROUP, DISABLE);
  if (!planned.ok) throw new Error(planned.refusal.message);
  return planned.plan;
};

/** The job records a journal holds, in order (the reader drops those of settled steps). */
const jobRecords = async (path: string) =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter((l) => l.includes('"type":"job"'))
    .map((l) => JSON.parse(l) as { stepId: string; hub: string; jobId: string; jobType: string });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sandbox-storage-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe("the sandbox's own job storage", () => {
  it('is available to the planner but not started: a plan and a run that take calls never start Azurite', async () => {
    const sb = await open('calls.json');
    try {
      expect(sb.storage?.display).toBe(SANDBOX_STORAGE);
      const plan = await planOf(sb.backend);
      // Available: auto weighs jobs (5 devices a hub: not faster), rather than "no job storage".
      expect(plan.hubPaths).toHaveLength(3);
      for (const h of plan.hubPaths ?? []) {
        expect(h.path).toBe('calls');
        expect(h.reason).toBe('jobs would not be faster for 5 device(s)');
      }
      expect(plan.jobStorage).toBeUndefined();
      const summary = await (await sb.backend.run(plan)).done;
      expect(summary.state).toBe('completed');
      expect(sb.storage?.started).toBe(false);
      // Never started, so empty: nothing to list, nothing to delete.
      expect(await sb.storage?.list()).toEqual([]);
    } finally {
      await sb.backend.close();
    }
  }, 60_000);

  it('a run stopped during a job step resumes in a new sandbox: the job and its blobs are gone, the step starts afresh', async () => {
    // A service second is a real second: the export job stays enqueued long enough to be seen.
    const first = await open('resume.json', { hubPath: 'jobs', timeScale: 1 });
    let journalPath: string;
    try {
      const plan = await planOf(first.backend);
      expect(plan.jobStorage).toBe(SANDBOX_STORAGE);
      expect(first.storage?.started).toBe(false);
      const handle = await first.backend.run(plan);
      journalPath = handle.journalPath;
      const unsubscribe = handle.subscribe((p) => {
        // Stopped once every hub's export job is there: the hubs' steps run at once, a container each.
        if (new Set(p.jobs?.filter((t) => t.type === 'export').map((t) => t.hub)).size === 3) handle.abort();
      });
      const stopped = await handle.done;
      unsubscribe();
      expect(stopped.state).toBe('aborted');
      expect(first.storage?.started).toBe(true);
    } finally {
      // The process ends: its emulator (and the jobs it ran) and its Azurite (and every blob) with it.
      await first.backend.close();
    }
    const atStop = await readJournal(journalPath);
    const pending = [...(atStop.jobs ?? [])].filter(([stepId]) => !atStop.results.has(stepId));
    // One container per demo hub: the three hubs' job steps ran at once, each journaled with its container.
    expect(pending).toHaveLength(3);
    for (const [, jobs] of pending) expect(jobs.map((j) => j.jobType)).toContain('export');
    const containers = pending.map(([, jobs]) => jobs[0]?.container);
    expect(new Set(containers).size).toBe(3);
    for (const c of containers) expect(c).toContain(SANDBOX_STORAGE);
    const lostJobs = new Set(pending.flatMap(([, jobs]) => jobs.map((j) => j.jobId)));

    const second = await open('resume.json', { hubPath: 'jobs' });
    try {
      expect(second.storage?.started).toBe(false);
      const summary = await (await (second.backend as SessionBackend).resume(journalPath)).done;
      expect(summary.state).toBe('completed');
      // Each hub: one export and one import job for the step in this sandbox (the first one's jobs are not
      // re-attached), and one export (no keys) for the verify that reads each hub back (--hub-path jobs).
      expect(Object.values(second.emulator.jobsCreated())).toEqual([
        { export: 2, import: 1 },
        { export: 2, import: 1 },
        { export: 2, import: 1 },
      ]);
      const records = await jobRecords(journalPath);
      for (const [stepId] of pending) {
        const again = records.filter((r) => r.stepId === stepId && !lostJobs.has(r.jobId));
        expect(again.map((r) => r.jobType)).toEqual(['export', 'import']);
      }
      // Every device of the group disabled on its hub; the ones this run disabled are its own to restore.
      const hubDevices = [...second.emulator.store.dps.registrations.values()].filter(
        (r) => r.enrollment.kind === 'group' && r.enrollment.id === 'smart-meters-eu',
      );
      expect(hubDevices).toHaveLength(15);
      for (const r of hubDevices) {
        const hub = second.emulator.store.hubByHost(r.assignedHub ?? '');
        expect(hub?.devices.get(r.registrationId)?.status, r.registrationId).toBe('disabled');
      }
      const deregister = summary.results.filter((r) => r.stepId.startsWith('deregister:'));
      const outcomes = deregister.flatMap((r) => r.devices ?? []).map((d) => d.outcome);
      expect(outcomes.filter((o) => o === 'succeeded')).toHaveLength(14);
      // meter-eu-0011 was disabled before the run (the demo fleet has it so).
      expect(outcomes.filter((o) => o === 'alreadyDone')).toHaveLength(1);
      // The blobs hold device keys: gone, and the container's claim released.
      expect(await second.storage?.list()).toEqual([]);
    } finally {
      await second.backend.close();
    }
    const journal = await readFile(journalPath, 'utf8');
    expect(journal).toContain(SANDBOX_STORAGE);
    expect(journal).not.toMatch(/sig=/);
    expect(journal).not.toContain(ACCOUNT_KEY_START);
  }, 120_000);
});
