/** Where run journals live, and how runs are named. */
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { printable } from '../../core/text.js';
import { journalError } from './records.js';

export type Env = Record<string, string | undefined>;

/** `$XDG_STATE_HOME/iot-deprovision` (a relative XDG_STATE_HOME is ignored, as the spec says). */
export const stateDir = (env: Env = process.env): string => {
  const xdg = env.XDG_STATE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'iot-deprovision');
};

export const runsDir = (env: Env = process.env): string => join(stateDir(env), 'runs');

/** Sortable and readable: `20261129T013000Z-1a2b3c` (UTC start time, then 6 random hex digits). */
export const newRunId = (
  now: Date = new Date(),
  random: () => string = () => randomBytes(3).toString('hex'),
) =>
  `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${random()}`;

export const RUN_ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;

export const isRunId = (s: string): boolean => RUN_ID_PATTERN.test(s);

/** The journal path of a run; refuses anything that is not a run ID (no paths, no `..`). */
export const journalPathFor = (runId: string, env: Env = process.env): string => {
  if (!isRunId(runId)) {
    throw journalError(
      'badRunId',
      `"${printable(runId)}" is not a run ID (expected like 20261129T013000Z-1a2b3c; ` +
        'see `iot-deprovision runs`).',
    );
  }
  return join(runsDir(env), `${runId}.jsonl`);
};
