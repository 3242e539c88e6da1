/**
 * One run per enrollment (or group) and target at a time, on this machine: `run`, `resume` and `restore`
 * take a lock file named after the DPS host and the enrollment or group before their first change, and
 * keep it until the run ends. A second process is refused (exit 2) with who holds it; a lock left by a
 * process that is gone is taken over. Two machines are not coordinated (see the README).
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { Selection } from '../../core/selection.js';
import { sanitize } from '../../core/text.js';
import { acquireLock, type LockHolder } from '../pid-lock.js';
import { journalError } from './records.js';

/** What a run works on: a group (whole or some devices) or an individual enrollment. */
const subjectOf = (selection: Selection): { kind: 'enrollment' | 'group' | 'devices'; id: string } =>
  selection.kind === 'enrollment'
    ? { kind: 'enrollment', id: selection.registrationId }
    : selection.kind === 'devices'
      ? { kind: 'devices', id: [...selection.ids].sort().join(',') }
      : { kind: 'group', id: selection.groupId };

const fileSafe = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '_')
    .slice(0, 60);

/**
 * `<runs dir>/locks/<dps host>--<kind>-<id>-<hash>.lock`, next to the journals; the hash keeps names
 * apart that the file-safe form would merge.
 */
export const runLockPath = (dpsHost: string, selection: Selection, runsDir: string): string => {
  const { kind, id } = subjectOf(selection);
  const hash = createHash('sha256')
    .update(`${dpsHost.toLowerCase()}\0${kind}\0${id}`)
    .digest('hex')
    .slice(0, 16);
  return join(runsDir, 'locks', `${fileSafe(dpsHost)}--${kind}-${fileSafe(id)}-${hash}.lock`);
};

const describeHolder = (h: LockHolder | undefined): string => {
  if (!h) return 'another iot-deprovision process (it is starting or stopping)';
  const parts = [`pid ${h.pid}`];
  if (h.startedAt) parts.push(`started ${h.startedAt}`);
  if (h.runId) parts.push(`run ${h.runId}`);
  return `another iot-deprovision process (${parts.join(', ')})`;
};

/**
 * Takes the lock of the selection's enrollment or group on `dpsHost`, or throws a journal UserError ('locked')
 * (exit 2) naming the holder. Answers the release function.
 */
export const lockSelection = (
  dpsHost: string,
  selection: Selection,
  runId: string,
  runsDir: string,
): (() => void) => {
  const path = runLockPath(dpsHost, selection, runsDir);
  try {
    mkdirSync(join(runsDir, 'locks'), { recursive: true, mode: 0o700 });
  } catch (e) {
    throw journalError(
      'io',
      `could not create the lock folder ${join(runsDir, 'locks')}: ${(e as Error).message}`,
    );
  }
  const { kind, id } = subjectOf(selection);
  return acquireLock(
    path,
    (holder) =>
      journalError(
        'locked',
        `${kind} ${sanitize(id)} on ${dpsHost} is being worked on by ${describeHolder(holder)}: ` +
          'wait for it to finish (or stop it), then try again. Nothing was changed.',
      ),
    // In one process, a run resumed after a crash it simulated takes its own lock over (tests do that).
    { info: { runId }, sameProcess: 'takeOver' },
  );
};

/**
 * The DPS host and selection of a journal's header (its first line), for the lock of a resumed run;
 * undefined when the first line is not a readable header (the reader reports that).
 */
export const readHeaderLine = (
  journalPath: string,
): { dpsHost: string; selection: Selection } | undefined => {
  let fd: number;
  try {
    fd = openSync(journalPath, 'r');
  } catch {
    return undefined;
  }
  try {
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(64 * 1024);
    for (let total = 0; total < 64 * 1024 * 1024; ) {
      const n = readSync(fd, buf, 0, buf.length, total);
      if (n === 0) break;
      const nl = buf.subarray(0, n).indexOf(0x0a);
      chunks.push(Buffer.from(buf.subarray(0, nl >= 0 ? nl : n)));
      if (nl >= 0) break;
      total += n;
    }
    const header = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      type?: unknown;
      target?: { dpsHost?: unknown };
      selection?: Selection;
    };
    const dpsHost = header?.target?.dpsHost;
    const selection = header?.selection;
    if (
      header?.type !== 'header' ||
      typeof dpsHost !== 'string' ||
      !selection ||
      typeof selection !== 'object'
    )
      return undefined;
    const named =
      selection.kind === 'enrollment'
        ? typeof selection.registrationId === 'string'
        : selection.kind === 'devices'
          ? Array.isArray(selection.ids)
          : typeof selection.groupId === 'string';
    if (!named) return undefined;
    return { dpsHost, selection };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
};
