import { beforeAll, describe, expect, it } from 'vitest';
import type { KnownState, RegistrationRecord } from '../../src/core/model.js';
import { planDeprovision } from '../../src/core/plan.js';
import {
  actions,
  HUB_EU,
  HUB_US,
  individual,
  type Pki,
  pki,
  record,
  state,
  symmetricKeyGroup,
  x509Group,
  okPlan,
} from './fixtures.js';

let p: Pki;
beforeAll(async () => {
  p = await pki();
});

const group = (groupId: string) => ({ kind: 'group', groupId }) as const;

/** n records of group g: the first `eu` on the EU hub, the rest on the US hub. */
const records = (g: string, n: number, eu: number): RegistrationRecord[] =>
  Array.from({ length: n }, (_, i) => record(`${g}-d${i}`, g, i < eu ? HUB_EU : HUB_US));

const groupState = (n = 250, eu = 200, extra: Partial<KnownState> = {}): KnownState =>
  state({
    enrollmentGroups: [
      x509Group('g-int', [p.intermediateInfo]),
      x509Group('g-other', [p.rootInfo], 'disabled'),
    ],
    registrations: [...records('g-int', n, eu), record('elsewhere', 'g-other')],
    ...extra,
  });

describe('whole enrollment group', () => {
  it('snapshots, disables the group, then deregisters every device on its own hub in batches of 100', () => {
    const plan = okPlan(planDeprovision(group('g-int'), actions(), groupState()));
    const [snapshot, disable] = plan.steps;
    expect(snapshot).toMatchObject({
      id: 'snapshot:1',
      op: { kind: 'snapshotRegistrations', groupId: 'g-int', count: 250 },
      registrationIds: [],
      destructive: false,
    });
    expect(disable).toMatchObject({
      id: 'disenroll:1',
      call: 'PUT enrollmentGroups/g-int provisioningStatus=disabled',
      registrationIds: [],
    });
    const hubSteps = plan.steps.filter((s) => s.phase === 'deregister');
    expect(hubSteps.map((s) => s.call)).toEqual([
      `POST devices (bulk update status=disabled, 100 devices) on ${HUB_EU}`,
      `POST devices (bulk update status=disabled, 100 devices) on ${HUB_EU}`,
      `POST devices (bulk update status=disabled, 50 devices) on ${HUB_US}`,
    ]);
    expect(hubSteps.flatMap((s) => s.registrationIds)).toEqual(
      records('g-int', 250, 200).map((r) => r.registrationId),
    );
    expect(plan.counts).toEqual({
      steps: { snapshot: 1, disenroll: 1, deregister: 3, cleanup: 0, verify: 1 },
      devicesPerHub: { [HUB_EU]: 200, [HUB_US]: 50 },
      devices: 250,
    });
    expect(plan.snapshot).toHaveLength(250);
    expect(plan.snapshot.every((r) => r.enrollmentGroupId === 'g-int')).toBe(true);
    expect(plan.warnings).toEqual([]);
  });

  it('cleanup deletes every registration record, then the group, last', () => {
    const plan = okPlan(
      planDeprovision(
        group('g-int'),
        actions({ deregister: 'delete', deleteRegistrations: true, deleteGroup: true }),
        groupState(3, 3),
      ),
    );
    expect(plan.steps.filter((s) => s.phase === 'cleanup').map((s) => [s.call, s.registrationIds])).toEqual([
      ['DELETE registrations/g-int-d0', ['g-int-d0']],
      ['DELETE registrations/g-int-d1', ['g-int-d1']],
      ['DELETE registrations/g-int-d2', ['g-int-d2']],
      ['DELETE enrollmentGroups/g-int', []],
    ]);
    expect(plan.steps.find((s) => s.phase === 'deregister')!.call).toBe(
      `POST devices (bulk delete, 3 devices) on ${HUB_EU}`,
    );
    expect(plan.warnings.map((w) => [w.code, w.severity])).toEqual([['registrations-deleted', 'caution']]);
  });

  it('disenroll delete: disable now, delete the group in cleanup; kept records are an info warning', () => {
    const plan = okPlan(planDeprovision(group('g-int'), actions({ disenroll: 'delete' }), groupState(2, 2)));
    expect(plan.steps.filter((s) => s.phase !== 'deregister').map((s) => s.op.kind)).toEqual([
      'snapshotRegistrations',
      'disableGroup',
      'deleteGroup',
      'verify',
    ]);
    expect(plan.warnings).toMatchObject([{ code: 'orphaned-registrations', severity: 'info' }]);
    expect(plan.warnings[0].message).toMatch(/count against the DPS registration quota/);
  });

  it('deleting the group below an enabled higher group: danger, naming it and the devices', () => {
    const s = groupState(3, 3, {
      enrollmentGroups: [x509Group('g-int', [p.intermediateInfo]), x509Group('g-root', [p.rootInfo])],
    });
    const plan = okPlan(
      planDeprovision(group('g-int'), actions({ deleteGroup: true, deleteRegistrations: true }), s),
    );
    const higher = plan.warnings.filter((w) => w.code === 'reenroll-through-higher-group');
    expect(higher).toHaveLength(1);
    expect(higher[0]).toMatchObject({
      severity: 'danger',
      path: 'enrollmentGroups/g-root',
      registrationIds: ['g-int-d0', 'g-int-d1', 'g-int-d2'],
    });
    expect(higher[0].message).toMatch(
      /^Once enrollment group g-int is deleted, 3 devices \(g-int-d0, g-int-d1, g-int-d2\)/,
    );
    expect(higher[0].message).toContain('enrollment group g-root holds "CN=Contoso Root CA"');
    // Only disabling the group keeps them out: no such warning.
    const disabled = okPlan(planDeprovision(group('g-int'), actions(), s));
    expect(disabled.warnings).toEqual([]);
  });

  it('a group without records is still disabled, with an info warning', () => {
    const plan = okPlan(
      planDeprovision(
        group('g-other'),
        actions({ deleteRegistrations: true }),
        state({
          enrollmentGroups: [symmetricKeyGroup('g-other')],
        }),
      ),
    );
    expect(plan.steps.map((s) => s.op.kind)).toEqual(['snapshotRegistrations', 'disableGroup', 'verify']);
    expect(plan.steps[2]).toMatchObject({
      registrationIds: [],
      call: 'GET enrollmentGroups/g-other (read back)',
    });
    expect(plan.warnings).toMatchObject([{ code: 'no-registrations', severity: 'info' }]);
  });

  it('a device of the group with an enabled individual enrollment of its own stays in: danger', () => {
    const s = groupState(3, 3, { individualEnrollments: [individual('g-int-d1', 'x509')] });
    const plan = okPlan(planDeprovision(group('g-int'), actions(), s));
    expect(plan.warnings).toMatchObject([
      {
        code: 'existing-individual-enrollment',
        severity: 'danger',
        path: 'enrollments/g-int-d1',
        registrationIds: ['g-int-d1'],
      },
    ]);
  });

  it('records not assigned and hubs without credentials are left out of the hub steps', () => {
    const s = groupState(4, 2, { hubsWithCredentials: [HUB_EU] });
    s.registrations[0] = record('g-int-d0', 'g-int', null);
    const plan = okPlan(planDeprovision(group('g-int'), actions(), s));
    expect(plan.steps.filter((st) => st.phase === 'deregister').map((st) => st.registrationIds)).toEqual([
      ['g-int-d1'],
    ]);
    expect(plan.warnings.map((w) => [w.code, w.registrationIds])).toEqual([
      ['not-assigned', ['g-int-d0']],
      ['hub-without-credentials', ['g-int-d2', 'g-int-d3']],
    ]);
    expect(plan.warnings[1].message).toContain(`${HUB_US} (2 devices)`);
  });

  it('an unknown group is refused, naming it', () => {
    const r = planDeprovision(group('missing'), actions(), groupState(1, 1));
    expect(r).toMatchObject({ ok: false, refusal: { code: 'unknown-target' } });
    expect(!r.ok && r.refusal.message).toContain('"missing"');
  });

  it('verifies in chunks of 1,000 registration IDs', () => {
    const plan = okPlan(planDeprovision(group('g-int'), actions(), groupState(2500, 2500)));
    expect(plan.steps.filter((s) => s.phase === 'verify').map((s) => s.registrationIds.length)).toEqual([
      1000, 1000, 500,
    ]);
  });

  it('plans 100,000 records with full cleanup (time printed, not asserted)', () => {
    const s = groupState(100_000, 60_000, {
      enrollmentGroups: [x509Group('g-int', [p.intermediateInfo]), x509Group('g-root', [p.rootInfo])],
    });
    const started = performance.now();
    const plan = okPlan(
      planDeprovision(
        group('g-int'),
        actions({ deregister: 'delete', deleteRegistrations: true, deleteGroup: true }),
        s,
      ),
    );
    console.log(`planDeprovision: 100,000 records in ${(performance.now() - started).toFixed(0)} ms`);
    expect(plan.counts.steps).toEqual({
      snapshot: 1,
      disenroll: 1,
      deregister: 1000,
      cleanup: 100_001,
      verify: 100,
    });
    expect(plan.counts.devicesPerHub).toEqual({ [HUB_EU]: 60_000, [HUB_US]: 40_000 });
    expect(
      plan.warnings.find((w) => w.code === 'reenroll-through-higher-group')?.registrationIds,
    ).toHaveLength(100_000);
  });
});
