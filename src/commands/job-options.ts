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
import type { TargetFlags } from './session.js';

const HUB_PATHS: HubPathChoice[] = ['calls', 'jobs', 'auto'];

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
  const fromEnv = env.IOT_DEPROVISION_JOB_STORAGE?.trim() || undefined;
  const configPath = defaultConfigPath(env);
  const fromFile =
    flags.jobStorage === undefined && fromEnv === undefined
      ? loadConfigFile(configPath)?.jobStorage
      : undefined;
  const raw = flags.jobStorage ?? fromEnv ?? fromFile;
  let jobStorage: JobStorage | undefined;
  if (raw !== undefined) {
    try {
      // Its signature is a secret from here on: redacted wherever it could show up.
      registerSecret(new URL(raw).searchParams.get('sig') ?? undefined);
    } catch {
      // Not a URL: parseJobStorage says so.
    }
    try {
      jobStorage = openJobStorage(raw);
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
  if (hubPath === 'jobs' && !jobStorage) {
    throw new UserError(
      "--hub-path jobs needs job storage for the hub's import/export jobs: give --job-storage with a blob " +
        'container URL and its SAS (read, write, list, delete), or the container URL alone or ACCOUNT/CONTAINER ' +
        'to sign in with Entra ID; or set IOT_DEPROVISION_JOB_STORAGE (or jobStorage in the config file)',
    );
  }
  return { hubPath, ...(jobStorage ? { jobStorage } : {}) };
}
