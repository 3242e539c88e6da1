/**
 * One or several devices of an enrollment group: each gets a DISABLED individual enrollment (a blocker)
 * with its registration ID, which DPS finds before the group. The rest of the group keeps working.
 */
import { CertificateError, parseCertificateChain } from './certs.js';
import type { ParsedCertificate, RegistrationRecord } from './model.js';
import { PlanBuilder, plural, refuse, sampleIds } from './plan-builder.js';
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
    if (!(e instanceof CertificateError)) throw e;
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

export function planGroupDevices(
  selection: Extract<Selection, { kind: 'groupDevices' }>,
  actions: Actions,
  ctx: PlanContext,
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
  const symmetricKeyGroup = group.attestation.type === 'symmetricKey';
  const builder = new PlanBuilder();
  const records: RegistrationRecord[] = choices.map((d) => inGroup.get(d.registrationId)!);
  const ids = records.map((r) => r.registrationId);
  builder.add(
    'snapshot',
    { kind: 'snapshotRegistrations', groupId, count: records.length },
    `journal ${plural(records.length, 'registration record')} of ${path} ` +
      '(read before any change; no service call)',
    [],
  );
  const alreadyBlocked: string[] = [];
  const enabledOwn: string[] = [];
  const evidence: Draft['evidence'] = [];
  for (const choice of choices) {
    const id = choice.registrationId;
    const given = deviceChain(choice, groupId, symmetricKeyGroup);
    const existing = ctx.individuals.get(id);
    if (existing?.provisioningStatus === 'disabled') {
      alreadyBlocked.push(id);
    } else if (existing) {
      // A create would conflict with it, and DPS reads it first anyway: disabling it is the blocker.
      enabledOwn.push(id);
      builder.add(
        'disenroll',
        { kind: 'disableEnrollment', registrationId: id },
        `PUT enrollments/${id} provisioningStatus=disabled`,
        [id],
      );
    } else {
      const x509 = given !== undefined;
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
    evidence.push({
      registrationId: id,
      attestation: group.attestation.type,
      groupId,
      chain: given ?? ctx.chainOf(id),
    });
  }
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
  if (symmetricKeyGroup) {
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
  builder.addHubSteps(
    records.map((r) => ctx.hubTargetOf(r.registrationId, r)),
    actions.deregister,
    ctx.state.hubsWithCredentials,
    ctx.state.hubLookup,
  );
  builder.addVerifySteps(ids, path);
  return { builder, snapshot: records, evidence };
}
