/**
 * Starts the TUI on a real terminal: refuses without one, draws on the alternate screen (no stale
 * fragments after a resize), always leaves it (normal exit, errors, signals), and prints a short
 * record of what ran after leaving, so it stays in the scrollback.
 */
import { commandLine } from '../core/invocation.js';
import { EXIT } from '../core/errors.js';
import { render } from 'ink';
import { sanitize } from '../core/text.js';
import type { Backend } from '../services/backend.js';
import { type TuiController, type TuiOutcome, exitCodeFor } from './App.js';
import { type StartingInfo, TuiRoot } from './TuiRoot.js';

export { STARTING_SANDBOX, STARTING_TARGET, type StartingInfo } from './TuiRoot.js';

export const ENTER_ALTERNATE_SCREEN = '\u001B[?1049h';
export const LEAVE_ALTERNATE_SCREEN = '\u001B[?1049l';
export const NOT_A_TERMINAL =
  'iot-deprovision needs an interactive terminal. Use a headless command instead ' +
  '(iot-deprovision plan|run|verify --help), or ssh -t.';

export interface RunTuiOptions {
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  /** Where the "needs a terminal" message goes (default process.stderr). */
  stderr?: NodeJS.WriteStream;
  /** Default: the NO_COLOR environment variable (https://no-color.org). */
  noColor?: boolean;
  /** Signals that stop the TUI safely (tests pass none). */
  signals?: NodeJS.Signals[];
  /** What the first frame says while a backend that is still starting arrives. */
  starting?: StartingInfo;
}

/**
 * The backend, or its start: a function is called only after the first frame is on the screen (and
 * not at all without a terminal), so the person sees the tool at once while the SDKs load.
 */
export type BackendSource = Backend | Promise<Backend> | (() => Promise<Backend>);

const DEFAULT_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The record printed after leaving the alternate screen. */
export function outcomeText(outcome: TuiOutcome): string {
  const lines: string[] = [];
  const s = outcome.summary;
  if (outcome.error)
    lines.push(`iot-deprovision: the terminal UI stopped on an error: ${sanitize(outcome.error)}`);
  if (outcome.interruptedRun) {
    const { runId, journalPath } = outcome.interruptedRun;
    lines.push(`iot-deprovision: run ${sanitize(runId)} was left before it finished.`);
    lines.push(`Journal: ${sanitize(journalPath)}`);
    lines.push(`Finish it with: ${commandLine('resume', sanitize(runId))}`);
  } else if (s) {
    const count = (o: string) => s.results.filter((r) => r.outcome === o).length;
    const state =
      s.state === 'completed'
        ? 'completed'
        : s.state === 'aborted'
          ? 'was aborted'
          : 'completed with failures';
    lines.push(
      `iot-deprovision: run ${sanitize(s.runId)} ${state}: ` +
        `${count('succeeded') + count('alreadyDone')} steps done, ` +
        `${count('failed')} failed, ${count('skipped')} skipped.`,
    );
    lines.push(`Journal: ${sanitize(s.journalPath)}`);
    if (s.journalError) lines.push(`The journal could not be written: ${sanitize(s.journalError)}`);
    if (s.state === 'aborted') lines.push(`Finish it with: ${commandLine('resume', sanitize(s.runId))}`);
    if (s.restoreCommand)
      lines.push(
        'To undo the temporary actions, run:',
        `  ${sanitize(s.restoreCommand)}`,
        ...(s.restoreUndoes ? [sanitize(s.restoreUndoes)] : []),
      );
  } else if (!outcome.error) {
    lines.push('iot-deprovision: nothing was changed.');
  }
  return `${lines.join('\n')}\n`;
}

const once = (f: () => void) => {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    f();
  };
};

/** The backend, made only when `start` is called (after the first frame); a ready one as it is. */
function deferred(source: BackendSource): { backend: Backend | Promise<Backend>; start: () => void } {
  if (typeof source !== 'function') return { backend: source, start: () => {} };
  let start = () => {};
  const backend = new Promise<Backend>((resolve, reject) => {
    start = () => void Promise.resolve().then(source).then(resolve, reject);
  });
  return { backend, start };
}

/**
 * Runs the TUI until the person quits; resolves to the exit code. Rejects with the backend's start-up
 * error (after leaving the alternate screen) when the backend could not start.
 */
export async function runTui(source: BackendSource, opts: RunTuiOptions = {}): Promise<number> {
  const stdin = opts.stdin ?? process.stdin;
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  if (!stdin.isTTY) {
    stderr.write(`${NOT_A_TERMINAL}\n`);
    return EXIT.usage;
  }
  const noColor = opts.noColor ?? Boolean(process.env.NO_COLOR);
  const leave = once(() => stdout.write(LEAVE_ALTERNATE_SCREEN));
  const controller: TuiController = {};
  let outcome: TuiOutcome = {};
  let startFailure: { error: unknown } | undefined;
  const { backend, start } = deferred(source);
  let unmount: (() => void) | undefined;
  const onSignal = () => {
    if (controller.interrupt) controller.interrupt();
    else unmount?.();
  };
  const signals = opts.signals ?? DEFAULT_SIGNALS;
  for (const signal of signals) process.on(signal, onSignal);
  process.once('exit', leave);
  stdout.write(ENTER_ALTERNATE_SCREEN);
  try {
    const instance = render(
      <TuiRoot
        backend={backend}
        starting={opts.starting}
        color={!noColor}
        controller={controller}
        onExit={(o) => {
          outcome = o;
        }}
        onStartFailed={(error) => {
          startFailure = { error };
        }}
      />,
      { stdin, stdout, stderr, exitOnCtrlC: false, patchConsole: false },
    );
    unmount = instance.unmount;
    // render() has written the first frame; only now load what the backend needs.
    start();
    await instance.waitUntilExit();
  } catch (err) {
    outcome = { ...outcome, error: err instanceof Error ? err.message : String(err) };
  } finally {
    leave();
    for (const signal of signals) process.off(signal, onSignal);
    process.off('exit', leave);
  }
  if (startFailure) throw startFailure.error;
  stdout.write(outcomeText(outcome));
  return exitCodeFor(outcome);
}
