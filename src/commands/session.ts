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
import { jobOptionsOf } from './job-options.js';

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
  /**
   * --job-storage (or IOT_DEPROVISION_JOB_STORAGE), one per container: a blob container URL with a SAS,
   * or the container URL alone or ACCOUNT/CONTAINER (Entra ID sign-in).
   */
  jobStorage?: string[];
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
