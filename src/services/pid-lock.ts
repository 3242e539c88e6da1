/**
 * A lock file naming its holder (pid, start time, and what the caller adds, such as a run ID): one
 * process at a time works on a thing (an emulator state, a run journal, an enrollment on a target).
 *
 * Taking it is one exclusive create (a hard link of a file already holding the text, which fails when
 * the lock exists, like O_EXCL): of two processes racing, exactly one gets it. A lock whose
 * holder is gone (killed, crashed) is taken over, and taking over is serialised by a second exclusive
 * file (`<lock>.takeover`): the one process that holds it checks, under it, that the lock still names
 * the dead holder it read, removes it and creates its own, again with O_EXCL. Nothing else ever removes
 * a lock but its holder, so a check made under the takeover file stays true until the removal.
 *
 * Same machine only: pids mean nothing across machines (the README says what protects two machines).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

/** What a lock file says about its holder. */
export interface LockHolder {
  pid: number;
  /** ISO time the lock was taken. */
  startedAt: string;
  host?: string;
  /** The run the holder works on, when there is one. */
  runId?: string;
}

export interface LockOptions {
  /** Written into the lock file (e.g. the run ID); shown to whoever is refused. */
  info?: { runId?: string };
  /**
   * A lock this very process holds: 'refuse' (default), or 'takeOver' (a run resumed in-process after
   * a crash it simulated).
   */
  sameProcess?: 'refuse' | 'takeOver';
}

/** Locks held by this process (path -> release): a second take in this process is refused unless asked. */
const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads a lock file; undefined when it is gone. Old lock files hold only a pid. */
export function readLockHolder(
  lockPath: string,
): { holder: LockHolder | undefined; raw: string } | undefined {
  let raw: string;
  try {
    raw = readFileSync(lockPath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const text = raw.trim();
  if (/^\d+$/.test(text)) return { holder: { pid: Number(text), startedAt: '' }, raw };
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (Number.isInteger(v.pid) && (v.pid as number) > 0) {
      return {
        holder: {
          pid: v.pid as number,
          startedAt: typeof v.startedAt === 'string' ? v.startedAt : '',
          ...(typeof v.host === 'string' ? { host: v.host } : {}),
          ...(typeof v.runId === 'string' ? { runId: v.runId } : {}),
        },
        raw,
      };
    }
  } catch {
    // not JSON: a holder that died between creating and writing the file
  }
  return { holder: undefined, raw };
}

/**
 * Creates `path` exclusively with `text`, whole: false when it exists. The text is written to a file of
 * this process first, then hard-linked to `path` (link fails when `path` exists, like O_EXCL): nobody
 * can ever read the lock created but still empty (a busy machine can pause a process between an
 * exclusive create and its write for longer than a racing reader waits).
 */
function createExclusive(path: string, text: string): boolean {
  const draft = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const fd = openSync(draft, 'wx', 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(draft, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    removeQuietly(draft);
  }
}

/** Blocks this thread for `ms` (lock taking is synchronous: a few short waits at most). */
const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

const removeQuietly = (path: string) => {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
};

/** A holder that cannot be working on the thing any more. */
function gone(holder: LockHolder | undefined, lockPath: string, sameProcess: 'refuse' | 'takeOver'): boolean {
  if (!holder) {
    // Unreadable content: a holder that died between create and write; give a live writer a moment.
    try {
      return Date.now() - statSync(lockPath).mtimeMs > 2_000;
    } catch {
      return false;
    }
  }
  if (holder.host && holder.host !== hostname()) return false; // another machine's pid: cannot tell
  if (holder.pid === process.pid) return sameProcess === 'takeOver' || !heldHere.has(lockPath);
  if (!alive(holder.pid)) return true;
  // The pid lives, but a process started after the lock was taken is another one that reused it.
  const started = processStartMs(holder.pid);
  const taken = Date.parse(holder.startedAt);
  return started !== undefined && Number.isFinite(taken) && started > taken + 1_000;
}

/** When a process started (Linux /proc), or undefined when it cannot be told. */
function processStartMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]); // field 22 (starttime), counted after "pid (comm)"
    const btime = /\nbtime (\d+)/.exec(readFileSync('/proc/stat', 'utf8'))?.[1];
    if (!Number.isFinite(ticks) || !btime) return undefined;
    return Number(btime) * 1000 + (ticks / 100) * 1000; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/**
 * The takeover file: held for a few file operations only. One left by a process that died inside
 * them (rare) is removed once it is a few seconds old.
 */
function withTakeover<T>(lockPath: string, fn: () => T): T | undefined {
  const path = `${lockPath}.takeover`;
  if (!createExclusive(path, String(process.pid))) {
    try {
      if (Date.now() - statSync(path).mtimeMs > 5_000) removeQuietly(path);
    } catch {
      // gone meanwhile
    }
    return undefined;
  }
  try {
    return fn();
  } finally {
    removeQuietly(path);
  }
}

/**
 * Takes the lock file `lockPath` or throws `busy(holder)` (holder undefined: could not tell who, after
 * retries); answers the release function.
 */
export function acquireLock(
  lockPath: string,
  busy: (holder: LockHolder | undefined) => Error,
  options: LockOptions = {},
): () => void {
  const sameProcess = options.sameProcess ?? 'refuse';
  const mine: LockHolder = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    host: hostname(),
    ...(options.info?.runId ? { runId: options.info.runId } : {}),
  };
  const text = `${JSON.stringify(mine)}\n`;
  const release = () => {
    let released = false;
    heldHere.add(lockPath);
    return () => {
      if (released) return;
      released = true;
      heldHere.delete(lockPath);
      // Only our own lock: never remove one that another process took over meanwhile.
      const now = readLockHolder(lockPath);
      if (now && now.raw === text) removeQuietly(lockPath);
    };
  };
  for (let attempt = 0; attempt < 20; attempt++) {
    if (createExclusive(lockPath, text)) return release();
    const seen = readLockHolder(lockPath);
    if (!seen) continue; // released between our create and our read: try again
    if (!gone(seen.holder, lockPath, sameProcess)) {
      if (seen.holder) throw busy(seen.holder);
      // Unreadable and young: an old version's lock being written. Look again in a moment.
      pause(10 + attempt * 5);
      continue;
    }
    const took = withTakeover(lockPath, () => {
      const again = readLockHolder(lockPath);
      if (again && again.raw !== seen.raw) return false; // someone else took it over first
      if (again) removeQuietly(lockPath);
      return createExclusive(lockPath, text);
    });
    if (took) return release();
    // Another process is taking it over: wait a little, then look again.
    pause(10 + attempt * 5);
  }
  throw busy(readLockHolder(lockPath)?.holder);
}

/** Takes `${path}.lock` (the lock of one file) or throws `busy(ownerPid)`; answers the release function. */
export function acquirePidLock(
  path: string,
  busy: (ownerPid: number) => Error,
  sameProcess: 'refuse' | 'takeOver' = 'refuse',
): () => void {
  return acquireLock(`${path}.lock`, (holder) => busy(holder?.pid ?? Number.NaN), { sameProcess });
}
