/**
 * The sandbox's job storage: its own Azurite (in memory, on loopback), a fresh container, and a SAS made
 * with Azurite's development account key (never shown: the plan, messages and the journal name it only as
 * SANDBOX_STORAGE).
 *
 * Available is not running: planning only needs to know the storage can be had (Azurite is installed),
 * so `auto` may take jobs; Azurite is started when a job step first takes a container (claim) or writes
 * to it, and stopped with the session. A plan or run that takes calls never starts it. Before it starts
 * the storage is empty by definition: reads find nothing, deletes have nothing to delete.
 */
import { registerSecret } from '../secrets.js';
import { type AzuriteHandle, azuriteMain, startAzurite } from './azurite.js';
import { type JobStorage, JobStorageError, openJobStorage, storageMessage } from './job-storage.js';
import { type JobStoragePool, poolOf } from './job-storage-pool.js';

/** How the plan, messages and the journal name the sandbox's storage. */
export const SANDBOX_STORAGE = "the sandbox's storage (Azurite)";

/**
 * The containers the sandbox's hub jobs use, one per demo hub so the hubs' jobs run at once (Azurite
 * starts empty: they are always fresh ones).
 */
const CONTAINERS = ['iot-deprovision-jobs-1', 'iot-deprovision-jobs-2', 'iot-deprovision-jobs-3'];

/** Why the sandbox has no job storage when Azurite is not installed (a packed install without dev deps). */
export const SANDBOX_STORAGE_MISSING = "the sandbox's Azurite (a development dependency) is not installed";

export interface SandboxStorage extends JobStoragePool {
  /** True once Azurite was started (a job step needed it). */
  readonly started: boolean;
  /** Blob names in every container (for tests and clean-up checks). */
  list(): Promise<string[]>;
  /** Stops Azurite, if it was started (its memory, and every blob in it, is gone). */
  stop(): Promise<void>;
}

export interface SandboxStorageOptions {
  /** Told when Azurite starts (headless commands: stderr). */
  onStart?: (text: string) => void;
}

/** Whether the sandbox can have its own job storage here (Azurite installed). */
export const sandboxStorageAvailable = (): boolean => azuriteMain() !== undefined;

/** The sandbox's job storage, started on first use; undefined when Azurite is not installed. */
export function sandboxJobStorage(options: SandboxStorageOptions = {}): SandboxStorage | undefined {
  if (!sandboxStorageAvailable()) return undefined;
  let azurite: AzuriteHandle | undefined;
  let starting: Promise<AzuriteHandle> | undefined;
  const start = async (): Promise<AzuriteHandle> => {
    options.onStart?.(
      `Starting ${SANDBOX_STORAGE} for the hubs' import/export jobs (in memory, on 127.0.0.1)…`,
    );
    try {
      azurite = await startAzurite();
      return azurite;
    } catch (e) {
      throw new JobStorageError(`${SANDBOX_STORAGE} did not start: ${storageMessage(e)}`);
    }
  };
  const ready = (): Promise<AzuriteHandle> => {
    starting ??= start();
    return starting;
  };
  const containers = CONTAINERS.map((name) => lazyContainer(name, ready));
  const pool = poolOf(containers);
  return {
    ...pool,
    display: SANDBOX_STORAGE,
    get started() {
      return starting !== undefined;
    },
    list: async () => (await Promise.all(containers.map((c) => c.list()))).flat(),
    stop: async () => {
      await starting?.catch(() => undefined);
      await azurite?.stop();
    },
  };
}

/**
 * One of the sandbox's containers: made (with its SAS, registered as a secret) when a job step first
 * takes it or writes to it. Before that it is empty by definition.
 */
function lazyContainer(name: string, ready: () => Promise<AzuriteHandle>): JobStorage {
  const display = `${SANDBOX_STORAGE}, container ${name}`;
  let inner: JobStorage | undefined;
  let making: Promise<JobStorage> | undefined;
  const made = (): Promise<JobStorage> => {
    making ??= (async () => {
      try {
        const url = await (await ready()).container(name);
        registerSecret(new URL(url).searchParams.get('sig') ?? undefined);
        inner = openJobStorage(url);
        return inner;
      } catch (e) {
        if (e instanceof JobStorageError) throw e;
        throw new JobStorageError(`${display} could not be made: ${storageMessage(e)}`);
      }
    })();
    return making;
  };
  return {
    display,
    get url(): string {
      // Only a job step reads it, after its claim made the container.
      if (!inner) throw new Error(`${display} has not been made`);
      return inner.url;
    },
    writeText: async (blob, text) => (await made()).writeText(blob, text),
    readText: async (blob) => (inner ? inner.readText(blob) : undefined),
    readLines: (blob) =>
      (async function* () {
        if (inner) yield* inner.readLines(blob);
      })(),
    delete: async (blob) => inner?.delete(blob),
    list: async () => (inner ? inner.list() : []),
    claim: async (claimOptions) => (await made()).claim(claimOptions),
    tryClaim: async (holder) => (await made()).tryClaim(holder),
    heldBy: async (holder) => (inner ? inner.heldBy(holder) : false),
  };
}
