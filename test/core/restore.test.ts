import { describe, expect, it } from 'vitest';
import type { KnownState } from '../../src/core/model.js';
import { planDeprovision } from '../../src/core/plan.js';
import type { Plan, StepResult } from '../../src/core/plan-types.js';
import { groupKey, hubDeviceKey, planRestore, targetsActedOn } from '../../src/core/restore.js';
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

  it('deletes exactly the blockers the run wrote, with If-Match on the ETag it left, and says so in words', () => {
    const plan = planFor({ kind: 'groupDevices', groupId: 'g', devices: [{ registrationId: 'd2' }] });
    const blocker = plan.steps.find((s) => s.op.kind === 'createBlocker')!;
    const undo = restore(plan, results(plan, { [blocker.id]: { etag: 'etag-left' } }));
    expect(undo.steps.map((s) => s.op.kind)).toEqual(['enableHubDevices', 'deleteBlocker', 'verify']);
    expect(undo.steps[1].op).toEqual({
      kind: 'deleteBlocker',
      registrationId: 'd2',
      groupId: 'g',
      runId: 'run-42',
      etag: 'etag-left',
    });
    expect(undo.steps[1].call).toBe(
      'DELETE enrollments/d2 (If-Match: etag-left): the blocker run run-42 wrote',
    );
    expect(undo.warnings).toMatchObject([{ code: 'blocker-deleted', registrationIds: ['d2'] }]);
    expect(undo.warnings[0].message).toMatch(
      /^Deleting blocker d2 lets the device provision again through group g/,
    );
    // Round trip: the blocker is gone and the hub identity enabled, as before the run.
    const before = groupState();
    const roundTrip = applyPlan(applyPlan(before, plan), undo);
    expect(roundTrip.individualEnrollments).toEqual(before.individualEnrollments);
    expect(roundTrip.hubDevices).toEqual(before.hubDevices);
  });

  it("a blocker changed since the run, or another run's, is left and listed", () => {
    const plan = planFor({ kind: 'groupDevices', groupId: 'g', devices: [{ registrationId: 'd2' }] });
    const blocker = plan.steps.find((s) => s.op.kind === 'createBlocker')!;
    const r = results(plan, { [blocker.id]: { etag: 'etag-left' } });
    const now = (etag: string, runId = 'run-42') =>
      new Map([
        [
          'd2',
          {
            registrationId: 'd2',
            attestation: { type: 'symmetricKey' as const },
            provisioningStatus: 'disabled' as const,
            etag,
            blocker: { groupId: 'g', runId },
          },
        ],
      ]);
    const changed = okPlan(planRestore('run-42', plan, r, { enrollments: now('etag-other') }));
    expect(changed.steps.some((s) => s.op.kind === 'deleteBlocker')).toBe(false);
    expect(changed.warnings).toMatchObject([{ code: 'changed-since', registrationIds: ['d2'] }]);
    expect(changed.warnings[0].message).toMatch(/blocker d2.*ETag is not the one run run-42 left/);
    // Not verified: the device is not meant to be back.
    expect(changed.steps.find((s) => s.op.kind === 'verify')?.registrationIds).toEqual([]);

    const same = okPlan(planRestore('run-42', plan, r, { enrollments: now('etag-left') }));
    expect(same.steps.some((s) => s.op.kind === 'deleteBlocker')).toBe(true);
  });

  it('a target a later run acted on is left as that run left it, naming the run', () => {
    const plan = planFor({ kind: 'group', groupId: 'g' });
    const undo = okPlan(
      planRestore('run-42', plan, results(plan), {
        laterRuns: new Map([[hubDeviceKey(HUB_US, 'd2'), ['run-43']]]),
      }),
    );
    expect(
      undo.steps.filter((s) => s.op.kind === 'enableHubDevices').flatMap((s) => s.registrationIds),
    ).toEqual(['d0', 'd1']);
    const left = undo.warnings.find((w) => w.code === 'changed-since')!;
    expect(left.message).toBe(
      `Left as it is: hub device d2 on ${HUB_US}, because run run-43 acted on it after run run-42.`,
    );
    expect(undo.steps.find((s) => s.op.kind === 'verify')?.registrationIds).toEqual(['d0', 'd1']);
  });

  it('a target changed since by someone else (status, ETag, a later status change on the hub) is left', () => {
    const plan = planFor({ kind: 'enrollment', registrationId: 'e1' });
    const disable = plan.steps.find((s) => s.op.kind === 'disableEnrollment')!;
    const hub = plan.steps.find((s) => s.op.kind === 'disableHubDevices')!;
    const r = results(plan, { [disable.id]: { etag: 'e-left' } });
    const enrollment = (status: 'enabled' | 'disabled', etag: string) =>
      new Map([['e1', { ...individual('e1', 'tpm'), provisioningStatus: status, etag }]]);
    const device = (statusUpdatedTime: string) =>
      new Map([
        [
          hubDeviceKey(HUB_EU, 'e1'),
          { hub: HUB_EU, deviceId: 'e1', status: 'disabled' as const, statusUpdatedTime },
        ],
      ]);
    const at = new Map([[hub.id, '2026-01-01T10:00:00.000Z']]);
    const undo = okPlan(
      planRestore('run-42', plan, r, {
        enrollments: enrollment('disabled', 'e-other'),
        hubDevices: device('2026-01-01T11:00:00.000Z'),
        outcomeAt: at,
      }),
    );
    expect(undo.steps.filter((s) => s.phase !== 'verify')).toEqual([]);
    expect(undo.warnings.map((w) => w.message)).toEqual([
      `Left as it is: hub device e1 on ${HUB_EU}, because its status changed at 2026-01-01T11:00:00.000Z, after run run-42.`,
      'Left as it is: enrollments/e1, because its ETag is not the one run run-42 left: it changed since.',
    ]);
    const enabled = okPlan(
      planRestore('run-42', plan, r, {
        enrollments: enrollment('enabled', 'e-other'),
        hubDevices: device('2026-01-01T10:00:00.000Z'),
        outcomeAt: at,
      }),
    );
    expect(enabled.steps.map((s) => s.op.kind)).toEqual(['enableHubDevices', 'verify']);
    expect(enabled.warnings[0].message).toMatch(/enrollments\/e1, because it is enabled now/);
  });

  it('targetsActedOn names what a run acted on, not what it skipped or only verified', () => {
    const plan = planFor({ kind: 'group', groupId: 'g' });
    const r = new Map(results(plan).map((x) => [x.stepId, x]));
    const eu = plan.steps.find((s) => s.op.kind === 'disableHubDevices' && s.op.hub === HUB_EU)!;
    r.set(eu.id, {
      stepId: eu.id,
      outcome: 'failed',
      attempts: 1,
      devices: [
        { id: 'd0', outcome: 'alreadyDone' },
        { id: 'd1', outcome: 'skipped' },
      ],
    });
    const us = plan.steps.find((s) => s.op.kind === 'disableHubDevices' && s.op.hub === HUB_US)!;
    r.delete(us.id);
    expect([...targetsActedOn(plan, r, [])].sort()).toEqual(
      [groupKey('g'), hubDeviceKey(HUB_EU, 'd0')].sort(),
    );
    expect(targetsActedOn(plan, r, [us.id]).has(hubDeviceKey(HUB_US, 'd2'))).toBe(true);
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
