/**
 * A lock file holding its owner's pid: one process at a time works on a file (an emulator state, a run
 * journal). A lock left by a process that is gone (killed, crashed) is taken over; with `sameProcess:
 * 'takeOver'`, so is one this very process left (a run resumed in-process after a crash it simulated).
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `${path}.lock` or throws `busy(ownerPid)`; answers the release function. */
export function acquirePidLock(
  path: string,
  busy: (ownerPid: number) => Error,
  sameProcess: 'refuse' | 'takeOver' = 'refuse',
): () => void {
  const lockPath = `${path}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(lockPath, String(process.pid), { flag: 'wx', mode: 0o600 });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          unlinkSync(lockPath);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = Number.NaN;
      try {
        owner = Number(readFileSync(lockPath, 'utf8').trim());
      } catch {
        continue; // released between our write and our read: try again
      }
      const mine = owner === process.pid && sameProcess === 'takeOver';
      if (Number.isInteger(owner) && owner > 0 && !mine && alive(owner)) throw busy(owner);
      try {
        unlinkSync(lockPath); // stale: its process is gone
      } catch {
        // someone else took it over first
      }
    }
  }
  throw busy(Number.NaN);
}
