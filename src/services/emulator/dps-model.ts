/**
 * DPS bodies in and out. Incoming enrollments and groups are validated and turned into stored records
 * (certificates kept as PEM); stored records are answered the way DPS answers: certificate `info`
 * instead of the certificate, symmetric keys only through the attestation-mechanism call.
 */
import { certificateInfo, normalizeCertificate } from './certs.js';
import { ServiceError } from './errors.js';
import { type EmulatorStore, newKey } from './store.js';
import type {
  StoredAttestation,
  StoredEnrollment,
  StoredEnrollmentCommon,
  StoredGroup,
  StoredRegistration,
  StoredX509Pair,
} from './types.js';

// biome-ignore lint/suspicious/noExplicitAny: the emulator stores JSON the SDKs sent, read field by field (typed wrappers: issue 10 §5)
type Json = Record<string, any>;

const bad = (message: string) => new ServiceError('badRequest', message);
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function parsePair(
  raw: unknown,
  what: string,
  existing: StoredX509Pair | undefined,
): StoredX509Pair | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) throw bad(`${what} must be an object with primary and secondary certificates`);
  const out: StoredX509Pair = {};
  for (const slot of ['primary', 'secondary'] as const) {
    const entry = raw[slot];
    if (entry === undefined || entry === null) continue;
    if (!isObject(entry)) throw bad(`${what}.${slot} must be an object`);
    if (typeof entry.certificate === 'string' && entry.certificate.trim()) {
      const pem = normalizeCertificate(entry.certificate);
      if (!pem) throw bad(`${what}.${slot}.certificate is not a valid X.509 certificate (PEM or base64 DER)`);
      out[slot] = pem;
    } else if (entry.info && existing?.[slot]) {
      // A record read back from DPS carries `info` only: keep the certificate already stored.
      out[slot] = existing[slot];
    } else {
      throw bad(`${what}.${slot}.certificate is required`);
    }
  }
  if (!out.primary) throw bad(`${what}.primary is required`);
  return out;
}

export function parseAttestation(
  raw: unknown,
  forGroup: boolean,
  existing: StoredAttestation | undefined,
  store: EmulatorStore,
): StoredAttestation {
  if (!isObject(raw)) throw bad('attestation is required');
  const type = raw.type;
  if (type === 'tpm') return parseTpm(raw, forGroup);
  if (type === 'symmetricKey') return parseSymmetricKey(raw);
  if (type === 'x509') return parseX509(raw, forGroup, existing, store);
  throw bad(`attestation.type must be tpm, x509 or symmetricKey, not ${JSON.stringify(type)}`);
}

function parseTpm(raw: Json, forGroup: boolean): StoredAttestation {
  if (forGroup) throw bad('enrollment groups support X.509 and symmetric key attestation, not TPM');
  const tpm = raw.tpm;
  if (!isObject(tpm) || typeof tpm.endorsementKey !== 'string' || !tpm.endorsementKey) {
    throw bad('attestation.tpm.endorsementKey is required');
  }
  return {
    type: 'tpm',
    tpm: {
      endorsementKey: tpm.endorsementKey,
      ...(typeof tpm.storageRootKey === 'string' ? { storageRootKey: tpm.storageRootKey } : {}),
    },
  };
}

function parseSymmetricKey(raw: Json): StoredAttestation {
  const sk = isObject(raw.symmetricKey) ? raw.symmetricKey : {};
  const valid = (k: unknown) => typeof k === 'string' && Buffer.from(k, 'base64').length >= 16;
  for (const k of ['primaryKey', 'secondaryKey']) {
    if (sk[k] && !valid(sk[k])) throw bad(`attestation.symmetricKey.${k} must be base64, 16 to 64 bytes`);
  }
  // Keys left out are generated, on updates too: a client must send the keys to keep them.
  return {
    type: 'symmetricKey',
    symmetricKey: { primaryKey: sk.primaryKey || newKey(), secondaryKey: sk.secondaryKey || newKey() },
  };
}

