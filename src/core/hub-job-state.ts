/**
 * A hub's import/export job as a run shows it: which hub, which job (export, import), its state, how far,
 * and why it failed. The executor reports it, the run screen and the headless progress line read it
 * (one structure, one set of words). Pure.
 */
import type { HubJobStatus } from './ports.js';
import { shortHost } from './text.js';

export type JobStepStatus =
  /** Waiting before its job starts: another job active on the hub, or the job storage in use. */
  | 'waiting'
  | 'queued'
  | 'running'
  | 'completed'
  | 'failed'
  | 'cancelled'
  /** The run stopped while its import job may still read its input (the resume re-attaches). */
  | 'stopped'
  /** The hub answered a state the tool does not know. */
  | 'unknown';

export interface HubJobState {
  hub: string;
  /** The job; absent while the step waits before creating one. */
  type?: 'export' | 'import';
  status: JobStepStatus;
  /** How far the job is (0-100), while it is active and the hub says. */
  percent?: number;
  /** Why it waits, failed or stopped (secrets scrubbed by the executor). */
  reason?: string;
  /** A job an earlier process of this run created, waited for after a resume instead of started again. */
  reattached?: boolean;
}

/** The hub's job status as the tool names it ("enqueued" and "queued" are one state to a person). */
export const jobStatusOf = (status: HubJobStatus): JobStepStatus =>
  status === 'enqueued' ? 'queued' : status;

export const isActiveJobStatus = (s: JobStepStatus): boolean =>
  s === 'queued' || s === 'running' || s === 'unknown' || s === 'waiting';

/** "running 45%", "failed: REASON", "waiting: another import/export job is active on the hub". */
export function jobStatusWords(s: HubJobState): string {
  const percent = s.status === 'running' && s.percent !== undefined ? ` ${s.percent}%` : '';
  const reason = s.reason ? `: ${s.reason}` : '';
  return `${s.status}${percent}${reason}`;
}

/**
 * One job state in words, as the headless progress line prints it: "import job on HUB: running 45%",
 * "export job on HUB: failed: REASON", "HUB: waiting: another import/export job is active on the hub".
 * `short`: the hub's short name (the run screen's 80 columns).
 */
export function hubJobWords(s: HubJobState, short = false): string {
  const hub = short ? shortHost(s.hub) : s.hub;
  const job = s.type ? `${s.type} job on ${hub}` : hub;
  const again = s.reattached ? ' (re-attached after resume)' : '';
  return `${job}${again}: ${jobStatusWords(s)}`;
}
