/**
 * What the re-enrollment analysis needs, built from what was read: the evidence per device (now, and
 * before the run: what a deletion took away), the pre-run state a plan carries (`Plan.prior`), the hub
 * identities a plan's steps act on. Pure: the session (services/session) reads, this decides.
 */
import { parseCertificateChain } from './certs.js';
import { deviceIdsOf } from './hub-lookup.js';
import type { KnownState, ParsedCertificate } from './model.js';
import type { Plan } from './plan-types.js';
import type { DeviceEvidence } from './reenrollment.js';
import { type DeviceParts, enrolledIds, type Selection } from './selection.js';

/** The hubs and device IDs a plan's hub steps act on, per registration ID. */
export function hubStepsOf(plan: Plan | undefined): Map<string, { hub: string; deviceId: string }[]> {
  const out = new Map<string, { hub: string; deviceId: string }[]>();
  for (const step of plan?.steps ?? []) {
    const op = step.op;
    const jobs = op.kind === 'hubJobDevices' && op.action !== 'enable';
    if (op.kind !== 'disableHubDevices' && op.kind !== 'deleteHubDevices' && op.kind !== 'hubJobDevices')
      continue;
    if (op.kind === 'hubJobDevices' && !jobs) continue;
    const { hub, deviceIds } = op;
    deviceIds.forEach((deviceId, i) => {
      const id = step.registrationIds[i] ?? deviceId;
      const list = out.get(id) ?? [];
      list.push({ hub, deviceId });
      out.set(id, list);
    });
  }
  return out;
}

/**
 * Evidence for the re-enrollment analysis, from what was read now, what was read before the run
 * (`prior`: what a deletion took away — how the device attests, its group's certificates, its
 * enrollment's leaf certificate) and the chains the tool holds.
 */
export function evidenceFor(
  registrationIds: string[],
  state: KnownState,
  certificates: Record<string, ParsedCertificate[]>,
  prior?: KnownState,
  /** The group the selection named: its devices came through it even once their records are deleted. */
  selectedGroupId?: string,
): DeviceEvidence[] {
  const index = (s: KnownState | undefined) => ({
    records: new Map(s?.registrations.map((r) => [r.registrationId, r])),
    individuals: new Map(s?.individualEnrollments.map((e) => [e.registrationId, e])),
    groups: new Map(s?.enrollmentGroups.map((g) => [g.enrollmentGroupId, g])),
  });
  const now = index(state);
  const before = index(prior);
  return registrationIds.map((registrationId) => {
    const record = now.records.get(registrationId) ?? before.records.get(registrationId);
    const groupId = record?.enrollmentGroupId ?? selectedGroupId;
    const group = groupId ? (now.groups.get(groupId) ?? before.groups.get(groupId)) : undefined;
    const individual = now.individuals.get(registrationId) ?? before.individuals.get(registrationId);
    // A blocker the run wrote says nothing about how the device itself attests.
    const attestation =
      group?.attestation.type ?? (individual?.blocker ? undefined : individual?.attestation.type);
    const leaf =
      individual?.attestation.type === 'x509' && !individual.blocker
        ? individual.attestation.clientCertificates[0]
        : undefined;
    const chain = certificates[registrationId];
    return {
      registrationId,
      ...(attestation ? { attestation } : {}),
      ...(groupId ? { groupId } : {}),
      ...(chain ? { chain } : {}),
      ...(leaf ? { leafCertificate: leaf } : {}),
      ...(individual && !individual.blocker && !groupId ? { enrolledIndividually: true } : {}),
      ...(group?.attestation.type === 'x509'
        ? { groupCertificates: group.attestation.signingCertificates }
        : {}),
    };
  });
}

/** Without the pre-run read (a resumed run, a later verify), the journaled plan still tells what was there. */
export function priorFromPlan(plan: Plan): KnownState {
  return {
    individualEnrollments: plan.prior?.individualEnrollments ?? [],
    enrollmentGroups: plan.prior?.enrollmentGroups ?? [],
    registrations: plan.snapshot,
    hubDevices: [],
  };
}