function parseX509(
  raw: Json,
  forGroup: boolean,
  existing: StoredAttestation | undefined,
  store: EmulatorStore,
): StoredAttestation {
  const x = isObject(raw.x509) ? raw.x509 : {};
  const old = existing?.type === 'x509' ? existing.x509 : undefined;
  const client = parsePair(
    x.clientCertificates,
    'attestation.x509.clientCertificates',
    old?.clientCertificates,
  );
  const signing = parsePair(
    x.signingCertificates,
    'attestation.x509.signingCertificates',
    old?.signingCertificates,
  );
  const caReferences = parseCaReferences(x.caReferences, store);
  const count = [client, signing, caReferences].filter(Boolean).length;
  if (count !== 1) {
    throw bad(
      forGroup
        ? 'an X.509 enrollment group needs exactly one of signingCertificates or caReferences'
        : 'an X.509 individual enrollment needs clientCertificates (or caReferences)',
    );
  }
  if (forGroup && client)
    throw bad('enrollment groups use signingCertificates or caReferences, not clientCertificates');
  if (!forGroup && signing)
    throw bad('individual enrollments use clientCertificates, not signingCertificates');
  return {
    type: 'x509',
    x509: {
      ...(client ? { clientCertificates: client } : {}),
      ...(signing ? { signingCertificates: signing } : {}),
      ...(caReferences ? { caReferences } : {}),
    },
  };
}

/** CA references name verified CA certificates of the instance. */
function parseCaReferences(
  raw: unknown,
  store: EmulatorStore,
): { primary?: string; secondary?: string } | undefined {
  if (!isObject(raw) || !raw.primary) return undefined;
  const caReferences: { primary?: string; secondary?: string } = {};
  for (const slot of ['primary', 'secondary'] as const) {
    const name = raw[slot];
    if (!name) continue;
    if (!store.dps.caCertificates.has(String(name))) {
      throw bad(`attestation.x509.caReferences.${slot}: no verified CA certificate is named "${name}"`);
    }
    caReferences[slot] = String(name);
  }
  return caReferences;
}

function parseCommon(
  body: Json,
  forGroup: boolean,
  existing: StoredEnrollmentCommon | undefined,
  store: EmulatorStore,
  now: string,
): StoredEnrollmentCommon {
  const status = body.provisioningStatus ?? 'enabled';
  if (status !== 'enabled' && status !== 'disabled')
    throw bad('provisioningStatus must be enabled or disabled');
  const hubs = body.iotHubs;
  if (hubs !== undefined && hubs !== null) {
    if (!Array.isArray(hubs) || hubs.some((h) => typeof h !== 'string'))
      throw bad('iotHubs must be host names');
    for (const h of hubs) if (!store.hubByHost(h)) throw bad(`iotHubs: ${h} is not a hub linked to this DPS`);
  }
  const reprovision = isObject(body.reprovisionPolicy) ? body.reprovisionPolicy : undefined;
  return {
    attestation: parseAttestation(body.attestation, forGroup, existing?.attestation, store),
    provisioningStatus: status,
    etag: store.newDpsEtag(),
    createdDateTimeUtc: existing?.createdDateTimeUtc ?? now,
    lastUpdatedDateTimeUtc: now,
    ...(typeof body.iotHubHostName === 'string' ? { iotHubHostName: body.iotHubHostName } : {}),
    ...(Array.isArray(hubs) ? { iotHubs: hubs } : {}),
    allocationPolicy: typeof body.allocationPolicy === 'string' ? body.allocationPolicy : 'hashed',
    reprovisionPolicy: {
      updateHubAssignment: reprovision?.updateHubAssignment ?? true,
      migrateDeviceData: reprovision?.migrateDeviceData ?? true,
    },
    capabilities: { iotEdge: !!(isObject(body.capabilities) && body.capabilities.iotEdge) },
    ...(body.initialTwin ? { initialTwin: body.initialTwin } : {}),
    ...(body.customAllocationDefinition
      ? { customAllocationDefinition: body.customAllocationDefinition }
      : {}),
  };
}

export function parseEnrollment(
  body: unknown,
  pathId: string | undefined,
  existing: StoredEnrollment | undefined,
  store: EmulatorStore,
): StoredEnrollment {
  if (!isObject(body)) throw bad('the body must be an individual enrollment (JSON object)');
  const id = body.registrationId;
  if (typeof id !== 'string' || !/^[a-z0-9\-._:]{1,128}$/i.test(id)) {
    throw bad('registrationId is required: 1 to 128 characters among letters, digits and - . _ :');
  }
  if (pathId !== undefined && id !== pathId)
    throw bad(`registrationId "${id}" does not match the URL's "${pathId}"`);
  const now = new Date().toISOString();
  return {
    registrationId: id,
    ...(typeof body.deviceId === 'string' && body.deviceId ? { deviceId: body.deviceId } : {}),
    ...parseCommon(body, false, existing, store, now),
  };
}

