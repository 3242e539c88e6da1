/** Devices named by their IDs, spread over individual enrollments and groups: one plan, one restore. */
import { describe, expect, it } from 'vitest';
import { lookupCost } from '../../src/core/hub-lookup.js';
import type { HubDevice, HubLookup } from '../../src/core/model.js';
import { planDeprovision } from '../../src/core/plan.js';
import type { StepResult } from '../../src/core/plan-types.js';
import { planRestore } from '../../src/core/restore.js';
import type { Selection } from '../../src/core/selection.js';
import { actions, HUB_EU, HUB_US, individual, okPlan, record, state, symmetricKeyGroup } from './fixtures.js';

const identity = (hub: string, deviceId: string): HubDevice => ({ hub, deviceId, status: 'enabled' });
const lookup = (): HubLookup => ({
  searched: [HUB_EU, HUB_US],
  skipped: [],
  cost: { [HUB_EU]: lookupCost(1, 20), [HUB_US]: lookupCost(1, 20) },
  deviceIds: 6,
});

const known = state({
  individualEnrollments: [individual('solo-1')],
  enrollmentGroups: [symmetricKeyGroup('g-a'), symmetricKeyGroup('g-b')],
  registrations: [record('solo-1'), record('a-1', 'g-a'), record('a-2', 'g-a', HUB_US), record('b-1', 'g-b')],
  hubDevices: [
    identity(HUB_EU, 'solo-1'),
    identity(HUB_EU, 'a-1'),
    identity(HUB_US, 'a-2'),
    identity(HUB_EU, 'b-1'),
    // Also on the other hub (found by the lookup), and a device DPS does not have at all.
    identity(HUB_US, 'b-1'),
    identity(HUB_US, 'stray-9'),
  ],
  hubLookup: lookup(),
  hubsWithCredentials: [HUB_EU, HUB_US],
});

const selection: Selection = {
  kind: 'devices',
  ids: ['solo-1', 'a-1', 'a-2', 'b-1', 'stray-9', 'ghost-0'],
  parts: {
    enrollments: ['solo-1'],
    groups: [
      { groupId: 'g-a', devices: [{ registrationId: 'a-1' }, { registrationId: 'a-2' }] },
      { groupId: 'g-b', devices: [{ registrationId: 'b-1' }] },
    ],
    unenrolled: ['stray-9', 'ghost-0'],
  },
};

describe('a plan for devices named by their IDs', () => {
  it('composes one plan: the individual enrollment disabled, a blocker per group device, every hub identity, unique step IDs', () => {
    const plan = okPlan(planDeprovision(selection, actions(), known));
    const ids = plan.steps.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    const disenroll = plan.steps.filter((s) => s.phase === 'disenroll').map((s) => s.op);
    expect(disenroll).toEqual([
      { kind: 'disableEnrollment', registrationId: 'solo-1' },
      expect.objectContaining({ kind: 'createBlocker', registrationId: 'a-1', groupId: 'g-a' }),
      expect.objectContaining({ kind: 'createBlocker', registrationId: 'a-2', groupId: 'g-a' }),
      expect.objectContaining({ kind: 'createBlocker', registrationId: 'b-1', groupId: 'g-b' }),
    ]);
    const onHubs = plan.steps
      .filter((s) => s.phase === 'deregister')
      .flatMap(({ op }) =>
        op.kind === 'disableHubDevices' ? op.deviceIds.map((d) => `${op.hub}/${d}`) : [],
      );
    expect(onHubs.sort()).toEqual(
      [
        `${HUB_EU}/solo-1`,
        `${HUB_EU}/a-1`,
        `${HUB_US}/a-2`,
        `${HUB_EU}/b-1`,
        `${HUB_US}/b-1`,
        `${HUB_US}/stray-9`,
      ].sort(),
    );
    // No group is disabled: only the named devices are stopped.
    expect(plan.steps.some((s) => s.op.kind === 'disableGroup')).toBe(false);
    const codes = plan.warnings.map((w) => w.code);
    expect(codes).toContain('device-hub-only');
    const nowhere = plan.warnings.find((w) => w.code === 'device-not-found');
    expect(nowhere?.registrationIds).toEqual(['ghost-0']);
    expect(plan.snapshot.map((r) => r.registrationId).sort()).toEqual(['a-1', 'a-2', 'b-1', 'solo-1']);
    // The selection's enrollment and groups are kept for verify after a deletion.
    expect(plan.prior?.individualEnrollments.map((e) => e.registrationId)).toEqual(['solo-1']);
    expect(plan.prior?.enrollmentGroups.map((g) => g.enrollmentGroupId).sort()).toEqual(['g-a', 'g-b']);
  });

  it('deletes the individual enrollment when asked, and still writes blockers for group devices', () => {
    const plan = okPlan(
      planDeprovision(selection, actions({ disenroll: 'delete', deregister: 'delete' }), known),
    );
    const kinds = plan.steps.filter((s) => s.phase === 'disenroll').map((s) => s.op.kind);
    expect(kinds).toEqual(['deleteEnrollment', 'createBlocker', 'createBlocker', 'createBlocker']);
  });

  it('refuses when none of the IDs is found anywhere', () => {
    const r = planDeprovision(
      { kind: 'devices', ids: ['ghost-0'], parts: { enrollments: [], groups: [], unenrolled: ['ghost-0'] } },
      actions(),
      known,
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.refusal.message).toMatch(/ghost-0: found nowhere/);
  });

  it('its restore, from the steps that succeeded, re-enables everything the run disabled (the blockers it wrote deleted)', () => {
    const plan = okPlan(planDeprovision(selection, actions(), known));
    const results: StepResult[] = plan.steps.map((s) => ({
      stepId: s.id,
      outcome: 'succeeded',
      attempts: 1,
    }));
    const restore = okPlan(planRestore('20240101T000000Z-abcdef', plan, results));
    const ops = restore.steps.map((s) => s.op);
    expect(ops).toContainEqual(
      expect.objectContaining({ kind: 'enableEnrollment', registrationId: 'solo-1' }),
    );
    const enabled = restore.steps
      .flatMap(({ op }) => (op.kind === 'enableHubDevices' ? op.deviceIds.map((d) => `${op.hub}/${d}`) : []))
      .sort();
    expect(enabled).toEqual(
      [
        `${HUB_EU}/solo-1`,
        `${HUB_EU}/a-1`,
        `${HUB_US}/a-2`,
        `${HUB_EU}/b-1`,
        `${HUB_US}/b-1`,
        `${HUB_US}/stray-9`,
      ].sort(),
    );
    // The blockers the run wrote are deleted (exactly those), each group named in its warning.
    const blockers = ops.flatMap((o) =>
      o.kind === 'deleteBlocker' ? [`${o.groupId}/${o.registrationId}`] : [],
    );
    expect(blockers).toEqual(['g-a/a-1', 'g-a/a-2', 'g-b/b-1']);
    expect(restore.warnings.filter((w) => w.code === 'blocker-deleted').map((w) => w.path)).toEqual([
      'enrollmentGroups/g-a',
      'enrollmentGroups/g-b',
    ]);
  });
});
