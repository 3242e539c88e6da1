/** Helpers for the adapter suites: certificates, and a sandbox (the real emulator with the real adapters). */
// @peculiar/x509 needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { EmulatorHandle, EmulatorOptions } from '../../src/services/emulator/index.js';
import { startEmulator } from '../../src/services/emulator/index.js';
import {
  buildPorts,
  type PortOptions,
  type ResolvedTarget,
  emulatorTarget,
} from '../../src/services/azure/target.js';

// @peculiar/x509 types its provider with the DOM's Crypto, which Node's webcrypto implements.
const crypto = webcrypto as any;
type KeyPair = webcrypto.CryptoKeyPair;
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

/** A device leaf issued by a fresh root, as PEM: `chain` is leaf first, then the root. */
export async function deviceChain(
  registrationId: string,
): Promise<{ leaf: string; chain: string; root: string }> {
  const rootKeys = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as KeyPair;
  const now = Date.now();
  const root = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: `CN=test-root-${registrationId}`,
      keys: rootKeys,
      signingAlgorithm: ALGORITHM,
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + 30 * DAY),
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
    },
    crypto,
  );
  const leafKeys = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as KeyPair;
  const leaf = await x509.X509CertificateGenerator.create(
    {
      subject: `CN=${registrationId}`,
      issuer: root.subject,
      publicKey: leafKeys.publicKey,
      signingKey: rootKeys.privateKey,
      signingAlgorithm: ALGORITHM,
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + 30 * DAY),
      extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
    },
    crypto,
  );
  const leafPem = leaf.toString('pem');
  const rootPem = root.toString('pem');
  return { leaf: leafPem, root: rootPem, chain: `${leafPem}\n${rootPem}\n` };
}

export interface Sandbox {
  emulator: EmulatorHandle;
  target: ResolvedTarget;
  ports: ReturnType<typeof buildPorts>;
}

/** The real emulator, and the real adapters pointed at it through the target resolution the CLI uses. */
export async function startSandbox(
  options: EmulatorOptions = {},
  portOptions: PortOptions = {},
): Promise<Sandbox> {
  const emulator = await startEmulator({ throttle: false, ...options });
  const target = emulatorTarget(emulator);
  return { emulator, target, ports: buildPorts(target, { timeoutMs: 5000, ...portOptions }) };
}

/** A connection string with another (valid base64) key: the service must answer 401. */
export function withWrongKey(connectionString: string): string {
  return connectionString.replace(
    /SharedAccessKey=[^;]+/,
    `SharedAccessKey=${Buffer.alloc(32, 7).toString('base64')}`,
  );
}

export async function collect<T>(pages: AsyncIterable<T[]>): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let count = 0;
  for await (const page of pages) {
    count += 1;
    items.push(...page);
  }
  return { items, pages: count };
}
