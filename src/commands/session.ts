/** Builds the backend a command works on: the embedded sandbox, or the configured DPS and hubs. */
import { readFileSync } from 'node:fs';
import { buildPorts, resolveTarget } from '../services/azure/target.js';
import type { RunLimits } from '../services/executor/index.js';
import { createBackend, type SessionBackend } from '../services/session/create-backend.js';
import { startSandbox } from '../services/session/sandbox.js';
import { printable } from '../core/text.js';
import { isUserError, UserError } from '../core/errors.js';
import {
  findRun,
  type JournalTarget,
  latestUnfinishedRun,
  readJournal,
  targetOf,
} from '../services/journal/index.js';
import { sanitize } from '../core/text.js';
import type { HubPathChoice } from '../core/hub-path.js';
import { type JobStorage, JobStorageError, openJobStorage } from '../services/storage/job-storage.js';
import { registerSecret } from '../services/secrets.js';
import { SANDBOX_STORAGE_MISSING, sandboxStorageAvailable } from '../services/storage/sandbox-storage.js';
import { defaultConfigPath, loadConfigFile } from '../services/azure/config.js';

export interface TargetFlags {
  sandbox?: boolean;
  state?: string;
  dps?: string;
  hub?: string[];
  endpoint?: string;
  /** CA certificate file for an HTTPS --endpoint. */
  endpointCa?: string;
  /** Hub tier for client-side rate limits (S1, S2, S3). */
  hubTier?: string;
  hubUnits?: string;
  /** Hubs on which the selected devices' IDs are not looked up (--skip-hub-lookup, repeatable). */
  skipHubLookup?: string[];
  /** --hub-path: calls, jobs or auto (default auto). */
  hubPath?: string;
  /** --job-storage: a blob container URL with a SAS (or IOT_DEPROVISION_JOB_STORAGE). */
  jobStorage?: string;
}

export interface SessionOptions {
  signal?: AbortSignal;
  /** Where notices go (what a long hub lookup costs); headless commands: stderr. */
  notice?: (text: string) => void;
  env?: Record<string, string | undefined>;
}

function limitsOf(flags: TargetFlags): Partial<RunLimits> {
  const limits: Partial<RunLimits> = {};
  if (flags.hubTier !== undefined || flags.hubUnits !== undefined) {
    const tier = (flags.hubTier ?? 'S1').toUpperCase();
    if (!['S1', 'S2', 'S3', 'B1', 'B2', 'B3', 'F1'].includes(tier)) {
      throw new UserError(`--hub-tier "${printable(flags.hubTier)}": expected S1, S2, S3, B1, B2, B3 or F1`);
    }
    const units = Number(flags.hubUnits ?? '1');
    if (!Number.isInteger(units) || units < 1)
      throw new UserError(`--hub-units "${printable(flags.hubUnits)}": expected a whole number >= 1`);
    limits.defaultHub = { tier: tier as RunLimits['defaultHub']['tier'], units };
  }
  return limits;
}

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
    // Not a URL: parseJobStorageUrl says so.
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
      'container URL and its SAS (read, write, list, delete), or set IOT_DEPROVISION_JOB_STORAGE (or jobStorage in the config file)',
  );
}

