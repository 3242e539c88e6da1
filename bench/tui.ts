/**
 * The TUI: how soon the first frame appears (the compiled program, as `bin/iot-deprovision.js --sandbox`
 * starts it, in a real terminal: tmux), how fast a key press reaches the screen on a list of 100,000
 * registration records while scrolling and filtering, and what that loaded list costs in memory; and
 * a second `npm start` (build checks included). Goals: first frame < 400 ms, second `npm start` < 2 s, median key-to-frame < 30 ms, < 250 MB for the loaded list.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRow } from './report.js';
import { measureList, RECORDS } from './tui-list.js';

const STARTS = 5;
const FIRST_FRAME_GOAL_MS = 400;
const SECOND_START_GOAL_MS = 2000;
const KEY_GOAL_MS = 30;
const MEMORY_GOAL_MB = 250;

const root = fileURLToPath(new URL('../../', import.meta.url));
const launcher = join(root, 'bin', 'iot-deprovision.js');
const probe = fileURLToPath(new URL('./first-frame-probe.js', import.meta.url));

const tmux = (args: string[]): string => execFileSync('tmux', args, { encoding: 'utf8' });
const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}

interface Start {
  /** Spawn to the header on the tmux pane. */
  paneMs: number;
  /** Spawn to the target screen with the sandbox's hubs (the backend arrived). */
  readyMs: number;
  /** The program's own clock and CPU time at its first frame. */
  processMs: number;
  cpuMs: number;
}

/** Runs `command` in a fresh 80x24 tmux session; `watch` sees the pane until it returns false. */
async function inTmux(command: string, watch: (pane: string) => boolean): Promise<void> {
  const name = `iotd-bench-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
  const started = Date.now();
  try {
    tmux(['new-session', '-d', '-s', name, '-x', '80', '-y', '24', '-c', root, command]);
    while (watch(tmux(['capture-pane', '-t', name, '-p']))) {
      if (Date.now() - started > 60_000) throw new Error(`bench tui: gave up after 60 s on: ${command}`);
      await new Promise((r) => setImmediate(r));
    }
    tmux(['send-keys', '-t', name, 'q']);
  } finally {
    try {
      tmux(['kill-session', '-t', name]);
    } catch {
      // the program quit and its session closed
    }
  }
}

/** One start of the program with a fresh sandbox state file. */
async function startOnce(): Promise<Start> {
  const dir = mkdtempSync(join(tmpdir(), 'iotd-bench-'));
  const probeFile = join(dir, 'probe.json');
  const command = [
    'env -u CI -u CONTINUOUS_INTEGRATION -u FORCE_COLOR -u NO_COLOR',
    `XDG_STATE_HOME=${shellQuote(dir)} XDG_CONFIG_HOME=${shellQuote(dir)}`,
    `IOT_DEPROVISION_BENCH_PROBE=${shellQuote(probeFile)}`,
    shellQuote(process.execPath),
    '--import',
    shellQuote(probe),
    shellQuote(launcher),
    `--sandbox --state ${shellQuote(join(dir, 'sandbox.json'))}`,
  ].join(' ');
  try {
    const t0 = performance.now();
    let header = 0;
    let ready = 0;
    await inTmux(command, (pane) => {
      if (!header && pane.includes('iot-deprovision')) header = performance.now();
      if (pane.includes('Press Enter to choose an enrollment.')) ready = performance.now();
      return !ready;
    });
    const deadline = Date.now() + 20_000;
    while (!existsSync(probeFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const seen = JSON.parse(readFileSync(probeFile, 'utf8')) as { ms: number; cpuMs: number };
    return { paneMs: header - t0, readyMs: ready - t0, processMs: seen.ms, cpuMs: seen.cpuMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `npm start` a second time (the build is there, nothing changed): spawn to the header on the pane,
 * through npm, the build's up-to-date checks (tsc build mode, the bundle's input stamp) and the launcher.
 */
async function npmStartOnce(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'iotd-bench-'));
  const command = [
    'env -u CI -u CONTINUOUS_INTEGRATION -u FORCE_COLOR -u NO_COLOR',
    `XDG_STATE_HOME=${shellQuote(dir)} XDG_CONFIG_HOME=${shellQuote(dir)}`,
    `npm start --silent -- --state ${shellQuote(join(dir, 'sandbox.json'))}`,
  ].join(' ');
  try {
    const t0 = performance.now();
    let header = 0;
    await inTmux(command, (pane) => {
      if (pane.includes('iot-deprovision [')) header = performance.now();
      return !header;
    });
    return header - t0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The floor on this machine: Node itself starting and printing the header text, seen the same way. */
async function bareNodeOnce(): Promise<number> {
  const script = "process.stdout.write('iot-deprovision'); setTimeout(() => {}, 5000)";
  const t0 = performance.now();
  let seen = 0;
  await inTmux(`${shellQuote(process.execPath)} -e ${shellQuote(script)}`, (pane) => {
    if (pane.includes('iot-deprovision')) seen = performance.now();
    return !seen;
  });
  return seen - t0;
}

async function firstFrameRows(): Promise<BenchRow[]> {
  const starts: Start[] = [];
  const bare: number[] = [];
  const npmStarts: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    starts.push(await startOnce());
    bare.push(await bareNodeOnce());
    npmStarts.push(await npmStartOnce());
  }
  const m = (pick: (s: Start) => number) => Math.round(median(starts.map(pick)));
  const pane = m((s) => s.paneMs);
  return [
    {
      bench: 'tui',
      metric: `first frame on the terminal (tmux), median of ${STARTS} starts`,
      value: pane,
      unit: 'ms',
      ratio: pane / FIRST_FRAME_GOAL_MS,
      reference: `goal ${FIRST_FRAME_GOAL_MS} ms`,
    },
    {
      bench: 'tui',
      metric: `second \`npm start\` (built, nothing changed): first frame (tmux), median of ${STARTS}`,
      value: Math.round(median(npmStarts)),
      unit: 'ms',
      ratio: median(npmStarts) / SECOND_START_GOAL_MS,
      reference: `goal ${SECOND_START_GOAL_MS} ms`,
    },
    {
      bench: 'tui',
      metric: 'floor: bare node printing the same text (tmux, median)',
      value: Math.round(median(bare)),
      unit: 'ms',
    },
    { bench: 'tui', metric: 'first frame, process clock (median)', value: m((s) => s.processMs), unit: 'ms' },
    { bench: 'tui', metric: 'first frame, CPU time used (median)', value: m((s) => s.cpuMs), unit: 'ms' },
    {
      bench: 'tui',
      metric: 'sandbox started, target screen shown (median)',
      value: m((s) => s.readyMs),
      unit: 'ms',
    },
  ];
}

