/**
 * The run engine: feeds the run machine, starts steps when their prerequisites have settled and the
 * machine allows it, and records every step in the journal. The machine decides what may start
 * (pause, abort); the engine decides what is ready (dependencies) and how fast (rate limits).
 */
import type { JobStoragePool } from '../storage/job-storage-pool.js';
import type { HubJobState } from '../../core/hub-job-state.js';
import type { ReenrollmentVerdict } from '../../core/model.js';
import type { DpsPort, HubDirectory } from '../../core/ports.js';
import type { Plan, PlanStep, StepResult } from '../../core/plan-types.js';
import type { RunEvent, RunProgress } from '../../core/run-events.js';
import { estimateJobsSeconds } from '../../core/hub-path.js';
import { expectedJobMs, JOB_POLL_MAX_MS } from '../../core/job-poll.js';
import { estimateJobsRemainingMs, estimateRemainingMs } from '../../core/run-eta.js';
import { createRunActor, isFinal, mayStartSteps, progressOf, stateOf } from '../../core/run-machine.js';
import { STEP_STATUS } from '../../core/run-progress.js';
import type { RunSummary } from '../backend.js';
import { scrubSecrets } from '../journal/redact.js';
import { isServiceError } from '../../core/errors.js';
import type { RunJournal } from '../journal/writer.js';
import type { Clock } from './clock.js';
import { buildDependencies } from './dependencies.js';
import { hubQueriesPerMinute } from '../../core/hub-lookup.js';
import { hubOpsPerMinute, type RunLimits } from './limits.js';
import {
  type CallFn,
  type DeviceResult,
  type PriorJob,
  type Execution,
  performStep,
  queryServiceOf,
  serviceOf,
  type VerifyFn,
} from './operations.js';
import { makeCall } from './calls.js';
import type { Lane } from './lanes.js';
import { ServiceLimiter, StoppedError } from './rate-limiter.js';
import { failedRegistrationIds, failureOf, summarize } from './results.js';
import { Scheduler } from './scheduler.js';

export interface EngineDeps {
  dps: DpsPort;
  hubs: HubDirectory;
  journal: RunJournal;
  /** Opens the journal again for appending after it was closed at a final state (retry-failed). */
  reopenJournal: () => Promise<RunJournal>;
  limits: RunLimits;
  clock: Clock;
  random: () => number;
  verify?: VerifyFn;
  /** Where hub import/export jobs read and write (hubJobDevices steps). */
  jobStorage?: JobStoragePool;
  /** Milliseconds between reads of a job's state (default 2000). */
  jobPollMs?: number;
}

/** What an earlier session of this run left (resume). */
export interface PriorState {
  results: StepResult[];
  recheck: string[];
  attempts: Map<string, number>;
  verdicts: Map<string, ReenrollmentVerdict[]>;
  /** Devices that earlier tries of failed bulk steps settled well. */
  priorDevices: Map<string, DeviceResult[]>;
  /** Hub import/export jobs that steps without an outcome created, by step: re-attached to, not started again. */
  jobs?: Map<string, PriorJob[]>;
}

const LOCAL_IN_FLIGHT = 2;
const QUERY_SUFFIX = queryServiceOf('');

