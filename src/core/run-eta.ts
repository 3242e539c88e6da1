/**
 * How long a run has left, from what is left to do and how fast each service may be called: every
 * service works off its remaining operations at its allowed rate (after any hold a 429 imposed), the
 * services at once, so the slowest decides. Not from the pace so far: a run that is throttled early
 * or starts with a burst would mislead.
 */
export interface ServiceLoad {
  service: string;
  /** Operations still to spend on the service (each device of a bulk call counts one). */
  ops: number;
  /** The rate the client allows itself now (documented limit x time scale, lowered after a 429). */
  opsPerMinute: number;
  /** Until when (epoch ms) a 429 holds the service's calls. */
  heldUntilMs?: number;
}

/** Milliseconds left; 0 when nothing is left; undefined when a service with work has no rate. */
export function estimateRemainingMs(loads: readonly ServiceLoad[], nowMs: number): number | undefined {
  let longest = 0;
  for (const l of loads) {
    if (l.ops <= 0) continue;
    if (!(l.opsPerMinute > 0)) return undefined;
    const held = Math.max(0, (l.heldUntilMs ?? nowMs) - nowMs);
    longest = Math.max(longest, held + (l.ops / l.opsPerMinute) * 60_000);
  }
  return longest;
}

/** A hub import/export job step not settled yet: its estimated duration, and when its job started. */
export interface JobLoad {
  estimateMs: number;
  /** When its job was created (or re-attached); undefined while it has not started. */
  startedAtMs?: number;
}

/**
 * Milliseconds the job steps left need: each its estimate less what it has run (never below zero), up to
 * `lanes` at once (jobs that share one job storage container take turns). At least the longest one.
 */
export function estimateJobsRemainingMs(jobs: readonly JobLoad[], nowMs: number, lanes = 1): number {
  let sum = 0;
  let longest = 0;
  for (const j of jobs) {
    const ran = j.startedAtMs === undefined ? 0 : Math.max(0, nowMs - j.startedAtMs);
    const left = Math.max(0, j.estimateMs - ran);
    sum += left;
    longest = Math.max(longest, left);
  }
  return Math.max(longest, sum / Math.max(1, lanes));
}
