/**
 * Which enrollment lets a device in, decided the way DPS documents it and written on its own, apart
 * from the tool's re-enrollment analysis (src/core), so that each can catch the other's mistakes:
 * - an individual enrollment with the registration ID decides first, whatever groups say: its
 *   credential must match (else 401), then disabled refuses and enabled accepts;
 * - otherwise X.509 devices are looked up by the certificates of their chain, from the first
 *   intermediate up to the root, and the first enrollment group holding one decides;
 * - otherwise symmetric-key devices are looked up by the group whose key derives theirs.
 * A device that proves nothing to any enrollment is refused with 401.
 */
import type { X509Certificate } from 'node:crypto';
import { deriveDeviceKey } from '../seed-shared.js';
import type { EmulatorStore } from '../store.js';
import type { StoredEnrollment, StoredGroup, StoredX509Pair } from '../types.js';
import {
  commonNameOf,
  type DeviceCredential,
  hubThumbprint,
  isSelfSigned,
  issuedBy,
  parsedPem,
  sameCertificate,
  sasSignedWith,
} from './credentials.js';

export type DecidingEnrollment =
  | { kind: 'individual'; enrollment: StoredEnrollment }
  | { kind: 'group'; group: StoredGroup };

/** How the hub identity DPS creates for the device authenticates. */
export type HubCredentials =
  | { authType: 'sas'; primaryKey: string; secondaryKey: string }
  | { authType: 'selfSigned'; primaryThumbprint: string; secondaryThumbprint?: string }
  | { authType: 'certificateAuthority' };

export type Decision =
  | { kind: 'accept'; by: DecidingEnrollment; hubCredentials: HubCredentials }
  | { kind: 'disabled'; by: DecidingEnrollment; hubCredentials: HubCredentials }
  | { kind: 'unauthorized'; reason: string };

const unauthorized = (reason: string): Decision => ({ kind: 'unauthorized', reason });

function settle(by: DecidingEnrollment, hubCredentials: HubCredentials): Decision {
  const record = by.kind === 'individual' ? by.enrollment : by.group;
  return { kind: record.provisioningStatus === 'disabled' ? 'disabled' : 'accept', by, hubCredentials };
}

function pairCertificates(pair: StoredX509Pair | undefined): X509Certificate[] {
  return [pair?.primary, pair?.secondary].filter((p): p is string => !!p).map(parsedPem);
}

/** The CA certificates a group (or an individual enrollment with caReferences) stands on. */
function authorityCertificates(
  store: EmulatorStore,
  x509: NonNullable<StoredEnrollment['attestation']['x509']>,
): X509Certificate[] {
  const referenced = [x509.caReferences?.primary, x509.caReferences?.secondary]
    .map((name) => (name ? store.dps.caCertificates.get(name) : undefined))
    .filter((pem): pem is string => !!pem)
    .map(parsedPem);
  return [...pairCertificates(x509.signingCertificates), ...referenced];
}

/** Every certificate links to the next one; a chain that does not is refused whole. */
export function chainIsLinked(chain: X509Certificate[]): boolean {
  for (let i = 1; i < chain.length; i++) if (!issuedBy(chain[i - 1], chain[i])) return false;
  return true;
}

/**
 * The chain as DPS walks it: what the device sent, completed upward with the CA certificates DPS holds
 * (devices often leave out the root, or every CA).
 */
export function completedChain(chain: X509Certificate[], known: X509Certificate[]): X509Certificate[] {
  const full = [...chain];
  for (;;) {
    const top = full[full.length - 1];
    if (isSelfSigned(top)) return full;
    const issuer = known.find((c) => issuedBy(top, c) && !full.some((f) => sameCertificate(f, c)));
    if (!issuer) return full;
    full.push(issuer);
  }
}

