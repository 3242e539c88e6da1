/**
 * The run's vocabulary: events the executor feeds the run state machine, and the progress any view
 * (TUI run screen, headless JSON lines) reads. Events are named for what happened.
 */
import type { HubJobState } from './hub-job-state.js';
import type { Phase, StepOutcome } from './plan-types.js';

export type RunEvent =
  /** The executor begins (or, after a resume, continues) the run. */
  | { type: 'START' }
  | { type: 'STEP_STARTED'; stepId: string }
  | {
      type: 'STEP_SUCCEEDED';
      stepId: string;
      /** The target was already in the intended state (idempotent success). */
      alreadyDone?: boolean;
      /** For bulk steps: per-device outcomes (failed devices make the step count as failed). */
      devices?: { id: string; outcome: StepOutcome; message?: string }[];
      /** A note for the person, e.g. why it counted as already done. */
      message?: string;
    }
  | {
      type: 'STEP_FAILED';
      stepId: string;
      message: string;
      devices?: { id: string; outcome: StepOutcome; message?: string }[];
    }
  | { type: 'STEP_SKIPPED'; stepId: string; reason: string }
  /**
   * A started step gave up its turn without an outcome (an abort arrived while it waited to retry):
   * it is pending again; the journal's intent without outcome makes a resume re-check it.
   */
  | { type: 'STEP_RELEASED'; stepId: string }
  /** A service answered 429 (or the client-side limiter is holding calls): waiting `waitMs`. */
  | {
      type: 'THROTTLED';
      service: string;
      waitMs: number;
      /** When the wait began (epoch ms); the machine is pure, so the clock reading travels in the event. */
      atMs?: number;
    }
  | { type: 'THROTTLE_CLEARED'; service: string }
  | { type: 'PAUSE_REQUESTED' }
  | { type: 'RESUME_REQUESTED' }
  /** Stop after in-flight calls finish; the journal records where it stopped. */
  | { type: 'ABORT_REQUESTED' }
  /** Every in-flight call has settled after an abort. */
  | { type: 'IN_FLIGHT_SETTLED' }
  /** Put failed steps back to pending and run them again. */
  | { type: 'RETRY_FAILED_REQUESTED' };

export type RunEventType = RunEvent['type'];

/** Counters of one phase. Never lists: a 100,000-device run updates numbers, not arrays. */
export interface PhaseProgress {
  total: number;
  done: number;
  alreadyDone: number;
  failed: number;
  skipped: number;
  inFlight: number;
}

/** What a view shows; derived from the machine's context. */
export interface RunProgress {
  /** The machine's state: pending | snapshotting | disenrolling | deregistering | cleaningUp | verifying
   *  | paused | aborting | aborted | completed | completedWithFailures */
  state: string;
  phase: Phase | undefined;
  phases: Record<Phase, PhaseProgress>;
  throttled: { service: string; untilMs: number } | undefined;
  /** The latest per-device results, newest last, bounded (for the run screen). */
  recent: { stepId: string; label: string; outcome: StepOutcome; message?: string }[];
  startedAtMs: number;
  /**
   * Time left as of `atMs`, from the operations left and each service's allowed rate (absent before
   * the run goes and once it ended).
   */
  eta?: { remainingMs: number; atMs: number };
  /**
   * Hub import/export jobs, one per jobs step: its job's latest state (hub, export or import, queued,
   * running N%, completed, failed with its reason, waiting for another job on the hub, re-attached after
   * a resume); a state stays once its job ended. Absent: no step went through jobs yet.
   */
  jobs?: HubJobState[];
}
