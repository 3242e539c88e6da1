import { describe, expect, it } from 'vitest';
import { evidenceFor, hubStepsOf, priorDeviceIds, priorFromPlan, priorOf } from '../../src/core/evidence.js';
import { planDeprovision } from '../../src/core/plan.js';
import {
  actions,
  individual,
  okPlan,
  record,
  state,
  symmetricKeyGroup,
  x509Group,
  HUB_EU,
} from './fixtures.js';

describe('evidence for the re-enrollment analysis (core, pure)', () => {
  it('a device whose record and group were deleted by the run is still known through what was read before', () => {
    const before = state({
      enrollmentGroups: [symmetricKeyGroup('g1')],
      registrations: [record('d1', 'g1')],
    });
    const [e] = evidenceFor(['d1'], state(), {}, before, 'g1');
    expect(e).toEqual({ registrationId: 'd1', attestation: 'symmetricKey', groupId: 'g1' });
  });

  it('what is read now wins over what was read before; a blocker the run wrote says nothing of the device', () => {
    const now = state({
      enrollmentGroups: [x509Group('g1', [])],
      individualEnrollments: [
        individual('d1', 'symmetricKey', 'disabled', { blocker: { runId: 'r', groupId: 'g1' } }),
      ],
      registrations: [record('d1', 'g1')],
    });
    const before = state({ enrollmentGroups: [symmetricKeyGroup('g1')] });
    const [e] = evidenceFor(['d1'], now, {}, before);
    expect(e.attestation).toBe('x509');
    expect(e.groupCertificates).toEqual([]);
    expect(e.enrolledIndividually).toBeUndefined();
  });

  it('an individual enrollment (no group) is marked as enrolled individually with its attestation', () => {
    const [e] = evidenceFor(['d2'], state({ individualEnrollments: [individual('d2', 'tpm')] }), {});
    expect(e).toEqual({ registrationId: 'd2', attestation: 'tpm', enrolledIndividually: true });
  });

  it('a plan carries its pre-run state itself: a copy of it (JSON, as the journal keeps it) gives the same prior', () => {
    const s = state({
      enrollmentGroups: [symmetricKeyGroup('g1'), symmetricKeyGroup('other')],
      registrations: [record('d1', 'g1'), record('d2', 'g1')],
      individualEnrollments: [individual('unrelated')],
    });
    const result = planDeprovision({ kind: 'group', groupId: 'g1' }, actions({ disenroll: 'delete' }), s);
    const plan = okPlan(result);
    expect(plan.prior).toEqual(priorOf({ kind: 'group', groupId: 'g1' }, s));
    expect(plan.prior?.enrollmentGroups.map((g) => g.enrollmentGroupId)).toEqual(['g1']);
    expect(result.ok && result.before).toBe(s);
    const copy = JSON.parse(JSON.stringify(plan));
    expect(priorFromPlan(copy)).toEqual(priorFromPlan(plan));
    expect(priorFromPlan(copy).enrollmentGroups).toEqual([symmetricKeyGroup('g1')]);
  });

  it('hub steps of a plan name the devices per registration ID; their IDs are looked up after the records are gone', () => {
    const s = state({
      enrollmentGroups: [symmetricKeyGroup('g1')],
      registrations: [record('d1', 'g1', HUB_EU, { deviceId: 'dev-1' })],
    });
    const plan = okPlan(
      planDeprovision({ kind: 'group', groupId: 'g1' }, actions({ deregister: 'delete' }), s),
    );
    const steps = hubStepsOf(plan);
    expect(steps.get('d1')).toEqual([{ hub: HUB_EU, deviceId: 'dev-1' }]);
    expect(priorDeviceIds(priorFromPlan(plan), steps)).toEqual(['dev-1', 'd1', 'dev-1']);
  });
});