function decideIndividual(
  store: EmulatorStore,
  enrollment: StoredEnrollment,
  credential: DeviceCredential,
  registrationId: string,
): Decision {
  const by: DecidingEnrollment = { kind: 'individual', enrollment };
  const { attestation } = enrollment;
  const mismatch = `the individual enrollment ${registrationId} uses ${attestation.type} attestation`;
  if (attestation.type === 'symmetricKey' && attestation.symmetricKey) {
    if (credential.kind !== 'sas')
      return unauthorized(`${mismatch}: a SAS token signed with its key is needed`);
    const { primaryKey, secondaryKey } = attestation.symmetricKey;
    if (!sasSignedWith(credential.token, primaryKey) && !sasSignedWith(credential.token, secondaryKey)) {
      return unauthorized(
        `the SAS signature does not match the keys of the individual enrollment ${registrationId}`,
      );
    }
    return settle(by, { authType: 'sas', primaryKey, secondaryKey });
  }
  if (attestation.type === 'x509' && attestation.x509) {
    if (credential.kind !== 'x509') return unauthorized(`${mismatch}: a client certificate is needed`);
    const leaf = credential.chain[0];
    const clients = pairCertificates(attestation.x509.clientCertificates);
    if (clients.length > 0) {
      if (!clients.some((c) => sameCertificate(c, leaf))) {
        return unauthorized(
          `the client certificate is not the one of the individual enrollment ${registrationId}`,
        );
      }
      return settle(by, {
        authType: 'selfSigned',
        primaryThumbprint: hubThumbprint(clients[0]),
        ...(clients[1] ? { secondaryThumbprint: hubThumbprint(clients[1]) } : {}),
      });
    }
    const authorities = authorityCertificates(store, attestation.x509);
    const chain = completedChain(credential.chain, authorities);
    if (
      !chainIsLinked(credential.chain) ||
      !chain.slice(1).some((c) => authorities.some((a) => sameCertificate(a, c)))
    ) {
      return unauthorized(
        `the certificate chain does not lead to the CA of the individual enrollment ${registrationId}`,
      );
    }
    return settle(by, { authType: 'certificateAuthority' });
  }
  // TPM enrollments: the emulator does not run the TPM challenge, so nothing proves such a device.
  return unauthorized(`${mismatch}, which the device did not prove`);
}

function decideByChain(store: EmulatorStore, chain: X509Certificate[]): Decision {
  if (!chainIsLinked(chain))
    return unauthorized('the certificate chain is broken: a certificate did not sign the one before it');
  const holders = [...store.groupIds()]
    .map((id) => store.dps.groups.get(id))
    .filter((g): g is StoredGroup => g?.attestation.type === 'x509' && !!g.attestation.x509)
    .map((group) => ({ group, certificates: authorityCertificates(store, group.attestation.x509 ?? {}) }));
  const known = [
    ...holders.flatMap((h) => h.certificates),
    ...[...store.dps.caCertificates.values()].map(parsedPem),
  ];
  // From the first intermediate up to the root: the leaf itself never names a group.
  for (const level of completedChain(chain, known).slice(1)) {
    const holder = holders.find((h) => h.certificates.some((c) => sameCertificate(c, level)));
    if (holder) return settle({ kind: 'group', group: holder.group }, { authType: 'certificateAuthority' });
  }
  return unauthorized("no enrollment group holds a certificate of the device's chain");
}

function decideBySymmetricKey(
  store: EmulatorStore,
  credential: DeviceCredential & { kind: 'sas' },
  registrationId: string,
): Decision {
  for (const id of store.groupIds()) {
    const group = store.dps.groups.get(id);
    const keys = group?.attestation.type === 'symmetricKey' ? group.attestation.symmetricKey : undefined;
    if (!group || !keys) continue;
    const primaryKey = deriveDeviceKey(keys.primaryKey, registrationId);
    const secondaryKey = deriveDeviceKey(keys.secondaryKey, registrationId);
    // The group's own key never works: only a key derived for this registration ID does.
    if (sasSignedWith(credential.token, primaryKey) || sasSignedWith(credential.token, secondaryKey)) {
      return settle({ kind: 'group', group }, { authType: 'sas', primaryKey, secondaryKey });
    }
  }
  return unauthorized(
    'the SAS signature matches no individual enrollment and no key derived from a group key',
  );
}

/** DPS's answer to a device that proved `credential` for `registrationId` (SAS checks already done). */
export function decide(
  store: EmulatorStore,
  registrationId: string,
  credential: DeviceCredential,
  now: Date,
): Decision {
  if (credential.kind === 'x509') {
    const leaf = credential.chain[0];
    const cn = commonNameOf(leaf);
    if (cn !== registrationId) {
      return unauthorized(
        `the client certificate's CN (${cn ?? 'none'}) is not the registration ID ${registrationId}`,
      );
    }
    if (new Date(leaf.validFrom) > now || new Date(leaf.validTo) < now) {
      return unauthorized('the client certificate is not valid at this time');
    }
  }
  const individual = store.dps.enrollments.get(registrationId);
  if (individual) return decideIndividual(store, individual, credential, registrationId);
  return credential.kind === 'x509'
    ? decideByChain(store, credential.chain)
    : decideBySymmetricKey(store, credential, registrationId);
}
