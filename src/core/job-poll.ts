/**
 * How often the tool reads a hub import/export job's state while it runs. The first reads come soon
 * (a small job ends in seconds), then the wait doubles up to a ceiling that follows the job's expected
 * duration: about a twentieth of it (the job's end is seen at most that late), never below the base
 * wait (`jobPollMs`, 2 s by default) nor above 30 s of service time. Every read spends the hub's job-API
 * throttle, and a long job's progress moves slowly: a 100,000-device job is read every 8 s, not every 2.
 * Pure; the expected duration comes from the job model (hub-path.ts).
 */
import { DEFAULT_JOB_MODEL, type JobModel } from './hub-path.js';

/** The first wait before reading a job's state (less when the base is less). */
export const JOB_POLL_FIRST_MS = 250;
/** The wait between reads when nothing else is known, and between tries while another job is active. */
export const JOB_POLL_BASE_MS = 2000;
/** The longest wait between reads of a job's state, in service time (a run's time scale divides it). */
export const JOB_POLL_MAX_MS = 30_000;
/** The ceiling is the expected duration divided by this. */
const SHARE_OF_DURATION = 20;

/** One job's expected duration (an export or an import of `devices` lines) in service ms, by the job model. */
export const expectedJobMs = (devices: number, model: JobModel = DEFAULT_JOB_MODEL): number =>
  (model.overheadSeconds + (Math.max(0, devices) * 60) / model.devicesPerMinute) * 1000;

/**
 * The longest wait between two reads of a job's state: a twentieth of `expectedMs`, within `baseMs` and
 * `maxMs` (the base wins when the two cross: the caller's base is never shortened). Unknown or no
 * expected duration: the base.
 */
export const jobPollCeilingMs = (
  expectedMs: number | undefined,
  baseMs: number,
  maxMs: number = JOB_POLL_MAX_MS,
): number => {
  if (expectedMs === undefined || !(expectedMs > 0)) return baseMs;
  const cap = maxMs > 0 ? maxMs : JOB_POLL_MAX_MS;
  return Math.max(baseMs, Math.min(cap, expectedMs / SHARE_OF_DURATION));
};
