/**
 * Drive the screens the way a person does: render, write keys to stdin, wait for the frame to
 * change (never a fixed long sleep), read the frame without colour codes.
 */
import { EventEmitter } from 'node:events';
import { stripVTControlCharacters } from 'node:util';
import { type Instance as InkInstance, render as inkRender } from 'ink';
import { render as testRender } from 'ink-testing-library';
import type { ReactElement } from 'react';
import { App, type AppProps, type TuiOutcome } from '../../src/screens/App.js';
import type { Route } from '../../src/screens/routes.js';
import type { FakeBackend } from '../support/fake-backend.js';

export interface Driven {
  stdin: { write(data: string): void };
  frames: string[];
  lastFrame(): string | undefined;
  unmount(): void;
}

export const KEYS = {
  up: '\u001B[A',
  down: '\u001B[B',
  right: '\u001B[C',
  left: '\u001B[D',
  pageDown: '\u001B[6~',
  pageUp: '\u001B[5~',
  home: '\u001B[H',
  end: '\u001B[F',
  enter: '\r',
  escape: '\u001B',
  tab: '\t',
  backspace: '\u007F',
  ctrlC: '\u0003',
} as const;

const tick = () => new Promise<void>((r) => setImmediate(r));

/** The visible frame without colour and style codes. */
export const frame = (t: Driven): string => stripVTControlCharacters(t.lastFrame() ?? '');

/** Wait until `done()` holds, polling each event-loop turn, up to a generous deadline. */
export async function until(
  done: () => boolean,
  what: string,
  t?: Driven,
  deadlineMs = 15_000,
): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!done()) {
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}${t ? `; last frame:\n${frame(t)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Wait for text to appear in the frame. */
export const waitForText = (t: Driven, text: string) => until(() => frame(t).includes(text), `"${text}"`, t);

/**
 * Write keys (one write = one stdin chunk) and wait until the frame changed or the event loop has
 * turned a few times (a key that changes nothing on screen).
 */
export async function press(t: Driven, keys: string): Promise<void> {
  const before = t.frames.length;
  const beforeText = frame(t);
  t.stdin.write(keys);
  for (let i = 0; i < 20; i++) {
    await tick();
    if (t.frames.length > before && frame(t) !== beforeText) break;
  }
  await tick();
}

export interface AppOptions extends Partial<AppProps> {
  routes?: Route[];
  /** Render at this terminal size instead of ink-testing-library's 100 columns. */
  size?: { columns: number; rows: number };
}

export interface DrivenApp extends Driven {
  outcome(): TuiOutcome | undefined;
}

/** Render the App on a fake backend; resolves after the first frame. */
export async function renderApp(backend: FakeBackend, opts: AppOptions = {}): Promise<DrivenApp> {
  let outcome: TuiOutcome | undefined;
  const tree = (
    <App
      backend={backend}
      color={opts.color ?? true}
      initialRoutes={opts.routes}
      controller={opts.controller}
      session={opts.session}
      onExit={(o) => {
        outcome = o;
      }}
    />
  );
  const t = opts.size ? renderSized(tree, opts.size.columns, opts.size.rows) : testRender(tree);
  await tick();
  await tick();
  return Object.assign(t, { outcome: () => outcome });
}

export class FakeStdout extends EventEmitter {
  readonly frames: string[] = [];
  isTTY = true;
  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {
    super();
  }
  write = (data: string) => {
    this.frames.push(data);
    return true;
  };
}

export class FakeStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  write = (data: string) => {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  };
  read = () => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
}

/** Like ink-testing-library's render, at a chosen terminal size. */
export function renderSized(tree: ReactElement, columns: number, rows: number): Driven {
  const stdout = new FakeStdout(columns, rows);
  // Ink's own full-screen mode kicks in on a TTY stdout; the frames stay the same text.
  const stdin = new FakeStdin();
  const instance: InkInstance = inkRender(tree, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: new FakeStdout(columns, rows) as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  return {
    stdin,
    frames: stdout.frames,
    lastFrame: () => stdout.frames.at(-1),
    unmount: instance.unmount,
  };
}
