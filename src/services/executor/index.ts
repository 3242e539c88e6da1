/**
 * Runs a plan (or finishes a recorded one) and hands back the RunHandle the TUI and the headless
 * commands drive.
 */
import { type JobStoragePool, sameContainer } from '../storage/job-storage-pool.js';
import type { DpsPort, HubDirectory } from '../../core/ports.js';
import type { Plan, StepResult } from '../../core/plan-types.js';
import { UserError } from '../../core/errors.js';
import type { RunHandle } from '../backend.js';
import { readJournal } from '../journal/reader.js';
import { journalError } from '../journal/records.js';
import { type JournalOptions, type RunJournal, reopenJournal } from '../journal/writer.js';
import { type Clock, systemClock } from './clock.js';
import { type PriorState, RunEngine } from './engine.js';
import { resolveLimits, type RunLimits } from './limits.js';
import type { DeviceResult, VerifyFn } from './operations.js';

export { type Clock, systemClock } from './clock.js';
export { DEFAULT_LIMITS, type HubCapacity, type HubTier, hubOpsPerMinute, type RunLimits } from './limits.js';
export type { VerifyFn } from './operations.js';

export interface ExecuteOptions {
  dps: DpsPort;
  hubs: HubDirectory;
  /** An open journal (`openJournal`): its header, plan and snapshot are already written. */
  journal: RunJournal;
  limits?: Partial<RunLimits>;
  /** Ctrl-C: aborts the run safely (in-flight calls finish). */
  signal?: AbortSignal;
  /** Defaults to the journal's run ID. */
  runId?: string;
  /** Reads back and re-runs the re-enrollment analysis for verify steps. */
  verify?: VerifyFn;
  clock?: Clock;
  random?: () => number;
  journalOptions?: JournalOptions;
  /** Where hub import/export jobs read and write (plans with hubJobDevices steps). */
  jobStorage?: JobStoragePool;
  /** Milliseconds between reads of a job's state (default 2000). */
  jobPollMs?: number;
}

const handleOf = (engine: RunEngine, journalPath: string, signal: AbortSignal | undefined): RunHandle => {
  if (signal) {
    if (signal.aborted) engine.abort();
    else signal.addEventListener('abort', () => engine.abort(), { once: true });
  }
  return {
    runId: engine.runId,
    journalPath,
    progress: () => engine.progress(),
    subscribe: (l) => engine.subscribe(l),
    pause: () => engine.pause(),
    resume: () => engine.resume(),
    abort: () => engine.abort(),
    retryFailed: () => engine.retryFailed(),
    // After retryFailed() the run goes on: `done` is then a new promise for the new end.
    get done() {
      return engine.done;
    },
  };
};

const start = (
  plan: Plan,
  options: Omit<ExecuteOptions, 'journal'>,
  journal: RunJournal,
  prior?: PriorState,
) => {
  const runId = options.runId ?? journal.runId;
  const path = journal.path;
  const engine = new RunEngine(
    plan,
    runId,
    {
      dps: options.dps,
      hubs: options.hubs,
      journal,
      reopenJournal: () => reopenJournal(path, journal.runId, true, options.journalOptions),
      limits: resolveLimits(options.limits),
      clock: options.clock ?? systemClock,
      random: options.random ?? Math.random,
      verify: options.verify,
      jobStorage: options.jobStorage,
      jobPollMs: options.jobPollMs,
    },
    prior,
  );
  engine.start();
  return handleOf(engine, path, options.signal);
};

/** Executes a plan whose journal is open. Starts at once; the handle reports progress and the end. */
export const execute = (plan: Plan, options: ExecuteOptions): RunHandle =>
  start(plan, options, options.journal);

export interface ResumeOptions extends Omit<ExecuteOptions, 'journal' | 'runId'> {
  /** Also run again the steps that failed (and those skipped because of them). Default: false. */
  retryFailed?: boolean;
}

/**
 * A step stopped during its hub job re-attaches to that job in the container the job was given: that
 * container must be among the job storage given now, else the resume is bad input before anything runs
 * (a new job would redo what the first one did, and its results would be lost to the run's restore).
 */
function missingJobContainers(
  runId: string,
  jobs: ReadonlyMap<string, readonly { container?: string }[]> | undefined,
  storage: JobStoragePool | undefined,
): void {
  const given = storage?.containers.map((c) => c.display) ?? [];
  const missing = new Set<string>();
  for (const records of jobs?.values() ?? [])
    for (const j of records) {
      const c = j.container;
      if (c !== undefined && !given.some((g) => sameContainer(g, c))) missing.add(c);
    }
  if (missing.size === 0) return;
  const names = [...missing].join(', ');
  throw new UserError(
    `run ${runId} was stopped during hub import/export jobs whose results are in ${names}, which is not ` +
      'among the job storage given now: nothing was done',
    { hint: `give --job-storage for ${names} (with the others, if any) to resume` },
  );
}

/**
 * Finishes a recorded run. Steps with an outcome are not redone; a step whose intent was journaled
 * without an outcome is re-checked by reading the service first, so a destructive call that already
 * took effect is not repeated.
 */
export const resumeRun = async (journalPath: string, options: ResumeOptions): Promise<RunHandle> => {
  const contents = await readJournal(journalPath);
  if (!contents.plan) {
    throw journalError(
      'noPlan',
      `Run ${contents.header.runId} stopped before its plan was journaled, so nothing ran. ` +
        'Plan and run it again.',
    );
  }
  const settled: StepResult[] = [];
  const priorDevices = new Map<string, DeviceResult[]>();
  for (const r of contents.results.values()) {
    const again = options.retryFailed && (r.outcome === 'failed' || r.outcome === 'skipped');
    if (!again) settled.push(r);
    else if (r.devices) {
      priorDevices.set(
        r.stepId,
        r.devices.filter((x) => x.outcome === 'succeeded' || x.outcome === 'alreadyDone'),
      );
    }
  }
  // Devices of a stopped bulk step that settled well are not called again.
  for (const [stepId, devices] of contents.progress) {
    const good = devices.filter((x) => x.outcome === 'succeeded' || x.outcome === 'alreadyDone');
    if (good.length > 0) priorDevices.set(stepId, [...(priorDevices.get(stepId) ?? []), ...good]);
  }
  missingJobContainers(contents.header.runId, contents.jobs, options.jobStorage);
  const journal = await reopenJournal(
    journalPath,
    contents.header.runId,
    contents.hasSnapshot,
    options.journalOptions,
  );
  await journal.appendMark('resumedRun');
  return start(contents.plan, options, journal, {
    results: settled,
    recheck: contents.unknownSteps,
    attempts: contents.attempts,
    verdicts: contents.verdicts,
    priorDevices,
    jobs: new Map(
      [...(contents.jobs ?? [])].map(([id, jobs]) => [
        id,
        jobs.map((j) => ({
          type: j.jobType,
          jobId: j.jobId,
          ...(j.container ? { container: j.container } : {}),
        })),
      ]),
    ),
  });
};
