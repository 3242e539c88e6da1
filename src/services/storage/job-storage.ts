/**
 * Job storage: the blob container an IoT hub's import/export jobs read from and write to, given as a
 * container URL with a SAS (read, write, list, delete). The blobs hold device keys: the tool deletes
 * what it wrote when a step ends, and shows the container only without its SAS.
 */
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { ContainerClient } from '@azure/storage-blob';

export interface JobStorage {
  /** The container URL with its SAS (a secret: never shown, logged or journaled). */
  readonly url: string;
  /** The container URL without its SAS: what messages and the journal may name. */
  readonly display: string;
  writeText(blob: string, text: string): Promise<void>;
  /** The blob's text, or undefined when there is no such blob. */
  readText(blob: string): Promise<string | undefined>;
  /**
   * The blob's lines, streamed (a 100,000-device export is never held whole). No such blob, or a storage
   * failure mid-way, rejects the iteration with a JobStorageError.
   */
  readLines(blob: string): AsyncIterable<string>;
  /** Deletes the blob; a missing blob is fine. */
  delete(blob: string): Promise<void>;
  /** Blob names in the container (for tests and clean-up checks). */
  list(): Promise<string[]>;
  /**
   * Takes the container for one job step: the hub's jobs read and write fixed blob names, so two steps
   * (two hubs of this run, or another run on any machine) must not use one container at once. A lease
   * on a marker blob, renewed while held; `waiting` is told while another holder has it. Resolves to
   * the release (which deletes the marker); `keep` leaves the lease to expire on its own instead.
   */
  claim(options: ClaimOptions): Promise<(keep?: boolean) => Promise<void>>;
}

export interface ClaimOptions {
  /**
   * Who claims (a run's step): the lease ID is made from it, so the same step resumed after a stop or a
   * crash takes back its own lease at once, while anyone else waits for it to be released or expire.
   */
  holder: string;
  signal?: AbortSignal;
  waiting?: () => void;
  /** How often to ask again while the container is taken (default 1 s). */
  retryMs?: number;
}

/** The marker blob whose lease says which job step has the container. */
export const CLAIM_BLOB = 'iot-deprovision.claim';
/** Lease length (s): a holder that dies frees the container this long after its last renewal. */
const LEASE_SECONDS = 60;

export class JobStorageError extends Error {}

/** Parses `--job-storage`: an http(s) container URL with a SAS (sig=...). Throws JobStorageError with what to do. */
export function parseJobStorageUrl(raw: string): { url: string; display: string } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new JobStorageError(
      '--job-storage is not a URL: give a blob container URL with a SAS (https://ACCOUNT.blob.core.windows.net/CONTAINER?sv=...&sig=...)',
    );
  }
  const display = `${u.protocol}//${u.host}${u.pathname}`;
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new JobStorageError(
      `--job-storage ${display} is not an http(s) URL: give a blob container URL with a SAS`,
    );
  }
  if (!u.searchParams.get('sig')) {
    throw new JobStorageError(
      `--job-storage ${display} carries no SAS: give the container URL with a SAS allowing read, write, list and delete`,
    );
  }
  const parts = u.pathname.split('/').filter(Boolean);
  // Azurite's URLs carry the account in the path (http://127.0.0.1:10000/devstoreaccount1/container).
  const container = u.hostname.includes('.blob.')
    ? parts.length === 1
    : parts.length >= 1 && parts.length <= 2;
  if (!container) {
    throw new JobStorageError(
      `--job-storage ${display} does not name one container: give the container's URL, not a blob's or the account's`,
    );
  }
  return { url: raw, display };
}

const statusOf = (e: unknown): number | undefined => (e as { statusCode?: number })?.statusCode;
const notFound = (e: unknown): boolean => statusOf(e) === 404;

