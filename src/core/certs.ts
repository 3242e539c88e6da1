/**
 * Certificates the person gives us (device certificate chains, PEM) parsed into the model's terms.
 * node:crypto's X509Certificate does the parsing and signature checks; nothing here does I/O.
 */
import { X509Certificate } from 'node:crypto';
import { UserError } from './errors.js';
import type { CertificateInfo, ParsedCertificate } from './model.js';

/** Bad certificate input (a UserError, code 'certificate'). Messages say what is wrong and never quote the PEM body. */
const certificateError = (message: string): UserError => new UserError(message, { code: 'certificate' });

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';
const OTHER_PEM = /-----BEGIN ([A-Z0-9 ]+)-----/;

// Parsed X509Certificate objects kept beside the plain data, so signature checks do not re-parse.
const parsedObjects = new WeakMap<ParsedCertificate, X509Certificate>();

/**
 * Node prints names one attribute per line in DER order ("C=US\nCN=x"); DPS shows them most specific
 * first, comma separated ("CN=x, C=US"). We keep the DPS form.
 */
const dpsName = (nodeName: string): string =>
  nodeName
    .split('\n')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .reverse()
    .join(', ');

/**
 * A name reduced so that the same distinguished name written in either order, with or without spaces
 * after commas, compares equal. Escaped commas ("\,") stay inside their attribute.
 */
export const normalizeName = (name: string): string =>
  name
    .split(/\n|(?<!\\),/)
    .map((part) => {
      const trimmed = part.trim();
      const eq = trimmed.indexOf('=');
      return eq < 0
        ? trimmed
        : `${trimmed.slice(0, eq).trim().toUpperCase()}=${trimmed.slice(eq + 1).trim()}`;
    })
    .filter((part) => part.length > 0)
    .sort()
    .join(',');

export const sameName = (a: string, b: string): boolean => normalizeName(a) === normalizeName(b);

const thumbprint = (colonHex: string): string => colonHex.replaceAll(':', '').toUpperCase();

const isoDate = (text: string): string | undefined => {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
};

const commonNameOf = (nodeSubject: string): string => {
  // The last CN in DER order is the most specific one when a subject carries several.
  const cns = nodeSubject
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('CN='));
  return cns.length > 0 ? cns[cns.length - 1].slice(3) : '';
};

const ordinal = (n: number): string => `certificate ${n} in the chain`;

function pemBlocks(pem: string): string[] {
  const text = pem.replace(/\r\n?/g, '\n');
  if (text.trim().length === 0) {
    throw certificateError(
      `the certificate text is empty: give the device certificate as PEM (${BEGIN} ... ${END})`,
    );
  }
  const blocks: string[] = [];
  let from = 0;
  for (;;) {
    const start = text.indexOf(BEGIN, from);
    if (start < 0) break;
    const end = text.indexOf(END, start + BEGIN.length);
    if (end < 0) {
      throw certificateError(
        `${ordinal(blocks.length + 1)} has no "${END}" line: ` +
          'the file looks cut short; copy the whole certificate',
      );
    }
    blocks.push(text.slice(start, end + END.length));
    from = end + END.length;
  }
  if (blocks.length === 0) {
    const other = OTHER_PEM.exec(text);
    if (other) {
      throw certificateError(
        `the file holds a ${other[1]}, not a certificate: give the device certificate (${BEGIN})`,
      );
    }
    throw certificateError(`the file does not contain a PEM certificate (${BEGIN})`);
  }
  return blocks;
}

function parseOne(block: string, index: number): ParsedCertificate {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(block);
  } catch {
    throw certificateError(
      `${ordinal(index + 1)} is not a certificate: ` +
        'its body does not decode as X.509 (damaged or not a certificate)',
    );
  }
  const body = block
    .slice(BEGIN.length, block.length - END.length)
    .replace(/\s+/g, '')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  const parsed: ParsedCertificate = {
    subjectName: dpsName(x509.subject),
    issuerName: dpsName(x509.issuer),
    sha1Thumbprint: thumbprint(x509.fingerprint),
    sha256Thumbprint: thumbprint(x509.fingerprint256),
    serialNumber: x509.serialNumber.toUpperCase(),
    notBefore: isoDate(x509.validFrom),
    notAfter: isoDate(x509.validTo),
    commonName: commonNameOf(x509.subject),
    isCA: x509.ca,
    pem: `${BEGIN}\n${body}\n${END}\n`,
  };
  parsedObjects.set(parsed, x509);
  return parsed;
}

/** Every certificate in the PEM text, in the order given (leaf first for a device chain). */
export function parseCertificateChain(pem: string): ParsedCertificate[] {
  return pemBlocks(pem).map(parseOne);
}

/** The part of a parsed certificate that DPS itself reports (X509CertificateInfo). */
export function certificateInfo(c: ParsedCertificate): CertificateInfo {
  const info: CertificateInfo = {
    subjectName: c.subjectName,
    issuerName: c.issuerName,
    sha1Thumbprint: c.sha1Thumbprint,
    sha256Thumbprint: c.sha256Thumbprint,
  };
  if (c.serialNumber !== undefined) info.serialNumber = c.serialNumber;
  if (c.notBefore !== undefined) info.notBefore = c.notBefore;
  if (c.notAfter !== undefined) info.notAfter = c.notAfter;
  return info;
}

const x509Of = (c: ParsedCertificate): X509Certificate => {
  let x509 = parsedObjects.get(c);
  if (!x509) {
    x509 = new X509Certificate(c.pem);
    parsedObjects.set(c, x509);
  }
  return x509;
};

/** True when `parent` issued `child`: the names link up AND the parent's key verifies the signature. */
export function isIssuedBy(child: ParsedCertificate, parent: ParsedCertificate): boolean {
  if (!sameName(child.issuerName, parent.subjectName)) return false;
  try {
    return x509Of(child).verify(x509Of(parent).publicKey);
  } catch {
    return false;
  }
}

/** A root: it names itself as issuer and its own key verifies its signature. */
export const isSelfSigned = (c: ParsedCertificate): boolean => isIssuedBy(c, c);

/** Same certificate, by either thumbprint (DPS reports both; older data may carry only one). */
export const sameCertificate = (a: CertificateInfo, b: CertificateInfo): boolean =>
  (a.sha1Thumbprint.length > 0 && a.sha1Thumbprint.toUpperCase() === b.sha1Thumbprint.toUpperCase()) ||
  (a.sha256Thumbprint.length > 0 && a.sha256Thumbprint.toUpperCase() === b.sha256Thumbprint.toUpperCase());