/** The selected enrollment or group, and the selected devices' own enrollments, as read before the run. */
export function priorOf(selection: Selection, state: KnownState): NonNullable<Plan['prior']> {
  const ids = new Set(
    selection.kind === 'enrollment'
      ? [selection.registrationId]
      : selection.kind === 'groupDevices'
        ? selection.devices.map((d) => d.registrationId)
        : selection.kind === 'devices'
          ? enrolledIds(selection.parts ?? NO_PARTS)
          : [],
  );
  const groupIds = new Set(
    selection.kind === 'enrollment'
      ? []
      : selection.kind === 'devices'
        ? (selection.parts?.groups ?? []).map((g) => g.groupId)
        : [selection.groupId],
  );
  return {
    individualEnrollments: state.individualEnrollments.filter((e) => ids.has(e.registrationId)),
    enrollmentGroups: state.enrollmentGroups.filter((g) => groupIds.has(g.enrollmentGroupId)),
  };
}

export const sameTarget = (a: Selection, b: Selection): boolean => {
  if (a.kind === 'enrollment') return b.kind === 'enrollment' && a.registrationId === b.registrationId;
  if (a.kind === 'devices' || b.kind === 'devices') {
    return (
      a.kind === 'devices' &&
      b.kind === 'devices' &&
      [...a.ids].sort().join('\n') === [...b.ids].sort().join('\n')
    );
  }
  return b.kind !== 'enrollment' && a.groupId === b.groupId;
};

const NO_PARTS: DeviceParts = { enrollments: [], groups: [], unenrolled: [] };

/** The group a selection names (its devices came through it), if it names one. */
export const selectionGroupId = (s: Selection): string | undefined =>
  s.kind === 'group' || s.kind === 'groupDevices' ? s.groupId : undefined;

export function selectedIds(selection: Selection, state: KnownState): string[] {
  if (selection.kind === 'enrollment') return [selection.registrationId];
  if (selection.kind === 'groupDevices') return selection.devices.map((d) => d.registrationId);
  if (selection.kind === 'devices') return selection.parts ? enrolledIds(selection.parts) : selection.ids;
  return state.registrations.map((r) => r.registrationId);
}

export function chainsOf(
  selection: Selection,
  held: Record<string, ParsedCertificate[]>,
): Record<string, ParsedCertificate[]> {
  const devices =
    selection.kind === 'groupDevices'
      ? selection.devices
      : selection.kind === 'devices'
        ? (selection.parts?.groups ?? []).flatMap((g) => g.devices)
        : [];
  if (devices.length === 0) return held;
  const chains = { ...held };
  for (const d of devices)
    if (d.certificatePem) chains[d.registrationId] = parseCertificateChain(d.certificatePem);
  return chains;
}

/**
 * Devices of an X.509 group whose certificate the tool holds (the sandbox's demo devices) get an X.509
 * blocker, the more specific one the procedure prefers when the device certificate is at hand.
 */
export function withHeldCertificates(
  selection: Selection,
  state: KnownState,
  held: Record<string, ParsedCertificate[]>,
): Selection {
  if (selection.kind === 'devices') {
    if (!selection.parts) return selection;
    const groups = selection.parts.groups.map((g) => {
      const s = withHeldCertificates({ kind: 'groupDevices', ...g }, state, held);
      return s.kind === 'groupDevices' ? { groupId: s.groupId, devices: s.devices } : g;
    });
    return { ...selection, parts: { ...selection.parts, groups } };
  }
  if (selection.kind !== 'groupDevices') return selection;
  const group = state.enrollmentGroups.find((g) => g.enrollmentGroupId === selection.groupId);
  if (group?.attestation.type !== 'x509') return selection;
  const devices = selection.devices.map((d) => {
    const chain = held[d.registrationId];
    if (d.certificatePem || !chain?.length) return d;
    return { ...d, certificatePem: chain.map((c) => c.pem).join('\n') };
  });
  return { ...selection, devices };
}

/** Device IDs of devices known only from before the run (their records deleted since), to look up. */
export function priorDeviceIds(
  prior: KnownState | undefined,
  expected: Map<string, { deviceId: string }[]>,
): string[] {
  return [
    ...(prior?.registrations ?? []).flatMap((r) => deviceIdsOf(r.registrationId, r)),
    ...[...expected.values()].flatMap((list) => list.map((e) => e.deviceId)),
  ];
}
