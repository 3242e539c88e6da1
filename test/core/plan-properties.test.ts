/**
 * Properties of the planner over random DPS states: enrollments, groups (X.509 on a small CA hierarchy,
 * symmetric key), registration records across hubs (some unassigned, some on hubs without credentials).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type {
  CertificateInfo,
  EnrollmentGroup,
  IndividualEnrollment,
  KnownState,
  RegistrationRecord,
} from '../../src/core/model.js';
import { planDeprovision } from '../../src/core/plan.js';
import type { Plan, StepResult } from '../../src/core/plan-types.js';
import { analyzeReenrollment, type DeviceEvidence } from '../../src/core/reenrollment.js';
import { planRestore } from '../../src/core/restore.js';
import type { Actions, Selection } from '../../src/core/selection.js';
import { applyPlan } from '../../src/core/simulate.js';

const cert = (name: string, issuer: string): CertificateInfo => ({
  subjectName: `CN=${name}`,
  issuerName: `CN=${issuer}`,
  sha1Thumbprint: `SHA1-${name}`,
  sha256Thumbprint: `SHA256-${name}`,
});
const CERTS: Record<string, CertificateInfo> = {
  R: cert('R', 'R'),
  I1: cert('I1', 'R'),
  I2: cert('I2', 'R'),
};
const HUBS = [
  'hub-a.azure-devices.net',
  'HUB-A.azure-devices.net',
  'hub-b.azure-devices.net',
  'hub-c.azure-devices.net',
];

const groupSpec = fc.record({
  type: fc.constantFrom('x509', 'symmetricKey') as fc.Arbitrary<'x509' | 'symmetricKey'>,
  enabled: fc.boolean(),
  certificate: fc.constantFrom('R', 'I1', 'I2', 'ca:R', 'ca:missing'),
});
const deviceSpec = fc.record({
  group: fc.nat(4),
  hub: fc.option(fc.constantFrom(...HUBS), { freq: 5 }),
  failed: fc.boolean(),
  ownDeviceId: fc.boolean(),
  individual: fc.constantFrom('none', 'none', 'enabled', 'disabled', 'blocker'),
  individualType: fc.constantFrom('tpm', 'x509', 'symmetricKey') as fc.Arbitrary<
    'tpm' | 'x509' | 'symmetricKey'
  >,
});
const stateSpec = fc.record({
  groups: fc.array(groupSpec, { minLength: 1, maxLength: 4 }),
  devices: fc.array(deviceSpec, { maxLength: 40 }),
  credentials: fc.option(fc.subarray(HUBS.filter((h) => h === h.toLowerCase())), { freq: 2 }),
});

type StateSpec = typeof stateSpec extends fc.Arbitrary<infer T> ? T : never;

function buildState(spec: StateSpec): KnownState {
  const groups: EnrollmentGroup[] = spec.groups.map((g, i) => ({
    enrollmentGroupId: `g${i}`,
    provisioningStatus: g.enabled ? 'enabled' : 'disabled',
    attestation:
      g.type === 'symmetricKey'
        ? { type: 'symmetricKey' }
        : g.certificate.startsWith('ca:')
          ? { type: 'x509', signingCertificates: [], caReferences: [g.certificate.slice(3)] }
          : { type: 'x509', signingCertificates: [CERTS[g.certificate]], caReferences: [] },
  }));
  const registrations: RegistrationRecord[] = [];
  const individualEnrollments: IndividualEnrollment[] = [];
  spec.devices.forEach((d, i) => {
    const id = `d${i}`;
    // One slot past the groups: a device with an individual enrollment of its own, no group.
    const group =
      d.group % (groups.length + 1) < groups.length ? `g${d.group % (groups.length + 1)}` : undefined;
    registrations.push({
      registrationId: id,
      status: d.hub ? (d.failed ? 'failed' : 'assigned') : 'unassigned',
      ...(d.hub ? { assignedHub: d.hub } : {}),
      ...(d.ownDeviceId ? { deviceId: `hub-${id}` } : {}),
      ...(group ? { enrollmentGroupId: group } : {}),
    });
    const kind = group
      ? d.individual
      : d.individual === 'none' || d.individual === 'blocker'
        ? 'enabled'
        : d.individual;
    if (kind === 'none') return;
    individualEnrollments.push({
      registrationId: id,
      attestation:
        d.individualType === 'x509' ? { type: 'x509', clientCertificates: [] } : { type: d.individualType },
      provisioningStatus: kind === 'enabled' ? 'enabled' : 'disabled',
      ...(kind === 'blocker' ? { blocker: { groupId: group } } : {}),
    });
  });
  return {
    individualEnrollments,
    enrollmentGroups: groups,
    registrations,
    hubDevices: [],
    caCertificates: { R: CERTS.R },
    ...(spec.credentials ? { hubsWithCredentials: spec.credentials } : {}),
  };
}

const selectionSpec = fc.record({
  kind: fc.constantFrom('enrollment', 'group', 'groupDevices'),
  pick: fc.nat(),
  devices: fc.array(fc.nat(), { maxLength: 6 }),
  unknown: fc.nat(19),
});
const actionsSpec = fc.record({
  disenroll: fc.constantFrom('disable', 'delete') as fc.Arbitrary<'disable' | 'delete'>,
  deregister: fc.constantFrom('disable', 'delete', 'none') as fc.Arbitrary<'disable' | 'delete' | 'none'>,
  deleteRegistrations: fc.boolean(),
  deleteGroup: fc.boolean(),
});

type SelectionSpec = typeof selectionSpec extends fc.Arbitrary<infer T> ? T : never;

function buildSelection(spec: SelectionSpec, s: KnownState): Selection {
  const missing = spec.unknown === 0;
  const group = s.enrollmentGroups[spec.pick % s.enrollmentGroups.length].enrollmentGroupId;
  if (spec.kind === 'enrollment') {
    const pool = s.individualEnrollments.map((e) => e.registrationId);
    return {
      kind: 'enrollment',
      registrationId: missing || pool.length === 0 ? 'nope' : pool[spec.pick % pool.length],
    };
  }
  if (spec.kind === 'group') return { kind: 'group', groupId: missing ? 'nope' : group };
  const records = s.registrations.filter((r) => r.enrollmentGroupId === group).map((r) => r.registrationId);
  const devices = records.length === 0 ? [] : spec.devices.map((n) => records[n % records.length]);
  if (missing) devices.push('ghost');
  return {
    kind: 'groupDevices',
    groupId: group,
    devices: devices.map((registrationId) => ({ registrationId })),
  };
}

/** The test's own statement of what is known about each selected device (not the planner's). */
function evidenceFor(selection: Selection, s: KnownState): DeviceEvidence[] {
  const recordOf = new Map(s.registrations.map((r) => [r.registrationId, r]));
  if (selection.kind === 'enrollment') {
    const e = s.individualEnrollments.find((x) => x.registrationId === selection.registrationId)!;
    const groupId = recordOf.get(e.registrationId)?.enrollmentGroupId ?? e.blocker?.groupId;
    // As verify knows it after the run: a device enrolled on its own held that enrollment's key.
    const own = !e.blocker && groupId === undefined ? { enrolledIndividually: true } : {};
    return [{ registrationId: e.registrationId, attestation: e.attestation.type, groupId, ...own }];
  }
  if (selection.kind === 'devices') throw new Error('the generated selections name no devices by ID');
  const group = s.enrollmentGroups.find((g) => g.enrollmentGroupId === selection.groupId)!;
  const groupCertificates =
    group.attestation.type === 'x509'
      ? [
          ...group.attestation.signingCertificates,
          ...group.attestation.caReferences.flatMap((n) =>
            s.caCertificates?.[n] ? [s.caCertificates[n]] : [],
          ),
        ]
      : [];
  const ids =
    selection.kind === 'group'
      ? s.registrations
          .filter((r) => r.enrollmentGroupId === group.enrollmentGroupId)
          .map((r) => r.registrationId)
      : [...new Set(selection.devices.map((d) => d.registrationId))];
  return ids.map((registrationId) => ({
    registrationId,
    attestation: group.attestation.type,
    groupId: group.enrollmentGroupId,
    groupCertificates,
  }));
}