export class RunEngine {
  private readonly steps: readonly PlanStep[];
  private readonly actor: ReturnType<typeof createRunActor>;
  private readonly limiter: ServiceLimiter;
  private readonly scheduler: Scheduler;
  private inFlight = 0;
  private readonly results: (StepResult | undefined)[];
  private readonly verdicts: Map<string, ReenrollmentVerdict[]>;
  private readonly recheck = new Set<number>();
  private readonly priorDevices = new Map<number, Map<string, DeviceResult>>();
  private readonly priorJobs = new Map<number, PriorJob[]>();
  /** Per jobs step (by index), its job's latest state, for the progress. */
  private readonly jobStates = new Map<number, HubJobState>();
  /** Per jobs step (by index), when its job started (created or re-attached): the ETA counts from there. */
  private readonly jobStartedAt = new Map<number, number>();
  private readonly baseAttempts: Map<string, number>;
  private readonly listeners = new Set<(p: RunProgress) => void>();
  /** Operations each unsettled step still has to spend, and their sum per service (the ETA). */
  private readonly stepOps: Float64Array;
  private readonly serviceOps = new Map<string, number>();
  private journal: RunJournal;
  private journalOpen = true;
  private stop = new AbortController();
  private finished = false;
  private journalError: string | undefined;
  /**
   * Set when a service refused a changing call for the credential or its permission (401/403): the run
   * stops there (no other change starts; calls in flight finish) and ends with this reason.
   */
  private refusal: string | undefined;
  private settleDone!: (s: RunSummary) => void;
  private finishing: Promise<void> = Promise.resolve();
  done: Promise<RunSummary>;

  constructor(
    readonly plan: Plan,
    readonly runId: string,
    private readonly d: EngineDeps,
    prior?: PriorState,
  ) {
    this.steps = plan.steps;
    this.journal = d.journal;
    this.scheduler = new Scheduler(
      this.steps,
      buildDependencies(this.steps),
      (i) => this.status(i),
      (step) => serviceOf(step, d.dps.host),
      (i, reason) => this.recordSkip(i, reason),
    );
    this.results = new Array(this.steps.length);
    this.verdicts = new Map(prior?.verdicts ?? []);
    this.baseAttempts = prior?.attempts ?? new Map();
    const indexOf = new Map(this.steps.map((s, i) => [s.id, i]));
    for (const r of prior?.results ?? []) {
      const i = indexOf.get(r.stepId);
      if (i === undefined) continue;
      this.results[i] = r;
      if (r.outcome === 'failed' && r.devices && this.steps[i].registrationIds.length > 0) {
        const failed = failedRegistrationIds(this.plan, this.steps[i], r.devices);
        if (failed) this.scheduler.setFailedRegistrations(i, failed);
      }
    }
    for (const id of prior?.recheck ?? []) {
      const i = indexOf.get(id);
      if (i !== undefined) this.recheck.add(i);
    }
    for (const [id, devices] of prior?.priorDevices ?? []) {
      const i = indexOf.get(id);
      if (i !== undefined) this.priorDevices.set(i, new Map(devices.map((x) => [x.id, x])));
    }
    for (const [id, jobs] of prior?.jobs ?? []) {
      const i = indexOf.get(id);
      if (i !== undefined) this.priorJobs.set(i, jobs);
    }
    this.actor = createRunActor({ steps: this.steps, startedAtMs: d.clock.now(), settled: prior?.results });
    const { limits } = d;
    this.limiter = new ServiceLimiter(
      d.clock,
      (service) => {
        if (service === d.dps.host) return limits.dpsOpsPerMinute;
        const hub = service.endsWith(QUERY_SUFFIX) ? service.slice(0, -QUERY_SUFFIX.length) : undefined;
        if (hub !== undefined) return hubQueriesPerMinute(limits.hubs[hub] ?? limits.defaultHub);
        return hubOpsPerMinute(limits.hubs[service] ?? limits.defaultHub);
      },
      limits.timeScale,
      limits.burstSeconds,
      limits.throttleNoticeMs,
      {
        throttled: (service, waitMs) =>
          this.send({ type: 'THROTTLED', service, waitMs, atMs: d.clock.now() }),
        cleared: (service) => this.send({ type: 'THROTTLE_CLEARED', service }),
      },
    );
    this.stepOps = new Float64Array(this.steps.length);
    this.countOps();
    this.done = this.newDone();
    this.actor.subscribe((snapshot) => {
      if (this.listeners.size === 0) return;
      const p = this.withEta(progressOf(snapshot));
      for (const l of this.listeners) l(p);
    });
  }

