/**
 * Certificates: DPS's certificate `info` computed from a stored PEM, and generation of real chains
 * (root -> intermediate -> device leaf) and of the HTTPS listener's certificate, with @peculiar/x509
 * on Node's webcrypto. ECDSA P-256 keeps generation to a few milliseconds per certificate.
 */
import 'reflect-metadata';
import { X509Certificate as NodeX509, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

type KeyPair = webcrypto.CryptoKeyPair;
// @peculiar/x509 types its provider with the DOM's Crypto, which Node's webcrypto implements.
const crypto = webcrypto as unknown as Parameters<typeof x509.SubjectKeyIdentifierExtension.create>[2] &
  typeof webcrypto;
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY = 86_400_000;

export interface CertificateInfo {
  subjectName: string;
  sha1Thumbprint: string;
  sha256Thumbprint: string;
  issuerName: string;
  notBeforeUtc: string;
  notAfterUtc: string;
  serialNumber: string;
  version: number;
}

const infoCache = new Map<string, CertificateInfo>();

const dn = (s: string) => s.split('\n').filter(Boolean).reverse().join(', ');
const hex = (fingerprint: string) => fingerprint.replace(/:/g, '').toUpperCase();

/** DPS answers with facts about a certificate, never the certificate itself. */
export function certificateInfo(pem: string): CertificateInfo {
  let info = infoCache.get(pem);
  if (!info) {
    const c = new NodeX509(pem);
    info = {
      subjectName: dn(c.subject),
      sha1Thumbprint: hex(c.fingerprint),
      sha256Thumbprint: hex(c.fingerprint256),
      issuerName: dn(c.issuer),
      notBeforeUtc: new Date(c.validFrom).toISOString(),
      notAfterUtc: new Date(c.validTo).toISOString(),
      serialNumber: c.serialNumber.toUpperCase(),
      version: 3,
    };
    if (infoCache.size > 10_000) infoCache.clear();
    infoCache.set(pem, info);
  }
  return info;
}

/**
 * DPS accepts a certificate as PEM or as base64 DER; store it as one PEM block.
 * Returns undefined when the text is not a certificate.
 */
export function normalizeCertificate(text: string): string | undefined {
  const trimmed = text.trim();
  const firstPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(trimmed)?.[0];
  try {
    const c = firstPem
      ? new NodeX509(firstPem)
      : new NodeX509(Buffer.from(trimmed.replace(/\s+/g, ''), 'base64'));
    return c.toString().trim();
  } catch {
    return undefined;
  }
}

/** Subject common name of a PEM certificate (the registration ID of an X.509 device). */
export function commonName(pem: string): string | undefined {
  const subject = new NodeX509(pem).subject;
  return /(?:^|\n)CN=([^\n]+)/.exec(subject)?.[1];
}

export interface Authority {
  certPem: string;
  keyPem: string;
  certificate: x509.X509Certificate;
  keys: KeyPair;
}

async function newKeys(): Promise<KeyPair> {
  return (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as KeyPair;
}

async function keyPem(keys: KeyPair): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
}

function validity(days: number) {
  const now = Date.now();
  return { notBefore: new Date(now - DAY), notAfter: new Date(now + days * DAY) };
}

export async function createRootAuthority(name: string, days = 3650): Promise<Authority> {
  const keys = await newKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name,
      keys,
      signingAlgorithm: ALGORITHM,
      ...validity(days),
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { certPem: certificate.toString('pem'), keyPem: await keyPem(keys), certificate, keys };
}

interface IssueOptions {
  subject: string;
  issuer: Authority;
  ca?: boolean;
  days?: number;
  dnsNames?: string[];
  ipAddresses?: string[];
  serverAuth?: boolean;
}

async function issue(opts: IssueOptions): Promise<Authority> {
  const keys = await newKeys();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(!!opts.ca, undefined, true),
    new x509.KeyUsagesExtension(
      opts.ca
        ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
        : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement,
      true,
    ),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
    await x509.AuthorityKeyIdentifierExtension.create(opts.issuer.keys.publicKey, false, crypto),
  ];
  if (!opts.ca) {
    const usages = opts.serverAuth ? [x509.ExtendedKeyUsage.serverAuth] : [x509.ExtendedKeyUsage.clientAuth];
    extensions.push(new x509.ExtendedKeyUsageExtension(usages, false));
  }
  const names = [
    ...(opts.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (names.length) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  const certificate = await x509.X509CertificateGenerator.create(
    {
      subject: opts.subject,
      issuer: opts.issuer.certificate.subject,
      publicKey: keys.publicKey,
      signingKey: opts.issuer.keys.privateKey,
      signingAlgorithm: ALGORITHM,
      ...validity(opts.days ?? 825),
      extensions,
    },
    crypto,
  );
  return { certPem: certificate.toString('pem'), keyPem: await keyPem(keys), certificate, keys };
}

export function createIntermediateAuthority(subject: string, issuer: Authority): Promise<Authority> {
  return issue({ subject, issuer, ca: true, days: 1825 });
}

/** A device leaf; its subject CN is the device's registration ID. */
export function createDeviceCertificate(registrationId: string, issuer: Authority): Promise<Authority> {
  return issue({ subject: `CN=${registrationId}`, issuer, days: 365 });
}

/** A self-signed device certificate (individual enrollments may use one). */
export async function createSelfSignedDeviceCertificate(registrationId: string): Promise<Authority> {
  const keys = await newKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: `CN=${registrationId}`,
      keys,
      signingAlgorithm: ALGORITHM,
      ...validity(365),
      extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
    },
    crypto,
  );
  return { certPem: certificate.toString('pem'), keyPem: await keyPem(keys), certificate, keys };
}

/** The HTTPS listener's certificate: valid for every emulated host name and 127.0.0.1. */
export async function createServerCertificate(): Promise<{ ca: string; cert: string; key: string }> {
  const root = await createRootAuthority('CN=iot-deprovision emulator CA', 30);
  const server = await issue({
    subject: 'CN=iot-deprovision emulator',
    issuer: root,
    days: 30,
    serverAuth: true,
    dnsNames: ['*.azure-devices.net', '*.azure-devices-provisioning.net', 'localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  return { ca: root.certPem, cert: `${server.certPem}\n${root.certPem}`, key: server.keyPem };
}
