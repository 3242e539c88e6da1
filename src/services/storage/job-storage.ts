/**
 * Job storage: the blob container an IoT hub's import/export jobs read from and write to, given as a
 * container URL with a SAS (read, write, list, delete). The blobs hold device keys: the tool deletes
 * what it wrote when a step ends, and shows the container only without its SAS.
 */
import { ContainerClient } from '@azure/storage-blob';

export interface JobStorage {
  /** The container URL with its SAS (a secret: never shown, logged or journaled). */
  readonly url: string;
  /** The container URL without its SAS: what messages and the journal may name. */
  readonly display: string;
  writeText(blob: string, text: string): Promise<void>;
  /** The blob's text, or undefined when there is no such blob. */
  readText(blob: string): Promise<string | undefined>;
  /** Deletes the blob; a missing blob is fine. */
  delete(blob: string): Promise<void>;
  /** Blob names in the container (for tests and clean-up checks). */
  list(): Promise<string[]>;
}

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

const notFound = (e: unknown): boolean => (e as { statusCode?: number })?.statusCode === 404;

/** Storage errors may quote the URL: never with its SAS. */
export function storageMessage(e: unknown): string {
  const err = e as { statusCode?: number; code?: string; message?: string };
  if (err?.statusCode) return `storage answered ${err.statusCode}${err.code ? ` (${err.code})` : ''}`;
  return String(err?.message ?? e)
    .split('\n')[0]
    .replace(/\?[^\s"']*sig=[^\s"']*/gi, '?<SAS>');
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
    delete: (blob) =>
      wrap(`deleting ${blob}`, async () => {
        await container.getBlockBlobClient(blob).deleteIfExists();
      }),
    list: () =>
      wrap('listing blobs', async () => {
        const names: string[] = [];
        for await (const b of container.listBlobsFlat()) names.push(b.name);
        return names;
      }),
  };
}