  start(): void {
    this.actor.start();
    this.send({ type: 'START' });
    this.scheduler.rebuild();
    this.pump();
    this.checkEnd();
  }

  progress(): RunProgress {
    return this.withEta(progressOf(this.actor.getSnapshot()));
  }

  private withEta(given: RunProgress): RunProgress {
    const p = this.jobStates.size > 0 ? { ...given, jobs: [...this.jobStates.values()] } : given;
    if (isFinal(this.actor.getSnapshot())) return p;
    const now = this.d.clock.now();
    const loads = [...this.serviceOps].map(([service, ops]) => ({
      service,
      ops,
      ...this.limiter.pace(service),
    }));
    const calls = estimateRemainingMs(loads, now);
    if (calls === undefined) return p;
    const remainingMs = Math.max(calls, this.jobsRemainingMs(now));
    return { ...p, eta: { remainingMs, atMs: now } };
  }

  /** The job steps left, at the job model's pace (service time, scaled like the limits). */
  private jobsRemainingMs(now: number): number {
    const jobs = [];
    for (let i = 0; i < this.steps.length; i++) {
      const op = this.steps[i].op;
      if (op.kind !== 'hubJobDevices' || this.results[i]) continue;
      const estimateMs =
        (estimateJobsSeconds(op.deviceIds.length, op.action) * 1000) / this.d.limits.timeScale;
      jobs.push({ estimateMs, startedAtMs: this.jobStartedAt.get(i) });
    }
    // As many jobs at once as there are job storage containers (one job step per container).
    const lanes = this.d.jobStorage?.containers.length ?? 1;
    return jobs.length === 0 ? 0 : estimateJobsRemainingMs(jobs, now, lanes);
  }

  /** Operations left per step and per service, from the steps without a result. */
  private countOps(): void {
    this.serviceOps.clear();
    for (let i = 0; i < this.steps.length; i++) {
      const step = this.steps[i];
      const done = this.priorDevices.get(i)?.size ?? 0;
      this.stepOps[i] = this.results[i] ? 0 : opsOf(step, done);
      if (this.stepOps[i] <= 0) continue;
      const service = serviceOf(step, this.d.dps.host);
      if (service === 'local') continue;
      this.serviceOps.set(service, (this.serviceOps.get(service) ?? 0) + this.stepOps[i]);
    }
  }

  /** Step i spent `ops` (all it had left when undefined). */
  private spent(i: number, ops?: number): void {
    const n = Math.min(this.stepOps[i], ops ?? this.stepOps[i]);
    if (n <= 0) return;
    this.stepOps[i] -= n;
    const service = serviceOf(this.steps[i], this.d.dps.host);
    const left = (this.serviceOps.get(service) ?? 0) - n;
    if (left > 0) this.serviceOps.set(service, left);
    else this.serviceOps.delete(service);
  }