const scenario = fc
  .record({ state: stateSpec, selection: selectionSpec, actions: actionsSpec })
  .map((spec) => {
    const s = buildState(spec.state);
    const selection = buildSelection(spec.selection, s);
    // Cleanup options are refused outside a whole group: keep them there mostly, so most plans get made.
    const actions: Actions =
      selection.kind === 'group' || spec.selection.pick % 10 === 0
        ? spec.actions
        : { ...spec.actions, deleteRegistrations: false, deleteGroup: false };
    return { state: s, selection, actions, result: planDeprovision(selection, actions, s) };
  });

const isBlocker = (e: IndividualEnrollment, s: KnownState): boolean =>
  e.blocker !== undefined ||
  (e.provisioningStatus === 'disabled' &&
    s.registrations.some((r) => r.registrationId === e.registrationId && r.enrollmentGroupId !== undefined));

const countIds = (ids: string[]): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
};
const idsOf = (plan: Plan, phase: string, kind?: string): string[] =>
  plan.steps
    .filter((st) => st.phase === phase && (!kind || st.op.kind === kind))
    .flatMap((st) => st.registrationIds);
const warned = (plan: Plan, code: string): Set<string> =>
  new Set(plan.warnings.filter((w) => w.code === code).flatMap((w) => w.registrationIds));

