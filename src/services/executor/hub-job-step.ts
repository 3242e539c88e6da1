/**
 * A hub step through the hub's import/export jobs (the fleet-scale path): the hub applies a devices file
 * from job storage outside the per-call identity throttle.
 *
 * Disable: an export job (keys included: a status change must send each identity whole) gives the
 * identities and their ETags; the input file holds only the selected devices, `status: disabled`,
 * `importMode: updateIfMatchETag`; an import job applies it; its `importErrors.log` gives per-device
 * failures. A device changed since the export fails its ETag check and is finished on the call path.
 * Delete: one import job with `importMode: delete` (no export). The blobs the step wrote or had the hub
 * write are deleted when it ends, however it ends (they hold device keys).
 */
import { isServiceError } from '../../core/errors.js';
import type { HubJobState } from '../../core/hub-job-state.js';
import type { HubJobInfo, HubJobsPort, HubPort } from '../../core/ports.js';
import type { StepOperation } from '../../core/plan-types.js';
import { scrubSecrets } from '../journal/redact.js';
import { type JobStorage, JobStorageError } from '../storage/job-storage.js';
import { type JobStoragePool, withJobContainer } from '../storage/job-storage-pool.js';
import { StoppedError } from './rate-limiter.js';
import type { DeviceResult, Execution, StepEnv } from './step-types.js';
import { ACTIVE, DEVICES_BLOB, IMPORT_ERRORS_BLOB, JobFailed, jobServiceOf, runJob } from './hub-job.js';

export type HubJobOp = Extract<StepOperation, { kind: 'hubJobDevices' }>;

/**
 * A job of this step that an earlier process created (journaled), when the hub still has it active or
 * completed: the step re-attaches to it instead of starting a second one. A job the hub no longer knows,
 * or one that failed or was cancelled, is not re-attached (the step starts afresh).
 */
const reattach = async (
  env: StepEnv,
  jobs: HubJobsPort,
  service: string,
  type: 'export' | 'import',
): Promise<HubJobInfo | undefined> => {
  const prior = [...(env.priorJobs ?? [])].reverse().find((j) => j.type === type);
  if (!prior) return undefined;
  let job: HubJobInfo;
  try {
    job = await env.call(jobServiceOf(service), 1, false, () => jobs.getJob(prior.jobId));
  } catch (e) {
    if (isServiceError(e) && e.kind === 'notFound') return undefined;
    throw e;
  }
  return ACTIVE.has(job.status) || job.status === 'completed' ? job : undefined;
};

/**
 * An import job of this step the journal missed: the process died between creating it and journaling
 * it (its intent is journaled, so the step is re-checked). The container still holds this step's input
 * (every line with an importMode, every device to do in it): with an importErrors.log beside it (deleted
 * before the input was written) the import completed; else an import job still active on the hub is it.
 */
const unjournaledImport = async (
  env: StepEnv,
  jobs: HubJobsPort,
  service: string,
  storage: JobStorage,
  todo: string[],
): Promise<HubJobInfo | undefined> => {
  if (!env.recheck) return undefined;
  const lines = parseLines(await storage.readText(DEVICES_BLOB));
  if (lines.length === 0 || !lines.every((l) => 'importMode' in l)) return undefined;
  const input = new Set(lines.map((l) => String(l.id)));
  if (!todo.every((id) => input.has(id))) return undefined;
  if ((await storage.readText(IMPORT_ERRORS_BLOB)) !== undefined)
    return { jobId: '(not journaled)', type: 'import', status: 'completed' };
  const listed = await env.call(jobServiceOf(service), 1, false, () => jobs.listJobs());
  return listed.find((j) => j.type.toLowerCase() === 'import' && ACTIVE.has(j.status));
};

/** The step waits for the job storage: other steps (this run's other hubs, or another run) hold it. */
const storageBusy = (hub: string, display: string, containers: number): HubJobState => ({
  hub,
  status: 'waiting',
  reason:
    containers > 1
      ? `every job storage container is in use by another job step (${display})`
      : `${display} is in use by another job step`,
});

