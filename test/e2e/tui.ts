/**
 * The compiled program (`node bin/iot-deprovision.js --sandbox --state F`) in a real terminal (tmux),
 * each test with its own state home and sandbox state file; the walkthrough's steps as a person takes
 * them; and the sandbox's state file read back after the program exited (the proof of what it did).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreSnapshot } from '../../src/services/emulator/store.js';
import type { StoredDevice } from '../../src/services/emulator/types.js';
import { LAUNCHER, PROJECT_ROOT } from '../support/cli.js';
import { Terminal } from '../support/tmux.js';

export interface Tui {
  term: Terminal;
  /** The state home: journals go to <dir>/iot-deprovision/runs. */
  dir: string;
  statePath: string;
  close(): void;
}

export interface TuiOptions {
  cols?: number;
  rows?: number;
  noColor?: boolean;
  /** More arguments after `--sandbox --state F` (e.g. --hub-path jobs --job-storage URL). */
  args?: string[];
}

/** Generous: the sandbox starts in about a second, far slower on a busy machine. */
export const START_TIMEOUT = 45_000;

export function startTui(opts: TuiOptions = {}): Tui {
  const dir = mkdtempSync(join(tmpdir(), 'iotd-e2e-'));
  const statePath = join(dir, 'sandbox.json');
  const term = new Terminal(
    [process.execPath, LAUNCHER, '--sandbox', '--state', statePath, ...(opts.args ?? [])],
    {
      cols: opts.cols ?? 80,
      rows: opts.rows ?? 24,
      cwd: PROJECT_ROOT,
      env: {
        XDG_STATE_HOME: dir,
        XDG_CONFIG_HOME: dir,
        NO_COLOR: opts.noColor ? '1' : undefined,
        IOT_DPS_CONNECTION_STRING: undefined,
        IOTHUB_CONNECTION_STRING: undefined,
        IOT_DEPROVISION_ENDPOINT: undefined,
        IOT_DEPROVISION_JOB_STORAGE: undefined,
      },
    },
  );
  return {
    term,
    dir,
    statePath,
    close: () => {
      term.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const lines = (screen: string): string[] => screen.replace(/\n$/, '').split('\n');

/** The highlighted row of the list on screen, without its "›" marker. */
export function highlighted(screen: string): string | undefined {
  return lines(screen)
    .find((l) => l.startsWith('›'))
    ?.slice(1)
    .trim();
}

/** Moves the highlight down until the highlighted row contains `text` (at most `max` presses). */
export async function highlight(term: Terminal, text: string, max = 30): Promise<string> {
  let screen = term.screen();
  for (let i = 0; i < max; i++) {
    if (highlighted(screen)?.includes(text)) return screen;
    const before = highlighted(screen);
    term.send('Down');
    screen = await term.waitFor((s) => highlighted(s) !== before);
  }
  throw new Error(`"${text}" never got the highlight; screen was:\n${screen}`);
}

/** From the start-up frame to the enrollments list (loaded), on the tab wanted. */
export async function openEnrollments(term: Terminal, tab: 'individual' | 'groups'): Promise<string> {
  await term.waitFor('Press Enter to choose an enrollment.', START_TIMEOUT);
  term.send('Enter');
  let screen = await term.waitFor(/\[ Individual \(\d+\) \]/);
  if (tab === 'groups') {
    term.send('Tab');
    screen = await term.waitFor(/\[ Groups \(\d+\) \]/);
  }
  return screen;
}

/** Opens the list row that contains `id` (an enrollment or a group). */
export async function openRow(term: Terminal, id: string, title: string | RegExp): Promise<string> {
  await highlight(term, id);
  term.send('Enter');
  return term.waitFor(title);
}

export const readState = (path: string): StoreSnapshot => JSON.parse(readFileSync(path, 'utf8'));

/** The identity of a registration's device on its own assigned hub. */
export function deviceOnHub(
  state: StoreSnapshot,
  hubHost: string | undefined,
  deviceId: string,
): StoredDevice {
  const hub = state.hubs.find((h) => h.host === hubHost);
  const device = hub?.devices.find((d) => d.deviceId === deviceId);
  if (!device) throw new Error(`no device ${deviceId} on hub ${hubHost}`);
  return device;
}

export function journals(dir: string): string[] {
  const runs = join(dir, 'iot-deprovision', 'runs');
  return existsSync(runs) ? readdirSync(runs).filter((f) => f.endsWith('.jsonl')) : [];
}

/**
 * SGR sequences that set a colour (foreground, background, 256/true colour). Bold, dim and inverse are
 * not colours, and neither are 39/49 ("default colour"), which tmux itself writes after attributes.
 */
export function colourCodes(screenWithEscapes: string): string[] {
  const found: string[] = [];
  for (const m of screenWithEscapes.matchAll(/\u001b\[([0-9;:]*)m/g)) {
    const params = (m[1] ?? '').split(/[;:]/).map(Number);
    if (params.some((p) => (p >= 30 && p <= 38) || (p >= 40 && p <= 48) || (p >= 90 && p <= 107))) {
      found.push(m[0]);
    }
  }
  return found;
}

/**
 * What every screen must look like at the terminal's size: nothing wrapped (tmux joins wrapped lines
 * with -J, so a joined line wider than the pane was wrapped), the header on top, the key-hint footer
 * at the bottom. Returns the problems found.
 */
export function layoutProblems(term: Terminal, cols: number, rows: number, where: string): string[] {
  const joined = lines(term.screenJoined());
  const problems: string[] = [];
  const wide = joined.filter((l) => [...l].length > cols);
  if (wide.length > 0) problems.push(`${where}: lines wrapped past ${cols} columns: ${JSON.stringify(wide)}`);
  if (joined.length > rows) problems.push(`${where}: ${joined.length} lines on a ${rows}-row screen`);
  const screen = lines(term.screen());
  if (!screen[0]?.startsWith('iot-deprovision')) problems.push(`${where}: no header on the first line`);
  if (screen[1] !== '─'.repeat(cols)) problems.push(`${where}: the header's rule is not ${cols} wide`);
  // The App is one row shorter than the screen (no scroll when the last line is written).
  const footer = screen[rows - 2] ?? '';
  if (!footer.includes('? help'))
    problems.push(`${where}: no key-hint footer on row ${rows - 1}: "${footer}"`);
  if (screen.filter((l) => l.startsWith('iot-deprovision')).length !== 1) {
    problems.push(`${where}: the header appears more than once (a stale frame)`);
  }
  return problems;
}