export async function openSession(
  flags: TargetFlags,
  options: SessionOptions = {},
  recorded?: JournalTarget,
): Promise<SessionBackend> {
  const env = options.env ?? process.env;
  const limits = limitsOf(flags);
  const jobs = jobOptionsOf(flags, env);
  if (flags.sandbox) {
    if (flags.dps || flags.hub?.length || flags.endpoint) {
      throw new UserError('--sandbox works on the embedded emulator: leave out --dps, --hub and --endpoint');
    }
    const { backend } = await startSandbox({
      statePath: flags.state ?? recorded?.sandboxState,
      env,
      signal: options.signal,
      limits,
      skipHubLookup: flags.skipHubLookup,
      onNotice: options.notice,
      ...jobs,
    });
    return backend as SessionBackend;
  }
  if (flags.state) throw new UserError('--state keeps the sandbox between runs: use it with --sandbox');
  let endpointCa: string | undefined;
  if (flags.endpointCa) {
    try {
      endpointCa = readFileSync(flags.endpointCa, 'utf8');
    } catch {
      throw new UserError(`--endpoint-ca ${printable(flags.endpointCa)}: cannot read the file`);
    }
  }
  const target = resolveTarget({
    dps: flags.dps,
    hubs: flags.hub,
    endpoint: flags.endpoint,
    endpointCa,
    env,
    ...(recorded ? { recorded: { dpsHost: recorded.dpsHost, hubHosts: recorded.hubHosts } } : {}),
  });
  const ports = buildPorts(target);
  return createBackend({
    target: target.describe(),
    dps: ports.dps,
    hubs: ports.hubs,
    env,
    limits,
    signal: options.signal,
    skipHubLookup: flags.skipHubLookup,
    onNotice: options.notice,
    ...jobs,
  });
}

/** True when some target is configured (flags, environment or config file): the TUI then skips the sandbox. */
export function hasConfiguredTarget(
  flags: TargetFlags,
  env: Record<string, string | undefined> = process.env,
): boolean {
  if (flags.dps || flags.endpoint) return true;
  try {
    resolveTarget({ env, hubs: flags.hub });
    return true;
  } catch (e) {
    // A configured but broken target is an error to show, not a reason to fall back to the sandbox.
    if (isUserError(e, 'noTarget')) return false;
    throw e;
  }
}

/** Whether the flags name a target themselves (then the run's journal does not choose it). */
const namesTarget = (flags: TargetFlags): boolean =>
  Boolean(flags.sandbox || flags.dps || flags.hub?.some((h) => h.trim() !== '') || flags.endpoint);

/**
 * The session for `resume` and `restore`: the target comes from the run's journal (a sandbox run opens
 * its sandbox and state file; an Azure run its DPS and hubs), and only the credentials from the flags,
 * the environment, the config file or Entra ID sign-in. Flags that name a target win (and are checked
 * against the journal by the command). `runId`: the run to act on, when the journal chose it.
 */
export async function openRunSession(
  runId: string | undefined,
  flags: TargetFlags,
  options: SessionOptions = {},
): Promise<{ backend: SessionBackend; runId: string | undefined }> {
  const env = options.env ?? process.env;
  if (namesTarget(flags)) return { backend: await openSession(flags, options), runId };
  let recorded: JournalTarget | undefined;
  let chosen = runId;
  if (runId !== undefined) {
    const path = await findRun(runId, env);
    if (!path) throw new UserError(`no recorded run ${sanitize(runId)} (see \`iot-deprovision runs\`)`);
    recorded = targetOf((await readJournal(path)).header);
  } else {
    // The newest unfinished run of the configured DPS, if one is configured; else the newest of all.
    const configured = configuredDpsHost(env);
    const { run } = await latestUnfinishedRun(env, configured);
    if (run) {
      chosen = run.runId;
      recorded = run.target;
    }
  }
  if (!recorded) return { backend: await openSession(flags, options), runId: chosen };
  if (recorded.sandbox)
    return { backend: await openSession({ ...flags, sandbox: true }, options, recorded), runId: chosen };
  if (flags.state)
    throw new UserError('--state keeps the sandbox between runs: this run was not made on the sandbox');
  return { backend: await openSession(flags, options, recorded), runId: chosen };
}

/** The DPS host the environment or the config file configures, if any (a broken one is an error to show). */
function configuredDpsHost(env: Record<string, string | undefined>): string | undefined {
  try {
    return resolveTarget({ env }).dps.host;
  } catch (e) {
    if (isUserError(e, 'noTarget')) return undefined;
    throw e;
  }
}