/**
 * The container this step's job was given by an earlier process (journaled with the job): the resume
 * takes that one back. Undefined when none was journaled (a fresh step, or a journal from before pools).
 */
const journaledContainer = (env: StepEnv): string | undefined =>
  [...(env.priorJobs ?? [])].reverse().find((j) => j.container !== undefined)?.container;

/** Stopped while the hub may still read the import's input: the blobs stay for the resume. */
const stoppedDuringImport = (hub: string, display: string): HubJobState => ({
  hub,
  type: 'import',
  status: 'stopped',
  reason: `its blobs stay in ${display} until the run is resumed`,
});

const parseLines = (text: string | undefined): Record<string, unknown>[] =>
  (text ?? '')
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/**
 * The hub's identities (keys included: a status change sends each identity whole) from an export job:
 * the one an earlier process created when it is still there, else a new one.
 */
const exportedDevices = async (
  env: StepEnv,
  jobs: HubJobsPort,
  service: string,
  hub: string,
  storage: JobStorage,
): Promise<Map<string, Record<string, unknown>>> => {
  const attached = await reattach(env, jobs, service, 'export');
  let text: string | undefined;
  if (attached) {
    await runJob(env, jobs, service, hub, 'export', () => jobs.exportDevices(storage.url, false), attached);
    text = await storage.readText(DEVICES_BLOB);
  }
  // An export whose file is gone, or was already replaced by the import's input, is done again.
  if (text === undefined || parseLines(text).some((d) => 'importMode' in d)) {
    await storage.delete(DEVICES_BLOB);
    await runJob(env, jobs, service, hub, 'export', () => jobs.exportDevices(storage.url, false));
    text = await storage.readText(DEVICES_BLOB);
    if (text === undefined) throw new JobFailed(`the export job on ${hub} wrote no ${DEVICES_BLOB}`);
  }
  await storage.delete(DEVICES_BLOB);
  return new Map(parseLines(text).map((d) => [String(d.id), d]));
};

/** One job step's run through the jobs: what it reads and what it fills in. */
interface JobRun {
  env: StepEnv;
  op: HubJobOp;
  jobs: HubJobsPort;
  /** The hub's host, lower-case: the limiter's name for it. */
  service: string;
  status: 'enabled' | 'disabled';
  /** The devices not settled by an earlier try. */
  todo: string[];
  results: Map<string, DeviceResult>;
  /** Devices whose ETag changed since the export: finished on the call path after the job. */
  retryOnCalls: string[];
  /** Devices journaled before the import job started (not in its input). */
  settledEarly: Set<string>;
  /** True while an import job of this step may be reading its input (created, not seen ended). */
  importActive: boolean;
  /** The container the step took. */
  storage?: JobStorage;
}

/**
 * The import's input for the devices to do: for a status change, from an export (each identity whole,
 * with its ETag); a device not on the hub, or already in the status, is settled now and left out.
 */
const importInput = async (run: JobRun, env: StepEnv, storage: JobStorage): Promise<string[]> => {
  const { op, todo, status } = run;
  if (op.action === 'delete') return todo.map((id) => JSON.stringify({ id, importMode: 'delete' }));
  const exported = await exportedDevices(env, run.jobs, run.service, op.hub, storage);
  const input: string[] = [];
  const settledNow: DeviceResult[] = [];
  for (const id of todo) {
    const d = exported.get(id);
    let r: DeviceResult | undefined;
    if (!d) r = { id, outcome: 'alreadyDone', message: 'not on the hub' };
    else if (d.status === status) r = { id, outcome: 'alreadyDone', message: `already ${status}` };
    else input.push(JSON.stringify({ ...d, status, importMode: 'updateIfMatchETag' }));
    if (r) {
      run.results.set(id, r);
      settledNow.push(r);
      run.settledEarly.add(id);
    }
  }
  // Journaled before the import starts: a resume re-attached to it knows these were not in it.
  if (settledNow.length > 0) await env.settled?.(settledNow);
  return input;
};

