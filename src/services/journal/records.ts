/** What a run journal holds, one JSON object per line, in the order things happened. */
import { UserError } from '../../core/errors.js';
import type { ReenrollmentVerdict, RegistrationRecord } from '../../core/model.js';
import type { Plan, StepResult } from '../../core/plan-types.js';
import type { Actions, Selection } from '../../core/selection.js';

export const JOURNAL_VERSION = 1;

/** How a run ended. `interrupted`: the process stopped without finishing (no end record, or a signal). */
export type RunEndState = 'completed' | 'completedWithFailures' | 'aborted' | 'interrupted';

/** Host names only: the journal never holds connection strings, keys or tokens. */
export interface JournalTarget {
  dpsHost: string;
  hubHosts: string[];
  /** The embedded sandbox (an emulator), not Azure. Absent in journals of older versions. */
  sandbox?: boolean;
  /** The sandbox's state file (a path, not a secret): a sandbox run resumes and restores on it. */
  sandboxState?: string;
}

export interface HeaderRecord {
  type: 'header';
  v: typeof JOURNAL_VERSION;
  runId: string;
  createdAt: string;
  /** Absent (or partial) in journals of older versions: the target is then unknown. */
  target?: JournalTarget;
  selection: Selection;
  actions: Actions;
  /** Set for a restore run: the run it undoes. */
  restoreOf?: string;
}

/** The plan without its snapshot (which has its own record). */
export interface PlanRecord {
  type: 'plan';
  at: string;
  plan: Omit<Plan, 'snapshot'>;
}

export interface SnapshotRecord {
  type: 'snapshot';
  at: string;
  records: RegistrationRecord[];
}

/** Written and made durable before a destructive call. */
export interface IntentRecord {
  type: 'intent';
  at: string;
  stepId: string;
  attempt: number;
  call: string;
}

/** Written after a step settles (durably for destructive steps). The last one for a step wins. */
export interface OutcomeRecord {
  type: 'outcome';
  at: string;
  result: StepResult;
}

/**
 * Written (durably) when a part of a bulk step settled: these devices are done (or failed) and the
 * step has no call outstanding. A resume redoes only the step's other devices, without reading first.
 */
export interface ProgressRecord {
  type: 'progress';
  at: string;
  stepId: string;
  devices: { id: string; outcome: StepResult['outcome']; message?: string }[];
}

/**
 * Written (durably) when a step created a hub import/export job: its ID and the blob names it reads and
 * writes (never the container's SAS). A resume re-attaches to the job instead of starting a second one.
 */
export interface JobRecord {
  type: 'job';
  at: string;
  stepId: string;
  hub: string;
  jobId: string;
  jobType: 'export' | 'import';
  blobs: string[];
  /** The job storage container it was given (without its SAS): a resume takes that one back. */
  container?: string;
}

export interface VerifyRecord {
  type: 'verify';
  at: string;
  stepId: string;
  verdicts: ReenrollmentVerdict[];
}

export type RunMark = 'paused' | 'resumed' | 'abortRequested' | 'retryFailed' | 'resumedRun';

export interface MarkRecord {
  type: 'mark';
  at: string;
  mark: RunMark;
}

export interface EndRecord {
  type: 'end';
  at: string;
  state: RunEndState;
}

export type JournalRecord =
  | HeaderRecord
  | PlanRecord
  | SnapshotRecord
  | IntentRecord
  | OutcomeRecord
  | ProgressRecord
  | JobRecord
  | VerifyRecord
  | MarkRecord
  | EndRecord;

/** Failures of the journal itself, with what to do (a UserError: exit 2). Never carries a secret's value. */
export type JournalErrorCode = 'secret' | 'corrupt' | 'notFound' | 'badRunId' | 'noPlan' | 'io' | 'locked';
export const journalError = (code: JournalErrorCode, message: string): UserError =>
  new UserError(message, { code });