async function listRows(): Promise<BenchRow[]> {
  // The shipped bundle runs production React; measure the same build here.
  process.env.NODE_ENV ??= 'production';
  const f = await measureList();
  const round = (n: number) => Math.round(n * 10) / 10;
  const keyRows = (what: string, values: number[]): BenchRow[] => [
    {
      bench: 'tui',
      metric: `key to frame, ${what} ${RECORDS} records (median of ${values.length})`,
      value: round(median(values)),
      unit: 'ms',
      ratio: median(values) / KEY_GOAL_MS,
      reference: `goal ${KEY_GOAL_MS} ms`,
    },
    {
      bench: 'tui',
      metric: `key to frame, ${what} ${RECORDS} records (p95)`,
      value: round(percentile(values, 95)),
      unit: 'ms',
    },
  ];
  return [
    ...keyRows('scrolling', f.scrollMs),
    ...keyRows('filtering', f.filterMs),
    {
      bench: 'tui',
      metric: `resident memory (RSS) with the list of ${RECORDS} records loaded, scrolled and filtered`,
      value: Math.round(f.rssMb),
      unit: 'MB',
      ratio: f.rssMb / MEMORY_GOAL_MB,
      reference: `goal ${MEMORY_GOAL_MB} MB`,
    },
    {
      bench: 'tui',
      metric: `heap in use with the list of ${RECORDS} records loaded, scrolled and filtered`,
      value: Math.round(f.heapUsedMb),
      unit: 'MB',
    },
  ];
}

export async function benchTui(): Promise<BenchRow[]> {
  return [...(await firstFrameRows()), ...(await listRows())];
}
