/**
 * The first frame comes before the backend: the TUI says what is starting, answers q at once, starts
 * the backend only on a terminal and only after drawing, and hands a start-up failure to the launcher.
 */
import { UserError } from '../../src/core/errors.js';
import { describe, expect, it } from 'vitest';
import { LEAVE_ALTERNATE_SCREEN, runTui, STARTING_SANDBOX } from '../../src/screens/run-tui.js';
import type { Backend } from '../../src/services/backend.js';
import { FakeBackend } from '../support/fake-backend.js';
import { demoData } from './fixtures.js';
import { FakeStdin, FakeStdout, until } from './helpers.js';
import { stripVTControlCharacters } from 'node:util';

function terminal() {
  const stdin = new FakeStdin();
  const stdout = new FakeStdout(80, 24);
  const text = () => stdout.frames.join('');
  return { stdin, stdout, text, screen: () => stripVTControlCharacters(text()) };
}

type Term = ReturnType<typeof terminal>;

const start = (source: Parameters<typeof runTui>[0], term: Term) =>
  runTui(source, {
    stdin: term.stdin as unknown as NodeJS.ReadStream,
    stdout: term.stdout as unknown as NodeJS.WriteStream,
    signals: [],
    starting: STARTING_SANDBOX,
  });

/** A backend start the test finishes (or fails) when it wants. */
function deferred() {
  let resolve!: (b: Backend) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<Backend>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  let calls = 0;
  let framesAtCall = -1;
  return {
    start: (term: Term) => () => {
      calls++;
      framesAtCall = term.stdout.frames.length;
      return promise;
    },
    resolve,
    reject,
    calls: () => calls,
    framesAtCall: () => framesAtCall,
  };
}

describe('start-up', () => {
  it('draws the badged header and "starting the sandbox" before the backend starts, then the target', async () => {
    const term = terminal();
    const backend = deferred();
    const done = start(backend.start(term), term);
    await until(() => backend.calls() === 1, 'the backend start');
    // The frame was on the screen before the start was even called.
    expect(stripVTControlCharacters(term.stdout.frames.slice(0, backend.framesAtCall()).join(''))).toContain(
      'Starting the sandbox',
    );
    const first = term.screen();
    expect(first).toContain('iot-deprovision [SANDBOX]   Target');
    expect(first).toContain('q quit');
    expect(first).not.toContain('Press Enter to choose an enrollment.');

    backend.resolve(new FakeBackend(demoData()));
    await until(() => term.screen().includes('Press Enter to choose an enrollment.'), 'the target screen');
    term.stdin.write('q');
    expect(await done).toBe(0);
  });

  it('q quits while the backend is still starting: nothing was changed, exit 0', async () => {
    const term = terminal();
    const backend = deferred();
    const done = start(backend.start(term), term);
    await until(() => term.screen().includes('Starting the sandbox'), 'the start-up frame');
    term.stdin.write('q');
    expect(await done).toBe(0);
    expect(term.text().endsWith(`${LEAVE_ALTERNATE_SCREEN}iot-deprovision: nothing was changed.\n`)).toBe(
      true,
    );
  });

  it('a backend that fails to start ends the TUI and rejects with its error after leaving the alternate screen', async () => {
    const term = terminal();
    const backend = deferred();
    const done = start(backend.start(term), term);
    await until(() => backend.calls() === 1, 'the backend start');
    const failure = new UserError('the sandbox state file is in use by another process', {
      code: 'stateLocked',
    });
    backend.reject(failure);
    await expect(done).rejects.toBe(failure);
    expect(term.text().endsWith(LEAVE_ALTERNATE_SCREEN)).toBe(true);
  });

  it('without a terminal the backend is never started', async () => {
    const term = terminal();
    const backend = deferred();
    const err = new FakeStdout(80, 24);
    const code = await runTui(backend.start(term), {
      stdin: { isTTY: false } as unknown as NodeJS.ReadStream,
      stderr: err as unknown as NodeJS.WriteStream,
    });
    expect(code).toBe(2);
    expect(backend.calls()).toBe(0);
  });
});
