import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ENTER_ALTERNATE_SCREEN, LEAVE_ALTERNATE_SCREEN, runTui } from '../../src/screens/run-tui.js';
import { FakeBackend } from '../support/fake-backend.js';
import { demoData } from './fixtures.js';
import { FakeStdin, FakeStdout, KEYS, until } from './helpers.js';

function terminal() {
  const stdin = new FakeStdin();
  const stdout = new FakeStdout(100, 30);
  const text = () => stdout.frames.join('');
  const screen = () => stripVTControlCharacters(text());
  return { stdin, stdout, text, screen };
}

const start = (backend: FakeBackend, term: ReturnType<typeof terminal>) =>
  runTui(backend, {
    stdin: term.stdin as unknown as NodeJS.ReadStream,
    stdout: term.stdout as unknown as NodeJS.WriteStream,
    signals: [],
  });

/** Write keys once the screen shows `text`, then wait for the frame they draw (failing if none comes). */
async function when(term: ReturnType<typeof terminal>, text: string, keys: string) {
  await until(() => term.screen().includes(text), `"${text}"`);
  const seen = term.stdout.frames.length;
  term.stdin.write(keys);
  await until(
    () => term.stdout.frames.length > seen,
    `a new frame after ${JSON.stringify(keys)} on "${text}"`,
  );
}

describe('runTui', () => {
  it('refuses without a terminal on stdin and says what to do instead (exit 2)', async () => {
    const err = new FakeStdout(80, 24);
    const code = await runTui(new FakeBackend(demoData()), {
      stdin: { isTTY: false } as unknown as NodeJS.ReadStream,
      stderr: err as unknown as NodeJS.WriteStream,
    });
    expect(code).toBe(2);
    const printed = err.frames.join('');
    expect(printed).toMatch(/^iot-deprovision needs an interactive terminal\./);
    expect(printed).toContain('Use a headless command instead (iot-deprovision plan|run|verify --help)');
    expect(printed).toContain('ssh -t');
  });

  it('draws on the alternate screen, leaves it on q, and prints that nothing changed (exit 0)', async () => {
    const term = terminal();
    const done = start(new FakeBackend(demoData()), term);
    await when(term, 'Press Enter to choose an enrollment.', 'q');
    expect(await done).toBe(0);
    const out = term.text();
    expect(out.startsWith(ENTER_ALTERNATE_SCREEN)).toBe(true);
    const after = out.slice(out.lastIndexOf(LEAVE_ALTERNATE_SCREEN) + LEAVE_ALTERNATE_SCREEN.length);
    expect(after).toBe('iot-deprovision: nothing was changed.\n');
  });

  it('after a run, prints what ran, the journal and the restore command into the scrollback', async () => {
    const term = terminal();
    const backend = new FakeBackend(demoData());
    const done = start(backend, term);
    await when(term, 'Press Enter', KEYS.enter);
    await when(term, 'dev-tpm-1', KEYS.enter);
    await when(term, 'Enter: continue with this enrollment.', KEYS.enter);
    await when(term, 'No warnings for these choices.', KEYS.enter);
    await when(term, 'Run it? y: yes', 'y');
    await until(() => backend.runs.length === 1, 'the run');
    backend.lastRun.advance(3);
    await when(term, 'Run run-1 completed.', 'q');
    expect(await done).toBe(0);
    const out = term.text();
    const after = out.slice(out.lastIndexOf(LEAVE_ALTERNATE_SCREEN));
    expect(after).toContain('iot-deprovision: run run-1 completed: 3 steps done, 0 failed, 0 skipped.');
    expect(after).toContain('Journal: /tmp/iot-deprovision/run-1.jsonl');
    expect(after).toContain('To undo the temporary actions, run:\n  iot-deprovision restore run-1 --yes\n');
  });

  it('Ctrl-C during a run aborts it safely, leaves the alternate screen, and exits 3', async () => {
    const term = terminal();
    const backend = new FakeBackend(demoData());
    const done = start(backend, term);
    await when(term, 'Press Enter', KEYS.enter);
    await when(term, 'dev-tpm-1', KEYS.enter);
    await when(term, 'Enter: continue with this enrollment.', KEYS.enter);
    await when(term, 'No warnings for these choices.', KEYS.enter);
    await when(term, 'Run it? y: yes', 'y');
    await when(term, 'Latest results:', KEYS.ctrlC);
    expect(await done).toBe(3);
    expect(backend.lastRun.calls).toEqual(['abort']);
    const out = term.text();
    const after = out.slice(out.lastIndexOf(LEAVE_ALTERNATE_SCREEN));
    expect(after).toContain('run run-1 was aborted');
    expect(after).toContain('Finish it with: iot-deprovision resume run-1');
  });

  it('leaves the alternate screen on a signal, and on an error (exit 1, with the message)', async () => {
    const term = terminal();
    const listenersBefore = process.listenerCount('SIGUSR2');
    const done = runTui(new FakeBackend(demoData()), {
      stdin: term.stdin as unknown as NodeJS.ReadStream,
      stdout: term.stdout as unknown as NodeJS.WriteStream,
      signals: ['SIGUSR2'],
    });
    await until(() => term.screen().includes('Press Enter'), 'the first screen');
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(await done).toBe(0);
    expect(process.listenerCount('SIGUSR2')).toBe(listenersBefore);
    expect(term.text().endsWith(`${LEAVE_ALTERNATE_SCREEN}iot-deprovision: nothing was changed.\n`)).toBe(
      true,
    );

    const broken = new FakeBackend(demoData());
    Object.defineProperty(broken, 'target', {
      get() {
        throw new Error('target unreadable');
      },
    });
    const term2 = terminal();
    expect(await start(broken, term2)).toBe(1);
    const out = term2.text();
    expect(out.indexOf(ENTER_ALTERNATE_SCREEN)).toBe(0);
    const after = out.slice(out.lastIndexOf(LEAVE_ALTERNATE_SCREEN));
    expect(after).toContain('the terminal UI stopped on an error: target unreadable');
  });
});
