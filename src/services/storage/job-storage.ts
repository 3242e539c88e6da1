/**
 * Job storage: the blob container an IoT hub's import/export jobs read from and write to, given as a
 * container URL with a SAS (read, write, list, delete), or signed in with Entra ID (a container URL
 * without a SAS, or ACCOUNT/CONTAINER: see job-storage-spec.ts and user-delegation.ts). The blobs hold
 * device keys: the tool deletes what it wrote when a step ends, and shows the container only without its SAS.
 */
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { TokenCredential } from '@azure/core-auth';
import { AnonymousCredential, BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import { UserError } from '../../core/errors.js';
import { lazyDefaultCredential } from '../azure/auth.js';
import { JobStorageError, parseJobStorage } from './job-storage-spec.js';
import { storageClientOptions, storageRefusal, UserDelegation } from './user-delegation.js';

export { JobStorageError } from './job-storage-spec.js';

export interface JobStorage {
  /**
   * The container URL with its SAS (a secret: never shown, logged or journaled), what a hub's job is
   * given. Signed in with Entra ID: the user delegation SAS made when the container was last claimed
   * (or checked), renewed then when it runs low.
   */
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
  claim(options: ClaimOptions): Promise<Release>;
  /** One attempt at claim: undefined when another holder has the container (a pool tries the next). */
  tryClaim(holder: string): Promise<Release | undefined>;
  /** The claim marker names this holder (left by a step of it that was stopped): a resume takes it back. */
  heldBy(holder: string): Promise<boolean>;
  /**
   * Before any change of a run (Entra ID only): proves the tool may make the hub's SAS and write to the
   * container (a user delegation key, then a probe blob written and deleted). A refusal is a UserError
   * naming what to do (the role to assign, or signing in).
   */
  check?(): Promise<void>;
}

export interface OpenOptions {
  /** The Entra ID sign-in (default DefaultAzureCredential: az login, managed identity, environment). */
  credential?: TokenCredential;
  /** An extra CA certificate (PEM) to trust, e.g. a local storage emulator's. */
  ca?: string;
  /** The clock a delegation key's renewal reads (tests). */
  now?: () => Date;
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

/** The probe blob `check` writes and deletes. */
export const CHECK_BLOB = 'iot-deprovision.check';

const statusOf = (e: unknown): number | undefined => (e as { statusCode?: number })?.statusCode;
const notFound = (e: unknown): boolean => statusOf(e) === 404;

/** Waits, or rejects with the signal's reason when it is aborted first. */
export const pause = (ms: number, signal?: AbortSignal): Promise<void> =>
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

/** The release of a claim: deletes the marker; `keep` leaves the lease to expire on its own instead. */
export type Release = (keep?: boolean) => Promise<void>;

/**
 * One attempt at the container: the release when it is free (or already this holder's), undefined when
 * another holder has it. The marker's metadata names the holder (hashed), so a resume that lost track
 * of its container (killed before journaling its job) finds it again (`heldBy`).
 */
async function tryClaimContainer(container: ContainerClient, holder: string): Promise<Release | undefined> {
  const marker = container.getBlockBlobClient(CLAIM_BLOB);
  try {
    await marker.upload('', 0, { conditions: { ifNoneMatch: '*' } });
  } catch (e) {
    // 409/412: the marker is there already (held, or left by a holder that died).
    if (statusOf(e) !== 409 && statusOf(e) !== 412) throw e;
  }
  const lease = marker.getBlobLeaseClient(leaseIdOf(holder));
  try {
    await lease.acquireLease(LEASE_SECONDS);
  } catch (e) {
    // 409: another step holds it; 404: its holder just released (deleted) it.
    if (statusOf(e) !== 409 && statusOf(e) !== 404) throw e;
    return undefined;
  }
  await marker.setMetadata(
    { holder: leaseIdOf(holder).replace(/-/g, '') },
    { conditions: { leaseId: lease.leaseId } },
  );
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
}

/** The marker names this holder: it took the container and was stopped before it released it. */
async function markedBy(container: ContainerClient, holder: string): Promise<boolean> {
  try {
    const props = await container.getBlockBlobClient(CLAIM_BLOB).getProperties();
    return props.metadata?.holder === leaseIdOf(holder).replace(/-/g, '');
  } catch (e) {
    if (notFound(e)) return false;
    throw e;
  }
}

async function claimContainer(container: ContainerClient, options: ClaimOptions): Promise<Release> {
  for (let told = false; ; ) {
    const release = await tryClaimContainer(container, options.holder);
    if (release) return release;
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

/** Opens `--job-storage` (any form; see parseJobStorage). Nothing is asked of the account until used. */
export function openJobStorage(raw: string, options: OpenOptions = {}): JobStorage {
  const spec = parseJobStorage(raw);
  const clientOptions = storageClientOptions(options.ca);
  if (spec.kind === 'sas') {
    const container = new ContainerClient(spec.url, new AnonymousCredential(), clientOptions);
    return storageOver(container, spec.display, {
      url: () => spec.url,
      check: () => checkSas(container, spec.display),
    });
  }
  const credential = options.credential ?? lazyDefaultCredential();
  const service = new BlobServiceClient(spec.serviceUrl, credential, clientOptions);
  const container = service.getContainerClient(spec.container);
  const delegation = new UserDelegation(service, spec, options.now);
  const proven = async (doing: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      throw (
        storageRefusal(e, spec, doing) ??
        new UserError(
          `job storage ${spec.display}: could not ${doing}: ${storageMessage(e)}. ` +
            'Checked before the run: nothing was changed.',
        )
      );
    }
  };
  return storageOver(container, spec.display, {
    url: () => delegation.url,
    beforeClaim: () => delegation.ensure(),
    check: async () => {
      await proven('generate a user delegation key', () => delegation.ensure());
      const probe = container.getBlockBlobClient(CHECK_BLOB);
      await proven('write blobs', () => probe.upload('', 0));
      await proven('delete blobs', () => probe.deleteIfExists());
    },
  });
}

/**
 * Before any change: the SAS given lets the tool and the hub's jobs do what they need (write, read,
 * list and delete blobs), proven on a probe blob. A SAS that expired, lacks a permission or names a
 * missing container is bad input now rather than a failed hub step after DPS was changed.
 */
async function checkSas(container: ContainerClient, display: string): Promise<void> {
  const probe = container.getBlockBlobClient(CHECK_BLOB);
  const proven = async (doing: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      const status = statusOf(e);
      const why =
        status === 404
          ? 'the container does not exist'
          : status === 403
            ? 'the SAS does not allow it (expired, or without that permission)'
            : storageMessage(e);
      throw new UserError(
        `job storage ${display}: could not ${doing} with the SAS given: ${why} (${storageMessage(e)}). ` +
          'Checked before the run: nothing was changed.',
        { hint: 'give a container SAS URL allowing read, write, list and delete, valid for the whole run' },
      );
    }
  };
  await proven('write blobs', () => probe.upload('', 0));
  await proven('read blobs', () => probe.downloadToBuffer());
  await proven('list blobs', async () => {
    for await (const b of container.listBlobsFlat({ prefix: CHECK_BLOB })) if (b.name === CHECK_BLOB) return;
    throw new Error('the probe blob just written was not listed');
  });
  await proven('delete blobs', () => probe.deleteIfExists());
}

interface Access {
  url: () => string;
  /** Before each claim (a job step's start): the Entra ID SAS renewed when it runs low. */
  beforeClaim?: () => Promise<void>;
  check?: () => Promise<void>;
}

function storageOver(container: ContainerClient, display: string, access: Access): JobStorage {
  const wrap = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw new JobStorageError(`${what} in ${display} failed: ${storageMessage(e)}`);
    }
  };
  return {
    get url() {
      return access.url();
    },
    display,
    ...(access.check ? { check: access.check } : {}),
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
        await access.beforeClaim?.();
        return await claimContainer(container, options);
      } catch (e) {
        // Stopped while waiting for the container: the caller's stop, not a storage failure.
        if (options.signal?.aborted) throw e;
        throw new JobStorageError(`taking ${display} for a job failed: ${storageMessage(e)}`);
      }
    },
    tryClaim: (holder) =>
      wrap(`taking ${display} for a job`, async () => {
        await access.beforeClaim?.();
        return tryClaimContainer(container, holder);
      }),
    heldBy: (holder) => wrap(`reading the claim of ${display}`, () => markedBy(container, holder)),
    list: () =>
      wrap('listing blobs', async () => {
        const names: string[] = [];
        for await (const b of container.listBlobsFlat()) names.push(b.name);
        return names;
      }),
  };
}
