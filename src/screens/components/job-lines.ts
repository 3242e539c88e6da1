/**
 * The run screen's lines about hub import/export jobs: per hub, its job's state ("import job on hub-eu:
 * running 45%", waiting for another job on the hub and why, failed with its reason, re-attached after a
 * resume), within the rows the screen can give them.
 */
import { type HubJobState, hubJobWords, type JobStepStatus } from '../../core/hub-job-state.js';
import { plural, sanitize } from '../../core/text.js';
import { truncate, wrapText } from '../../terminal/text.js';
import type { Tone } from './Line.js';

/** How a job's state reads at a glance; without colour the words carry the state. */
const JOB_TONE: Record<JobStepStatus, Tone> = {
  waiting: 'caution',
  queued: 'plain',
  running: 'accent',
  completed: 'ok',
  failed: 'danger',
  cancelled: 'danger',
  stopped: 'caution',
  unknown: 'caution',
};

/** Which jobs keep their line when not all fit: what needs the person first, completed ones last. */
const URGENCY: Record<JobStepStatus, number> = {
  failed: 0,
  cancelled: 0,
  stopped: 1,
  waiting: 2,
  running: 3,
  queued: 4,
  unknown: 5,
  completed: 6,
};

/** Lines one job's state may take (a failure's reason wraps once when there is room, then is cut). */
const JOB_LINES = 2;

export interface JobRow {
  text: string;
  tone: Tone;
}

/**
 * At most `maxRows` lines, in the plan's order: a line per job (its reason's second line while rows are
 * spare); when the jobs outnumber the rows, the most urgent keep theirs and a last line counts the rest.
 */
export function jobLines(jobs: readonly HubJobState[] | undefined, width: number, maxRows: number): JobRow[] {
  if (!jobs?.length || maxRows < 1) return [];
  const fits = jobs.length <= maxRows;
  const kept = fits
    ? new Set(jobs)
    : new Set([...jobs].sort((a, b) => URGENCY[a.status] - URGENCY[b.status]).slice(0, maxRows - 1));
  const shown = jobs.filter((j) => kept.has(j));
  let spare = maxRows - shown.length - (fits ? 0 : 1);
  const rows: JobRow[] = [];
  for (const job of shown) {
    const words = wrapText(sanitize(hubJobWords(job, true)), width - 2);
    const extra = Math.max(0, Math.min(words.length - 1, JOB_LINES - 1, spare));
    spare -= extra;
    const lines = words.slice(0, 1 + extra);
    if (words.length > lines.length) lines[lines.length - 1] = truncate(`${lines.at(-1)} …`, width - 2);
    rows.push(
      ...lines.map((text, i) => ({ text: i === 0 ? text : `  ${text}`, tone: JOB_TONE[job.status] })),
    );
  }
  if (!fits) rows.push({ text: `… ${plural(jobs.length - shown.length, 'more hub job')}`, tone: 'dim' });
  return rows;
}
