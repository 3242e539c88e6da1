/**
 * Azurite's blob service as a child process on a loopback port (in memory), with a container SAS URL
 * (read, write, list, delete) per container for hub jobs. Stop it after use. The one start for the
 * benchmarks and the tests (test/support/azurite.ts re-exports it): it lives in bench/ because the build
 * compiles bench/ and not test/.
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

/** Azurite's documented development account (not a secret). */
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

export async function startAzurite(): Promise<AzuriteHandle> {
  const require = createRequire(import.meta.url);
  const main = require.resolve('azurite/dist/src/blob/main.js');
  const location = mkdtempSync(join(tmpdir(), 'azurite-'));
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
        const m = /listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
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
          expiresOn: new Date(Date.now() + 3_600_000),
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
