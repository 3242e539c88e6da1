/**
 * The run journal writer: one append-only JSON-lines file per run. Records about destructive calls
 * are made durable (fdatasync) before the call and after it; other records are batched and reach
 * the disk with the next durable write or a short timer. Concurrent durable writes share one
 * fdatasync (group commit), so a run with many calls in flight does not queue on the disk.
 */
import { chmod, mkdir, open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { UserError } from '../../core/errors.js';
import type { ReenrollmentVerdict, RegistrationRecord } from '../../core/model.js';
import type { Plan, StepResult } from '../../core/plan-types.js';
import { type Env, journalPathFor, newRunId } from './paths.js';
import {
  JOURNAL_VERSION,
  journalError,
  type JobRecord,
  type JournalRecord,
  type JournalTarget,
  type RunEndState,
  type RunMark,
} from './records.js';
import { assertNoSecrets } from './redact.js';
import { acquirePidLock } from '../pid-lock.js';
import { lockSelection, readHeaderLine } from './run-lock.js';
import type { Selection } from '../../core/selection.js';

export interface RunJournal {
  readonly runId: string;
  readonly path: string;
  /** True once the registration snapshot is in the file. */
  readonly hasSnapshot: boolean;
  appendSnapshot(records: RegistrationRecord[]): Promise<void>;
  /** Durable before it resolves: call it right before a destructive call. */
  appendIntent(stepId: string, attempt: number, call: string): Promise<void>;
  /** Durable when `durable` (the outcome of a destructive step), else batched. */
  appendOutcome(result: StepResult, durable: boolean): Promise<void>;
  /** Durable: devices of a bulk step that settled while the step goes on (or stops). */
  appendProgress(stepId: string, devices: StepResult['devices'] & object): Promise<void>;
  appendVerify(stepId: string, verdicts: ReenrollmentVerdict[]): Promise<void>;
  /** Durable: a hub import/export job a step created (its ID and blob names, never a SAS). */
  appendJob(stepId: string, job: Omit<JobRecord, 'type' | 'at' | 'stepId'>): Promise<void>;
  appendMark(mark: RunMark): Promise<void>;
  /** Durable. */
  appendEnd(state: RunEndState): Promise<void>;
  /** Writes what is batched and makes it durable. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface JournalOptions {
  env?: Env;
  now?: () => Date;
  /** How long a batched record may wait before it is written (not synced). */
  flushIntervalMs?: number;
}

export interface NewJournalInput {
  target: JournalTarget;
  plan: Plan;
  /** Defaults to a fresh `newRunId()`. */
  runId?: string;
}

/** A journal file open under its run's lock. */
interface OpenJournalFile {
  runId: string;
  path: string;
  fh: FileHandle;
  release: () => void;
}

/**
 * Takes the run's lock, then opens the journal file (0600): `create` refuses an existing file, `append`
 * opens one to add to it. The lock is released again when the file cannot be opened.
 */
async function openLocked(
  path: string,
  runId: string,
  subject: Parameters<typeof lockRun>[2],
  mode: 'create' | 'append',
): Promise<OpenJournalFile> {
  const release = lockRun(path, runId, subject);
  try {
    const fh = await open(path, mode === 'create' ? 'ax' : 'a+', 0o600);
    await fh.chmod(0o600);
    return { runId, path, fh, release };
  } catch (e) {
    release();
    throw ioError(`could not ${mode === 'create' ? 'create' : 'open'} the run journal ${path}`, e);
  }
}

/** Creates the run's journal (dir 0700, file 0600) and writes header, plan and snapshot durably. */
export const openJournal = async (
  input: NewJournalInput,
  options: JournalOptions = {},
): Promise<RunJournal> => {
  const now = options.now ?? (() => new Date());
  const runId = input.runId ?? newRunId(now());
  const path = journalPathFor(runId, options.env);
  await ensurePrivateDir(dirname(path));
  const { plan } = input;
  const { snapshot, ...planWithoutSnapshot } = plan;
  const header: JournalRecord = {
    type: 'header',
    v: JOURNAL_VERSION,
    runId,
    createdAt: now().toISOString(),
    target: {
      dpsHost: input.target.dpsHost,
      hubHosts: [...input.target.hubHosts],
      ...(input.target.sandbox !== undefined ? { sandbox: input.target.sandbox } : {}),
      ...(input.target.sandboxState ? { sandboxState: input.target.sandboxState } : {}),
    },
    selection: plan.selection,
    actions: plan.actions,
    ...(plan.restoreOf ? { restoreOf: plan.restoreOf } : {}),
  };
  const at = now().toISOString();
  const first: JournalRecord[] = [header, { type: 'plan', at, plan: planWithoutSnapshot }];
  // Refuse before the file exists, so a refused run leaves nothing behind.
  for (const r of first) assertNoSecrets(r);
  assertNoSecrets(snapshot);
  const file = await openLocked(
    path,
    runId,
    { dpsHost: input.target.dpsHost, selection: plan.selection },
    'create',
  );
  const journal = new JsonlJournal(file, { ...options, now }, false);
  for (const r of first) journal.push(r);
  await journal.appendSnapshot(snapshot);
  return journal;
};

/** Opens an existing journal to append to it (resume). A torn last line is closed off, kept as evidence. */
export const reopenJournal = async (
  path: string,
  runId: string,
  hasSnapshot: boolean,
  options: JournalOptions = {},
): Promise<RunJournal> => {
  const file = await openLocked(path, runId, readHeaderLine(path), 'append');
  const size = (await file.fh.stat()).size;
  const journal = new JsonlJournal(file, options, hasSnapshot);
  if (size > 0) {
    const last = Buffer.alloc(1);
    await file.fh.read(last, 0, 1, size - 1);
    if (last[0] !== 0x0a) journal.pushRaw('\n');
  }
  return journal;
};

/**
 * Two processes resuming one run could repeat each other's calls: the second is refused. So is a second
 * run (or restore) on the same enrollment or group of the same DPS (the lock of `subject`).
 */
const lockRun = (
  path: string,
  runId: string,
  subject: { dpsHost: string; selection: Selection } | undefined,
): (() => void) => {
  const releaseSubject = subject
    ? lockSelection(subject.dpsHost, subject.selection, runId, dirname(path))
    : () => {};
  try {
    const releaseRun = lockJournal(path, runId);
    return () => {
      releaseRun();
      releaseSubject();
    };
  } catch (e) {
    releaseSubject();
    throw e;
  }
};

const lockJournal = (path: string, runId: string): (() => void) =>
  acquirePidLock(
    path,
    (owner) =>
      journalError(
        'locked',
        `run ${runId} is being worked on by another iot-deprovision process${Number.isNaN(owner) ? '' : ` (pid ${owner})`}: ` +
          'wait for it to finish, or stop it and resume again',
      ),
    'takeOver',
  );

export const ensurePrivateDir = async (dir: string): Promise<void> => {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    // The parent `iot-deprovision` directory holds only our state: keep it private too.
    const parent = dirname(dir);
    if ((await stat(parent)).isDirectory() && parent.endsWith('iot-deprovision')) await chmod(parent, 0o700);
  } catch (e) {
    throw ioError(`could not create the journal directory ${dir}`, e);
  }
};

