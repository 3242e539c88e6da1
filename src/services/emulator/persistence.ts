/**
 * The optional state file: loaded at start, saved after changes (debounced) by writing a temporary
 * file and renaming it over the old one, so a crash never leaves half a state. A lock file with the
 * owner's pid keeps a second emulator off the same state; a lock left by a dead process is taken over.
 */
import { existsSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { isUserError, UserError } from '../../core/errors.js';
import { acquirePidLock } from '../pid-lock.js';
import type { EmulatorStore, StoreSnapshot } from './store.js';

/** A --state file that cannot be used (a folder, unreadable, not a state): exit 2 with a plain message. */
const stateFileProblem = (message: string): UserError => new UserError(message, { code: 'stateFile' });

/** The plain words for what is wrong with the state file; the errno code stays out of sight. */
export function stateFileError(
  statePath: string,
  e: unknown,
  doing: 'read' | 'written' | 'locked',
): UserError {
  if (isUserError(e)) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  const what =
    code === 'EISDIR'
      ? 'is a folder, not a file'
      : code === 'EACCES' || code === 'EPERM'
        ? `cannot be ${doing}: permission denied`
        : code === 'ENOTDIR'
          ? 'is under something that is not a folder'
          : code === 'ENOENT'
            ? 'is in a folder that does not exist'
            : code
              ? `cannot be ${doing} (${code})`
              : (e as Error)?.message?.replace(/^the state file /, '').replace(/; move it away.*$/, '') ||
                'cannot be used';
  return stateFileProblem(`state file ${statePath} ${what}; move it away or choose another --state file`);
}

export function acquireLock(statePath: string): () => void {
  try {
    return lockState(statePath);
  } catch (e) {
    throw stateFileError(statePath, e, 'locked');
  }
}

function lockState(statePath: string): () => void {
  return acquirePidLock(
    statePath,
    (owner) =>
      new UserError(
        Number.isNaN(owner)
          ? `could not lock state file ${statePath}; another emulator may be starting`
          : `state file ${statePath} is in use by another emulator (pid ${owner}); ` +
              'stop that emulator or choose another --state file',
        { code: 'stateLocked' },
      ),
  );
}

export function loadState(statePath: string): StoreSnapshot | undefined {
  if (!existsSync(statePath)) return undefined;
  let text: string;
  try {
    text = readFileSync(statePath, 'utf8');
  } catch (e) {
    throw stateFileError(statePath, e, 'read');
  }
  try {
    return JSON.parse(text) as StoreSnapshot;
  } catch {
    throw stateFileProblem(
      `state file ${statePath} is not valid JSON; move it away or choose another --state file`,
    );
  }
}

/** Saves the store after changes, at most one write at a time, the last change always written. */
export class StateSaver {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private readonly unsubscribe: () => void;
  lastError: Error | undefined;

  constructor(
    private readonly statePath: string,
    private readonly store: EmulatorStore,
    private readonly debounceMs = 200,
  ) {
    this.unsubscribe = store.onChange(() => this.schedule());
  }

  private schedule(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch((err) => {
        this.lastError = err as Error;
      });
    }, this.debounceMs);
    this.timer.unref();
  }

  /** Writes now if anything changed since the last write (and waits for a write in progress). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.writing) await this.writing;
    if (!this.dirty) return;
    this.dirty = false;
    this.writing = this.write().finally(() => {
      this.writing = undefined;
    });
    await this.writing;
  }

  /** Marks the state as changed so that the next flush writes it (a new state file). */
  markDirty(): void {
    this.dirty = true;
  }

  private async write(): Promise<void> {
    const text = JSON.stringify(this.store.toSnapshot());
    const tmp = `${this.statePath}.tmp-${process.pid}`;
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, this.statePath);
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.flush();
  }
}