describe('planner properties', () => {
  it('(a) no plan deletes a blocker', () => {
    fc.assert(
      fc.property(scenario, ({ state: s, result }) => {
        if (!result.ok) return;
        for (const step of result.plan.steps) {
          if (step.op.kind !== 'deleteEnrollment') continue;
          const target = step.op.registrationId;
          const e = s.individualEnrollments.find((x) => x.registrationId === target);
          expect(e && isBlocker(e, s)).toBeFalsy();
        }
      }),
      { numRuns: 150 },
    );
  });

  it('(b) every selected device is covered exactly once per phase that acts per device', () => {
    fc.assert(
      fc.property(scenario, ({ state: s, selection, actions, result }) => {
        if (!result.ok) return;
        const plan = result.plan;
        const selected = evidenceFor(selection, s).map((d) => d.registrationId);
        const recordOf = new Map(s.registrations.map((r) => [r.registrationId, r]));
        const credentialed = s.hubsWithCredentials?.map((h) => h.toLowerCase());
        const hubCounts = countIds(idsOf(plan, 'deregister'));
        const verifyCounts = countIds(idsOf(plan, 'verify'));
        const notAssigned = warned(plan, 'not-assigned');
        const noCredentials = warned(plan, 'hub-without-credentials');
        const kept = warned(plan, 'hub-identity-kept');
        for (const id of selected) {
          expect(verifyCounts.get(id)).toBe(1);
          const r = recordOf.get(id);
          // The record names the hub whatever its status (a failed or disabled record keeps it).
          const hub = r?.assignedHub;
          if (actions.deregister === 'none') expect(kept.has(id)).toBe(true);
          else if (!hub) expect(notAssigned.has(id)).toBe(true);
          else if (credentialed && !credentialed.includes(hub.toLowerCase()))
            expect(noCredentials.has(id)).toBe(true);
          else expect(hubCounts.get(id)).toBe(1);
        }
        expect([...hubCounts.keys()].every((id) => selected.includes(id))).toBe(true);
        for (const st of plan.steps.filter((x) => x.phase === 'deregister')) {
          if (st.op.kind !== 'disableHubDevices' && st.op.kind !== 'deleteHubDevices')
            throw new Error(st.op.kind);
          expect(st.op.deviceIds.length).toBeLessThanOrEqual(100);
          expect(st.op.deviceIds).toEqual(st.registrationIds.map((id) => recordOf.get(id)?.deviceId ?? id));
        }
        const deletes = countIds(idsOf(plan, 'cleanup', 'deleteRegistration'));
        if (selection.kind === 'group' && actions.deleteRegistrations) {
          expect(deletes.size).toBe(selected.length);
          for (const id of selected) expect(deletes.get(id)).toBe(1);
        } else expect(deletes.size).toBe(0);
        if (selection.kind === 'groupDevices') {
          const disenroll = countIds(idsOf(plan, 'disenroll'));
          for (const id of selected) {
            const own = s.individualEnrollments.find((e) => e.registrationId === id);
            expect(disenroll.get(id)).toBe(own?.provisioningStatus === 'disabled' ? undefined : 1);
          }
        }
        expect(plan.counts.devices).toBe(selected.length);
      }),
      { numRuns: 150 },
    );
  });

  it('(c) after the plan every selected device is blocked, unless a warning names it and its path', () => {
    fc.assert(
      fc.property(scenario, ({ state: s, selection, result }) => {
        if (!result.ok) return;
        const plan = result.plan;
        const after = applyPlan(s, plan);
        for (const evidence of evidenceFor(selection, s)) {
          const verdict = analyzeReenrollment(evidence, after);
          if (verdict.verdict === 'blocked') continue;
          const named = plan.warnings.some(
            (w) => w.registrationIds.includes(evidence.registrationId) && w.path === verdict.path,
          );
          expect(named, `${evidence.registrationId}: ${verdict.verdict} via ${verdict.path}`).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('(d) refusals are for the reasons given, and disabling plans are always made for known targets', () => {
    fc.assert(
      fc.property(scenario, ({ selection, actions, result }) => {
        const unknown =
          (selection.kind === 'enrollment' && selection.registrationId === 'nope') ||
          (selection.kind === 'group' && selection.groupId === 'nope') ||
          (selection.kind === 'groupDevices' && selection.devices.some((d) => d.registrationId === 'ghost'));
        const cleanupOutsideGroup =
          selection.kind !== 'group' && (actions.deleteRegistrations || actions.deleteGroup);
        if (result.ok) {
          expect(unknown || cleanupOutsideGroup).toBe(false);
          return;
        }
        if (cleanupOutsideGroup) expect(result.refusal.code).toBe('invalid-selection');
        else if (unknown) expect(result.refusal.code).toBe('unknown-target');
        else if (selection.kind === 'groupDevices') expect(result.refusal.code).toBe('no-devices');
        else expect(result.refusal.code).toBe('delete-blocker');
      }),
      { numRuns: 150 },
    );
  });

  it('(e) restoring a fully successful disabling run gives back every status it changed', () => {
    fc.assert(
      fc.property(scenario, ({ state: s, result }) => {
        if (!result.ok) return;
        const plan = result.plan;
        if (plan.steps.some((st) => st.op.kind.startsWith('delete') || st.op.kind === 'createBlocker'))
          return;
        const withHub: KnownState = {
          ...s,
          hubDevices: s.registrations.flatMap((r) =>
            r.assignedHub
              ? [{ hub: r.assignedHub, deviceId: r.deviceId ?? r.registrationId, status: 'enabled' as const }]
              : [],
          ),
        };
        // As the executor reports it: a target already in the intended state is 'alreadyDone'.
        const already = (op: Plan['steps'][number]['op']): boolean =>
          (op.kind === 'disableGroup' &&
            s.enrollmentGroups.some(
              (g) => g.enrollmentGroupId === op.groupId && g.provisioningStatus === 'disabled',
            )) ||
          (op.kind === 'disableEnrollment' &&
            s.individualEnrollments.some(
              (e) => e.registrationId === op.registrationId && e.provisioningStatus === 'disabled',
            ));
        const results: StepResult[] = plan.steps.map((st) => ({
          stepId: st.id,
          outcome: already(st.op) ? 'alreadyDone' : 'succeeded',
          attempts: 1,
        }));
        const undo = planRestore('run', plan, results);
        if (!undo.ok) throw new Error(undo.refusal.message);
        const round = applyPlan(applyPlan(withHub, plan), undo.plan);
        expect(round.hubDevices).toEqual(withHub.hubDevices);
        expect(round.enrollmentGroups).toEqual(withHub.enrollmentGroups);
        expect(round.individualEnrollments).toEqual(withHub.individualEnrollments);
      }),
      { numRuns: 100 },
    );
  });
});
