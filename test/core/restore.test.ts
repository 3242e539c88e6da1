import { describe, expect, it } from 'vitest';
import type { KnownState } from '../../src/core/model.js';
import { planDeprovision } from '../../src/core/plan.js';
import type { Plan, StepResult } from '../../src/core/plan-types.js';
import { planRestore } from '../../src/core/restore.js';
import type { Actions, Selection } from '../../src/core/selection.js';
import { applyPlan } from '../../src/core/simulate.js';
import { actions, HUB_EU, HUB_US, individual, okPlan, record, state, symmetricKeyGroup } from './fixtures.js';

const groupState = (): KnownState =>
  state({
    enrollmentGroups: [symmetricKeyGroup('g')],
    individualEnrollments: [individual('e1', 'tpm')],
    registrations: [record('d0', 'g'), record('d1', 'g'), record('d2', 'g', HUB_US), record('e1')],
    hubDevices: ['d0', 'd1', 'd2', 'e1'].map((id) => ({
      hub: id === 'd2' ? HUB_US : HUB_EU,
      deviceId: id,
      status: 'enabled' as const,
    })),
  });

const planFor = (selection: Selection, chosen: Partial<Actions> = {}): Plan =>
  okPlan(planDeprovision(selection, actions(chosen), groupState()));

/** Every step of the plan ended with `outcome`, unless `overrides` says otherwise. */
const results = (plan: Plan, overrides: Record<string, Partial<StepResult>> = {}): StepResult[] =>
  plan.steps.map((s) => ({ stepId: s.id, outcome: 'succeeded', attempts: 1, ...overrides[s.id] }));

const restore = (plan: Plan, r: StepResult[]): Plan => okPlan(planRestore('run-42', plan, r));