export function parseGroup(
  body: unknown,
  pathId: string | undefined,
  existing: StoredGroup | undefined,
  store: EmulatorStore,
): StoredGroup {
  if (!isObject(body)) throw bad('the body must be an enrollment group (JSON object)');
  const id = body.enrollmentGroupId;
  if (typeof id !== 'string' || !/^[a-z0-9\-._:]{1,128}$/i.test(id)) {
    throw bad('enrollmentGroupId is required: 1 to 128 characters among letters, digits and - . _ :');
  }
  if (pathId !== undefined && id !== pathId)
    throw bad(`enrollmentGroupId "${id}" does not match the URL's "${pathId}"`);
  return { enrollmentGroupId: id, ...parseCommon(body, true, existing, store, new Date().toISOString()) };
}

function renderPair(pair: StoredX509Pair | undefined) {
  if (!pair) return undefined;
  return {
    ...(pair.primary ? { primary: { info: certificateInfo(pair.primary) } } : {}),
    ...(pair.secondary ? { secondary: { info: certificateInfo(pair.secondary) } } : {}),
  };
}

/** `withKeys`: the attestation-mechanism call is the only one that returns symmetric keys. */
export function renderAttestation(a: StoredAttestation, withKeys: boolean): Json {
  const out: Json = { type: a.type };
  if (a.tpm) out.tpm = { ...a.tpm };
  if (a.x509) {
    out.x509 = {
      ...(a.x509.clientCertificates ? { clientCertificates: renderPair(a.x509.clientCertificates) } : {}),
      ...(a.x509.signingCertificates ? { signingCertificates: renderPair(a.x509.signingCertificates) } : {}),
      ...(a.x509.caReferences ? { caReferences: { ...a.x509.caReferences } } : {}),
    };
  }
  if (a.symmetricKey) out.symmetricKey = withKeys ? { ...a.symmetricKey } : {};
  return out;
}

function renderCommon(e: StoredEnrollmentCommon): Json {
  return {
    attestation: renderAttestation(e.attestation, false),
    capabilities: e.capabilities ?? { iotEdge: false },
    ...(e.iotHubHostName ? { iotHubHostName: e.iotHubHostName } : {}),
    ...(e.initialTwin ? { initialTwin: e.initialTwin } : {}),
    etag: e.etag,
    provisioningStatus: e.provisioningStatus,
    reprovisionPolicy: e.reprovisionPolicy ?? { updateHubAssignment: true, migrateDeviceData: true },
    createdDateTimeUtc: e.createdDateTimeUtc,
    lastUpdatedDateTimeUtc: e.lastUpdatedDateTimeUtc,
    allocationPolicy: e.allocationPolicy ?? 'hashed',
    ...(e.iotHubs ? { iotHubs: [...e.iotHubs] } : {}),
    ...(e.customAllocationDefinition ? { customAllocationDefinition: e.customAllocationDefinition } : {}),
  };
}

export function renderRegistration(r: StoredRegistration): Json {
  return {
    registrationId: r.registrationId,
    createdDateTimeUtc: r.createdDateTimeUtc,
    ...(r.assignedHub ? { assignedHub: r.assignedHub } : {}),
    deviceId: r.deviceId,
    status: r.status,
    ...(r.substatus ? { substatus: r.substatus } : {}),
    ...(r.errorCode !== undefined ? { errorCode: r.errorCode, errorMessage: r.errorMessage } : {}),
    lastUpdatedDateTimeUtc: r.lastUpdatedDateTimeUtc,
    etag: r.etag,
  };
}

export function renderEnrollment(e: StoredEnrollment, store: EmulatorStore): Json {
  const reg = store.dps.registrations.get(e.registrationId);
  const own = reg && reg.enrollment.kind === 'individual' && reg.enrollment.id === e.registrationId;
  return {
    registrationId: e.registrationId,
    ...(e.deviceId ? { deviceId: e.deviceId } : {}),
    ...(own ? { registrationState: renderRegistration(reg) } : {}),
    ...renderCommon(e),
  };
}

export function renderGroup(g: StoredGroup): Json {
  return { enrollmentGroupId: g.enrollmentGroupId, ...renderCommon(g) };
}
