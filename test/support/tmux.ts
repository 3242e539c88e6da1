/**
 * Drives the compiled program in a real terminal (tmux): type keys, read the screen, wait for text
 * with a deadline (never fixed sleeps).
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

export interface TerminalOptions {
  cols?: number;
  rows?: number;
  /** Variables for the program; `undefined` unsets one (the tmux server's environment may hold it). */
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** A screen test: text to find, a pattern, or a predicate over the screen. */
export type ScreenMatch = string | RegExp | ((screen: string) => boolean);

const matches = (screen: string, m: ScreenMatch): boolean =>
  typeof m === 'string' ? screen.includes(m) : m instanceof RegExp ? m.test(screen) : m(screen);

/**
 * Each terminal has its own tmux server (its own socket, `-L`): on the shared default server, one test
 * closing the last session stops the server while another test's new-session connects to it ("server
 * exited unexpectedly"), as happened when the e2e files ran in another order.
 */
function tmux(socket: string, args: string[]): string {
  return execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export class Terminal {
  readonly name = `iotd-${randomBytes(4).toString('hex')}`;
  private closed = false;
  /** The server's socket file (removed on close: a stopped server leaves it behind). */
  private socketPath = '';

  constructor(argv: string[], opts: TerminalOptions = {}) {
    const env = { ...opts.env };
    // Ink renders non-interactively when CI is set; the program under test must see a plain terminal.
    // The pane inherits the environment of whoever started the tmux server: colour switches too.
    const unset = [
      ...new Set([
        'CI',
        'CONTINUOUS_INTEGRATION',
        'FORCE_COLOR',
        ...Object.entries(env)
          .filter(([, v]) => v === undefined)
          .map(([k]) => k),
      ]),
    ];
    const assignments = Object.entries(env)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${shellQuote(v as string)}`);
    // Keep the pane after the program exits so its last screen and exit code can be read.
    const command = `env ${unset.map((u) => `-u ${u}`).join(' ')} ${assignments.join(' ')} ${argv.map(shellQuote).join(' ')}; echo "[exit $?]"; sleep 600`;
    tmux(this.name, [
      'new-session',
      '-d',
      '-s',
      this.name,
      '-x',
      String(opts.cols ?? 80),
      '-y',
      String(opts.rows ?? 24),
      ...(opts.cwd ? ['-c', opts.cwd] : []),
      command,
    ]);
    this.socketPath = tmux(this.name, ['display-message', '-p', '#{socket_path}']).trim();
  }

  /** Keys in tmux's names (Down, Enter, Escape, C-c) or literal text with `literal`. */
  send(...keys: string[]): void {
    tmux(this.name, ['send-keys', '-t', this.name, ...keys]);
  }

  type(text: string): void {
    tmux(this.name, ['send-keys', '-t', this.name, '-l', text]);
  }

  /** Writes raw bytes in one burst, as a slow SSH link delivers buffered keys. */
  burst(bytes: string): void {
    const hex = [...Buffer.from(bytes, 'utf8')].map((b) => b.toString(16).padStart(2, '0'));
    tmux(this.name, ['send-keys', '-t', this.name, '-H', ...hex]);
  }

  screen(): string {
    return tmux(this.name, ['capture-pane', '-t', this.name, '-p']);
  }

  /** Screen with colours and attributes as escape sequences (for NO_COLOR checks). */
  screenWithEscapes(): string {
    return tmux(this.name, ['capture-pane', '-t', this.name, '-p', '-e']);
  }

  /** The screen with wrapped lines joined: a line longer than the pane is wide was wrapped by the terminal. */
  screenJoined(): string {
    return tmux(this.name, ['capture-pane', '-t', this.name, '-p', '-J']);
  }

  /** True while the program draws on the alternate screen. */
  alternateOn(): boolean {
    return tmux(this.name, ['display-message', '-p', '-t', this.name, '#{alternate_on}']).trim() === '1';
  }

  /** Resizes the terminal, as a person dragging the window or an SSH client does. */
  resize(cols: number, rows: number): void {
    tmux(this.name, ['resize-window', '-t', this.name, '-x', String(cols), '-y', String(rows)]);
  }

  async waitFor(pattern: ScreenMatch, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = this.screen();
      if (matches(last, pattern)) return last;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${String(pattern)}; screen was:\n${last}`);
  }

  /** Waits for the program to exit and returns its exit code. */
  async exitCode(timeoutMs = 20_000): Promise<number> {
    const screen = await this.waitFor(/\[exit \d+\]/, timeoutMs);
    return Number(/\[exit (\d+)\]/.exec(screen)?.[1]);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      tmux(this.name, ['kill-server']);
    } catch {
      // already gone
    }
    if (this.socketPath) rmSync(this.socketPath, { force: true });
  }
}
