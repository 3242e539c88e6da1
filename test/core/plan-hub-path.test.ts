/**
 * The hub path per hub in the planner: one import/export job step in place of a hub's call batches where
 * its path is jobs, the steps numbered again per phase, and the choice shown per hub; a restore follows
 * the path its run took.
 */
import { describe, expect, it } from 'vitest';
import type { KnownState } from '../../src/core/model.js';
import { planDeprovision } from '../../src/core/plan.js';
import { type HubPathOptions, hubPathLines } from '../../src/core/plan-hub-path.js';
import type { Plan, StepResult } from '../../src/core/plan-types.js';
import { planRestore } from '../../src/core/restore.js';
import { actions, HUB_EU, HUB_US, okPlan, record, state, symmetricKeyGroup } from './fixtures.js';

// 250 devices on hub-eu (3 call batches), 5 on hub-us.
const EU = Array.from({ length: 250 }, (_, i) => `eu-${String(i).padStart(3, '0')}`);
const US = ['us-1', 'us-2', 'us-3', 'us-4', 'us-5'];
const groupState = (): KnownState =>
  state({
    enrollmentGroups: [symmetricKeyGroup('g')],
    registrations: [...EU.map((id) => record(id, 'g')), ...US.map((id) => record(id, 'g', HUB_US))],
    hubDevices: [
      ...EU.map((deviceId) => ({ hub: HUB_EU, deviceId, status: 'enabled' as const })),
      ...US.map((deviceId) => ({ hub: HUB_US, deviceId, status: 'enabled' as const })),
    ],
  });

const s1 = (choice: HubPathOptions['choice'], storageConfigured = true): HubPathOptions => ({
  choice,
  storageConfigured,
  storageDisplay: 'https://acct.blob.core.windows.net/jobs',
  capacity: () => ({ tier: 'S1', units: 1 }),
});

const planWith = (hubPath: HubPathOptions, deregister: 'disable' | 'delete' = 'disable'): Plan =>
  okPlan(
    planDeprovision({ kind: 'group', groupId: 'g' }, actions({ deregister }), groupState(), { hubPath }),
  );

