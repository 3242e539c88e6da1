/** The Runs screen: journaled runs listed, opened, resumed and restored through the review and the session. */
import { afterEach, describe, expect, it } from 'vitest';
import type { Plan, PlanResult } from '../../src/core/plan-types.js';
import { type Actions, SAFE_ACTIONS } from '../../src/core/selection.js';
import type { RunHandle } from '../../src/services/backend.js';
import type { JournalContents } from '../../src/services/journal/reader.js';
import type { RunListing } from '../../src/services/journal/runs.js';
import { FakeBackend, FakeRun } from '../support/fake-backend.js';
import { demoData } from './fixtures.js';
import { type DrivenApp, KEYS, frame, press, renderApp, until, waitForText } from './helpers.js';

let t: DrivenApp | undefined;
afterEach(() => {
  t?.unmount();
  t = undefined;
});

const DELETE: Actions = { ...SAFE_ACTIONS, disenroll: 'delete', deregister: 'delete' };
const counts = { steps: 3, succeeded: 3, alreadyDone: 0, failed: 0, skipped: 0, unknown: 0, notStarted: 0 };
const target = {
  dpsHost: 'sandbox-dps.azure-devices-provisioning.net',
  hubHosts: ['hub-eu.azure-devices.net'],
  sandbox: true,
};

/** A fake backend that also keeps journals: three recorded runs, resumable and restorable ones. */
class JournaledBackend extends FakeBackend {
  readonly resumed: string[] = [];
  readonly restorePlanned: string[] = [];
  plans = new Map<string, Plan>();
  listings: RunListing[] = [];

  async setUp(): Promise<void> {
    const temp = (await this.plan({ kind: 'enrollment', registrationId: 'dev-tpm-1' }, SAFE_ACTIONS)) as {
      plan: Plan;
    };
    const perm = (await this.plan({ kind: 'enrollment', registrationId: 'dev-x509-2' }, DELETE)) as {
      plan: Plan;
    };
    this.plans.set('/j/20240502T100000Z-aaaaaa.jsonl', temp.plan);
    this.plans.set('/j/20240502T110000Z-bbbbbb.jsonl', perm.plan);
    this.planCalls.length = 0;
    this.listings = [
      {
        runId: '20240502T110000Z-bbbbbb',
        path: '/j/20240502T110000Z-bbbbbb.jsonl',
        createdAt: '2024-05-02T11:00:00.000Z',
        target,
        selection: perm.plan.selection,
        actions: DELETE,
        state: 'interrupted',
        counts: { ...counts, succeeded: 1, notStarted: 2 },
        torn: false,
      },
      {
        runId: '20240502T100000Z-aaaaaa',
        path: '/j/20240502T100000Z-aaaaaa.jsonl',
        createdAt: '2024-05-02T10:00:00.000Z',
        target,
        selection: temp.plan.selection,
        actions: SAFE_ACTIONS,
        state: 'completed',
        counts,
        torn: false,
      },
      {
        runId: '20240501T090000Z-cccccc',
        path: '/j/20240501T090000Z-cccccc.jsonl',
        createdAt: '2024-05-01T09:00:00.000Z',
        target,
        selection: { kind: 'group', groupId: 'g1' },
        actions: SAFE_ACTIONS,
        state: 'completed',
        counts,
        restoredBy: ['20240501T093000Z-dddddd'],
        torn: false,
      },
    ];
  }

  async listRuns(): Promise<RunListing[]> {
    return this.listings;
  }

  async readRun(journalPath: string): Promise<JournalContents> {
    const plan = this.plans.get(journalPath);
    const results = new Map(
      (plan?.steps ?? [])
        .slice(0, journalPath.includes('bbbbbb') ? 1 : 3)
        .map((s) => [s.id, { stepId: s.id, outcome: 'succeeded' as const, attempts: 1 }]),
    );
    return {
      path: journalPath,
      header: {
        type: 'header',
        runId: 'x',
        createdAt: '',
        selection: plan?.selection,
        actions: plan?.actions,
      } as never,
      plan,
      snapshot: [],
      hasSnapshot: true,
      results,
      resultAt: new Map(),
      unknownSteps: [],
      progress: new Map(),
      attempts: new Map(),
      verdicts: new Map(),
      torn: false,
      tornLines: [],
      endState: undefined,
    };
  }

  async resume(journalPath: string): Promise<RunHandle> {
    this.resumed.push(journalPath);
    const plan = this.plans.get(journalPath) as Plan;
    const run = new FakeRun(plan, [], this.runs.length + 1);
    this.runs.push(run);
    return run;
  }

  async planRestore(journalPath: string): Promise<PlanResult> {
    this.restorePlanned.push(journalPath);
    const original = this.plans.get(journalPath) as Plan;
    const step = {
      id: 'disenroll:0',
      phase: 'disenroll' as const,
      op: { kind: 'enableEnrollment' as const, registrationId: 'dev-tpm-1' },
      call: 'PUT enrollments/dev-tpm-1 provisioningStatus=enabled',
      destructive: false,
      registrationIds: ['dev-tpm-1'],
    };
    return { ok: true, plan: { ...original, steps: [step as never], restoreOf: '20240502T100000Z-aaaaaa' } };
  }
}

