/**
 * Drives the compiled program (`node bin/iot-deprovision.js ...`) as a child process against an
 * emulator started in the test process. The proof of a command is what the emulator's store holds
 * afterwards; the helpers here only start the program, collect its output and exit, and name the
 * secrets that must never appear in that output.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EmulatorHandle } from '../../src/services/emulator/index.js';
import { policiesOf } from '../../src/services/emulator/store.js';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const LAUNCHER = join(PROJECT_ROOT, 'bin', 'iot-deprovision.js');
const COMPILED_CLI = join(PROJECT_ROOT, 'dist', 'src', 'cli.js');

export interface CliResult {
  /** Exit code, or null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Journals go to $XDG_STATE_HOME/iot-deprovision/runs. */
  stateHome: string;
  /** Extra environment (merged over a cleaned copy of the test's environment). */
  env?: Record<string, string | undefined>;
}

export interface CliProcess {
  child: ChildProcess;
  /** Output so far (grows while the process runs). */
  output(): { stdout: string; stderr: string };
  result: Promise<CliResult>;
}

// Variables that would point the program at another target or change its output.
const INHERITED_TARGET_VARIABLES = [
  'IOT_DPS_CONNECTION_STRING',
  'IOTHUB_CONNECTION_STRING',
  'IOT_DEPROVISION_ENDPOINT',
  'IOT_DEPROVISION_DEBUG',
  'XDG_CONFIG_HOME',
];

function childEnv(options: CliOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of INHERITED_TARGET_VARIABLES) delete env[name];
  // A config file of the person running the tests must not leak in: XDG_CONFIG_HOME is the state home.
  env.XDG_CONFIG_HOME = options.stateHome;
  env.XDG_STATE_HOME = options.stateHome;
  env.NO_COLOR = '1';
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

function assertBuilt(): void {
  if (!existsSync(COMPILED_CLI)) {
    throw new Error('the CLI is not compiled: run `npx tsc -p tsconfig.build.json` (npm test does it) first');
  }
}

/** Starts the program; the caller may signal `child` while it runs. */
export function spawnCli(args: string[], options: CliOptions): CliProcess {
  assertBuilt();
  const child = spawn(process.execPath, [LAUNCHER, ...args], {
    cwd: PROJECT_ROOT,
    env: childEnv(options),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (t: string) => {
    stdout += t;
  });
  child.stderr?.setEncoding('utf8').on('data', (t: string) => {
    stderr += t;
  });
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, output: () => ({ stdout, stderr }), result };
}

/** Runs the program to its end. */
export function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  return spawnCli(args, options).result;
}

/** `--endpoint --dps --hub ...` for an emulator; `hubs` picks some of its hubs by name (default all). */
export function targetArgs(emulator: EmulatorHandle, hubs?: string[]): string[] {
  const chosen = hubs ? emulator.hubs.filter((h) => hubs.includes(h.name)) : emulator.hubs;
  return [
    '--endpoint',
    emulator.url,
    '--dps',
    emulator.dps.connectionString,
    ...chosen.flatMap((h) => ['--hub', h.connectionString]),
  ];
}

/** Every key of the emulator's access policies: none may appear in any output. */
export function policyKeys(emulator: EmulatorHandle): string[] {
  const { store } = emulator;
  const services = [store.dps, ...store.hubs.values()];
  const policies = services.flatMap((s) => policiesOf(s));
  return policies.flatMap((p) => [p.primaryKey, p.secondaryKey]);
}

/** The secrets found in a text (empty when it is clean): policy keys, SAS tokens, connection strings. */
export function secretsIn(text: string, keys: string[]): string[] {
  const found = keys.filter((k) => text.includes(k)).map((k) => `key ${k.slice(0, 4)}...`);
  if (text.includes('SharedAccessSignature')) found.push('SharedAccessSignature');
  if (/SharedAccessKey=/i.test(text)) found.push('SharedAccessKey=');
  return found;
}

export interface SecretScanOptions {
  /** More values that must never be printed (a key passed on purpose in a bad flag, say). */
  extraSecrets?: string[];
  /** Findings of `secretsIn` a file prints on purpose (the word "SharedAccessKey=" in an ID or a usage line). */
  allowed?: string[];
}

/**
 * The secret scan over outputs: `add` each output, `check` scans what came since the last check (and
 * throws naming what leaked, never its value). A connection string with its key fails the scan even
 * where the bare word "SharedAccessKey=" is allowed.
 */
export function outputScan(keys: () => string[], options: SecretScanOptions = {}) {
  let unchecked: string[] = [];
  return {
    add(...texts: string[]): void {
      unchecked.push(...texts);
    },
    check(): void {
      const text = unchecked.join('\n');
      unchecked = [];
      if (text === '') return;
      const allowed = new Set(options.allowed ?? []);
      const found = secretsIn(text, keys()).filter((s) => !allowed.has(s));
      for (const s of options.extraSecrets ?? [])
        if (text.includes(s)) found.push(`marked value ${s.slice(0, 4)}...`);
      if (/SharedAccessKey=[A-Za-z0-9+/]{8}/.test(text)) found.push('a connection string with its key');
      if (found.length > 0)
        throw new Error(`the program printed a secret: ${[...new Set(found)].join(', ')}`);
    },
  };
}

/** A private temporary folder, removed by the returned function. */
export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `iotd-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Parses JSON-lines output (the `--json` mode of run/resume/restore prints one object per line). */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Polls until `read` returns a value; the test's own timeout bounds the wait (no timed assertion). */
export async function waitUntil<T>(
  read: () => T | undefined | Promise<T | undefined>,
  everyMs = 20,
): Promise<T> {
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * The command the program printed after `label` (on the same line), as argv for runCli: its invocation
 * (`iot-deprovision`, or `npx iot-deprovision` when the bin is not on PATH) is checked and taken off.
 */
export function printedCommand(output: string, label: string): string[] {
  const line = output.split('\n').find((l) => l.includes(label));
  if (!line) throw new Error(`no line with "${label}" in:\n${output}`);
  const words = line
    .slice(line.indexOf(label) + label.length)
    .trim()
    .split(/\s+/);
  const start = words[0] === 'npx' ? 1 : 0;
  if (words[start] !== 'iot-deprovision') throw new Error(`"${line}" does not start with the program's name`);
  return words.slice(start + 1);
}
