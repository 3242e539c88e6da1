/**
 * One or several devices of an enrollment group: each gets a DISABLED individual enrollment (a blocker)
 * with its registration ID, which DPS finds before the group. The rest of the group keeps working.
 */
import { isUserError } from './errors.js';
import { parseCertificateChain, sameName } from './certs.js';
import type { CertificateInfo, EnrollmentGroup, ParsedCertificate, RegistrationRecord } from './model.js';
import { PlanBuilder, refuse, sampleIds } from './plan-builder.js';
import { plural } from './text.js';
import type { Draft, PlanContext } from './plan-context.js';
import type { Actions, DeviceChoice, Selection } from './selection.js';

const X509_BLOCKER = 'X.509 blocker from the device certificate';
const KEY_BLOCKER = 'symmetric key blocker';

function deviceChain(
  choice: DeviceChoice,
  groupId: string,
  symmetricKeyGroup: boolean,
): ParsedCertificate[] | undefined {
  if (choice.certificatePem === undefined) return undefined;
  const id = choice.registrationId;
  if (symmetricKeyGroup) {
    refuse(
      'wrong-attestation',
      `A certificate was given for ${id}, but enrollment group ${groupId} uses symmetric keys: its devices ` +
        'present a key, not a certificate. ' +
        'Leave the certificate out and the blocker is a symmetric-key enrollment.',
    );
  }
  let chain: ParsedCertificate[] = [];
  try {
    chain = parseCertificateChain(choice.certificatePem);
  } catch (e) {
    if (!isUserError(e, 'certificate')) throw e;
    refuse('invalid-selection', `The certificate given for ${id} cannot be used: ${e.message}.`);
  }
  const cn = chain[0].commonName;
  if (cn !== id) {
    refuse(
      'wrong-attestation',
      `The certificate given for ${id} belongs to "${cn}" (its subject CN): ` +
        'an X.509 blocker only stops the ' +
        `device whose certificate CN is its registration ID. Give ${id}'s own certificate, or leave it out ` +
        'to write a symmetric-key blocker.',
    );
  }
  return chain;
}

/**
 * What is odd about a device certificate given on the command line: expired, not yet valid, or not issued
 * (directly or through the chain given with it) by a certificate of the group. Empty when nothing is, or
 * when it cannot be told (no time given, a group CA the tool cannot see).
 */
export function certificateOddities(
  chain: ParsedCertificate[],
  groupCertificates: CertificateInfo[],
  canTellIssuer: boolean,
  now: Date | undefined,
): string[] {
  const leaf = chain[0];
  if (!leaf) return [];
  const odd: string[] = [];
  const day = (iso: string) => iso.slice(0, 10);
  if (now) {
    const notAfter = leaf.notAfter ? Date.parse(leaf.notAfter) : Number.NaN;
    const notBefore = leaf.notBefore ? Date.parse(leaf.notBefore) : Number.NaN;
    if (Number.isFinite(notAfter) && notAfter < now.getTime())
      odd.push(`it expired on ${day(leaf.notAfter as string)}`);
    if (Number.isFinite(notBefore) && notBefore > now.getTime())
      odd.push(`it is not valid before ${day(leaf.notBefore as string)}`);
  }
  if (canTellIssuer && groupCertificates.length > 0) {
    // Walk up from the leaf through the certificates given with it, to one the group holds.
    let current: CertificateInfo = leaf;
    let trusted = false;
    for (let hops = 0; hops <= chain.length; hops++) {
      if (groupCertificates.some((g) => sameName(g.subjectName, current.issuerName))) {
        trusted = true;
        break;
      }
      const next = chain.find((c) => c !== current && sameName(c.subjectName, current.issuerName));
      if (!next) break;
      current = next;
    }
    if (!trusted) odd.push(`its issuer (${leaf.issuerName}) is none of the group's certificates`);
  }
  return odd;
}

function oddCertificateWarning(id: string, group: EnrollmentGroup, odd: string[]) {
  return {
    code: 'device-certificate-odd' as const,
    severity: 'caution' as const,
    message:
      `The certificate given for ${id} looks wrong: ${odd.join('; ')}. ` +
      'DPS matches an X.509 blocker by the certificate itself, so the blocker is still written from it, ' +
      'but it stops the device only if this is the certificate the device presents.',
    recommendation: `Check that it is ${id}'s current certificate (the one its group ${group.enrollmentGroupId} accepts).`,
    registrationIds: [id],
    path: `enrollmentGroups/${group.enrollmentGroupId}`,
  };
}

