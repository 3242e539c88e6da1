/**
 * One hub import/export job, run to its end: created (waiting while another job is active on the hub)
 * or re-attached to, journaled through the step's env, its state read until it ends (the reads space out
 * with the job's expected length), failed or cancelled said with its reason without SAS. Used by a job
 * step (hub-job-step.ts) and by verify's export read (session/export-read.ts).
 */
import { isServiceError } from '../../core/errors.js';
import { type HubJobState, jobStatusOf } from '../../core/hub-job-state.js';
import {
  JOB_POLL_BASE_MS,
  JOB_POLL_FIRST_MS,
  JOB_POLL_MAX_MS,
  jobPollCeilingMs,
} from '../../core/job-poll.js';
import type { HubJobInfo, HubJobsPort } from '../../core/ports.js';
import { scrubSecrets } from '../journal/redact.js';
import { pause } from '../storage/job-storage.js';
import { StoppedError } from './rate-limiter.js';
import type { StepEnv } from './step-types.js';

/** The blobs a job step uses: the names the SDK's jobs read and write (it gives no other). */
export const DEVICES_BLOB = 'devices.txt';
export const IMPORT_ERRORS_BLOB = 'importErrors.log';

/** The limiter's name for a hub's job calls (create, get, cancel: their own throttle on Azure). */
export const jobServiceOf = (hubService: string): string => `${hubService}#jobs`;

/** A job's statuses while it has not ended. */
export const ACTIVE = new Set(['enqueued', 'queued', 'running', 'unknown']);

/** Waits (job storage's pause); a stop ends the wait as the run's stop. */
const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  pause(ms, signal).catch(() => {
    throw new StoppedError();
  });

/** A job that ended failed or cancelled (its reason without SAS), or left no file to read. */
export class JobFailed extends Error {}

/** What running one job needs of a step (verify's export read gives the same, journaling nothing). */
export type JobEnv = Pick<
  StepEnv,
  'call' | 'jobPollMs' | 'jobExpectedMs' | 'jobPollMaxMs' | 'jobWaiting' | 'jobStarted' | 'signal'
>;

/**
 * Creates a job (waiting while another job is active on the hub), journals it, and waits for its end;
 * `attached`: a job an earlier process created, waited for instead.
 */
export const runJob = async (
  env: JobEnv,
  jobs: HubJobsPort,
  service: string,
  hub: string,
  type: 'export' | 'import',
  create: () => Promise<HubJobInfo>,
  attached?: HubJobInfo,
): Promise<HubJobInfo> => {
  // The first reads come soon (a small job ends in seconds), then the wait doubles up to a twentieth of
  // the job's expected duration: never below jobPollMs, at most 30 s of service time (core/job-poll.ts).
  const base = env.jobPollMs ?? JOB_POLL_BASE_MS;
  const most = jobPollCeilingMs(env.jobExpectedMs, base, env.jobPollMaxMs ?? JOB_POLL_MAX_MS);
  let poll = Math.min(base, JOB_POLL_FIRST_MS);
  let created: HubJobInfo | undefined = attached;
  while (!created) {
    try {
      created = await env.call(jobServiceOf(service), 1, true, create);
    } catch (e) {
      // One import/export job at a time per hub: another one is active, wait for it.
      if (!(isServiceError(e) && e.kind === 'conflict')) throw e;
      env.jobWaiting?.({
        hub,
        type,
        status: 'waiting',
        reason: 'another import/export job is active on the hub',
      });
      await sleep(base, env.signal);
    }
  }
  let job: HubJobInfo = created;
  // Every state of a job an earlier process created says so (the person sees no new job started).
  const said = (j: HubJobInfo) => jobState(hub, type, j, attached !== undefined);
  if (attached) env.jobWaiting?.(said(job));
  else {
    await env.jobStarted?.({ hub, jobId: job.jobId, type, blobs: [DEVICES_BLOB, IMPORT_ERRORS_BLOB] });
    env.jobWaiting?.(said(job));
  }
  while (ACTIVE.has(job.status)) {
    await sleep(poll, env.signal);
    poll = Math.min(most, poll * 2);
    const id: string = job.jobId;
    job = await env.call(jobServiceOf(service), 1, false, () => jobs.getJob(id));
    env.jobWaiting?.(said(job));
  }
  if (job.status !== 'completed') {
    throw new JobFailed(
      `the ${type} job on ${hub} ${job.status}${job.failureReason ? `: ${scrubSecrets(job.failureReason)}` : ''}`,
    );
  }
  return job;
};

/** A job's state as the run shows it: its status in the tool's words, how far, why it failed (scrubbed). */
const jobState = (
  hub: string,
  type: 'export' | 'import',
  job: HubJobInfo,
  reattached: boolean,
): HubJobState => {
  const status = jobStatusOf(job.status);
  return {
    hub,
    type,
    status,
    ...(job.progress !== undefined && status === 'running' ? { percent: job.progress } : {}),
    ...(job.failureReason ? { reason: scrubSecrets(job.failureReason) } : {}),
    ...(reattached ? { reattached: true } : {}),
  };
};
