/**
 * Azurite's blob service as a child process on a loopback port (in memory), with a container SAS URL
 * (read, write, list, delete) per container for hub jobs. Stop it after use. The one start for the
 * benchmarks and the tests (test/support/azurite.ts re-exports it): it lives in bench/ because the build
 * compiles bench/ and not test/.
 *
 * `oauth`: Azurite over HTTPS (its own CA, `ca`) with `--oauth basic`, which accepts Entra ID bearer
 * tokens (Azurite reads a token's claims without checking its signature: issuer https://sts.windows.net/,
 * audience https://storage.azure.com, nbf/iat/exp; oid and tid make the user delegation key) and
 * serves Get User Delegation Key and user delegation SAS. `signIn` is the emulated `az login` for it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import {
  BlobServiceClient,
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { createServerCertificate } from '../src/services/emulator/certs.js';
import { storageClientOptions } from '../src/services/storage/user-delegation.js';

/** Azurite's documented development account (not a secret). */
const ACCOUNT = 'devstoreaccount1';
const ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteHandle {
  /** http://127.0.0.1:PORT/devstoreaccount1 (https with `oauth`) */
  blobUrl: string;
  /** With `oauth`: the CA certificate (PEM) of its HTTPS listener. */
  ca?: string;
  /**
   * With `oauth`: a credential answering as `az login` would, a token Azurite accepts for storage
   * (`expired`: one whose lifetime is over, which storage refuses).
   */
  signIn(options?: { expired?: boolean }): TokenCredential;
  /**
   * A new container and its SAS URL (read, write, delete, list for an hour, unless `permissions` (e.g.
   * 'rw') or `expiresOn` say otherwise).
   */
  container(name: string, sas?: { permissions?: string; expiresOn?: Date }): Promise<string>;
  /** Blob names in a container (read with the account key, not the SAS). */
  blobs(container: string): Promise<string[]>;
  /** The text of every blob in a container. */
  texts(container: string): Promise<string[]>;
  stop(): Promise<void>;
}

/** An unsigned JWT with the claims Azurite checks (it does not check the signature). */
function storageToken(oid: string, expired: boolean): AccessToken {
  const now = Math.floor(Date.now() / 1000);
  const exp = expired ? now - 60 : now + 3600;
  const tid = '72f988bf-86f1-41af-91ab-2d7cd011db47';
  const claims = {
    aud: 'https://storage.azure.com',
    iss: `https://sts.windows.net/${tid}/`,
    iat: exp - 3660,
    nbf: exp - 3660,
    exp,
    oid,
    tid,
  };
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return {
    token: `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.${Buffer.from('unsigned').toString('base64url')}`,
    expiresOnTimestamp: exp * 1000,
  };
}

/** With oauth: a certificate for 127.0.0.1 in Azurite's working folder, and the flags that use it. */
async function httpsArgs(location: string): Promise<{ args: string[]; ca: string }> {
  const tls = await createServerCertificate();
  writeFileSync(join(location, 'cert.pem'), tls.cert);
  writeFileSync(join(location, 'key.pem'), tls.key);
  const args = ['--oauth', 'basic', '--cert', join(location, 'cert.pem'), '--key', join(location, 'key.pem')];
  return { args, ca: tls.ca };
}

export async function startAzurite(options: { oauth?: boolean } = {}): Promise<AzuriteHandle> {
  const require = createRequire(import.meta.url);
  const main = require.resolve('azurite/dist/src/blob/main.js');
  const location = mkdtempSync(join(tmpdir(), 'azurite-'));
  const https = options.oauth ? await httpsArgs(location) : undefined;
  const child: ChildProcess = spawn(
    process.execPath,
    [
      main,
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      '0',
      '--inMemoryPersistence',
      '--skipApiVersionCheck',
      '--disableTelemetry',
      ...(https?.args ?? []),
    ],
    // Its working folder: whatever it may write beside its memory goes there, not into the clone.
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: location },
  );
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`Azurite did not start: ${out}`)), 30_000);
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listens on https?:\/\/127\.0\.0\.1:(\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`Azurite exited (${code}): ${out}`));
      });
    });
  } catch (e) {
    child.kill('SIGTERM');
    rmSync(location, { recursive: true, force: true });
    throw e;
  }
  const blobUrl = `${https ? 'https' : 'http'}://127.0.0.1:${port}/${ACCOUNT}`;
  const credential = new StorageSharedKeyCredential(ACCOUNT, ACCOUNT_KEY);
  const service = new BlobServiceClient(blobUrl, credential, storageClientOptions(https?.ca));
  return {
    blobUrl,
    ...(https ? { ca: https.ca } : {}),
    signIn(opts = {}) {
      if (!https) throw new Error('Azurite was started without oauth: it takes no tokens');
      const oid = randomUUID(); // the signed-in identity's object ID
      return { getToken: async () => storageToken(oid, opts.expired === true) };
    },
    async container(name, given = {}) {
      await service.getContainerClient(name).createIfNotExists();
      const sas = generateBlobSASQueryParameters(
        {
          containerName: name,
          permissions: ContainerSASPermissions.parse(given.permissions ?? 'rwdl'),
          expiresOn: given.expiresOn ?? new Date(Date.now() + 3_600_000),
        },
        credential,
      ).toString();
      return `${blobUrl}/${name}?${sas}`;
    },
    async blobs(container) {
      const names: string[] = [];
      for await (const b of service.getContainerClient(container).listBlobsFlat()) names.push(b.name);
      return names;
    },
    async texts(container) {
      const c = service.getContainerClient(container);
      const out: string[] = [];
      for await (const b of c.listBlobsFlat())
        out.push((await c.getBlockBlobClient(b.name).downloadToBuffer()).toString('utf8'));
      return out;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(location, { recursive: true, force: true });
    },
  };
}
