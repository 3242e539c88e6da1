/**
 * What a device presents when it registers: a SAS token signed with its symmetric key, or the TLS
 * client certificate chain it sent. Checks here say whether a key or a certificate matches; which
 * enrollment the device belongs to is decided in decide.ts.
 */
import { createHmac, timingSafeEqual, X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

export interface DeviceSas {
  /** The resource as written in the token (the symmetric-key client does not URL-encode it). */
  sr: string;
  sig: Buffer;
  se: string;
  skn?: string;
}

export type DeviceCredential = { kind: 'sas'; token: DeviceSas } | { kind: 'x509'; chain: X509Certificate[] };

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Parses `SharedAccessSignature sr=...&sig=...&se=...&skn=registration`; undefined when it is not one. */
export function parseDeviceSas(header: string): DeviceSas | undefined {
  const m = /^SharedAccessSignature\s+(.+)$/i.exec(header.trim());
  if (!m) return undefined;
  const fields: Record<string, string> = {};
  for (const part of m[1].split('&')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq).toLowerCase()] = part.slice(eq + 1);
  }
  if (!fields.sr || !fields.sig || !fields.se) return undefined;
  return {
    sr: fields.sr,
    sig: Buffer.from(safeDecode(fields.sig), 'base64'),
    se: fields.se,
    ...(fields.skn ? { skn: safeDecode(fields.skn) } : {}),
  };
}

/**
 * Checks what every device token must say whatever key signed it: the resource is this registration
 * (`{idScope}/registrations/{registrationId}`), the key name is `registration`, and it has not expired.
 * Returns the reason it is refused, or undefined.
 */
export function sasProblem(
  token: DeviceSas,
  idScope: string,
  registrationId: string,
  nowSeconds: number,
): string | undefined {
  const resource = safeDecode(token.sr).toLowerCase();
  if (resource !== `${idScope}/registrations/${registrationId}`.toLowerCase()) {
    return `the token's resource (sr) is not ${idScope}/registrations/${registrationId}`;
  }
  if (token.skn !== undefined && token.skn !== 'registration') {
    return 'the token\'s key name (skn) must be "registration"';
  }
  const expiry = Number(token.se);
  if (!Number.isFinite(expiry) || expiry <= nowSeconds) return 'the SAS token has expired';
  return undefined;
}

/** True when `base64Key` signed the token: HMAC-SHA256 over sr + "\n" + se, sr as written or encoded. */
export function sasSignedWith(token: DeviceSas, base64Key: string): boolean {
  const key = Buffer.from(base64Key, 'base64');
  const forms = new Set([token.sr, safeDecode(token.sr), encodeURIComponent(safeDecode(token.sr))]);
  for (const sr of forms) {
    const expected = createHmac('sha256', key).update(`${sr}\n${token.se}`).digest();
    if (expected.length === token.sig.length && timingSafeEqual(expected, token.sig)) return true;
  }
  return false;
}

/** The chain the device sent in its TLS handshake, leaf first; empty without TLS or without a certificate. */
export function presentedChain(socket: Socket): X509Certificate[] {
  const tls = socket as Partial<TLSSocket>;
  if (typeof tls.getPeerCertificate !== 'function') return [];
  let current = tls.getPeerCertificate(true);
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  // Node links each certificate to its issuer; a self-signed root points at itself.
  while (current?.raw && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    chain.push(new X509Certificate(current.raw));
    current = current.issuerCertificate;
  }
  return chain;
}

export function commonNameOf(cert: X509Certificate): string | undefined {
  return /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
}

const pemCache = new Map<string, X509Certificate>();

/** A stored certificate (PEM) parsed once. */
export function parsedPem(pem: string): X509Certificate {
  let cert = pemCache.get(pem);
  if (!cert) {
    cert = new X509Certificate(pem);
    if (pemCache.size > 1_000) pemCache.clear();
    pemCache.set(pem, cert);
  }
  return cert;
}

export const sameCertificate = (a: X509Certificate, b: X509Certificate): boolean =>
  a.fingerprint256 === b.fingerprint256;

/** `issuer` signed `cert` (names agree and the signature verifies with the issuer's key). */
export function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

export function isSelfSigned(cert: X509Certificate): boolean {
  return issuedBy(cert, cert);
}

/** The hub's thumbprint format: SHA-1, upper-case hex without separators. */
export const hubThumbprint = (cert: X509Certificate): string =>
  cert.fingerprint.replace(/:/g, '').toUpperCase();
