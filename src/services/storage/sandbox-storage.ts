/**
 * The sandbox's job storage: its own Azurite (in memory, on loopback), a fresh container, and a SAS made
 * with Azurite's development account key (never shown: the plan, messages and the journal name it only as
 * SANDBOX_STORAGE).
 *
 * Available is not running: planning only needs to know the storage can be had (Azurite is installed),
 * so `auto` may take jobs; Azurite is started when a job step first takes the container (claim) or writes
 * to it, and stopped with the session. A plan or run that takes calls never starts it. Before it starts
 * the storage is empty by definition: reads find nothing, deletes have nothing to delete.
 */
import { registerSecret } from '../secrets.js';
import { type AzuriteHandle, azuriteMain, startAzurite } from './azurite.js';
import { type JobStorage, JobStorageError, openJobStorage, storageMessage } from './job-storage.js';

/** How the plan, messages and the journal name the sandbox's storage. */
export const SANDBOX_STORAGE = "the sandbox's storage (Azurite)";

/** The container the sandbox's hub jobs use (Azurite starts empty: it is always a fresh one). */
const CONTAINER = 'iot-deprovision-jobs';

/** Why the sandbox has no job storage when Azurite is not installed (a packed install without dev deps). */
export const SANDBOX_STORAGE_MISSING = "the sandbox's Azurite (a development dependency) is not installed";

export interface SandboxStorage extends JobStorage {
  /** True once Azurite was started (a job step needed it). */
  readonly started: boolean;
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
  let inner: JobStorage | undefined;
  let starting: Promise<JobStorage> | undefined;
  const start = async (): Promise<JobStorage> => {
    options.onStart?.(
      `Starting ${SANDBOX_STORAGE} for the hubs' import/export jobs (in memory, on 127.0.0.1)…`,
    );
    try {
      azurite = await startAzurite();
      const url = await azurite.container(CONTAINER);
      registerSecret(new URL(url).searchParams.get('sig') ?? undefined);
      inner = openJobStorage(url);
      return inner;
    } catch (e) {
      throw new JobStorageError(`${SANDBOX_STORAGE} did not start: ${storageMessage(e)}`);
    }
  };
  const ready = (): Promise<JobStorage> => {
    starting ??= start();
    return starting;
  };
  return {
    display: SANDBOX_STORAGE,
    get url(): string {
      // Only a job step reads it, after its claim started the storage.
      if (!inner) throw new Error(`${SANDBOX_STORAGE} has not been started`);
      return inner.url;
    },
    get started() {
      return starting !== undefined;
    },
    writeText: async (blob, text) => (await ready()).writeText(blob, text),
    readText: async (blob) => (inner ? inner.readText(blob) : undefined),
    readLines: (blob) =>
      (async function* () {
        if (inner) yield* inner.readLines(blob);
      })(),
    delete: async (blob) => inner?.delete(blob),
    list: async () => (inner ? inner.list() : []),
    claim: async (claimOptions) => (await ready()).claim(claimOptions),
    stop: async () => {
      await starting?.catch(() => undefined);
      await azurite?.stop();
    },
  };
}
