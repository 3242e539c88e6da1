import { beforeAll, describe, expect, it } from 'vitest';
import type { KnownState } from '../../src/core/model.js';
import type { Plan, PlanStep, StepOperation } from '../../src/core/plan-types.js';
import { applyPlan } from '../../src/core/simulate.js';
import { actions, HUB_EU, individual, type Pki, pki, record, state, symmetricKeyGroup } from './fixtures.js';

let p: Pki;
beforeAll(async () => {
  p = await pki();
});

const planOf = (...ops: StepOperation[]): Plan => ({
  selection: { kind: 'group', groupId: 'g' },
  actions: actions(),
  steps: ops.map(
    (op, i): PlanStep => ({
      id: `disenroll:${i + 1}`,
      phase: 'disenroll',
      op,
      call: op.kind,
      destructive: true,
      registrationIds: [],
    }),
  ),
  warnings: [],
  snapshot: [],
  counts: {
    steps: { snapshot: 0, disenroll: ops.length, deregister: 0, cleanup: 0, verify: 0 },
    devicesPerHub: {},
    devices: 0,
  },
});

const base = (): KnownState =>
  state({
    individualEnrollments: [individual('e1'), individual('e2', 'symmetricKey', 'disabled')],
    enrollmentGroups: [symmetricKeyGroup('g'), symmetricKeyGroup('h', 'disabled')],
    registrations: [record('d1', 'g'), record('d2', 'g')],
    hubDevices: [
      { hub: HUB_EU, deviceId: 'd1', status: 'enabled' },
      { hub: HUB_EU, deviceId: 'd2', status: 'enabled' },
    ],
  });

describe('applyPlan', () => {
  it('applies enrollment and group status changes and deletions, leaving the input untouched', () => {
    const before = base();
    const copy = structuredClone(before);
    const after = applyPlan(
      before,
      planOf(
        { kind: 'disableEnrollment', registrationId: 'e1' },
        { kind: 'enableEnrollment', registrationId: 'e2' },
        { kind: 'disableGroup', groupId: 'g' },
        { kind: 'enableGroup', groupId: 'h' },
        { kind: 'deleteEnrollment', registrationId: 'e2' },
        { kind: 'deleteGroup', groupId: 'h' },
        { kind: 'disableEnrollment', registrationId: 'not-there' },
      ),
    );
    expect(after.individualEnrollments.map((e) => [e.registrationId, e.provisioningStatus])).toEqual([
      ['e1', 'disabled'],
    ]);
    expect(after.enrollmentGroups.map((g) => [g.enrollmentGroupId, g.provisioningStatus])).toEqual([
      ['g', 'disabled'],
    ]);
    expect(before).toEqual(copy);
  });

  it('writes a blocker as a disabled, tagged individual enrollment, but never over an existing one', () => {
    const after = applyPlan(
      base(),
      planOf(
        {
          kind: 'createBlocker',
          registrationId: 'd1',
          groupId: 'g',
          attestation: 'symmetricKey',
          runId: 'r1',
        },
        {
          kind: 'createBlocker',
          registrationId: 'dev-x1',
          groupId: 'g',
          attestation: 'x509',
          certificatePem: p.chain1.chainPem,
        },
        { kind: 'createBlocker', registrationId: 'e1', groupId: 'g', attestation: 'symmetricKey' },
      ),
    );
    const byId = new Map(after.individualEnrollments.map((e) => [e.registrationId, e]));
    expect(byId.get('d1')).toEqual({
      registrationId: 'd1',
      attestation: { type: 'symmetricKey' },
      provisioningStatus: 'disabled',
      blocker: { groupId: 'g', runId: 'r1' },
    });
    expect(byId.get('dev-x1')?.attestation).toMatchObject({
      type: 'x509',
      clientCertificates: [{ subjectName: 'CN=dev-x1', issuerName: 'CN=Contoso Intermediate CA' }],
    });
    // DPS answers a create over an existing enrollment with a conflict.
    expect(byId.get('e1')).toEqual(individual('e1'));
  });

  it('changes hub devices (host name in any case) and deletes registration records', () => {
    const after = applyPlan(
      base(),
      planOf(
        { kind: 'disableHubDevices', hub: HUB_EU.toUpperCase(), deviceIds: ['d1', 'unknown'] },
        { kind: 'deleteHubDevices', hub: HUB_EU, deviceIds: ['d2'] },
        { kind: 'deleteRegistration', registrationId: 'd2' },
        { kind: 'snapshotRegistrations', groupId: 'g', count: 2 },
        { kind: 'verify', registrationIds: ['d1'] },
      ),
    );
    expect(after.hubDevices).toEqual([{ hub: HUB_EU, deviceId: 'd1', status: 'disabled' }]);
    expect(after.registrations.map((r) => r.registrationId)).toEqual(['d1']);
    const again = applyPlan(after, planOf({ kind: 'enableHubDevices', hub: HUB_EU, deviceIds: ['d1'] }));
    expect(again.hubDevices[0].status).toBe('enabled');
  });
});
