/**
 * Real X.509 chains for tests: root CA -> intermediate CA -> device leaf, signed with real keys
 * (@peculiar/x509 on Node's webcrypto). Private keys come out as PKCS#8 PEM so device-side tests can
 * open TLS connections with the leaf. Generation costs tens of milliseconds (RSA: more), so chains are
 * memoised per module instance, i.e. per test file (vitest runs each file in its own module graph).
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export type KeyAlgorithm = 'ec' | 'rsa';

export interface GeneratedCertificate {
  /** Subject as written, e.g. "CN=Contoso Root CA". */
  subject: string;
  commonName: string;
  /** Certificate PEM (one block). */
  pem: string;
  /** Private key, PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"). */
  keyPem: string;
  keys: CryptoKeyPair;
  certificate: x509.X509Certificate;
  algorithm: KeyAlgorithm;
}

export interface GeneratedChain {
  root: GeneratedCertificate;
  intermediate: GeneratedCertificate;
  leaf: GeneratedCertificate;
  /** What a device presents: leaf then intermediate then root, as one PEM text. */
  chainPem: string;
  /** Leaf and intermediate only (the root left out, as devices often send it). */
  leafAndIntermediatePem: string;
}

const ALGORITHMS: Record<KeyAlgorithm, webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams> = {
  ec: { name: 'ECDSA', namedCurve: 'P-256' },
  rsa: {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  },
};

const signingAlgorithm = (algorithm: KeyAlgorithm): webcrypto.EcdsaParams | webcrypto.Algorithm =>
  algorithm === 'ec' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };

let serial = 1;
const nextSerial = (): string => {
  serial += 1;
  // Positive, even-length hex; the random prefix keeps serials unique across files.
  const random = Buffer.from(webcrypto.getRandomValues(new Uint8Array(6))).toString('hex');
  return `01${random}${serial.toString(16).padStart(4, '0')}`;
};

const validity = (): { notBefore: Date; notAfter: Date } => {
  const now = Date.now();
  return { notBefore: new Date(now - 24 * 3600_000), notAfter: new Date(now + 365 * 24 * 3600_000) };
};

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function generateKeys(algorithm: KeyAlgorithm): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHMS[algorithm], true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
}

async function wrap(
  certificate: x509.X509Certificate,
  keys: CryptoKeyPair,
  commonName: string,
  algorithm: KeyAlgorithm,
): Promise<GeneratedCertificate> {
  return {
    subject: certificate.subject,
    commonName,
    pem: certificate.toString('pem'),
    keyPem: await exportKeyPem(keys.privateKey),
    keys,
    certificate,
    algorithm,
  };
}

const caUsages =
  x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature;

/** A self-signed root CA. */
export async function createRootCa(
  commonName: string,
  algorithm: KeyAlgorithm = 'ec',
): Promise<GeneratedCertificate> {
  const keys = await generateKeys(algorithm);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(),
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: signingAlgorithm(algorithm),
    ...validity(),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(caUsages, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return wrap(certificate, keys, commonName, algorithm);
}

/** A certificate signed by `issuer`: an intermediate CA (`ca: true`) or a device leaf (client auth). */
export async function issueCertificate(
  issuer: GeneratedCertificate,
  commonName: string,
  options: { ca?: boolean; algorithm?: KeyAlgorithm } = {},
): Promise<GeneratedCertificate> {
  const algorithm = options.algorithm ?? issuer.algorithm;
  const keys = await generateKeys(algorithm);
  const extensions: x509.Extension[] = options.ca
    ? [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(caUsages, true)]
    : [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ];
  extensions.push(
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
  );
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: nextSerial(),
    subject: `CN=${commonName}`,
    issuer: issuer.certificate.subject,
    publicKey: keys.publicKey,
    // The issuer's key algorithm decides how the certificate is signed.
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: signingAlgorithm(issuer.algorithm),
    ...validity(),
    extensions,
  });
  return wrap(certificate, keys, commonName, algorithm);
}

export interface ChainOptions {
  leafCn: string;
  rootCn?: string;
  intermediateCn?: string;
  algorithm?: KeyAlgorithm;
  /** Reuse an existing CA pair, so several devices share one root and intermediate. */
  ca?: { root: GeneratedCertificate; intermediate: GeneratedCertificate };
}

const joinPem = (...certs: GeneratedCertificate[]): string =>
  `${certs.map((c) => c.pem.trim()).join('\n')}\n`;

/** Root -> intermediate -> leaf, freshly generated. */
export async function generateChain(options: ChainOptions): Promise<GeneratedChain> {
  const algorithm = options.algorithm ?? 'ec';
  const root = options.ca?.root ?? (await createRootCa(options.rootCn ?? 'Test Root CA', algorithm));
  const intermediate =
    options.ca?.intermediate ??
    (await issueCertificate(root, options.intermediateCn ?? 'Test Intermediate CA', { ca: true, algorithm }));
  const leaf = await issueCertificate(intermediate, options.leafCn, { algorithm });
  return {
    root,
    intermediate,
    leaf,
    chainPem: joinPem(leaf, intermediate, root),
    leafAndIntermediatePem: joinPem(leaf, intermediate),
  };
}

const memo = new Map<string, Promise<GeneratedChain>>();

/**
 * Like `generateChain`, memoised by `key` within the test file: the same key gives the same chain.
 * Use distinct keys for chains that must not share keys.
 */
export function cachedChain(key: string, options: ChainOptions): Promise<GeneratedChain> {
  let chain = memo.get(key);
  if (!chain) {
    chain = generateChain(options);
    memo.set(key, chain);
  }
  return chain;
}