/** The import job's per-device results from its importErrors.log: a device it does not name succeeded. */
const readImportResults = async (run: JobRun, storage: JobStorage): Promise<void> => {
  const { op, results } = run;
  const log = await storage.readText(IMPORT_ERRORS_BLOB);
  if (log === undefined)
    throw new JobFailed(`the import job on ${op.hub} left no ${IMPORT_ERRORS_BLOB}: its results are unknown`);
  const errors = new Map(parseLines(log).map((e) => [String(e.deviceId), e]));
  for (const id of run.todo) {
    if (results.has(id)) continue;
    const e = errors.get(id);
    if (!e) results.set(id, { id, outcome: 'succeeded' });
    else if (e.errorCode === 'DeviceNotFound' && op.action === 'delete')
      results.set(id, { id, outcome: 'alreadyDone', message: 'not on the hub' });
    else if (e.errorCode === 'PreconditionFailed' && op.action !== 'delete') run.retryOnCalls.push(id);
    else
      results.set(id, {
        id,
        outcome: 'failed',
        message: scrubSecrets(`${e.errorCode ?? 'refused'}: ${e.errorStatus ?? 'refused by the import job'}`),
      });
  }
};

/**
 * In the container taken: the import job (re-attached to when an earlier process created it, else
 * created over the input written here), its results read and journaled once.
 */
const importThroughJobs = async (run: JobRun, storage: JobStorage): Promise<void> => {
  run.storage = storage;
  const { env, jobs, service, op, todo, results } = run;
  // Each job of the step is journaled with its container: a resume takes that one back.
  const jobEnv: StepEnv = {
    ...env,
    jobStarted: async (job) => env.jobStarted?.({ ...job, container: storage.display }),
  };
  // Killed during the import job: its devices are the ones not settled; wait for it, read its results.
  const importJob =
    (await reattach(jobEnv, jobs, service, 'import')) ??
    (await unjournaledImport(jobEnv, jobs, service, storage, todo));
  const input = importJob ? [] : await importInput(run, jobEnv, storage);
  if (importJob || input.length > 0) {
    if (!importJob) {
      await storage.delete(IMPORT_ERRORS_BLOB);
      await storage.writeText(DEVICES_BLOB, `${input.join('\n')}\n`);
    }
    run.importActive = true;
    await runJob(
      jobEnv,
      jobs,
      service,
      op.hub,
      'import',
      () => jobs.importDevices(storage.url, storage.url),
      importJob,
    );
    run.importActive = false;
    await readImportResults(run, storage);
  }
  // The job's results, journaled once: a resume does not read them again.
  const fromJob = todo
    .filter((id) => results.has(id) && !run.settledEarly.has(id))
    .map((id) => results.get(id) as DeviceResult);
  if (fromJob.length > 0) await jobEnv.settled?.(fromJob);
};

/**
 * `callPath`: finishes these devices of the hub on the call path (read, then write under the ETag),
 * putting their results in the map.
 */
