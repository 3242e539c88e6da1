/**
 * DPS service shapes <-> the core model. Keys never cross: attestation keys in a service answer are
 * dropped here, and the model types have nowhere to put them.
 */
import { X509Certificate } from 'node:crypto';
import { ServiceError } from '../../core/errors.js';
import {
  BLOCKER_TAG,
  type CertificateInfo,
  type EnrollmentGroup,
  type GroupAttestation,
  type IndividualAttestation,
  type IndividualEnrollment,
  type ProvisioningStatus,
  type RegistrationRecord,
  type RegistrationStatus,
  type ReprovisionPolicy,
} from '../../core/model.js';
import type { BulkItemResult } from '../../core/ports.js';
import { type Json, asJson, at } from './json.js';
import { parseErrorBody, safeDetail } from './service-errors.js';

const normalizeThumbprint = (value: unknown): string =>
  typeof value === 'string' ? value.replace(/[^0-9a-f]/gi, '').toUpperCase() : '';

/**
 * A hub host name as DPS reports it, lower case: host names are normalized here and where the flags are
 * parsed (azure/auth.ts), so the rest of the app compares them as they are.
 */
const hubHost = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value.toLowerCase() : undefined;

const optionalString = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : value instanceof Date ? value.toISOString() : undefined;

/** X509CertificateInfo as DPS returns it (notBeforeUtc/notAfterUtc; also accepts notBefore/notAfter). */
export function toCertificateInfo(info: Json): CertificateInfo {
  return {
    subjectName: String(info.subjectName ?? ''),
    issuerName: String(info.issuerName ?? ''),
    sha1Thumbprint: normalizeThumbprint(info.sha1Thumbprint),
    sha256Thumbprint: normalizeThumbprint(info.sha256Thumbprint),
    serialNumber: optionalString(info.serialNumber),
    notBefore: optionalString(info.notBeforeUtc ?? info.notBefore),
    notAfter: optionalString(info.notAfterUtc ?? info.notAfter),
  };
}

/** Info computed from a PEM, for answers that carry the certificate but no `info`. */
export function certificateInfoFromPem(pem: string): CertificateInfo {
  const cert = new X509Certificate(pem);
  return {
    subjectName: cert.subject.split('\n').join(', '),
    issuerName: cert.issuer.split('\n').join(', '),
    sha1Thumbprint: normalizeThumbprint(cert.fingerprint),
    sha256Thumbprint: normalizeThumbprint(cert.fingerprint256),
    serialNumber: cert.serialNumber.toUpperCase(),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
  };
}

function certificatesOf(pair: Json | undefined): CertificateInfo[] {
  if (!pair) return [];
  const out: CertificateInfo[] = [];
  for (const slot of [asJson(pair.primary), asJson(pair.secondary)]) {
    if (!slot) continue;
    const info = asJson(slot.info);
    if (info) out.push(toCertificateInfo(info));
    else if (typeof slot.certificate === 'string' && slot.certificate.includes('BEGIN CERTIFICATE')) {
      out.push(certificateInfoFromPem(slot.certificate));
    }
  }
  return out;
}

function unsupported(kind: string, id: string, type: unknown): ServiceError {
  return new ServiceError(
    'unknown',
    `${kind} '${id}' has an attestation type this tool does not know: ${String(type)}`,
  );
}

export function toIndividualAttestation(
  attestation: Json | undefined,
  registrationId: string,
): IndividualAttestation {
  const type = attestation?.type;
  if (type === 'tpm') return { type: 'tpm' };
  if (type === 'symmetricKey') return { type: 'symmetricKey' };
  if (type === 'x509')
    return {
      type: 'x509',
      clientCertificates: certificatesOf(at(attestation, 'x509', 'clientCertificates')),
    };
  throw unsupported('enrollment', registrationId, type);
}

export function toGroupAttestation(attestation: Json | undefined, groupId: string): GroupAttestation {
  const type = attestation?.type;
  if (type === 'symmetricKey') return { type: 'symmetricKey' };
  if (type === 'x509') {
    const refs = at(attestation, 'x509', 'caReferences');
    const caReferences = refs
      ? [refs.primary, refs.secondary].filter((r): r is string => typeof r === 'string' && r !== '')
      : [];
    return {
      type: 'x509',
      signingCertificates: certificatesOf(at(attestation, 'x509', 'signingCertificates')),
      caReferences,
    };
  }
  throw unsupported('enrollment group', groupId, type);
}

const toStatus = (value: unknown): ProvisioningStatus => (value === 'disabled' ? 'disabled' : 'enabled');

function toReprovisionPolicy(value: Json | undefined): ReprovisionPolicy | undefined {
  if (!value) return undefined;
  return {
    updateHubAssignment: value.updateHubAssignment !== false,
    migrateDeviceData: value.migrateDeviceData !== false,
  };
}

function toHubs(body: Json): string[] | undefined {
  if (Array.isArray(body.iotHubs) && body.iotHubs.length > 0)
    return body.iotHubs.map((h) => String(h).toLowerCase());
  const single = hubHost(body.iotHubHostName);
  return single ? [single] : undefined;
}

