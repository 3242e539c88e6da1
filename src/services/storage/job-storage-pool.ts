/**
 * Job storage as a pool of containers. A hub's import/export jobs read and write fixed blob names
 * (`devices.txt`, `importErrors.log`), so a container serves one job step at a time; with one container
 * the hubs' jobs take turns, with one per hub they run at once. `--job-storage` may be given once per
 * container (or as a list): a job step takes any free container, and a resumed step takes back the one
 * its job was given (journaled with the job, or named by the claim marker it left).
 */
import { type ClaimOptions, type JobStorage, JobStorageError, pause, type Release } from './job-storage.js';

export interface ClaimedContainer {
  /** The container this step has (its url, blobs and display). */
  storage: JobStorage;
  release: Release;
}

export interface PoolClaimOptions extends Omit<ClaimOptions, 'waiting'> {
  /**
   * The container (its display) this step's job was given by an earlier process: only that one is taken
   * (the hub's job reads and writes there), waiting for it if another holder has it.
   */
  prefer?: string;
  /** Told once while every container it may take is in use (their displays). */
  waiting?: (busy: string) => void;
}

export interface JobStoragePool {
  readonly containers: readonly JobStorage[];
  /** Every container without its SAS, for the plan and messages. */
  readonly display: string;
  /** Before any change: every container is proven usable (see JobStorage.check). */
  check?(): Promise<void>;
  /** Takes a free container for one job step (see PoolClaimOptions). */
  claim(options: PoolClaimOptions): Promise<ClaimedContainer>;
}

/**
 * The same container, as journaled and as given now (a SAS URL, a URL without SAS or ACCOUNT/CONTAINER
 * name it alike; host names and Azure's container names know no case; a trailing slash changes nothing).
 */
const containerKey = (display: string): string => display.replace(/\/+$/, '').toLowerCase();
export const sameContainer = (a: string, b: string): boolean => containerKey(a) === containerKey(b);

/** How a pool is named: its containers, one after another. */
export const poolDisplay = (containers: readonly JobStorage[]): string =>
  containers.map((c) => c.display).join(', ');

/** A pool over these containers (at least one; the same container given twice counts once). */
export function poolOf(given: JobStorage | readonly JobStorage[]): JobStoragePool {
  const all = Array.isArray(given) ? given : [given as JobStorage];
  const seen = new Set<string>();
  const containers = all.filter(
    (c) => !seen.has(containerKey(c.display)) && seen.add(containerKey(c.display)),
  );
  if (containers.length === 0) throw new Error('a job storage pool needs a container');
  /** Where the next claim starts looking: the steps of one run spread over the containers. */
  let next = 0;
  const checks = containers.filter((c) => c.check);
  return {
    containers,
    display: poolDisplay(containers),
    ...(checks.length > 0
      ? {
          check: async () => {
            for (const c of checks) await c.check?.();
          },
        }
      : {}),
    claim: async (options) => {
      let candidates: readonly JobStorage[] = containers;
      if (options.prefer !== undefined) {
        const journaled = containers.find((c) => sameContainer(c.display, options.prefer ?? ''));
        // Never another container: the job's results are in that one.
        if (!journaled) throw new JobStorageError(`${options.prefer} is not among the job storage given`);
        candidates = [journaled];
      } else if (containers.length > 1) {
        // A step stopped before its job was journaled left its marker: it takes that container back.
        for (const c of containers) if (await c.heldBy(options.holder)) candidates = [c];
      }
      for (let told = false; ; ) {
        const start = next;
        next = (next + 1) % containers.length;
        for (let k = 0; k < candidates.length; k++) {
          const storage = candidates[(start + k) % candidates.length];
          const release = await storage.tryClaim(options.holder);
          if (release) return { storage, release };
        }
        if (!told) options.waiting?.(poolDisplay(candidates));
        told = true;
        await pause(options.retryMs ?? 1000, options.signal);
      }
    },
  };
}

export interface JobContainerUse extends PoolClaimOptions {
  /** The blobs the use writes or has a hub write (they may hold device keys): deleted when it ends. */
  blobs: string[];
  /**
   * Given how the use ended (its error; undefined when it succeeded): true leaves the blobs and the claim
   * (which then expires) for a hub job that may still read them.
   */
  keep?: (error: unknown) => boolean;
  /** A blob could not be deleted (the container's display): said, not hidden. */
  left?: (display: string) => void;
}

/**
 * Runs `use` with a container of the pool taken for it; when it ends, however it ends, the blobs it
 * names are deleted and the container given back, unless `keep` says a hub job may still read them.
 */
export async function withJobContainer<T>(
  pool: JobStoragePool,
  options: JobContainerUse,
  use: (storage: JobStorage) => Promise<T>,
): Promise<T> {
  const { storage, release } = await pool.claim(options);
  let error: unknown;
  try {
    return await use(storage);
  } catch (e) {
    error = e;
    throw e;
  } finally {
    if (options.keep?.(error)) await release(true);
    else {
      await Promise.all(options.blobs.map((b) => storage.delete(b))).catch(() =>
        options.left?.(storage.display),
      );
      await release();
    }
  }
}