/** What the devices chosen already have at DPS, as the blockers are planned (each list warns once). */
interface BlockerOutcomes {
  alreadyBlocked: string[];
  enabledOwn: string[];
  keyBlockersOfX509: string[];
}

export function planGroupDevices(
  selection: Extract<Selection, { kind: 'groupDevices' }>,
  actions: Actions,
  ctx: PlanContext,
  /** A plan of several parts (a `devices` selection) builds them all into one builder. */
  builder = new PlanBuilder(),
): Draft {
  const groupId = selection.groupId;
  const path = `enrollmentGroups/${groupId}`;
  const group =
    ctx.groups.get(groupId) ??
    refuse(
      'unknown-target',
      `No enrollment group "${groupId}" exists on this DPS (${path}). ` +
        'Check the group ID or choose one from the list.',
    );
  const { choices, records } = chosenRecords(selection, ctx);
  const ids = records.map((r) => r.registrationId);
  builder.add(
    'snapshot',
    { kind: 'snapshotRegistrations', groupId, count: records.length },
    `journal ${plural(records.length, 'registration record')} of ${path} ` +
      '(read before any change; no service call)',
    [],
  );
  const outcomes: BlockerOutcomes = { alreadyBlocked: [], enabledOwn: [], keyBlockersOfX509: [] };
  const evidence: Draft['evidence'] = choices.map((choice) => {
    const given = deviceChain(choice, groupId, group.attestation.type === 'symmetricKey');
    addBlocker(builder, ctx, group, choice, given, outcomes);
    const id = choice.registrationId;
    return {
      registrationId: id,
      attestation: group.attestation.type,
      groupId,
      chain: given ?? ctx.chainOf(id),
    };
  });
  warnBlockerOutcomes(builder, group, outcomes, ids);
  builder.addHubSteps(
    records.map((r) => ctx.hubTargetOf(r.registrationId, r)),
    actions.deregister,
    ctx.state.hubsWithCredentials,
    ctx.state.hubLookup,
  );
  builder.addVerifySteps(ids, path);
  return { builder, snapshot: records, evidence };
}

/** The devices chosen (each once) and their registration records; refused unless each registered through the group. */
function chosenRecords(
  selection: Extract<Selection, { kind: 'groupDevices' }>,
  ctx: PlanContext,
): { choices: DeviceChoice[]; records: RegistrationRecord[] } {
  const groupId = selection.groupId;
  const choices = [...new Map(selection.devices.map((d) => [d.registrationId, d])).values()];
  if (choices.length === 0) {
    refuse('no-devices', `No device was chosen: choose at least one device of enrollment group ${groupId}.`);
  }
  const inGroup = new Map((ctx.recordsByGroup.get(groupId) ?? []).map((r) => [r.registrationId, r]));
  const unknown = choices.filter((d) => !inGroup.has(d.registrationId)).map((d) => d.registrationId);
  if (unknown.length > 0) {
    refuse(
      'unknown-target',
      `${sampleIds(unknown, 10)} ${unknown.length === 1 ? 'has' : 'have'} no registration record ` +
        `in enrollment group ${groupId}: ` +
        `${unknown.length === 1 ? 'it' : 'they'} never registered through it. ` +
        'Check the registration IDs (case-sensitive) or choose devices from the group list.',
    );
  }
  return { choices, records: choices.flatMap((d) => inGroup.get(d.registrationId) ?? []) };
}

/**
 * The device's blocker: none when a disabled enrollment of its own already blocks it, its own enabled
 * enrollment disabled (a create would conflict, and DPS reads it first anyway), else a new disabled
 * enrollment (X.509 from the certificate given, or the symmetric-key fallback).
 */
