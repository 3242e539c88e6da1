/**
 * --hub-path and job storage (--job-storage, IOT_DEPROVISION_JOB_STORAGE, or jobStorage in the config
 * file), read and checked. Its own module, light to load: the TUI checks them before its first frame.
 */
import type { HubPathChoice } from '../core/hub-path.js';
import { printable } from '../core/text.js';
import { UserError } from '../core/errors.js';
import { JobStorageError, openJobStorage } from '../services/storage/job-storage.js';
import { type JobStoragePool, poolOf } from '../services/storage/job-storage-pool.js';
import { registerSecret } from '../services/secrets.js';
import { defaultConfigPath, loadConfigFile } from '../services/azure/config.js';
import { SANDBOX_STORAGE_MISSING, sandboxStorageAvailable } from '../services/storage/sandbox-storage.js';
import type { TargetFlags } from './session.js';

const HUB_PATHS: HubPathChoice[] = ['calls', 'jobs', 'auto'];

/** Containers given as one text (the environment, the config file): separated by commas or spaces. */
export const splitContainers = (text: string): string[] =>
  text
    .split(/[\s,]+/)
    .map((t) => t.trim())
    .filter(Boolean);

/**
 * --job-storage (repeatable), else (not on the sandbox) IOT_DEPROVISION_JOB_STORAGE or jobStorage in the
 * config file (a list, or one text of several separated by commas or spaces). The sandbox takes only the
 * flag: the environment and the config file name the storage of the configured target, and the sandbox
 * has its own (Azurite). A bad value is bad input (exit 2), naming which one and where it came from.
 */
function jobStorageOf(
  flags: TargetFlags,
  env: Record<string, string | undefined>,
): JobStoragePool | undefined {
  const fromEnv = flags.sandbox ? undefined : env.IOT_DEPROVISION_JOB_STORAGE?.trim() || undefined;
  const configPath = defaultConfigPath(env);
  const given = flags.jobStorage?.length ? flags.jobStorage : undefined;
  const fromFile =
    given === undefined && fromEnv === undefined && !flags.sandbox
      ? loadConfigFile(configPath)?.jobStorage
      : undefined;
  const raws =
    given ??
    (fromEnv !== undefined
      ? splitContainers(fromEnv)
      : typeof fromFile === 'string'
        ? splitContainers(fromFile)
        : fromFile);
  if (raws === undefined || raws.length === 0) return undefined;
  const from =
    given !== undefined
      ? ''
      : fromEnv !== undefined
        ? ' (from IOT_DEPROVISION_JOB_STORAGE)'
        : ` (jobStorage in config file ${configPath})`;
  const containers = raws.map((raw) => {
    try {
      // Its signature is a secret from here on: redacted wherever it could show up.
      registerSecret(new URL(raw).searchParams.get('sig') ?? undefined);
    } catch {
      // Not a URL: parseJobStorage says so.
    }
    try {
      return openJobStorage(raw);
    } catch (e) {
      if (!(e instanceof JobStorageError)) throw e;
      throw new UserError(`${e.message}${from}`);
    }
  });
  return poolOf(containers);
}

/** --hub-path and --job-storage (or IOT_DEPROVISION_JOB_STORAGE): bad values are bad input (exit 2). */
export function jobOptionsOf(
  flags: TargetFlags,
  env: Record<string, string | undefined>,
): { hubPath: HubPathChoice; jobStorage?: JobStoragePool } {
  const given = flags.hubPath?.trim().toLowerCase() ?? 'auto';
  if (!HUB_PATHS.includes(given as HubPathChoice)) {
    throw new UserError(
      `--hub-path "${printable(flags.hubPath ?? '')}": expected calls (device by device), jobs (the hub's import/export jobs) or auto`,
    );
  }
  const hubPath = given as HubPathChoice;
  const jobStorage = jobStorageOf(flags, env);
  if (jobStorage) return { hubPath, jobStorage };
  if (hubPath !== 'jobs') return { hubPath };
  // The sandbox has its own job storage (Azurite) when it is installed.
  if (flags.sandbox) {
    if (sandboxStorageAvailable()) return { hubPath };
    throw new UserError(
      `--hub-path jobs needs job storage for the hubs' import/export jobs, and ${SANDBOX_STORAGE_MISSING}: ` +
        'give --job-storage with a blob container URL and its SAS (read, write, list, delete), or use --hub-path calls',
    );
  }
  throw new UserError(
    "--hub-path jobs needs job storage for the hub's import/export jobs: give --job-storage with a blob " +
      'container URL and its SAS (read, write, list, delete), or the container URL alone or ACCOUNT/CONTAINER ' +
      'to sign in with Entra ID; or set IOT_DEPROVISION_JOB_STORAGE (or jobStorage in the config file)',
  );
}