async function openRuns(): Promise<JournaledBackend> {
  const backend = new JournaledBackend(demoData());
  await backend.setUp();
  t = await renderApp(backend, { size: { columns: 80, rows: 24 } });
  await waitForText(t, 'r runs');
  await press(t, 'r');
  await waitForText(t, 'Runs recorded on this machine (3)');
  return backend;
}

describe('runs screen', () => {
  it('is reached with r from the Target screen and lists each run with state, what, target and restored by, at 80x24', async () => {
    await openRuns();
    const drawn = t as DrivenApp;
    let f = frame(drawn);
    expect(f).toContain('2024-05-02 11:00 interrupted');
    expect(f).toContain('enrollment dev-x509-2: DPS delete, hub delete');
    expect(f).toContain('2024-05-01 09:00 completed');
    // The highlighted (first) run's details: its target, and that it can be resumed.
    expect(f).toContain('Target: DPS sandbox-dps.azure-devices-provisioning.net (sandbox), hub hub-eu');
    expect(f).toContain('Can be resumed');
    await press(drawn, KEYS.down);
    await press(drawn, KEYS.down);
    f = frame(drawn);
    expect(f).toContain('Restored by 20240501T093000Z-dddddd');
    expect(f).not.toContain('Can be restored');
    for (const line of f.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(f.split('\n').length).toBeLessThanOrEqual(24);
  });

  it('opens an interrupted run and resumes it after the typed confirmation of its permanent actions', async () => {
    const backend = await openRuns();
    const drawn = t as DrivenApp;
    await press(drawn, KEYS.enter);
    await waitForText(drawn, 'Run 20240502T110000Z-bbbbbb');
    expect(frame(drawn)).toContain('succeeded');
    expect(frame(drawn)).toContain('not started');
    await press(drawn, 'c');
    await waitForText(drawn, 'Plan for run 20240502T110000Z-bbbbbb (resumed)');
    // Permanent actions: y does not confirm, the enrollment's ID typed does.
    await press(drawn, 'y');
    expect(backend.resumed).toEqual([]);
    await press(drawn, KEYS.backspace);
    for (const ch of 'dev-x509-2') await press(drawn, ch);
    await press(drawn, KEYS.enter);
    await until(() => backend.resumed.length === 1, 'the resume', drawn);
    expect(backend.resumed).toEqual(['/j/20240502T110000Z-bbbbbb.jsonl']);
    await waitForText(drawn, 'Run');
    backend.lastRun.advance(10);
    await waitForText(drawn, 'Summary');
  });

  it('restores a temporary run through the review (y/n) and the session runs the restore plan', async () => {
    const backend = await openRuns();
    const drawn = t as DrivenApp;
    await press(drawn, KEYS.down);
    expect(frame(drawn)).toContain('Can be restored');
    await press(drawn, KEYS.enter);
    await waitForText(drawn, 'u: undo (restore) it');
    await press(drawn, 'u');
    await waitForText(drawn, 'Plan for the restore of run 20240502T100000Z-aaaaaa');
    expect(backend.restorePlanned).toEqual(['/j/20240502T100000Z-aaaaaa.jsonl']);
    expect(frame(drawn)).toContain('PUT enrollments/dev-tpm-1 provisioningStatus=enabled');
    // Back to the run and u again: the session holds that restore's plan, it is shown, not planned anew.
    await press(drawn, KEYS.escape);
    await waitForText(drawn, 'u: undo (restore) it');
    await press(drawn, 'u');
    await waitForText(drawn, 'Plan for the restore of run 20240502T100000Z-aaaaaa');
    await waitForText(drawn, 'PUT enrollments/dev-tpm-1 provisioningStatus=enabled');
    expect(backend.restorePlanned).toHaveLength(1);
    await press(drawn, 'y');
    await until(() => backend.runs.length === 1, 'the restore run', drawn);
    expect(backend.lastRun.plan.restoreOf).toBe('20240502T100000Z-aaaaaa');
  });

  it('is reached with R from the Summary of a run', async () => {
    const backend = new JournaledBackend(demoData());
    await backend.setUp();
    const plan = backend.plans.get('/j/20240502T100000Z-aaaaaa.jsonl') as Plan;
    // A new run through the review (the session plans the choices), finished, then R on its summary.
    t = await renderApp(backend, {
      size: { columns: 100, rows: 30 },
      routes: [
        { screen: 'target' },
        {
          screen: 'review',
          info: {
            selection: plan.selection,
            targetLabel: 'individual enrollment dev-tpm-1',
            scope: 'the enrollment',
            attestation: 'TPM',
            confirmId: 'dev-tpm-1',
          },
          actions: SAFE_ACTIONS,
        },
      ],
    });
    await waitForText(t, 'Run it?');
    await press(t, 'y');
    await until(() => backend.runs.length === 1, 'the run', t);
    backend.lastRun.advance(10);
    await waitForText(t, 'R runs');
    await press(t, 'R');
    await waitForText(t, 'Runs recorded on this machine (3)');
  });
});
