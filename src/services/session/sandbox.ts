/**
 * The sandbox: the emulator started in-process with the demo fleet, reached through exactly the same
 * SDK adapters as Azure (only the request builder's endpoint differs).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseCertificateChain } from '../../core/certs.js';
import type { CertificateInfo, ParsedCertificate } from '../../core/model.js';
import { certificateInfo } from '../../core/certs.js';
import { buildPorts } from '../azure/target.js';
import { emulatorTarget } from '../azure/target.js';
import type { Backend } from '../backend.js';
import { attemptWithHeldCredentials } from '../device/held-credentials.js';
import { type EmulatorHandle, startEmulator } from '../emulator/index.js';
import { stateFileError } from '../emulator/persistence.js';
import { isUserError, UserError } from '../../core/errors.js';
import type { RunLimits } from '../executor/index.js';
import { type Env, stateDir } from '../journal/paths.js';
import { createBackend } from './create-backend.js';
import type { HubPathChoice } from '../../core/hub-path.js';
import type { JobStoragePool } from '../storage/job-storage-pool.js';
import {
  SANDBOX_STORAGE_MISSING,
  type SandboxStorage,
  sandboxJobStorage,
} from '../storage/sandbox-storage.js';

export interface SandboxOptions {
  /** State file; default $XDG_STATE_HOME/iot-deprovision/sandbox.json so runs can be restored later. */
  statePath?: string;
  env?: Env;
  signal?: AbortSignal;
  limits?: Partial<RunLimits>;
  /** Emulator time scale (service minutes per real minute); the sandbox runs at 60x by default. */
  timeScale?: number;
  /** Hubs on which the selected devices' IDs are not looked up. */
  skipHubLookup?: string[];
  onNotice?: (text: string) => void;
  /**
   * --hub-path and --job-storage, as for any target. Without --job-storage the sandbox's own storage
   * (Azurite, started when a job step first needs it, stopped on close) when Azurite is installed.
   */
  hubPath?: HubPathChoice;
  jobStorage?: JobStoragePool;
}

/**
 * The sandbox's state is held by another process: nearly always the TUI (`iot-deprovision --sandbox`)
 * still open in another terminal. Say what to do: quit it, or do the same from its Runs screen.
 */
export function sandboxInUse(statePath: string, e: UserError): UserError {
  const pid = /\(pid (\d+)\)/.exec(e.message)?.[1];
  return new UserError(
    `the sandbox (state file ${statePath}) is in use by another iot-deprovision${pid ? ` (pid ${pid})` : ''}, ` +
      'most likely the TUI open in another terminal. Quit it first (q), or resume and restore runs from its ' +
      'Runs screen (r on the Target screen, R on the Summary). Nothing was changed.',
    { code: 'stateLocked' },
  );
}

export const defaultSandboxState = (env: Env = process.env): string => join(stateDir(env), 'sandbox.json');

export interface Sandbox {
  backend: Backend;
  emulator: EmulatorHandle;
  /** The sandbox's own job storage (undefined with --job-storage, or when Azurite is not installed). */
  storage?: SandboxStorage;
}

/** Chains (leaf first) of the demo devices whose certificates the sandbox holds. */
function heldChains(emulator: EmulatorHandle): Record<string, ParsedCertificate[]> {
  const chains: Record<string, ParsedCertificate[]> = {};
  for (const [id, secrets] of Object.entries(emulator.store.demoSecrets.devices)) {
    const pem = secrets.chainPem ?? secrets.certPem;
    if (pem) chains[id] = parseCertificateChain(pem);
  }
  return chains;
}

function caCertificates(emulator: EmulatorHandle): Record<string, CertificateInfo> {
  const out: Record<string, CertificateInfo> = {};
  for (const [name, pem] of emulator.store.dps.caCertificates) {
    const [cert] = parseCertificateChain(pem);
    if (cert) out[name] = certificateInfo(cert);
  }
  return out;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const env = options.env ?? process.env;
  const statePath = options.statePath ?? defaultSandboxState(env);
  try {
    mkdirSync(dirname(statePath), { recursive: true, mode: 0o700 });
  } catch (e) {
    throw stateFileError(statePath, e, 'written');
  }
  const emulator = await startEmulator({
    seed: 'demo',
    statePath,
    timeScale: options.timeScale ?? 60,
  }).catch((e: unknown) => {
    throw isUserError(e, 'stateLocked') ? sandboxInUse(statePath, e) : e;
  });
  const own = options.jobStorage ? undefined : sandboxJobStorage({ onStart: options.onNotice });
  const jobStorage = options.jobStorage ?? own;
  try {
    const target = emulatorTarget(emulator);
    const ports = buildPorts(target);
    const backend = createBackend({
      target: target.describe(),
      dps: ports.dps,
      hubs: ports.hubs,
      env,
      limits: { timeScale: options.timeScale ?? 60, ...options.limits },
      certificates: heldChains(emulator),
      caCertificates: caCertificates(emulator),
      signal: options.signal,
      sandboxState: resolve(statePath),
      onClose: async () => {
        await Promise.all([emulator.stop(), own?.stop()]);
      },
      attemptRegistration: attemptWithHeldCredentials(emulator),
      skipHubLookup: options.skipHubLookup,
      onNotice: options.onNotice,
      hubPath: options.hubPath,
      ...(jobStorage ? { jobStorage } : { jobStorageMissing: SANDBOX_STORAGE_MISSING }),
    });
    return { backend, emulator, ...(own ? { storage: own } : {}) };
  } catch (e) {
    await emulator.stop();
    throw e;
  }
}
