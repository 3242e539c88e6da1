/**
 * The TUI with hub steps through import/export jobs (fleet scale): the review shows each hub's path, why,
 * and the estimated time of each path at 80 columns, a jobs step as such; the run screen shows each
 * hub's job state (waiting, queued, running N%, completed, failed with its reason, re-attached); the
 * summary reads a jobs step's per-device outcomes as the call path's, with the restore words.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { planDeprovision } from '../../src/core/plan.js';
import { applyHubPaths } from '../../src/core/plan-hub-path.js';
import type { Plan, PlanResult, StepResult } from '../../src/core/plan-types.js';
import type { ReenrollmentVerdict } from '../../src/core/model.js';
import { type Actions, SAFE_ACTIONS, type Selection } from '../../src/core/selection.js';
import { planLines } from '../../src/screens/components/plan-lines.js';
import { selectionInfo } from '../../src/screens/DevicesScreen.js';
import { summarize } from '../../src/services/executor/results.js';
import { FakeBackend } from '../support/fake-backend.js';
import { demoData, deviceRow } from './fixtures.js';
import { type DrivenApp, KEYS, frame, press, renderApp, until, waitForText } from './helpers.js';

let t: DrivenApp | undefined;
afterEach(() => {
  t?.unmount();
  t = undefined;
});

const EU = 'hub-eu.azure-devices.net';
const US = 'hub-us.azure-devices.net';
const GROUP = 'g1';
const euIds = ['meter-1', 'meter-2', 'meter-3'];
const usIds = ['meter-4', 'meter-5'];
const size = { columns: 80, rows: 24 };

const data = () => {
  const d = demoData();
  d.target = {
    hubs: [
      { host: EU, auth: 'connection string', hasCredentials: true },
      { host: US, auth: 'connection string', hasCredentials: true },
    ],
  };
  d.devices = {
    ...d.devices,
    [GROUP]: [...euIds.map((id) => deviceRow(id)), ...usIds.map((id) => deviceRow(id, US))],
  };
  return d;
};

const info = () => selectionInfo({ kind: 'group', group: data().groups![0]! }, data().devices![GROUP]!, []);

/** The real planner, then the real path pass: hub-eu by jobs (--hub-path jobs), hub-us left to auto. */
function jobsPlan(actions: Actions = SAFE_ACTIONS): Plan {
  const result = planDeprovision({ kind: 'group', groupId: GROUP }, actions, {
    individualEnrollments: [],
    enrollmentGroups: [
      { enrollmentGroupId: GROUP, attestation: { type: 'symmetricKey' }, provisioningStatus: 'enabled' },
    ],
    registrations: [
      ...euIds.map((id) => ({
        registrationId: id,
        status: 'assigned' as const,
        assignedHub: EU,
        enrollmentGroupId: GROUP,
      })),
      ...usIds.map((id) => ({
        registrationId: id,
        status: 'assigned' as const,
        assignedHub: US,
        enrollmentGroupId: GROUP,
      })),
    ],
    hubDevices: [...euIds, ...usIds].map((id) => ({
      hub: euIds.includes(id) ? EU : US,
      deviceId: id,
      status: 'enabled' as const,
    })),
    hubsWithCredentials: [EU, US],
  });
  if (!result.ok) throw new Error(result.refusal.message);
  return applyHubPaths(result.plan, {
    choice: (hub) => (hub === EU ? 'jobs' : 'auto'),
    storageConfigured: true,
    storageDisplay: 'https://fleetjobs.blob.core.windows.net/jobs',
    capacity: () => ({ tier: 'S1', units: 1 }),
  });
}

/** The session plans through this backend: the plan is the jobs plan above (one hub by jobs, one by calls). */
class JobsBackend extends FakeBackend {
  override async plan(selection: Selection, actions: Actions): Promise<PlanResult> {
    this.planCalls.push({ selection, actions });
    return { ok: true, plan: jobsPlan(actions) };
  }
}