/** Waits, or rejects with the signal's reason when it is aborted first. */
const pause = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** A lease ID (a GUID, as Azure asks) made from the holder's name. */
const leaseIdOf = (holder: string): string => {
  const h = createHash('sha256').update(holder).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

async function claimContainer(
  container: ContainerClient,
  options: ClaimOptions,
): Promise<(keep?: boolean) => Promise<void>> {
  const marker = container.getBlockBlobClient(CLAIM_BLOB);
  for (let told = false; ; ) {
    try {
      await marker.upload('', 0, { conditions: { ifNoneMatch: '*' } });
    } catch (e) {
      // 409/412: the marker is there already (held, or left by a holder that died).
      if (statusOf(e) !== 409 && statusOf(e) !== 412) throw e;
    }
    const lease = marker.getBlobLeaseClient(leaseIdOf(options.holder));
    try {
      await lease.acquireLease(LEASE_SECONDS);
      const renew = setInterval(
        () => {
          lease.renewLease().catch(() => {});
        },
        (LEASE_SECONDS * 1000) / 3,
      );
      renew.unref();
      return async (keep = false) => {
        clearInterval(renew);
        if (keep) return;
        await marker.delete({ conditions: { leaseId: lease.leaseId } }).catch(() => {});
      };
    } catch (e) {
      // 409: another step holds it; 404: its holder just released (deleted) it. Ask again.
      if (statusOf(e) !== 409 && statusOf(e) !== 404) throw e;
    }
    if (!told) options.waiting?.();
    told = true;
    await pause(options.retryMs ?? 1000, options.signal);
  }
}

/** Storage errors may quote the URL: never with its SAS. */
export function storageMessage(e: unknown): string {
  const err = e as { statusCode?: number; code?: string; message?: string };
  if (err?.statusCode) return `storage answered ${err.statusCode}${err.code ? ` (${err.code})` : ''}`;
  return String(err?.message ?? e)
    .split('\n')[0]
    .replace(/\?[^\s"']*sig=[^\s"']*/gi, '?<SAS>');
}

async function* blobLines(container: ContainerClient, blob: string, display: string): AsyncIterable<string> {
  try {
    const body = (await container.getBlockBlobClient(blob).download()).readableStreamBody;
    if (!body) return;
    yield* createInterface({ input: body, crlfDelay: Number.POSITIVE_INFINITY });
  } catch (e) {
    if (notFound(e)) throw new JobStorageError(`${blob} is not in ${display}`);
    throw new JobStorageError(`reading ${blob} in ${display} failed: ${storageMessage(e)}`);
  }
}

export function openJobStorage(raw: string): JobStorage {
  const { url, display } = parseJobStorageUrl(raw);
  const container = new ContainerClient(url);
  const wrap = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw new JobStorageError(`${what} in ${display} failed: ${storageMessage(e)}`);
    }
  };
  return {
    url,
    display,
    writeText: (blob, text) =>
      wrap(`writing ${blob}`, async () => {
        await container.getBlockBlobClient(blob).upload(text, Buffer.byteLength(text));
      }),
    readText: (blob) =>
      wrap(`reading ${blob}`, async () => {
        try {
          return (await container.getBlockBlobClient(blob).downloadToBuffer()).toString('utf8');
        } catch (e) {
          if (notFound(e)) return undefined;
          throw e;
        }
      }),
    readLines: (blob) => blobLines(container, blob, display),
    delete: (blob) =>
      wrap(`deleting ${blob}`, async () => {
        await container.getBlockBlobClient(blob).deleteIfExists();
      }),
    claim: async (options) => {
      try {
        return await claimContainer(container, options);
      } catch (e) {
        // Stopped while waiting for the container: the caller's stop, not a storage failure.
        if (options.signal?.aborted) throw e;
        throw new JobStorageError(`taking ${display} for a job failed: ${storageMessage(e)}`);
      }
    },
    list: () =>
      wrap('listing blobs', async () => {
        const names: string[] = [];
        for await (const b of container.listBlobsFlat()) names.push(b.name);
        return names;
      }),
  };
}
