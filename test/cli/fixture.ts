/**
 * One emulator per test file, a private state home for the journals, and every output the program
 * printed kept for the secret scan each file ends with.
 */
import {
  type EmulatorHandle,
  type EmulatorOptions,
  type StoredDevice,
  startEmulator,
} from '../../src/services/emulator/index.js';
import {
  type CliProcess,
  type CliResult,
  policyKeys,
  runCli,
  secretsIn,
  spawnCli,
  targetArgs,
  tempDir,
} from '../support/cli.js';

export interface CallOptions {
  /** false: no target flags (the `runs` command); a list: only these hubs get a --hub. Default: all. */
  target?: boolean | string[];
  env?: Record<string, string | undefined>;
}

export interface CliFixture {
  emulator: EmulatorHandle;
  stateHome: string;
  /** Runs the program with the target flags appended. */
  cli(args: string[], options?: CallOptions): Promise<CliResult>;
  spawn(args: string[], options?: CallOptions): CliProcess;
  /** Secrets found in any output so far (keys of the emulator's policies, SAS tokens). */
  leakedSecrets(): string[];
  /** Output texts the secret scan covers, for checks of extra values (e.g. a wrong key). */
  outputs: string[];
  close(): Promise<void>;
}

export async function startCliFixture(options: EmulatorOptions): Promise<CliFixture> {
  const emulator = await startEmulator(options);
  const home = await tempDir('cli');
  const outputs: string[] = [];
  const argsFor = (args: string[], o: CallOptions = {}) => {
    if (o.target === false) return args;
    return [...args, ...targetArgs(emulator, Array.isArray(o.target) ? o.target : undefined)];
  };
  const keep = (p: Promise<CliResult>) =>
    p.then((r) => {
      outputs.push(r.stdout, r.stderr);
      return r;
    });
  return {
    emulator,
    stateHome: home.path,
    outputs,
    cli: (args, o) => keep(runCli(argsFor(args, o), { stateHome: home.path, env: o?.env })),
    spawn: (args, o) => {
      const p = spawnCli(argsFor(args, o), { stateHome: home.path, env: o?.env });
      void keep(p.result).catch(() => {});
      return p;
    },
    leakedSecrets: () => secretsIn(outputs.join('\n'), policyKeys(emulator)),
    close: async () => {
      await emulator.stop();
      await home.remove();
    },
  };
}

/** The hub identity of a device, wherever it is: `{hub, device}` or undefined. */
export function findDevice(
  emulator: EmulatorHandle,
  deviceId: string,
): { hub: string; device: StoredDevice } | undefined {
  for (const hub of emulator.store.hubs.values()) {
    const device = hub.devices.get(deviceId);
    if (device) return { hub: hub.host, device };
  }
  return undefined;
}

/** The hub identity of a device on one named hub host. */
export function deviceOn(
  emulator: EmulatorHandle,
  hubHost: string,
  deviceId: string,
): StoredDevice | undefined {
  return emulator.store.hubByHost(hubHost)?.devices.get(deviceId);
}

/** The whole service state, comparable before and after a command that must change nothing. */
export function stateOf(emulator: EmulatorHandle): string {
  return JSON.stringify(emulator.store.toSnapshot());
}

/** Destructive writes the emulator applied, per target ("hub-eu.azure-devices.net/dev-1"), per action. */
export function destructiveCounts(emulator: EmulatorHandle): Record<string, Record<string, number>> {
  return emulator.stats().destructive;
}

/** Registration IDs of one group's records, sorted. */
export function groupDevices(emulator: EmulatorHandle, groupId: string): string[] {
  return [...emulator.store.dps.registrations.values()]
    .filter((r) => r.enrollment.kind === 'group' && r.enrollment.id === groupId)
    .map((r) => r.registrationId)
    .sort();
}
