/**
 * Could this device provision again? Answered the way DPS decides (notes/dps-rules.md): an individual
 * enrollment with the registration ID first, whatever its state; only without one, enrollment groups.
 * Where what we can see leaves room (a broken or partial chain, names instead of certificates, a CA
 * we could not read) the answer leans to `possible`: a false "blocked" is the mistake that lets a
 * stolen device back in, a false "possible" only costs a warning.
 */
import { isIssuedBy, isSelfSigned, sameName } from './certs.js';
import { isEnabled, StateIndex } from './reenrollment-index.js';
import type {
  CertificateInfo,
  IndividualEnrollment,
  KnownState,
  ParsedCertificate,
  ReenrollmentVerdict,
} from './model.js';

/** What we know about one device when asking whether DPS would accept it. */
export interface DeviceEvidence {
  registrationId: string;
  attestation?: 'x509' | 'symmetricKey' | 'tpm';
  /** The certificate chain the device presents, leaf first. */
  chain?: ParsedCertificate[];
  /** The enrollment group it registered through. */
  groupId?: string;
  /**
   * The signing certificates of that group, remembered from before it was deleted: without them a
   * deleted group leaves nothing to walk up from.
   */
  groupCertificates?: CertificateInfo[];
  /** The leaf as DPS reports it on an X.509 individual enrollment (clientCertificates), without a chain. */
  leafCertificate?: CertificateInfo;
  /**
   * It was enrolled individually (known from before its enrollment was deleted): a symmetric key it holds is
   * that enrollment's own, not one derived from a group key.
   */
  enrolledIndividually?: boolean;
}

/** A verdict, and whether it rests on something we could not see (so a person should check by hand). */
export interface ReenrollmentFinding extends ReenrollmentVerdict {
  uncertain?: boolean;
}

const groupPath = (id: string): string => `enrollmentGroups/${id}`;
const enrollmentPath = (id: string): string => `enrollments/${id}`;
const quoted = (name: string): string => `"${name}"`;

export type Answer = Omit<ReenrollmentFinding, 'registrationId'>;

const NOTHING_ENROLLS = 'nothing enrolls this registration ID';

function individualAnswer(e: IndividualEnrollment): Answer {
  const path = enrollmentPath(e.registrationId);
  if (e.provisioningStatus === 'disabled') {
    const kind = e.blocker
      ? 'A disabled individual enrollment (blocker)'
      : 'A disabled individual enrollment';
    return {
      verdict: 'blocked',
      path,
      reason: `${kind} exists for this registration ID: DPS refuses it before looking at groups.`,
    };
  }
  return {
    verdict: 'allowed',
    path,
    reason:
      'An enabled individual enrollment exists for this registration ID: DPS accepts the device through it.',
  };
}

function symmetricKeyAnswer(index: StateIndex, device: DeviceEvidence): Answer {
  if (device.groupId !== undefined) {
    const entry = index.groups.get(device.groupId);
    const name = `Enrollment group ${device.groupId}`;
    if (!entry) {
      return {
        verdict: 'blocked',
        reason:
          `${name}, from whose key its own is derived, no longer exists and no individual enrollment ` +
          'exists for it: no enrollment holds a key it can present.',
      };
    }
    return isEnabled(entry.group)
      ? {
          verdict: 'allowed',
          path: groupPath(device.groupId),
          reason: `${name}, from whose key its own is derived, is enabled: DPS accepts it.`,
        }
      : {
          verdict: 'blocked',
          path: groupPath(device.groupId),
          reason: `${name}, from whose key its own is derived, is disabled: DPS refuses it.`,
        };
  }
  if (device.enrolledIndividually) {
    return {
      verdict: 'blocked',
      reason:
        `${NOTHING_ENROLLS}: its individual enrollment is gone, and the key it holds was that ` +
        "enrollment's own, not one derived from a group key.",
    };
  }
  const candidates = index.enabledSymmetricKeyGroups;
  if (candidates.length === 0) {
    return {
      verdict: 'blocked',
      reason:
        `${NOTHING_ENROLLS}: no individual enrollment, ` +
        'and no enabled symmetric-key group that could have derived its key.',
    };
  }
  const others =
    candidates.length > 1 ? ` (or one of ${candidates.length - 1} other enabled symmetric-key groups)` : '';
  return {
    verdict: 'possible',
    path: groupPath(candidates[0].enrollmentGroupId),
    uncertain: true,
    reason:
      'No individual enrollment exists for this registration ID. If the device holds a key derived from ' +
      `enrollment group ${candidates[0].enrollmentGroupId}${others}, DPS accepts it; ` +
      'which key it holds cannot be seen.',
  };
}

