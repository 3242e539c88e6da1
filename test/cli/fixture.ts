/**
 * One emulator per test file, a private state home for the journals, and a secret scan over every
 * output the program printed: each test that runs the program fails if its own outputs hold a key, a
 * connection string or a SAS token (outputs that arrive after their test ended, or during a hook, are
 * scanned with the next test or when the fixture closes).
 */
import { onTestFinished } from 'vitest';
import {
  type EmulatorHandle,
  type EmulatorOptions,
  type StoredDevice,
  startEmulator,
} from '../../src/services/emulator/index.js';
import {
  type CliProcess,
  type CliResult,
  type SecretScanOptions,
  outputScan,
  policyKeys,
  runCli,
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
  /** Adds the output of a run made without the fixture (`runCli` with other flags) to the secret scan. */
  record(result: CliResult): CliResult;
  /** Every output so far (for checks that a file printed something at all). */
  outputs: string[];
  /** Stops the emulator, then scans the outputs no test's end covered. */
  close(): Promise<void>;
}

/** Scan this test's outputs when it ends; outside a test (a hook) the next check covers them. */
function checkAtTestEnd(scan: { check(): void }): void {
  try {
    onTestFinished(() => scan.check());
  } catch {
    // Called from beforeAll/afterAll: no test to attach to.
  }
}

export async function startCliFixture(
  options: EmulatorOptions,
  secrets: SecretScanOptions = {},
): Promise<CliFixture> {
  const emulator = await startEmulator(options);
  const home = await tempDir('cli');
  const outputs: string[] = [];
  const scan = outputScan(() => policyKeys(emulator), secrets);
  const record = (r: CliResult) => {
    outputs.push(r.stdout, r.stderr);
    scan.add(r.stdout, r.stderr);
    return r;
  };
  const argsFor = (args: string[], o: CallOptions = {}) => {
    if (o.target === false) return args;
    return [...args, ...targetArgs(emulator, Array.isArray(o.target) ? o.target : undefined)];
  };
  const keep = (p: Promise<CliResult>) => {
    checkAtTestEnd(scan);
    return p.then(record);
  };
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
    record: (r) => {
      checkAtTestEnd(scan);
      return record(r);
    },
    close: async () => {
      try {
        await emulator.stop();
        await home.remove();
      } finally {
        scan.check();
      }
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