function addBlocker(
  builder: PlanBuilder,
  ctx: PlanContext,
  group: EnrollmentGroup,
  choice: DeviceChoice,
  given: ParsedCertificate[] | undefined,
  outcomes: BlockerOutcomes,
): void {
  const id = choice.registrationId;
  const groupId = group.enrollmentGroupId;
  if (given && group.attestation.type === 'x509') {
    const groupCerts = ctx.groupCertificates(group);
    // A CA reference the tool cannot resolve hides the group's authority: no issuer check then.
    const canTell =
      groupCerts.length >=
      group.attestation.signingCertificates.length + group.attestation.caReferences.length;
    const odd = certificateOddities(given, groupCerts, canTell, ctx.options.now);
    if (odd.length > 0) builder.warn(oddCertificateWarning(id, group, odd));
  }
  const existing = ctx.individuals.get(id);
  if (existing?.provisioningStatus === 'disabled') {
    outcomes.alreadyBlocked.push(id);
    return;
  }
  if (existing) {
    outcomes.enabledOwn.push(id);
    builder.add(
      'disenroll',
      { kind: 'disableEnrollment', registrationId: id },
      `PUT enrollments/${id} provisioningStatus=disabled`,
      [id],
    );
    return;
  }
  const x509 = given !== undefined;
  if (!x509 && group.attestation.type === 'x509') outcomes.keyBlockersOfX509.push(id);
  builder.add(
    'disenroll',
    {
      kind: 'createBlocker',
      registrationId: id,
      groupId,
      attestation: x509 ? 'x509' : 'symmetricKey',
      ...(x509 ? { certificatePem: choice.certificatePem } : {}),
      ...(ctx.options.runId !== undefined ? { runId: ctx.options.runId } : {}),
    },
    `PUT enrollments/${id} (new, provisioningStatus=disabled, ${x509 ? X509_BLOCKER : KEY_BLOCKER})`,
    [id],
  );
}

function warnBlockerOutcomes(
  builder: PlanBuilder,
  group: EnrollmentGroup,
  { alreadyBlocked, enabledOwn, keyBlockersOfX509 }: BlockerOutcomes,
  ids: string[],
): void {
  const groupId = group.enrollmentGroupId;
  const path = `enrollmentGroups/${groupId}`;
  if (alreadyBlocked.length > 0) {
    builder.warn({
      code: 'existing-individual-enrollment',
      severity: 'info',
      message:
        `${sampleIds(alreadyBlocked)} already ${alreadyBlocked.length === 1 ? 'has' : 'have'} ` +
        'a disabled individual enrollment: DPS already refuses them, so no blocker is written. ' +
        'It stays as it is.',
      registrationIds: alreadyBlocked,
    });
  }
  if (enabledOwn.length > 0) {
    builder.warn({
      code: 'existing-individual-enrollment',
      severity: 'caution',
      message:
        `${sampleIds(enabledOwn)} ${enabledOwn.length === 1 ? 'has' : 'have'} ` +
        'an enabled individual enrollment of its own, which DPS uses before the group: ' +
        'the plan disables that enrollment instead of writing a blocker, ' +
        'and from then on it blocks the device.',
      recommendation: `Never delete it afterwards: the device would re-enroll through group ${groupId}.`,
      registrationIds: enabledOwn,
    });
  }
  if (keyBlockersOfX509.length > 0) {
    builder.warn({
      code: 'key-blocker-for-x509-device',
      severity: 'caution',
      message:
        `No device certificate was given for ${sampleIds(keyBlockersOfX509)}: ` +
        `${keyBlockersOfX509.length === 1 ? 'its blocker is' : 'their blockers are'} a symmetric-key enrollment ` +
        `(the fallback), though X.509 group ${groupId}'s devices present a certificate. ` +
        'DPS documents that a disabled individual enrollment blocks an X.509 device; it does not document ' +
        'that a symmetric-key one stops a device that presents a certificate.',
      recommendation:
        "Give each device's certificate for an X.509 blocker (TUI: c on the Devices screen; " +
        'command line: --device-cert FILE), or disable or delete the hub identity too.',
      registrationIds: keyBlockersOfX509,
      path,
    });
  }
  if (group.attestation.type === 'symmetricKey') {
    builder.warn({
      code: 'symmetric-key-group-device',
      severity: 'info',
      message:
        `Devices of symmetric-key group ${groupId} derive their keys from the group key: ` +
        'rotating it would cut off every device of the group, so the blocker is the way to stop just these.',
      registrationIds: ids,
      path,
    });
  }
}