export const hubJobStep = async (
  env: StepEnv,
  op: HubJobOp,
  hub: HubPort,
  callPath: (
    ids: string[],
    status: 'enabled' | 'disabled',
    results: Map<string, DeviceResult>,
  ) => Promise<void>,
): Promise<Execution> => {
  const pool: JobStoragePool | undefined = env.jobStorage;
  const fail = (message: string): Execution => ({
    outcome: 'failed',
    message,
    devices: op.deviceIds.map((id) => ({ id, outcome: 'failed', message })),
  });
  if (!pool)
    return fail(
      `no job storage for the import/export job on ${op.hub}: give --job-storage, or --hub-path calls`,
    );
  // A resume is refused before it starts when this container is not given (executor/index.ts).
  const prefer = journaledContainer(env);
  if (!hub.jobs) return fail(`hub ${op.hub} takes no import/export jobs here: give --hub-path calls`);
  const action = op.action;
  const status = action === 'enable' ? 'enabled' : 'disabled';
  const want = action === 'delete' ? 'deleted' : status;
  const results = new Map<string, DeviceResult>();
  for (const [id, r] of env.priorDone ?? []) if (op.deviceIds.includes(id)) results.set(id, r);
  const todo = op.deviceIds.filter((id) => !results.has(id));
  const run: JobRun = {
    env,
    op,
    jobs: hub.jobs,
    service: hub.host.toLowerCase(),
    status,
    todo,
    results,
    retryOnCalls: [],
    settledEarly: new Set(),
    importActive: false,
  };
  const { retryOnCalls } = run;
  try {
    if (todo.length > 0) {
      // The jobs' blob names are fixed: one step at a time in a container (this run's other hubs, or
      // another run anywhere), else a hub would read another hub's export or errors as its own. With
      // several containers, the hubs' steps each take one and their jobs run at once.
      await withJobContainer(
        pool,
        {
          holder: `${env.runId} ${op.hub} ${op.action}`,
          ...(env.signal ? { signal: env.signal } : {}),
          ...(prefer !== undefined ? { prefer } : {}),
          retryMs: Math.min(env.jobPollMs ?? 1000, 1000),
          waiting: (busy) => env.jobWaiting?.(storageBusy(op.hub, busy, pool.containers.length)),
          // The blobs hold device keys: gone whatever happened, except when stopped while the hub may
          // still read the input: it stays for the job (the resume re-attaches to it and deletes the
          // blobs when the step ends), and the claim is left to expire (a minute), not given up.
          blobs: [DEVICES_BLOB, IMPORT_ERRORS_BLOB],
          keep: (e) => e instanceof StoppedError && run.importActive,
          left: (display) => {
            for (const id of todo) {
              const r = results.get(id);
              if (r && r.outcome !== 'failed')
                r.message = `${r.message ? `${r.message}; ` : ''}job blobs left in ${display}: delete them`;
            }
          },
        },
        (storage) => importThroughJobs(run, storage),
      ).catch((e) => {
        // Stopped while waiting for a container (or in a call the stop cut short): the run's stop.
        throw env.signal?.aborted ? new StoppedError() : e;
      });
    }
  } catch (e) {
    if (e instanceof StoppedError) {
      if (run.importActive && run.storage) env.jobWaiting?.(stoppedDuringImport(op.hub, run.storage.display));
      throw e;
    }
    if (!(e instanceof JobFailed || e instanceof JobStorageError || isServiceError(e))) throw e;
    const message = scrubSecrets(e.message);
    for (const id of todo) if (!results.has(id)) results.set(id, { id, outcome: 'failed', message });
  }
  if (retryOnCalls.length > 0) {
    await callPath(retryOnCalls, status, results);
    for (const id of retryOnCalls) {
      const r = results.get(id);
      if (r && r.outcome !== 'failed') r.message = 'changed since the export: finished on the call path';
    }
    await env.settled?.(retryOnCalls.map((id) => results.get(id) ?? { id, outcome: 'failed' }));
  }
  const devices = op.deviceIds.map(
    (id): DeviceResult =>
      results.get(id) ?? {
        id,
        outcome: 'failed',
        message: 'the import job answered nothing for this device',
      },
  );
  const failed = devices.filter((d) => d.outcome === 'failed').length;
  if (failed > 0)
    return {
      outcome: 'failed',
      message: `${failed} of ${devices.length} devices not ${want} on ${op.hub}`,
      devices,
    };
  return {
    outcome: devices.every((d) => d.outcome === 'alreadyDone') ? 'alreadyDone' : 'succeeded',
    devices,
  };
};
