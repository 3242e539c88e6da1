/**
 * Which path a hub step takes: device by device on the identity registry (calls), or through the hub's
 * import/export jobs (jobs). `auto` takes jobs where the call path would take longer than the jobs path,
 * and only when job storage is configured. Pure: the plan shows the choice, its reason and both estimates.
 */
export type HubPathChoice = 'calls' | 'jobs' | 'auto';
export type HubTierName = 'S1' | 'S2' | 'S3';

/** Identity operations per minute per unit (IoT Hub's published throttles). */
const IDENTITY_PER_MINUTE: Record<HubTierName, number> = { S1: 100, S2: 100, S3: 5000 };

export interface JobModel {
  /** A job's fixed cost (queueing, blob reads and writes), in seconds; Azure publishes none. */
  overheadSeconds: number;
  /** Devices per minute a job processes; Azure publishes none. */
  devicesPerMinute: number;
}

/** The tool's assumption, stated in the plan: a minute of overhead per job, 60,000 devices a minute. */
export const DEFAULT_JOB_MODEL: JobModel = { overheadSeconds: 60, devicesPerMinute: 60_000 };

export interface HubPathDecision {
  path: 'calls' | 'jobs';
  reason: string;
  callsSeconds: number;
  jobsSeconds: number;
}

/** What a hub step does to each identity: a status change (disable, enable) or a delete. */
export type HubAction = 'disable' | 'enable' | 'delete';

export const estimateCallsSeconds = (
  devices: number,
  action: HubAction,
  tier: HubTierName,
  units: number,
): number =>
  // A status change reads and writes each identity; a delete is one operation.
  (devices * (action === 'delete' ? 1 : 2) * 60) / (IDENTITY_PER_MINUTE[tier] * Math.max(1, units));

export const estimateJobsSeconds = (
  devices: number,
  action: HubAction,
  model: JobModel = DEFAULT_JOB_MODEL,
): number => {
  // A status change: an export of the hub's devices, then an import of the selected ones; delete: the import only.
  const jobs = action === 'delete' ? 1 : 2;
  return jobs * model.overheadSeconds + (devices * jobs * 60) / model.devicesPerMinute;
};

export const chooseHubPath = (input: {
  choice: HubPathChoice;
  devices: number;
  action: HubAction;
  tier: HubTierName;
  units: number;
  storageConfigured: boolean;
  /** Why there is no job storage, when that is not simply "none configured" (the sandbox without Azurite). */
  noStorageReason?: string;
  model?: JobModel;
}): HubPathDecision => {
  const callsSeconds = estimateCallsSeconds(input.devices, input.action, input.tier, input.units);
  const jobsSeconds = estimateJobsSeconds(input.devices, input.action, input.model);
  const base = { callsSeconds, jobsSeconds };
  if (input.choice === 'calls') return { path: 'calls', reason: '--hub-path calls', ...base };
  if (input.choice === 'jobs') return { path: 'jobs', reason: '--hub-path jobs', ...base };
  if (!input.storageConfigured)
    return {
      path: 'calls',
      reason: input.noStorageReason ?? 'no job storage configured (--job-storage)',
      ...base,
    };
  if (callsSeconds > jobsSeconds) {
    return {
      path: 'jobs',
      reason: `calls would take longer than jobs on ${input.tier} x${input.units}`,
      ...base,
    };
  }
  return { path: 'calls', reason: `jobs would not be faster for ${input.devices} device(s)`, ...base };
};
