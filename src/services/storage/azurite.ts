/**
 * Azurite's blob service (npm `azurite`, a development dependency) as a child process on a loopback port,
 * in memory, with a container SAS URL (read, write, list, delete) per container for hub jobs. Stop it
 * after use; it also exits when the process that started it dies (it watches its stdin, a pipe from us),
 * so a killed run leaves no storage behind. The one start for the sandbox, the benchmarks and the tests
 * (bench/azurite.ts and test/support/azurite.ts re-export it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BlobServiceClient,
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';

/** Azurite's documented development account (its key is published, but never shown either). */
const ACCOUNT = 'devstoreaccount1';
const ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteHandle {
  /** http://127.0.0.1:PORT/devstoreaccount1 */
  blobUrl: string;
  /** A new container and its SAS URL. */
  container(name: string): Promise<string>;
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

function spawnAzurite(main: string, cwd: string): ChildProcess {
  // argv[1] is a placeholder: Azurite parses its flags from process.argv after the program's name.
  const flags = ['--blobHost', '127.0.0.1', '--blobPort', '0', '--inMemoryPersistence'];
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
      const m = /listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
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

export async function startAzurite(): Promise<AzuriteHandle> {
  const main = azuriteMain();
  if (!main) throw new Error(`Azurite is not installed (${BLOB_MAIN} not found)`);
  const location = mkdtempSync(join(tmpdir(), 'azurite-'));
  const child = spawnAzurite(main, location);
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
  const blobUrl = `http://127.0.0.1:${port}/${ACCOUNT}`;
  const credential = new StorageSharedKeyCredential(ACCOUNT, ACCOUNT_KEY);
  const service = new BlobServiceClient(blobUrl, credential);
  return {
    blobUrl,
    async container(name) {
      await service.getContainerClient(name).createIfNotExists();
      const sas = generateBlobSASQueryParameters(
        {
          containerName: name,
          permissions: ContainerSASPermissions.parse('rwdl'),
          expiresOn: new Date(Date.now() + 24 * 3_600_000),
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