const ioError = (what: string, e: unknown): UserError =>
  journalError(
    'io',
    `${what}: ${(e as Error).message}. Check the permissions and free space of that folder.`,
  );

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

class JsonlJournal implements RunJournal {
  private buffer: string[] = [];
  private waiters: Waiter[] = [];
  /** Set synchronously before a drain starts and cleared in the same turn it ends: no waiter is stranded. */
  private draining = false;
  private timer: NodeJS.Timeout | undefined;
  private failure: UserError | undefined;
  private closed = false;

  readonly runId: string;
  readonly path: string;
  hasSnapshot: boolean;
  private readonly fh: FileHandle;
  private readonly now: () => Date;
  private readonly flushIntervalMs: number;
  /** Releases the run's lock file (one process at a time works on a run). */
  private readonly release: () => void;

  constructor(file: OpenJournalFile, options: JournalOptions, hasSnapshot: boolean) {
    this.runId = file.runId;
    this.path = file.path;
    this.fh = file.fh;
    this.release = file.release;
    this.now = options.now ?? (() => new Date());
    this.flushIntervalMs = options.flushIntervalMs ?? 250;
    this.hasSnapshot = hasSnapshot;
  }

  /** Queues a record (after the secret guard); nothing is written until a flush. */
  push(record: JournalRecord): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw journalError('io', `the journal ${this.path} is closed`);
    assertNoSecrets(record);
    this.buffer.push(`${JSON.stringify(record)}\n`);
  }

  pushRaw(text: string): void {
    this.buffer.push(text);
  }

  private at(): string {
    return this.now().toISOString();
  }

  async appendSnapshot(records: RegistrationRecord[]): Promise<void> {
    this.push({ type: 'snapshot', at: this.at(), records });
    await this.sync();
    this.hasSnapshot = true;
  }

  appendIntent(stepId: string, attempt: number, call: string): Promise<void> {
    return this.append({ type: 'intent', at: this.at(), stepId, attempt, call }, true);
  }

  appendOutcome(result: StepResult, durable: boolean): Promise<void> {
    return this.append({ type: 'outcome', at: this.at(), result }, durable);
  }

  appendProgress(stepId: string, devices: StepResult['devices'] & object): Promise<void> {
    return this.append({ type: 'progress', at: this.at(), stepId, devices }, true);
  }

  appendJob(stepId: string, job: Omit<JobRecord, 'type' | 'at' | 'stepId'>): Promise<void> {
    return this.append({ type: 'job', at: this.at(), stepId, ...job }, true);
  }

  appendVerify(stepId: string, verdicts: ReenrollmentVerdict[]): Promise<void> {
    return this.append({ type: 'verify', at: this.at(), stepId, verdicts }, false);
  }

  appendMark(mark: RunMark): Promise<void> {
    return this.append({ type: 'mark', at: this.at(), mark }, false);
  }

  appendEnd(state: RunEndState): Promise<void> {
    return this.append({ type: 'end', at: this.at(), state }, true);
  }

  flush(): Promise<void> {
    return this.sync();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.sync();
    } finally {
      this.closed = true;
      if (this.timer) clearTimeout(this.timer);
      try {
        await this.fh.close();
      } finally {
        this.release();
      }
    }
  }

  private async append(record: JournalRecord, durable: boolean): Promise<void> {
    this.push(record);
    if (durable) return this.sync();
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.kick();
      }, this.flushIntervalMs);
      this.timer.unref();
    }
  }

  private sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    // One function: the last loop check and the reset of `draining` run in the same turn.
    try {
      while ((this.buffer.length > 0 || this.waiters.length > 0) && !this.failure) {
        const data = this.buffer.join('');
        this.buffer = [];
        const waiters = this.waiters;
        this.waiters = [];
        try {
          if (data.length > 0) await writeAll(this.fh, Buffer.from(data, 'utf8'));
          if (waiters.length > 0) await this.fh.datasync();
          for (const w of waiters) w.resolve();
        } catch (e) {
          this.failure = ioError(`could not write the run journal ${this.path}`, e);
          for (const w of [...waiters, ...this.waiters]) w.reject(this.failure);
          this.waiters = [];
        }
      }
    } finally {
      this.draining = false;
    }
  }
}

const writeAll = async (fh: FileHandle, buf: Buffer): Promise<void> => {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, null);
    off += bytesWritten;
  }
};