describe('the hub path per hub', () => {
  it('auto: jobs for the hub where calls would take longer, calls for the small one, both estimates shown', () => {
    const plan = planWith(s1('auto'));
    const eu = plan.hubPaths?.find((h) => h.hub === HUB_EU);
    const us = plan.hubPaths?.find((h) => h.hub === HUB_US);
    expect(eu).toMatchObject({ devices: 250, action: 'disable', path: 'jobs' });
    expect(eu?.reason).toMatch(/calls would take longer than jobs on S1 x1/);
    // 250 devices x 2 operations at 100 a minute.
    expect(eu?.callsSeconds).toBe(300);
    expect(us).toMatchObject({ devices: 5, path: 'calls' });
    expect(us?.reason).toMatch(/jobs would not be faster for 5 device/);
    const deregister = plan.steps.filter((s) => s.phase === 'deregister');
    expect(deregister.map((s) => [s.id, s.op.kind, (s.op as { hub: string }).hub])).toEqual([
      ['deregister:1', 'hubJobDevices', HUB_EU],
      ['deregister:2', 'disableHubDevices', HUB_US],
    ]);
    const job = deregister[0];
    expect(job.op).toEqual({ kind: 'hubJobDevices', hub: HUB_EU, action: 'disable', deviceIds: EU });
    expect(job.registrationIds).toEqual(EU);
    expect(plan.counts.steps.deregister).toBe(2);
    expect(plan.jobStorage).toBe('https://acct.blob.core.windows.net/jobs');
  });

  it('auto without job storage: calls everywhere, with the reason', () => {
    const plan = planWith(s1('auto', false));
    expect(plan.hubPaths?.every((h) => h.path === 'calls' && /no job storage/.test(h.reason))).toBe(true);
    expect(plan.steps.filter((s) => s.op.kind === 'disableHubDevices')).toHaveLength(4);
    expect(plan.jobStorage).toBeUndefined();
  });

  it('jobs: every hub through one job step; a delete is an import of deletes', () => {
    const plan = planWith(s1('jobs'), 'delete');
    const jobs = plan.steps.filter((s) => s.op.kind === 'hubJobDevices');
    expect(jobs.map((s) => s.op)).toEqual([
      { kind: 'hubJobDevices', hub: HUB_EU, action: 'delete', deviceIds: EU },
      { kind: 'hubJobDevices', hub: HUB_US, action: 'delete', deviceIds: US },
    ]);
    expect(jobs[0].call).toBe(`import job (importMode=delete, 250 devices) on ${HUB_EU}`);
  });

  it('a restore follows the run: re-enables through jobs where the run went through jobs, else calls', () => {
    const plan = planWith(s1('auto'));
    const results: StepResult[] = plan.steps.map((s) => ({
      stepId: s.id,
      outcome: 'succeeded',
      attempts: 1,
    }));
    const undo = okPlan(planRestore('run-7', plan, results, { hubPath: s1('auto') }));
    const hubSteps = undo.steps.filter((s) => s.phase === 'deregister');
    expect(hubSteps.map((s) => s.op.kind)).toEqual(['hubJobDevices', 'enableHubDevices']);
    expect(hubSteps[0].op).toEqual({ kind: 'hubJobDevices', hub: HUB_EU, action: 'enable', deviceIds: EU });
    expect(undo.hubPaths?.find((h) => h.hub === HUB_EU)?.reason).toBe(
      'run run-7 went through jobs on this hub',
    );
    expect(undo.hubPaths?.find((h) => h.hub === HUB_US)?.reason).toBe(
      'run run-7 went through calls on this hub',
    );
    // --hub-path calls on the restore is taken as given.
    const byCalls = okPlan(planRestore('run-7', plan, results, { hubPath: s1('calls') }));
    expect(byCalls.steps.some((s) => s.op.kind === 'hubJobDevices')).toBe(false);
  });

  it('a restore of a delete through jobs says what cannot be undone and re-enables nothing', () => {
    const plan = planWith(s1('jobs'), 'delete');
    const results: StepResult[] = plan.steps.map((s) => ({
      stepId: s.id,
      outcome: 'succeeded',
      attempts: 1,
    }));
    const undo = okPlan(planRestore('run-8', plan, results, { hubPath: s1('auto') }));
    expect(undo.steps.filter((s) => s.phase === 'deregister')).toEqual([]);
    const warning = undo.warnings.find((w) => w.code === 'not-restorable');
    expect(warning?.message).toMatch(/250 hub device identities on hub-eu/);
  });
});

describe("how the hubs' jobs share the job storage (the plan's job storage line)", () => {
  const both = (containers: number): Plan =>
    planWith({ ...s1('jobs'), storageDisplay: 'c1, c2', storageContainers: containers });
  const storageLine = (plan: Plan) => hubPathLines(plan).find((l) => l.startsWith('job storage:'));

  it('fewer containers than hubs taking jobs: the jobs take turns, and how to run them at once', () => {
    const plan = both(1);
    expect(plan.jobStorageContainers).toBeUndefined();
    expect(storageLine(plan)).toBe(
      "job storage: c1, c2 (one container: the 2 hubs' jobs take turns, 1 at a time; one container per hub, --job-storage repeated, runs them at once)",
    );
  });

  it('a container per hub: the jobs run at once', () => {
    const plan = both(2);
    expect(plan.jobStorageContainers).toBe(2);
    expect(storageLine(plan)).toBe("job storage: c1, c2 (2 containers: the 2 hubs' jobs run at once)");
  });

  it('one hub taking jobs: nothing to share, nothing said', () => {
    const plan = planWith({ ...s1('auto'), storageContainers: 3 });
    expect(plan.hubPaths?.filter((h) => h.path === 'jobs')).toHaveLength(1);
    expect(storageLine(plan)).toBe('job storage: https://acct.blob.core.windows.net/jobs');
  });
});