describe('planRestore', () => {
  it('re-enables the hub devices first, then the group, and only what the run itself disabled', () => {
    const plan = planFor({ kind: 'group', groupId: 'g' });
    const eu = plan.steps.find(
      (s) => s.phase === 'deregister' && s.op.kind === 'disableHubDevices' && s.op.hub === HUB_EU,
    )!;
    const us = plan.steps.find(
      (s) => s.phase === 'deregister' && s.op.kind === 'disableHubDevices' && s.op.hub === HUB_US,
    )!;
    const undo = restore(
      plan,
      results(plan, {
        [eu.id]: {
          devices: [
            { id: 'd0', outcome: 'succeeded' },
            { id: 'd1', outcome: 'alreadyDone' },
          ],
        },
        [us.id]: { outcome: 'failed', devices: [{ id: 'd2', outcome: 'failed' }] },
      }),
    );
    expect(undo.restoreOf).toBe('run-42');
    expect(undo.steps.map((s) => [s.id, s.call, s.registrationIds])).toEqual([
      ['deregister:1', `POST devices (bulk update status=enabled, 1 device) on ${HUB_EU}`, ['d0']],
      ['cleanup:1', 'PUT enrollmentGroups/g provisioningStatus=enabled', []],
      [
        'verify:1',
        'GET enrollments, registrations and hub devices of 3 devices ' +
          '(read back, re-run the re-enrollment analysis)',
        ['d0', 'd1', 'd2'],
      ],
    ]);
    expect(undo.steps[0].op).toEqual({ kind: 'enableHubDevices', hub: HUB_EU, deviceIds: ['d0'] });
    expect(undo.warnings).toMatchObject([
      { code: 'was-already-disabled', severity: 'info', registrationIds: ['d1'] },
    ]);
    expect(undo.counts.devicesPerHub).toEqual({ [HUB_EU]: 1 });
  });

  it('leaves alone a group that was already disabled, and uses the last result of a retried step', () => {
    const plan = planFor({ kind: 'group', groupId: 'g' });
    const r = results(plan, { 'disenroll:1': { outcome: 'alreadyDone' } });
    const retried: StepResult[] = [
      { stepId: 'deregister:1', outcome: 'failed', attempts: 1 },
      ...r.filter((x) => x.stepId !== 'deregister:1'),
      { stepId: 'deregister:1', outcome: 'succeeded', attempts: 2 },
    ];
    const undo = restore(plan, retried);
    expect(undo.steps.map((s) => s.op.kind)).toEqual(['enableHubDevices', 'enableHubDevices', 'verify']);
    expect(undo.warnings.map((w) => [w.code, w.message])).toEqual([
      [
        'was-already-disabled',
        'enrollmentGroups/g was already disabled before run run-42: restore leaves it disabled.',
      ],
    ]);
  });

  it('an individual enrollment run: the enrollment and its hub device come back; nothing more', () => {
    const plan = planFor({ kind: 'enrollment', registrationId: 'e1' });
    const undo = restore(plan, results(plan));
    expect(undo.steps.map((s) => s.call)).toEqual([
      `POST devices (bulk update status=enabled, 1 device) on ${HUB_EU}`,
      'PUT enrollments/e1 provisioningStatus=enabled',
      'GET enrollments, registrations and hub devices of 1 device ' +
        '(read back, re-run the re-enrollment analysis)',
    ]);
    // Running the restore after the run gives back the statuses from before the run.
    const before = groupState();
    const roundTrip = applyPlan(applyPlan(before, plan), undo);
    expect(roundTrip.individualEnrollments).toEqual(before.individualEnrollments);
    expect(roundTrip.hubDevices).toEqual(before.hubDevices);
  });

  it('deletions cannot be restored: listed in a warning, no steps', () => {
    const plan = planFor(
      { kind: 'enrollment', registrationId: 'e1' },
      { disenroll: 'delete', deregister: 'delete' },
    );
    const undo = restore(plan, results(plan));
    expect(undo.steps).toEqual([]);
    expect(undo.warnings).toMatchObject([
      { code: 'not-restorable', severity: 'caution', registrationIds: ['e1'] },
    ]);
    expect(undo.warnings[0].message).toMatch(/deleted enrollments\/e1, 1 hub device identity on hub-eu/);
  });

  it('a deleted group is not re-enabled; its deleted records are listed', () => {
    const plan = planFor({ kind: 'group', groupId: 'g' }, { deleteGroup: true, deleteRegistrations: true });
    const undo = restore(plan, results(plan));
    expect(undo.steps.some((s) => s.op.kind === 'enableGroup')).toBe(false);
    expect(undo.steps.filter((s) => s.op.kind === 'enableHubDevices')).toHaveLength(2);
    const gone = undo.warnings.find((w) => w.code === 'not-restorable')!;
    expect(gone.message).toContain('registrations/d0');
    expect(gone.registrationIds).toEqual(['d0', 'd1', 'd2']);
  });

  it('blockers are kept, with what a person would do by hand to let the device back in', () => {
    const plan = planFor({ kind: 'groupDevices', groupId: 'g', devices: [{ registrationId: 'd2' }] });
    const undo = restore(plan, results(plan));
    expect(undo.steps.map((s) => s.op.kind)).toEqual(['enableHubDevices', 'verify']);
    expect(undo.warnings).toMatchObject([
      { code: 'blocker-kept', severity: 'info', registrationIds: ['d2'] },
    ]);
    expect(undo.warnings[0].recommendation).toMatch(
      /delete its blocker by hand, e\.g\. DELETE enrollments\/d2/,
    );
    expect(undo.warnings[0].recommendation).toMatch(/registers through enrollment group g again/);
  });

  it('a run that changed nothing has nothing to restore, and says so', () => {
    const plan = planFor({ kind: 'enrollment', registrationId: 'e1' });
    const undo = restore(
      plan,
      results(plan, { 'disenroll:1': { outcome: 'failed' }, 'deregister:1': { outcome: 'skipped' } }),
    );
    expect(undo.steps).toEqual([]);
    expect(undo.warnings).toMatchObject([{ code: 'not-restorable', severity: 'info' }]);
  });
});
