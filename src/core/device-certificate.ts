/**
 * A device certificate the person gives for one device of an X.509 group (the TUI's "attach a
 * certificate"): is it a certificate, is it this device's (subject CN = registration ID), and does its
 * chain lead to a certificate of the group. Pure: the file is read by the service that calls this.
 */
import { isIssuedBy, parseCertificateChain, sameName } from './certs.js';
import { UserError } from './errors.js';
import type { CertificateInfo, EnrollmentGroup } from './model.js';
import { certificateOddities } from './plan-group-devices.js';

export interface DeviceCertificate {
  /** The PEM text as given (leaf first), for the selection. */
  pem: string;
  /** The leaf's subject in DPS's form ("CN=dev-1, O=Contoso"). */
  subject: string;
  commonName: string;
  /** Certificates in the text (leaf included). */
  chainLength: number;
  /** What looks wrong but does not stop an X.509 blocker being written (expired, issuer not the group's). */
  oddities: string[];
}

const certificateError = (message: string): UserError => new UserError(message, { code: 'certificate' });

/** The group's certificates the tool can see: uploaded ones and the verified CAs its references name. */
export function groupAuthorities(
  group: EnrollmentGroup,
  caCertificates: Record<string, CertificateInfo> | undefined,
): { certificates: CertificateInfo[]; canTell: boolean } {
  if (group.attestation.type !== 'x509') return { certificates: [], canTell: false };
  const resolved = group.attestation.caReferences
    .map((name) => caCertificates?.[name])
    .filter((c): c is CertificateInfo => c !== undefined);
  const certificates = [...group.attestation.signingCertificates, ...resolved];
  const canTell =
    certificates.length > 0 &&
    certificates.length >=
      group.attestation.signingCertificates.length + group.attestation.caReferences.length;
  return { certificates, canTell };
}

/**
 * Checks `pem` as the certificate of device `registrationId` of `group`. Throws a UserError (code
 * 'certificate') saying what is wrong and what to do; never quotes the PEM body.
 */
export function checkDeviceCertificate(
  pem: string,
  group: EnrollmentGroup,
  registrationId: string,
  options: { caCertificates?: Record<string, CertificateInfo>; now?: Date } = {},
): DeviceCertificate {
  const groupId = group.enrollmentGroupId;
  if (group.attestation.type !== 'x509') {
    throw certificateError(
      `enrollment group ${groupId} uses symmetric keys: its devices present a key, not a certificate, ` +
        'so its blockers are symmetric-key enrollments and need no certificate',
    );
  }
  const chain = parseCertificateChain(pem);
  const leaf = chain[0];
  if (leaf.isCA) {
    throw certificateError(
      `the first certificate (${leaf.subjectName}) is a CA certificate, not a device certificate: ` +
        "give the device's own certificate first (leaf first, then its intermediates)",
    );
  }
  if (leaf.commonName !== registrationId) {
    throw certificateError(
      `the certificate belongs to "${leaf.commonName}" (its subject CN), not to ${registrationId}: ` +
        `an X.509 blocker stops only the device whose certificate CN is its registration ID; give ${registrationId}'s own certificate`,
    );
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    const child = chain[i];
    const parent = chain[i + 1];
    if (sameName(child.issuerName, parent.subjectName) && !isIssuedBy(child, parent)) {
      throw certificateError(
        `certificate ${i + 1} in the file names ${parent.subjectName} as its issuer, but the next certificate's key ` +
          'does not verify its signature: the chain is broken; give the chain exactly as the device presents it',
      );
    }
  }
  const { certificates, canTell } = groupAuthorities(group, options.caCertificates);
  const oddities = certificateOddities(chain, certificates, canTell, options.now);
  if (oddities.some((o) => o.startsWith('its issuer'))) {
    throw certificateError(
      `its chain (issuer ${leaf.issuerName}) leads to no certificate of group ${groupId}: ` +
        'give the certificate the device presents, its intermediates after it',
    );
  }
  if (!canTell) {
    oddities.push(`the CA of enrollment group ${groupId} could not be read, so its issuer was not checked`);
  }
  return {
    pem,
    subject: leaf.subjectName,
    commonName: leaf.commonName,
    chainLength: chain.length,
    oddities,
  };
}