/** Nothing decided yet: an enabled group whose CA we could not read might still sit in the chain. */
function unresolvedOr(index: StateIndex, otherwise: Answer): Answer {
  const entry = index.enabledUnresolved[0];
  if (!entry) return otherwise;
  return {
    verdict: 'possible',
    path: groupPath(entry.group.enrollmentGroupId),
    uncertain: true,
    reason:
      `Enrollment group ${entry.group.enrollmentGroupId} (enabled) references CA certificate ` +
      `${quoted(entry.unresolved[0])}, which could not be read: it may be in this device's chain.`,
  };
}

function byNameAnswer(index: StateIndex, issuerNames: string[], lead: string): Answer {
  const found = index.firstGroupAbove(issuerNames);
  if (found) {
    const id = found.holder.group.enrollmentGroupId;
    const subject = quoted(found.certificate.subjectName);
    const held = `enrollment group ${id} holds ${subject}, above it in its chain by name`;
    return isEnabled(found.holder.group)
      ? {
          verdict: 'possible',
          path: groupPath(id),
          reason:
            `${lead}; ${held}, and is enabled: ` +
            'DPS would accept it (names are not proof; its chain would be).',
        }
      : {
          verdict: 'blocked',
          path: groupPath(id),
          reason: `${lead}; ${held}, and is disabled: DPS stops at that group and refuses it.`,
        };
  }
  return unresolvedOr(index, {
    verdict: 'blocked',
    reason: `${lead}; no enrollment group holds a certificate above it in its chain: ${NOTHING_ENROLLS}.`,
  });
}

function chainAnswer(index: StateIndex, chain: ParsedCertificate[]): Answer {
  for (let i = 1; i < chain.length; i++) {
    if (!isIssuedBy(chain[i - 1], chain[i])) {
      return {
        verdict: 'possible',
        uncertain: true,
        reason:
          `The certificate chain given is broken: certificate ${i + 1} (${quoted(chain[i].subjectName)}) ` +
          `did not sign certificate ${i} (${quoted(chain[i - 1].subjectName)}). ` +
          'DPS would refuse that chain, but it does ' +
          'not show what the device really holds: give its exact chain.',
      };
    }
    const holder = index.holdersOf(chain[i])[0];
    if (holder) {
      const id = holder.group.enrollmentGroupId;
      const which = `Enrollment group ${id} holds ${quoted(chain[i].subjectName)} from the device's chain`;
      return isEnabled(holder.group)
        ? {
            verdict: 'allowed',
            path: groupPath(id),
            reason: `${which} and is enabled: DPS accepts the device.`,
          }
        : {
            verdict: 'blocked',
            path: groupPath(id),
            reason: `${which} and is disabled: it is the first group DPS finds, so DPS refuses the device.`,
          };
    }
  }
  const top = chain[chain.length - 1];
  if (isSelfSigned(top)) {
    return unresolvedOr(index, {
      verdict: 'blocked',
      reason:
        'No enrollment group holds any certificate of its chain (checked up to its root ' +
        `${quoted(top.subjectName)}) and no individual enrollment exists: ${NOTHING_ENROLLS}.`,
    });
  }
  return byNameAnswer(
    index,
    [top.issuerName],
    `The chain given stops at ${quoted(top.subjectName)}, which is not a root CA`,
  );
}

function x509WithoutChainAnswer(index: StateIndex, device: DeviceEvidence): Answer {
  if (device.groupId !== undefined) {
    const entry = index.groups.get(device.groupId);
    const name = `Enrollment group ${device.groupId}, through which it registered,`;
    if (entry) {
      return isEnabled(entry.group)
        ? {
            verdict: 'allowed',
            path: groupPath(device.groupId),
            reason: `${name} is enabled: DPS accepts it.`,
          }
        : {
            verdict: 'blocked',
            path: groupPath(device.groupId),
            reason: `${name} is disabled: DPS refuses it.`,
          };
    }
    const remembered = device.groupCertificates ?? [];
    if (remembered.length === 0) {
      return unknownX509Answer(index, `${name} no longer exists and its certificate is not known`);
    }
    for (const c of remembered) {
      const holder = index.holdersOf(c)[0];
      if (holder) {
        const id = holder.group.enrollmentGroupId;
        return isEnabled(holder.group)
          ? {
              verdict: 'allowed',
              path: groupPath(id),
              reason:
                `${name} is gone, but enrollment group ${id} holds the same certificate ` +
                'and is enabled: DPS accepts it.',
            }
          : {
              verdict: 'blocked',
              path: groupPath(id),
              reason:
                `${name} is gone; enrollment group ${id} holds the same certificate ` +
                'and is disabled: DPS refuses it.',
            };
      }
    }
    const above = remembered.filter((c) => !sameName(c.issuerName, c.subjectName)).map((c) => c.issuerName);
    return byNameAnswer(index, above, `${name} no longer exists`);
  }
  const leaf = device.leafCertificate;
  if (leaf && sameName(leaf.subjectName, leaf.issuerName) && index.holdersOf(leaf).length === 0) {
    // A self-signed device certificate has no CA above it for a group to hold: nothing but an
    // individual enrollment could accept it.
    return {
      verdict: 'blocked',
      reason: `Its certificate is self-signed, so no enrollment group can hold a certificate above it, and no individual enrollment exists: ${NOTHING_ENROLLS}.`,
    };
  }
  if (device.leafCertificate) {
    return byNameAnswer(
      index,
      [device.leafCertificate.issuerName],
      'No enrollment holds its registration ID and its chain was not given',
    );
  }
  return unknownX509Answer(
    index,
    'Its certificate chain was not given and no group it registered through is known',
  );
}