function toBlocker(body: Json): IndividualEnrollment['blocker'] {
  const tag = at(body, 'initialTwin', 'tags', BLOCKER_TAG);
  if (!tag) return undefined;
  return { groupId: optionalString(tag.groupId), runId: optionalString(tag.runId) };
}

/** Drops undefined fields, so mapped values compare cleanly and print tidily. */
function compact<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}

export function toIndividualEnrollment(body: Json): IndividualEnrollment {
  const registrationId = String(body.registrationId ?? '');
  return compact({
    registrationId,
    deviceId: optionalString(body.deviceId),
    attestation: toIndividualAttestation(asJson(body.attestation), registrationId),
    provisioningStatus: toStatus(body.provisioningStatus),
    etag: optionalString(body.etag),
    iotHubs: toHubs(body),
    reprovisionPolicy: toReprovisionPolicy(asJson(body.reprovisionPolicy)),
    createdDateTimeUtc: optionalString(body.createdDateTimeUtc),
    lastUpdatedDateTimeUtc: optionalString(body.lastUpdatedDateTimeUtc),
    blocker: toBlocker(body),
  });
}

export function toEnrollmentGroup(body: Json): EnrollmentGroup {
  const enrollmentGroupId = String(body.enrollmentGroupId ?? '');
  return compact({
    enrollmentGroupId,
    attestation: toGroupAttestation(asJson(body.attestation), enrollmentGroupId),
    provisioningStatus: toStatus(body.provisioningStatus),
    etag: optionalString(body.etag),
    iotHubs: toHubs(body),
    reprovisionPolicy: toReprovisionPolicy(asJson(body.reprovisionPolicy)),
    createdDateTimeUtc: optionalString(body.createdDateTimeUtc),
    lastUpdatedDateTimeUtc: optionalString(body.lastUpdatedDateTimeUtc),
  });
}

const REGISTRATION_STATUSES = new Set<RegistrationStatus>([
  'unassigned',
  'assigning',
  'assigned',
  'failed',
  'disabled',
]);

export function toRegistrationRecord(body: Json, enrollmentGroupId?: string): RegistrationRecord {
  const status = REGISTRATION_STATUSES.has(body.status as RegistrationStatus)
    ? (body.status as RegistrationStatus)
    : 'unassigned';
  return compact({
    registrationId: String(body.registrationId ?? ''),
    deviceId: optionalString(body.deviceId),
    assignedHub: hubHost(body.assignedHub),
    status,
    etag: optionalString(body.etag),
    enrollmentGroupId,
    createdDateTimeUtc: optionalString(body.createdDateTimeUtc),
    lastUpdatedDateTimeUtc: optionalString(body.lastUpdatedDateTimeUtc),
    errorCode: typeof body.errorCode === 'number' ? body.errorCode : undefined,
    errorMessage: optionalString(body.errorMessage),
  });
}

/** The first PEM block of what the person gave: the device (leaf) certificate of a chain file. */
export function leafPem(pem: string): string {
  const match = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  if (!match)
    throw new ServiceError(
      'badRequest',
      'the device certificate is not a PEM certificate (BEGIN CERTIFICATE)',
    );
  return `${match[0]}\n`;
}

/** The service body of a blocker: a DISABLED individual enrollment tagged so it can be recognised. */
export function blockerBody(input: {
  registrationId: string;
  groupId: string;
  certificatePem?: string;
  runId?: string;
}): Json {
  const attestation = input.certificatePem
    ? {
        type: 'x509',
        x509: { clientCertificates: { primary: { certificate: leafPem(input.certificatePem) } } },
      }
    : // Keys left out: the service generates them, and nobody needs them (the enrollment only refuses).
      { type: 'symmetricKey', symmetricKey: {} };
  const tag: Json = { groupId: input.groupId };
  if (input.runId) tag.runId = input.runId;
  return {
    registrationId: input.registrationId,
    provisioningStatus: 'disabled',
    attestation,
    initialTwin: { tags: { [BLOCKER_TAG]: tag }, properties: { desired: {} } },
  };
}

/** Each enrollment's answer in a bulk operation's result: failed with the service's reason, or done. */
export function bulkItemResults(enrollments: Json[], body: Json): BulkItemResult[] {
  const errors = new Map<string, Json>();
  for (const e of Array.isArray(body.errors) ? body.errors : []) {
    const item = asJson(e);
    if (item) errors.set(String(item.registrationId), item);
  }
  return enrollments.map((e) => {
    const id = String(e.registrationId);
    const failure = errors.get(id);
    if (!failure) {
      return body.isSuccessful === false && errors.size === 0
        ? { id, ok: false, message: 'the service reported the operation as failed without details' }
        : { id, ok: true };
    }
    const { code, message } = parseErrorBody({ errorCode: failure.errorCode, message: failure.errorStatus });
    return { id, ok: false, code, message: message ? safeDetail(message) : undefined };
  });
}
