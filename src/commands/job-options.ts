/**
 * --hub-path and job storage (--job-storage, IOT_DEPROVISION_JOB_STORAGE, or jobStorage in the config
 * file), read and checked. Its own module, light to load: the TUI checks them before its first frame.
 */
import type { HubPathChoice } from '../core/hub-path.js';
import { printable } from '../core/text.js';
import { UserError } from '../core/errors.js';
import { type JobStorage, JobStorageError, openJobStorage } from '../services/storage/job-storage.js';
import { registerSecret } from '../services/secrets.js';
import { defaultConfigPath, loadConfigFile } from '../services/azure/config.js';
import { SANDBOX_STORAGE_MISSING, sandboxStorageAvailable } from '../services/storage/sandbox-storage.js';
import type { TargetFlags } from './session.js';

const HUB_PATHS: HubPathChoice[] = ['calls', 'jobs', 'auto'];

/**
 * --job-storage, else (not on the sandbox) IOT_DEPROVISION_JOB_STORAGE or jobStorage in the config file.
 * The sandbox takes only the flag: the environment and the config file name the storage of the configured
 * target, and the sandbox has its own (Azurite). A bad value is bad input (exit 2).
 */
function jobStorageOf(flags: TargetFlags, env: Record<string, string | undefined>): JobStorage | undefined {
  const fromEnv = flags.sandbox ? undefined : env.IOT_DEPROVISION_JOB_STORAGE?.trim() || undefined;
  const configPath = defaultConfigPath(env);
  const fromFile =
    flags.jobStorage === undefined && fromEnv === undefined && !flags.sandbox
      ? loadConfigFile(configPath)?.jobStorage
      : undefined;
  const raw = flags.jobStorage ?? fromEnv ?? fromFile;
  if (raw === undefined) return undefined;
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
    const from =
      flags.jobStorage !== undefined
        ? ''
        : fromEnv !== undefined
          ? ' (from IOT_DEPROVISION_JOB_STORAGE)'
          : ` (jobStorage in config file ${configPath})`;
    throw new UserError(`${e.message}${from}`);
  }
}

/** --hub-path and --job-storage (or IOT_DEPROVISION_JOB_STORAGE): bad values are bad input (exit 2). */
export function jobOptionsOf(
  flags: TargetFlags,
  env: Record<string, string | undefined>,
): { hubPath: HubPathChoice; jobStorage?: JobStorage } {
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