function unknownX509Answer(index: StateIndex, lead: string): Answer {
  const entry = index.enabledX509[0];
  if (!entry)
    return {
      verdict: 'blocked',
      reason: `${lead}, and no X.509 enrollment group is enabled: ${NOTHING_ENROLLS}.`,
    };
  return {
    verdict: 'possible',
    path: groupPath(entry.group.enrollmentGroupId),
    uncertain: true,
    reason:
      `${lead}; enabled X.509 enrollment group ${entry.group.enrollmentGroupId} ` +
      'may hold a certificate of its chain.',
  };
}

function answer(index: StateIndex, device: DeviceEvidence): Answer {
  const individual = index.individuals.get(device.registrationId);
  if (individual) return individualAnswer(individual);
  const group = device.groupId !== undefined ? index.groups.get(device.groupId)?.group : undefined;
  const knowsCertificates =
    (device.chain?.length ?? 0) > 0 ||
    device.leafCertificate !== undefined ||
    (device.groupCertificates?.length ?? 0) > 0;
  const attestation =
    device.attestation ?? group?.attestation.type ?? (knowsCertificates ? 'x509' : undefined);
  switch (attestation) {
    case 'tpm':
      return {
        verdict: 'blocked',
        reason:
          `${NOTHING_ENROLLS}: no individual enrollment exists, ` +
          'and TPM devices provision only through individual enrollments.',
      };
    case 'symmetricKey':
      return symmetricKeyAnswer(index, device);
    case 'x509':
      return device.chain && device.chain.length > 0
        ? chainAnswer(index, device.chain)
        : x509WithoutChainAnswer(index, device);
    default: {
      const anyGroup = [...index.groups.values()].find((g) => isEnabled(g.group));
      if (!anyGroup)
        return {
          verdict: 'blocked',
          reason: `${NOTHING_ENROLLS}: no individual enrollment, no enabled group.`,
        };
      return {
        verdict: 'possible',
        path: groupPath(anyGroup.group.enrollmentGroupId),
        uncertain: true,
        reason:
          'How this device attests is not known and no individual enrollment exists for it: ' +
          'enabled enrollment ' +
          `group ${anyGroup.group.enrollmentGroupId} might accept it.`,
      };
    }
  }
}

/**
 * Answers without the registration ID. Devices that differ only by registration ID (a whole group's
 * records, no chains) get the very same answer object, computed once: 100,000 records stay cheap, and
 * callers may group devices by answer identity.
 */
export function createAnswerer(state: KnownState): (device: DeviceEvidence) => Readonly<Answer> {
  const index = new StateIndex(state);
  const shared = new Map<string, { certificates: CertificateInfo[] | undefined; answer: Answer }>();
  return (device) => {
    const perDevice =
      index.individuals.has(device.registrationId) ||
      (device.chain?.length ?? 0) > 0 ||
      device.leafCertificate !== undefined;
    if (perDevice) return answer(index, device);
    const key = `${device.attestation ?? ''}\u0000${device.groupId ?? ''}`;
    const cached = shared.get(key);
    if (cached && cached.certificates === device.groupCertificates) return cached.answer;
    const fresh = answer(index, device);
    shared.set(key, { certificates: device.groupCertificates, answer: fresh });
    return fresh;
  };
}

/** Index the state once, then answer for any number of devices. */
export function createReenrollmentAnalyzer(
  state: KnownState,
): (device: DeviceEvidence) => ReenrollmentFinding {
  const answerer = createAnswerer(state);
  return (device) => ({ registrationId: device.registrationId, ...answerer(device) });
}

export function analyzeReenrollment(device: DeviceEvidence, state: KnownState): ReenrollmentFinding {
  return createReenrollmentAnalyzer(state)(device);
}

export function analyzeMany(devices: Iterable<DeviceEvidence>, state: KnownState): ReenrollmentFinding[] {
  const analyze = createReenrollmentAnalyzer(state);
  return Array.from(devices, analyze);
}
