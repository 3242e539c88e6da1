/** The session's ports, events and context: what drives the session machine and what it holds. */
import type { KnownState } from '../../core/model.js';
import type { Plan, PlanRefusal, PlanResult } from '../../core/plan-types.js';
import type { Actions, Selection } from '../../core/selection.js';
import type { Backend, DeviceVerdict, RunHandle, RunSummary } from '../backend.js';

/** A backend that can also finish and undo recorded runs (the headless commands' SessionBackend). */
export interface SessionPorts extends Backend {
  resume?(journalPath: string, opts?: { retryFailed?: boolean }): Promise<RunHandle>;
  planRestore?(journalPath: string): Promise<PlanResult>;
}

/** What a plan is asked for: the devices chosen and what to do to them. */
export interface PlanRequest {
  selection: Selection;
  actions: Actions;
}

export type SessionEvent =
  /** Read what the plan needs and plan (changes nothing). */
  | { type: 'PLAN'; selection: Selection; actions: Actions }
  /** The plan that undoes a recorded run's temporary actions. */
  | { type: 'PLAN_RESTORE'; journalPath: string }
  /** A plan made by a view that planned itself (the review screen), to confirm here. */
  | { type: 'PLANNED'; result: PlanResult }
  /** The person confirmed the plan: run it. */
  | { type: 'CONFIRM' }
  /** Back to choosing (a plan is dropped, a finished run's summary too). */
  | { type: 'CANCEL' }
  /** Finish a recorded run from its journal. */
  | { type: 'RESUME'; journalPath: string; retryFailed?: boolean }
  /** Stop the run safely (in-flight calls finish); before it exists, it is stopped as soon as it does. */
  | { type: 'ABORT' }
  /** Run the failed steps of the finished run again. */
  | { type: 'RETRY_FAILED' }
  /** Read back whether each selected device could re-enroll. */
  | { type: 'VERIFY'; selection: Selection };

export interface SessionContext {
  /** The choices the plan (or the planning going on, its refusal, its failure) is for: set by PLAN. */
  request?: PlanRequest;
  /** The recorded run (its journal) whose restore the plan (or the planning, its refusal, its failure) is: set by PLAN_RESTORE. */
  restoreOf?: string;
  plan?: Plan;
  /** The state the plan was made from (its verify needs what the run's deletions take away). */
  before?: KnownState;
  refusal?: PlanRefusal;
  handle?: RunHandle;
  summary?: RunSummary;
  verdicts?: DeviceVerdict[];
  /** Why the last step failed (planning, starting, a run that stopped without settling, verify). */
  error?: string;
  /** That failure as thrown, for the CLI's edge to explain (exit code, hint). */
  failure?: unknown;
  /** ABORT came while the run was starting: it is aborted as soon as it exists. */
  abortRequested: boolean;
  /** The `done` promise already followed (a retry on a handle that keeps one promise: see runDone). */
  followed?: Promise<RunSummary>;
}