describe('review: the path each hub takes', () => {
  it('per hub at 80 columns: path, why, both estimates (the words `plan` prints), and the jobs step as such', () => {
    const lines = planLines(info(), jobsPlan(), 78).map((l) => l.text);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(78);
    const text = lines.join('\n');
    expect(text).toContain('hub: disable (import/export jobs on 1 of 2 hubs)');
    expect(text).toContain("Hub path (calls: device by device; jobs: the hub's import/export jobs):");
    expect(text).toContain('job storage: https://fleetjobs.blob.core.windows.net/jobs');
    // One hub's line wraps under its own indent; read it joined.
    const joined = lines.join(' ').replace(/ {2,}/g, ' ');
    expect(joined).toMatch(
      /hub-eu: jobs \(--hub-path jobs\); 3 devices to disable, estimated calls ~\d+ s, jobs ~2 min/,
    );
    expect(joined).toMatch(
      /hub-us: calls \(jobs would not be faster for 2 device\(s\)\); 2 devices to disable, estimated calls ~\d+ s, jobs ~2 min/,
    );
    expect(text).toContain("Steps, in order (each is one service call, or a hub's import/export jobs):");
    expect(joined).toMatch(
      /deregister export job, then import job \(updateIfMatchETag, status=disabled, 3 devices\) on hub-eu/,
    );
  });

  it('a delete through jobs is marked permanent, like a delete by calls', () => {
    const plan = jobsPlan({ ...SAFE_ACTIONS, deregister: 'delete' });
    const rows = planLines(info(), plan, 78);
    const jobStep = rows.find((r) => r.text.includes('import job (importMode=delete, 3 devices)'));
    expect(jobStep?.text).toMatch(/^\s*\d+ ! deregister/);
    expect(jobStep?.tone).toBe('danger');
    expect(rows.map((r) => r.text).join('\n')).toContain('hub: DELETE (import/export jobs on 1 of 2 hubs)');
  });

  it('the review screen at 80x24 shows the hub path lines of the plan it will run', async () => {
    t = await renderApp(new JobsBackend(data()), {
      size,
      routes: [{ screen: 'enrollments' }, { screen: 'review', info: info(), actions: SAFE_ACTIONS }],
    });
    await waitForText(t, 'Run it? y: yes');
    // The hub paths come right after the counts: on the first screen.
    expect(frame(t)).toContain('hub-eu: jobs (--hub-path jobs)');
    expect(frame(t)).toMatch(/hub-us: calls \(jobs would not be faster/);
    await press(t, KEYS.pageDown);
    await until(() => frame(t as DrivenApp).includes('export job, then import job'), 'the jobs step', t);
  });
});

describe('run: each hub job state', () => {
  async function startRun() {
    const backend = new JobsBackend(data());
    t = await renderApp(backend, {
      size,
      routes: [{ screen: 'enrollments' }, { screen: 'review', info: info(), actions: SAFE_ACTIONS }],
    });
    await waitForText(t, 'Run it? y: yes');
    await press(t, 'y');
    await waitForText(t, 'Latest results:');
    return backend.lastRun;
  }

  it('waiting for another job on the hub, queued, running N%, completed', async () => {
    const run = await startRun();
    expect(frame(t as DrivenApp)).not.toContain('job on');
    run.update({
      jobs: [
        {
          hub: EU,
          type: 'export',
          status: 'waiting',
          reason: 'another import/export job is active on the hub',
        },
      ],
    });
    await waitForText(
      t as DrivenApp,
      'export job on hub-eu: waiting: another import/export job is active on',
    );
    run.update({ jobs: [{ hub: EU, type: 'export', status: 'queued' }] });
    await waitForText(t as DrivenApp, 'export job on hub-eu: queued');
    run.update({ jobs: [{ hub: EU, type: 'import', status: 'running', percent: 45 }] });
    await waitForText(t as DrivenApp, 'import job on hub-eu: running 45%');
    run.update({ jobs: [{ hub: EU, type: 'import', status: 'completed' }] });
    await waitForText(t as DrivenApp, 'import job on hub-eu: completed');
    // The phases and the latest results stay on the 24 rows.
    const rows = frame(t as DrivenApp).split('\n');
    expect(rows.length).toBeLessThanOrEqual(24);
    expect(frame(t as DrivenApp)).toContain('Latest results:');
  });

  it('failed with its reason (no control sequence from the service), and one line per hub', async () => {
    const run = await startRun();
    run.update({
      jobs: [
        { hub: EU, type: 'import', status: 'failed', reason: 'the storage refused the SAS \u001b[2J(403)' },
        {
          hub: US,
          status: 'waiting',
          reason: 'https://fleetjobs.blob.core.windows.net/jobs is in use by another job step',
        },
      ],
    });
    await waitForText(t as DrivenApp, 'import job on hub-eu: failed: the storage refused the SAS');
    const screen = (t as DrivenApp).lastFrame() ?? '';
    expect(screen).not.toContain('\u001b[2J');
    expect(frame(t as DrivenApp)).toContain('(403)');
    expect(frame(t as DrivenApp).replace(/\s+/g, ' ')).toContain(
      'hub-us: waiting: https://fleetjobs.blob.core.windows.net/jobs is in use by another job step',
    );
  });

  it('more hubs than rows: the failed and waiting jobs keep their lines, the rest counted; the screen still fits', async () => {
    const run = await startRun();
    const hubs = Array.from({ length: 12 }, (_, i) => `hub-${String(i).padStart(2, '0')}.azure-devices.net`);
    run.update({
      jobs: hubs.map((hub, i) =>
        i === 9
          ? {
              hub,
              type: 'import' as const,
              status: 'failed' as const,
              reason: 'the hub refused the input file',
            }
          : i === 4
            ? { hub, type: 'export' as const, status: 'waiting' as const, reason: 'another job is active' }
            : { hub, type: 'import' as const, status: 'completed' as const },
      ),
    });
    await waitForText(t as DrivenApp, 'import job on hub-09: failed: the hub refused the input file');
    const screen = frame(t as DrivenApp);
    expect(screen).toContain('export job on hub-04: waiting: another job is active');
    expect(screen).toMatch(/… \d+ more hub jobs/);
    expect(screen.split('\n').length).toBeLessThanOrEqual(24);
    expect(screen).toContain('Latest results:');
    expect(screen).toContain('Journal: ');
  });

  it('a job re-attached after a resume says so', async () => {
    const run = await startRun();
    run.update({ jobs: [{ hub: EU, type: 'import', status: 'running', percent: 80, reattached: true }] });
    await waitForText(t as DrivenApp, 'import job on hub-eu (re-attached after resume): running 80%');
  });
});

describe('summary of a run through jobs', () => {
  it('per device what the jobs did on its hub, a failed device FAILED, and the restore command', async () => {
    const plan = jobsPlan();
    const backend = new FakeBackend(data());
    const handle = await backend.run(plan);
    const results: StepResult[] = plan.steps.map((s) => {
      if (s.op.kind !== 'hubJobDevices') return { stepId: s.id, outcome: 'succeeded', attempts: 1 };
      return {
        stepId: s.id,
        outcome: 'failed',
        attempts: 1,
        message: '1 of 3 devices not disabled on hub-eu.azure-devices.net',
        devices: [
          { id: 'meter-1', outcome: 'succeeded' },
          { id: 'meter-2', outcome: 'alreadyDone', message: 'already disabled' },
          { id: 'meter-3', outcome: 'failed', message: 'DeviceNotFound: refused by the import job' },
        ],
      };
    });
    const verify: ReenrollmentVerdict[] = [...euIds, ...usIds].map((registrationId) => ({
      registrationId,
      verdict: 'blocked',
      reason: 'Enrollment group g1 is disabled.',
    }));
    // The executor's own summary: a run whose hub disable went through jobs can be restored.
    const summary = summarize({
      plan,
      runId: handle.runId,
      journalPath: handle.journalPath,
      state: 'completedWithFailures',
      results,
      verdicts: new Map([['verify:1', verify]]),
      journalError: undefined,
    });
    t = await renderApp(backend, {
      size,
      routes: [{ screen: 'enrollments' }, { screen: 'summary', plan, handle, summary }],
    });
    await waitForText(t, `Run ${handle.runId}`);
    const screen = frame(t);
    expect(screen).toMatch(/✓ blocked\s+meter-1\s+hub-eu: disabled/);
    expect(screen).toMatch(/✓ blocked\s+meter-2\s+hub-eu: disabled/);
    expect(screen).toMatch(/meter-3\s+hub-eu: FAILED/);
    expect(screen).toMatch(/meter-4\s+hub-us: disabled/);
    expect(screen).toContain('To undo the temporary actions, run:');
    expect(summary.restoreUndoes).toContain('re-enables what this run disabled');
  });

  it('a run whose only temporary action is a hub disable through jobs still gets its restore command', () => {
    const plan = jobsPlan();
    // Every DPS step found its work already done: the hub disable through jobs is all this run changed.
    const results: StepResult[] = plan.steps.map((s) => ({
      stepId: s.id,
      outcome: s.op.kind === 'hubJobDevices' ? 'succeeded' : 'alreadyDone',
      attempts: 1,
    }));
    const summary = summarize({
      plan,
      runId: 'run-x',
      journalPath: '/tmp/run-x.jsonl',
      state: 'completed',
      results,
      verdicts: new Map(),
      journalError: undefined,
    });
    expect(summary.restoreCommand).toMatch(/restore run-x --yes$/);
    expect(summary.restoreUndoes).toMatch(/^Restore re-enables what this run disabled/);
  });
});
