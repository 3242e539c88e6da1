/**
 * What a step is given and gives back: the step's environment (the ports, the call under the limits, the
 * engine's journaling callbacks, job storage), a step's execution and its per-device results.
 */
import type { HubJobState } from '../../core/hub-job-state.js';
import type { ReenrollmentVerdict } from '../../core/model.js';
import type { DpsPort, HubDirectory } from '../../core/ports.js';
import type { StepOutcome } from '../../core/plan-types.js';
import type { JobStoragePool } from '../storage/job-storage-pool.js';

export type VerifyFn = (registrationIds: string[]) => Promise<ReenrollmentVerdict[]>;

/** A hub import/export job a step created (journaled). */
export interface PriorJob {
  type: 'export' | 'import';
  jobId: string;
  /** The job storage container it was given (display, no SAS); absent in journals before pools. */
  container?: string;
}

export interface DeviceResult {
  id: string;
  outcome: StepOutcome;
  message?: string;
}

export interface Execution {
  outcome: StepOutcome;
  message?: string;
  /** The target's ETag once the step settled (for a later restore to see a change since). */
  etag?: string;
  devices?: DeviceResult[];
  verdicts?: ReenrollmentVerdict[];
}

/**
 * Makes one service call under the rate limits with retries; `destructive` journals an intent first.
 * `cost` (operations the call spends) may be a function: asked again before each attempt.
 */
export type CallFn = <T>(
  service: string,
  cost: number | (() => number),
  destructive: boolean,
  fn: () => Promise<T>,
) => Promise<T>;

export interface StepEnv {
  dps: DpsPort;
  hubs: HubDirectory;
  runId: string;
  /** A restore run re-enables: verify then expects devices to be allowed back. */
  restore: boolean;
  call: CallFn;
  /** The step's intent was journaled without an outcome: read the service before acting. */
  recheck: boolean;
  /** Devices of a bulk step that an earlier try already settled well: not called again. */
  priorDone?: ReadonlyMap<string, DeviceResult>;
  verify?: VerifyFn;
  /**
   * Most identity operations one hub call may spend: a bulk call costing more than the hub's bucket
   * holds is refused (429) however long the client waits, so hub steps are sent in slices under it.
   */
  hubCallBudget?: (hub: string) => number;
  /**
   * A part of a bulk step settled (a slice answered, or the re-check read the rest): journals these
   * devices, and that no call of the step is outstanding now. A stop between parts loses nothing.
   */
  settled?(devices: DeviceResult[]): Promise<void>;
  /** Journals the snapshot when the journal lacks it (normally written when the journal opened). */
  ensureSnapshot(): Promise<number>;
  /** Where the hubs' import/export jobs read and write (absent: a jobs step fails with what to do). */
  jobStorage?: JobStoragePool;
  /**
   * Milliseconds between tries while another job is active (default 2000), and the least the reads of a
   * job's state may space out to (they start at 250 ms and double up to the ceiling: core/job-poll.ts).
   */
  jobPollMs?: number;
  /**
   * How long each job of the step is expected to run (the job model, in ms of the run's time: scaled):
   * the reads of its state space out to a twentieth of it. Absent: every jobPollMs.
   */
  jobExpectedMs?: number;
  /** The longest wait between reads of a job's state (default 30 s: service time, scaled by the run). */
  jobPollMaxMs?: number;
  /** Stops waiting on a job (abort). */
  signal?: AbortSignal;
  /** Journals a job the step created: its ID and blob names (never the container's SAS). */
  jobStarted?(job: {
    hub: string;
    jobId: string;
    type: 'export' | 'import';
    blobs: string[];
    /** The container the job was given (display, no SAS): the job step adds it. */
    container?: string;
  }): Promise<void>;
  /** Jobs this step created before (an earlier process, journaled): re-attached to, not started again. */
  priorJobs?: readonly PriorJob[];
  /** A jobs step's latest state: its job's (queued, running N%, ended) or what it waits on before one. */
  jobWaiting?(state: HubJobState): void;
}