  subscribe(listener: (p: RunProgress) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  pause(): void {
    this.send({ type: 'PAUSE_REQUESTED' });
    if (stateOf(this.actor.getSnapshot()) === 'paused') this.mark('paused');
  }

  resume(): void {
    if (stateOf(this.actor.getSnapshot()) !== 'paused') return;
    this.send({ type: 'RESUME_REQUESTED' });
    this.mark('resumed');
    this.pump();
    this.checkEnd();
  }

  abort(): void {
    const snapshot = this.actor.getSnapshot();
    if (isFinal(snapshot) || stateOf(snapshot) === 'aborting') return;
    this.mark('abortRequested');
    this.send({ type: 'ABORT_REQUESTED' });
    this.stop.abort();
    this.limiter.stopAll();
    this.checkAborting();
    this.checkEnd();
  }

  retryFailed(): void {
    const state = stateOf(this.actor.getSnapshot());
    if (state !== 'completedWithFailures' && state !== 'aborted') return;
    if (this.journalError) return;
    this.finished = false;
    this.done = this.newDone();
    void this.restartForRetry();
  }

  private async restartForRetry(): Promise<void> {
    await this.finishing;
    if (!this.journalOpen) {
      try {
        this.journal = await this.d.reopenJournal();
        this.journalOpen = true;
      } catch (e) {
        this.journalError = (e as Error).message;
        this.finished = true;
        this.settleDone(this.summary());
        return;
      }
    }
    for (let i = 0; i < this.results.length; i++) {
      const r = this.results[i];
      if (r?.outcome === 'failed' || r?.outcome === 'skipped') {
        const good = (r.devices ?? []).filter(
          (x) => x.outcome === 'succeeded' || x.outcome === 'alreadyDone',
        );
        if (good.length > 0) this.priorDevices.set(i, new Map(good.map((x) => [x.id, x])));
        this.results[i] = undefined;
        this.scheduler.forget(i);
      }
    }
    this.countOps();
    this.stop = new AbortController();
    this.limiter.restart();
    this.mark('retryFailed');
    this.send({ type: 'RETRY_FAILED_REQUESTED' });
    this.scheduler.rebuild();
    this.pump();
    this.checkEnd();
  }

  private newDone(): Promise<RunSummary> {
    return new Promise<RunSummary>((resolve) => {
      this.settleDone = resolve;
    });
  }

  private send(event: RunEvent): void {
    if (this.actor.getSnapshot().status === 'active') this.actor.send(event);
  }

  private status(i: number): number {
    return this.actor.getSnapshot().context.status[i];
  }

  private mark(m: Parameters<RunJournal['appendMark']>[0]): void {
    if (this.journalOpen) this.journal.appendMark(m).catch((e) => this.fail(e));
  }

  private recordSkip(i: number, reason: string): void {
    const result: StepResult = { stepId: this.steps[i].id, outcome: 'skipped', message: reason, attempts: 0 };
    this.results[i] = result;
    this.spent(i);
    this.journal.appendOutcome(result, false).catch((e) => this.fail(e));
    this.send({ type: 'STEP_SKIPPED', stepId: result.stepId, reason });
  }

  private pump(): void {
    if (!mayStartSteps(this.actor.getSnapshot())) return;
    for (const [service, lane] of this.scheduler.lanes) {
      // After a 429 a service gets one call at a time until its rate is restored: parallel calls would
      // keep draining its bucket and meet each other's Retry-After as new 429s.
      const cap =
        service === 'local'
          ? LOCAL_IN_FLIGHT
          : this.limiter.isSlowed(service)
            ? 1
            : this.d.limits.maxInFlightPerService;
      while (lane.inFlight < cap) {
        const i = lane.next();
        if (i === undefined) break;
        if (this.status(i) !== STEP_STATUS.pending) continue;
        lane.inFlight++;
        this.inFlight++;
        this.send({ type: 'STEP_STARTED', stepId: this.steps[i].id });
        void this.runStep(i, lane);
      }
    }
  }

  private async runStep(i: number, lane: Lane): Promise<void> {
    const step = this.steps[i];
    const attempts = { n: 0 };
    // True from an intent until its call, or the part of the step it belongs to, has settled.
    const outstanding = { v: false };
    let execution: Execution | undefined;
    try {
      execution = await performStep(step, {
        dps: this.d.dps,
        hubs: this.d.hubs,
        runId: this.runId,
        restore: this.plan.restoreOf !== undefined,
        call: this.callFor(step, attempts, outstanding),
        recheck: this.recheck.has(i),
        priorDone: this.priorDevices.get(i),
        verify: this.d.verify,
        // Half of a minute's allowance: a call that needs a full bucket would meet any timing noise as a 429.
        hubCallBudget: (hub) => hubOpsPerMinute(this.d.limits.hubs[hub] ?? this.d.limits.defaultHub) / 2,
        settled: async (devices) => {
          outstanding.v = false;
          this.recheck.delete(i);
          const good = devices.filter((x) => x.outcome === 'succeeded' || x.outcome === 'alreadyDone');
          if (good.length > 0) {
            const prior = this.priorDevices.get(i) ?? new Map<string, DeviceResult>();
            for (const x of good) prior.set(x.id, x);
            this.priorDevices.set(i, prior);
          }
          this.spent(i, devices.length * opsPerDevice(step));
          if (this.journalOpen) await this.journal.appendProgress(step.id, devices);
        },
        jobStorage: this.d.jobStorage,
        jobPollMs: this.d.jobPollMs,
        // How long each job of the step is expected to run (service time, scaled like the limits): one
        // job over the step's devices (a disable's export reads the whole hub, maybe more: a rough guide).
        ...(step.op.kind === 'hubJobDevices'
          ? { jobExpectedMs: expectedJobMs(step.op.deviceIds.length) / this.d.limits.timeScale }
          : {}),
        jobPollMaxMs: JOB_POLL_MAX_MS / this.d.limits.timeScale,
        signal: this.stop.signal,
        priorJobs: this.priorJobs.get(i),
        jobWaiting: (state) => {
          this.jobStates.set(i, state);
          if (state.status !== 'waiting' && !this.jobStartedAt.has(i))
            this.jobStartedAt.set(i, this.d.clock.now());
          // No machine event comes while a job runs: the listeners are told here.
          const p = this.progress();
          for (const l of this.listeners) l(p);
        },
        jobStarted: async (job) => {
          const jobs = this.priorJobs.get(i) ?? [];
          jobs.push({ type: job.type, jobId: job.jobId, container: job.container });
          this.priorJobs.set(i, jobs);
          if (this.journalOpen)
            await this.journal.appendJob(step.id, {
              hub: job.hub,
              jobId: job.jobId,
              jobType: job.type,
              blobs: job.blobs,
              container: job.container,
            });
        },
        ensureSnapshot: async () => {
          if (!this.journal.hasSnapshot) await this.journal.appendSnapshot(this.plan.snapshot);
          return this.plan.snapshot.length;
        },
      });
    } catch (e) {
      if (!(e instanceof StoppedError)) execution = failureOf(step, e, this.priorDevices.get(i));
      if (step.destructive && isServiceError(e) && (e.kind === 'unauthorized' || e.kind === 'forbidden')) {
        // A permission the run needs is missing: every other change would be refused too, or would leave
        // the run half done. Stop before any other change.
        this.refusal ??= scrubSecrets(e.message);
        this.abort();
      }
    }
    if (!execution) {
      // Stopped between calls: no outcome. If a call's effect is unknown (an intent without its answer),
      // the next try reads first; else it sends only what was not settled (journaled progress).
      if (outstanding.v) this.recheck.add(i);
      this.send({ type: 'STEP_RELEASED', stepId: step.id });
    } else {
      await this.record(i, step, execution, attempts.n);
    }
    // Counted in flight until its event is in the machine, so an abort cannot settle before it.
    lane.inFlight--;
    this.inFlight--;
    this.pump();
    this.checkAborting();
    this.checkEnd();
  }

  private async record(i: number, step: PlanStep, x: Execution, attempts: number): Promise<void> {
    const result: StepResult = {
      stepId: step.id,
      outcome: x.outcome,
      ...(x.devices ? { devices: x.devices } : {}),
      ...(x.message ? { message: x.message } : {}),
      attempts,
      ...(x.etag ? { etag: x.etag } : {}),
    };
    this.results[i] = result;
    this.spent(i);
    this.recheck.delete(i);
    this.priorDevices.delete(i);
    this.priorJobs.delete(i);
    if (x.outcome === 'failed' && x.devices && step.registrationIds.length > 0) {
      const failed = failedRegistrationIds(this.plan, step, x.devices);
      if (failed) this.scheduler.setFailedRegistrations(i, failed);
    }
    try {
      if (x.verdicts) {
        this.verdicts.set(step.id, x.verdicts);
        await this.journal.appendVerify(step.id, x.verdicts);
      }
      await this.journal.appendOutcome(result, step.destructive);
    } catch (e) {
      this.fail(e);
    }
    if (x.outcome === 'failed') {
      this.send({ type: 'STEP_FAILED', stepId: step.id, message: x.message ?? 'failed', devices: x.devices });
    } else if (x.outcome === 'skipped') {
      this.send({ type: 'STEP_SKIPPED', stepId: step.id, reason: x.message ?? 'skipped' });
    } else {
      this.send({
        type: 'STEP_SUCCEEDED',
        stepId: step.id,
        alreadyDone: x.outcome === 'alreadyDone',
        devices: x.devices,
        message: x.message,
      });
    }
    this.scheduler.settled(i);
  }

  private callFor(step: PlanStep, attempts: { n: number }, outstanding: { v: boolean }): CallFn {
    return makeCall({
      step,
      attempts,
      onIntent: () => {
        outstanding.v = true;
      },
      firstAttempt: (this.baseAttempts.get(step.id) ?? 0) + 1,
      limiter: this.limiter,
      journal: () => this.journal,
      stopSignal: () => this.stop.signal,
      limits: this.d.limits,
      clock: this.d.clock,
      random: this.d.random,
    });
  }

  private checkAborting(): void {
    if (stateOf(this.actor.getSnapshot()) === 'aborting' && this.inFlight === 0) {
      this.send({ type: 'IN_FLIGHT_SETTLED' });
    }
  }

  private checkEnd(): void {
    const snapshot = this.actor.getSnapshot();
    if (this.finished || !isFinal(snapshot) || this.inFlight > 0) return;
    this.finished = true;
    // Settle the `done` of this end, even if a retry replaces it while the journal closes.
    this.finishing = this.finish(stateOf(snapshot) as RunSummary['state'], this.settleDone);
  }

  private async finish(state: RunSummary['state'], settle: (s: RunSummary) => void): Promise<void> {
    if (this.journalOpen) {
      this.journalOpen = false;
      try {
        await this.journal.appendEnd(state);
      } catch (e) {
        this.journalError ??= (e as Error).message;
      }
      await this.journal.close().catch(() => undefined);
    }
    settle(this.summary());
  }

  /** The journal cannot be written: stop the run so that what happened stays recoverable. */
  private fail(e: unknown): void {
    this.journalError ??= scrubSecrets((e as Error).message ?? String(e));
    this.abort();
  }

  private summary(): RunSummary {
    return summarize({
      plan: this.plan,
      runId: this.runId,
      journalPath: this.journal.path,
      state: stateOf(this.actor.getSnapshot()),
      results: this.results,
      verdicts: this.verdicts,
      journalError: this.journalError,
      refusal: this.refusal,
    });
  }
}

/** Identity operations per device of a hub step: a delete, or a read and a write. */
const opsPerDevice = (step: PlanStep): number => (step.op.kind === 'deleteHubDevices' ? 1 : 2);

/** What a step spends on its service (the adapter's reads included), less devices already done. */
const opsOf = (step: PlanStep, devicesDone: number): number => {
  const op = step.op;
  switch (op.kind) {
    case 'disableHubDevices':
    case 'enableHubDevices':
    case 'deleteHubDevices':
      return Math.max(0, op.deviceIds.length - devicesDone) * opsPerDevice(step);
    case 'hubJobDevices':
      // A handful of job calls, not an operation per device.
      return op.action === 'delete' ? 2 : 4;
    case 'disableEnrollment':
    case 'enableEnrollment':
    case 'disableGroup':
    case 'enableGroup':
      return 3;
    case 'createBlocker':
      return 2;
    case 'snapshotRegistrations':
    case 'verify':
      return 0;
    default:
      return 1;
  }
};
