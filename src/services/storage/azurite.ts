/**
 * Azurite's blob service (npm `azurite`, a development dependency) as a child process on a loopback port,
 * in memory, with a container SAS URL (read, write, list, delete) per container for hub jobs. Stop it
 * after use; it also exits when the process that started it dies (it watches its stdin, a pipe from us),
 * so a killed run leaves no storage behind. The one start for the sandbox, the benchmarks and the tests
 * (bench/azurite.ts wraps it: Entra ID sign-in for tests; test/support/azurite.ts re-exports that).
 *
 * `tls`: Azurite over HTTPS with that certificate and `--oauth basic`, which accepts Entra ID bearer
 * tokens and serves Get User Delegation Key and user delegation SAS (see bench/azurite.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BlobServiceClient,
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { storageClientOptions } from './user-delegation.js';

/** Azurite's documented development account (its key is published, but never shown either). */
const ACCOUNT = 'devstoreaccount1';
const ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteHandle {
  /** http://127.0.0.1:PORT/devstoreaccount1 (https with `tls`) */
  blobUrl: string;
  /** With `tls`: the CA certificate (PEM) of its HTTPS listener. */
  ca?: string;
  /**
   * A new container and its SAS URL (read, write, delete, list for a day, unless `permissions` (e.g.
   * 'rw') or `expiresOn` say otherwise).
   */
  container(name: string, sas?: { permissions?: string; expiresOn?: Date }): Promise<string>;
  /** Blob names in a container (read with the account key, not the SAS). */
  blobs(container: string): Promise<string[]>;
  /** The text of every blob in a container. */
  texts(container: string): Promise<string[]>;
  stop(): Promise<void>;
}

const BLOB_MAIN = 'azurite/dist/src/blob/main.js';

/** Azurite's blob service entry, or undefined when it is not installed (a packed install without dev deps). */
export function azuriteMain(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve(BLOB_MAIN);
  } catch {
    return undefined;
  }
}

/**
 * The child's program: exit when our end of its stdin closes (we died, or stopped it), then Azurite. The
 * pipe is unref'd: after a SIGTERM Azurite closes its server and the process ends as it would alone.
 */
const launcher = (main: string): string =>
  `process.stdin.on('end',()=>process.exit(0));process.stdin.on('error',()=>process.exit(0));` +
  `process.stdin.resume();process.stdin.unref();require(${JSON.stringify(main)});`;

/** Azurite over HTTPS with `--oauth basic`: the server certificate (PEM) and the CA that issued it. */
export interface AzuriteTls {
  cert: string;
  key: string;
  ca: string;
}

/** With tls: the certificate in Azurite's working folder, and the flags that use it. */
function tlsArgs(location: string, tls: AzuriteTls | undefined): string[] {
  if (!tls) return [];
  writeFileSync(join(location, 'cert.pem'), tls.cert);
  writeFileSync(join(location, 'key.pem'), tls.key);
  return ['--oauth', 'basic', '--cert', join(location, 'cert.pem'), '--key', join(location, 'key.pem')];
}

function spawnAzurite(main: string, cwd: string, tls: AzuriteTls | undefined): ChildProcess {
  // argv[1] is a placeholder: Azurite parses its flags from process.argv after the program's name.
  const flags = ['--blobHost', '127.0.0.1', '--blobPort', '0', '--inMemoryPersistence', ...tlsArgs(cwd, tls)];
  return spawn(
    process.execPath,
    ['-e', launcher(main), '--', 'azurite-blob', ...flags, '--skipApiVersionCheck', '--disableTelemetry'],
    // Its working folder: whatever it may write beside its memory goes there, not into the clone.
    { stdio: ['pipe', 'pipe', 'pipe'], cwd },
  );
}

/** The port Azurite says it listens on. */
function listening(child: ChildProcess): Promise<number> {
  return new Promise<number>((resolve, reject) => {
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
    child.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited (${code}): ${out}`));
    });
  });
}

export async function startAzurite(options: { tls?: AzuriteTls } = {}): Promise<AzuriteHandle> {
  const main = azuriteMain();
  if (!main) throw new Error(`Azurite is not installed (${BLOB_MAIN} not found)`);
  const location = mkdtempSync(join(tmpdir(), 'azurite-'));
  const child = spawnAzurite(main, location, options.tls);
  let port: number;
  try {
    port = await listening(child);
  } catch (e) {
    child.kill('SIGTERM');
    rmSync(location, { recursive: true, force: true });
    throw e;
  }
  // Read on: a full pipe would block Azurite's logging.
  child.stdout?.resume();
  child.stderr?.resume();
  const ca = options.tls?.ca;
  const blobUrl = `${ca ? 'https' : 'http'}://127.0.0.1:${port}/${ACCOUNT}`;
  const credential = new StorageSharedKeyCredential(ACCOUNT, ACCOUNT_KEY);
  const service = new BlobServiceClient(blobUrl, credential, storageClientOptions(ca));
  return {
    blobUrl,
    ...(ca ? { ca } : {}),
    async container(name, given = {}) {
      await service.getContainerClient(name).createIfNotExists();
      const sas = generateBlobSASQueryParameters(
        {
          containerName: name,
          permissions: ContainerSASPermissions.parse(given.permissions ?? 'rwdl'),
          expiresOn: given.expiresOn ?? new Date(Date.now() + 24 * 3_600_000),
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
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(location, { recursive: true, force: true });
    },
  };
}
