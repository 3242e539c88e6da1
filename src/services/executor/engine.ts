/**
 * The run engine: feeds the run machine, starts steps when their prerequisites have settled and the
 * machine allows it, and records every step in the journal. The machine decides what may start
 * (pause, abort); the engine decides what is ready (dependencies) and how fast (rate limits).
 *
 * Its parts by idea: what is ready (scheduler.ts), the ETA and the job steps' states (eta.ts), the
 * journaling (run-recorder.ts), what each step has come to (step-state.ts), results (results.ts).
 */
import type { JobStoragePool } from '../storage/job-storage-pool.js';
import type { HubJobState } from '../../core/hub-job-state.js';
import type { DpsPort, HubDirectory } from '../../core/ports.js';
import type { Plan, PlanStep, StepResult } from '../../core/plan-types.js';
import type { RunEvent, RunProgress } from '../../core/run-events.js';
import { createRunActor, isFinal, mayStartSteps, progressOf, stateOf } from '../../core/run-machine.js';
import type { RunSummary } from '../backend.js';
import { scrubSecrets } from '../journal/redact.js';
import { isServiceError } from '../../core/errors.js';
import type { RunJournal } from '../journal/writer.js';
import type { Clock } from './clock.js';
import { buildDependencies } from './dependencies.js';
import { opsPerDevice, RunEta } from './eta.js';
import type { RunLimits } from './limits.js';
import { performStep } from './operations.js';
import { makeCall } from './calls.js';
import type { Lane } from './lanes.js';
import { type ServiceLimiter, StoppedError } from './rate-limiter.js';
import { failedRegistrationIds, failureOf, settledEventOf, stepResultOf, summarize } from './results.js';
import { RunRecorder } from './run-recorder.js';
import { Scheduler } from './scheduler.js';
import { inFlightCap, serviceLimiterFor, serviceOf, stepPaceOf } from './step-services.js';
import { type PriorState, StepState } from './step-state.js';
import type { CallFn, Execution, StepEnv, VerifyFn } from './step-types.js';

export type { PriorState } from './step-state.js';

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

export class RunEngine {
  private readonly steps: readonly PlanStep[];
  private readonly actor: ReturnType<typeof createRunActor>;
  private readonly limiter: ServiceLimiter;
  private readonly scheduler: Scheduler;
  private readonly eta: RunEta;
  private readonly recorder: RunRecorder;
  private readonly state: StepState;
  private inFlight = 0;
  private readonly listeners = new Set<(p: RunProgress) => void>();
  private stop = new AbortController();
  private finished = false;
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
    this.recorder = new RunRecorder(
      d.journal,
      () => d.reopenJournal(),
      () => this.abort(),
    );
    this.scheduler = new Scheduler(
      this.steps,
      buildDependencies(this.steps),
      (i) => this.status(i),
      (step) => serviceOf(step, d.dps.host),
      (i, reason) => this.recordSkip(i, reason),
    );
    this.state = new StepState(plan, prior);
    for (const [i, failed] of this.state.failedRegistrations)
      this.scheduler.setFailedRegistrations(i, failed);
    this.actor = createRunActor({ steps: this.steps, startedAtMs: d.clock.now(), settled: prior?.results });
    const { limits } = d;
    this.limiter = serviceLimiterFor(d.clock, d.dps.host, limits, {
      throttled: (service, waitMs) => this.send({ type: 'THROTTLED', service, waitMs, atMs: d.clock.now() }),
      cleared: (service) => this.send({ type: 'THROTTLE_CLEARED', service }),
    });
    this.eta = new RunEta(
      this.steps,
      d.dps.host,
      limits,
      d.clock,
      (service) => this.limiter.pace(service),
      () => this.d.jobStorage?.containers.length ?? 1,
    );
    this.eta.count(this.state.results, this.state.priorDevices);
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
    return this.eta.withEta(given, isFinal(this.actor.getSnapshot()), this.state.results);
  }

  subscribe(listener: (p: RunProgress) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  pause(): void {
    this.send({ type: 'PAUSE_REQUESTED' });
    if (stateOf(this.actor.getSnapshot()) === 'paused') this.recorder.mark('paused');
  }

  resume(): void {
    if (stateOf(this.actor.getSnapshot()) !== 'paused') return;
    this.send({ type: 'RESUME_REQUESTED' });
    this.recorder.mark('resumed');
    this.pump();
    this.checkEnd();
  }

  abort(): void {
    const snapshot = this.actor.getSnapshot();
    if (isFinal(snapshot) || stateOf(snapshot) === 'aborting') return;
    this.recorder.mark('abortRequested');
    this.send({ type: 'ABORT_REQUESTED' });
    this.stop.abort();
    this.limiter.stopAll();
    this.checkAborting();
    this.checkEnd();
  }

  retryFailed(): void {
    const state = stateOf(this.actor.getSnapshot());
    if (state !== 'completedWithFailures' && state !== 'aborted') return;
    if (this.recorder.error) return;
    this.finished = false;
    this.done = this.newDone();
    void this.restartForRetry();
  }

  private async restartForRetry(): Promise<void> {
    await this.finishing;
    if (!this.recorder.isOpen && !(await this.recorder.reopen())) {
      this.finished = true;
      this.settleDone(this.summary());
      return;
    }
    this.state.reopenFailed((i) => this.scheduler.forget(i));
    this.eta.count(this.state.results, this.state.priorDevices);
    this.stop = new AbortController();
    this.limiter.restart();
    this.recorder.mark('retryFailed');
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

  private recordSkip(i: number, reason: string): void {
    const result: StepResult = { stepId: this.steps[i].id, outcome: 'skipped', message: reason, attempts: 0 };
    this.state.results[i] = result;
    this.eta.spent(i);
    this.recorder.skipped(result);
    this.send({ type: 'STEP_SKIPPED', stepId: result.stepId, reason });
  }

  private pump(): void {
    if (!mayStartSteps(this.actor.getSnapshot())) return;
    this.scheduler.startReady(
      (service) => inFlightCap(service, this.limiter, this.d.limits),
      (i, lane) => {
        this.inFlight++;
        this.send({ type: 'STEP_STARTED', stepId: this.steps[i].id });
        void this.runStep(i, lane);
      },
    );
  }

  private async runStep(i: number, lane: Lane): Promise<void> {
    const step = this.steps[i];
    const attempts = { n: 0 };
    // True from an intent until its call, or the part of the step it belongs to, has settled.
    const outstanding = { v: false };
    let execution: Execution | undefined;
    try {
      execution = await performStep(step, this.stepEnv(i, step, attempts, outstanding));
    } catch (e) {
      if (!(e instanceof StoppedError)) execution = failureOf(step, e, this.state.priorDevices.get(i));
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
      if (outstanding.v) this.state.recheck.add(i);
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

  /** What step i is given: the ports, its calls under the limits, and the engine's callbacks. */
  private stepEnv(i: number, step: PlanStep, attempts: { n: number }, outstanding: { v: boolean }): StepEnv {
    return {
      dps: this.d.dps,
      hubs: this.d.hubs,
      runId: this.runId,
      restore: this.plan.restoreOf !== undefined,
      call: this.callFor(step, attempts, outstanding),
      recheck: this.state.recheck.has(i),
      priorDone: this.state.priorDevices.get(i),
      verify: this.d.verify,
      ...stepPaceOf(step, this.d.limits),
      settled: async (devices) => {
        outstanding.v = false;
        this.state.partSettled(i, devices);
        this.eta.spent(i, devices.length * opsPerDevice(step));
        await this.recorder.progress(step.id, devices);
      },
      jobStorage: this.d.jobStorage,
      jobPollMs: this.d.jobPollMs,
      signal: this.stop.signal,
      priorJobs: this.state.priorJobs.get(i),
      jobWaiting: (state) => this.jobWaiting(i, state),
      jobStarted: async (job) => {
        this.state.jobCreated(i, { type: job.type, jobId: job.jobId, container: job.container });
        await this.recorder.job(step.id, job);
      },
      ensureSnapshot: () => this.recorder.snapshot(this.plan.snapshot),
    };
  }

  /** Jobs step i's latest state. */
  private jobWaiting(i: number, state: HubJobState): void {
    this.eta.jobState(i, state);
    // No machine event comes while a job runs: the listeners are told here.
    const p = this.progress();
    for (const l of this.listeners) l(p);
  }

  private async record(i: number, step: PlanStep, x: Execution, attempts: number): Promise<void> {
    const result = stepResultOf(step, x, attempts);
    this.state.settle(i, result, x.verdicts);
    this.eta.spent(i);
    if (x.outcome === 'failed' && x.devices && step.registrationIds.length > 0) {
      const failed = failedRegistrationIds(this.plan, step, x.devices);
      if (failed) this.scheduler.setFailedRegistrations(i, failed);
    }
    await this.recorder.outcome(result, step.destructive, x.verdicts);
    this.send(settledEventOf(step, x));
    this.scheduler.settled(i);
  }

  private callFor(step: PlanStep, attempts: { n: number }, outstanding: { v: boolean }): CallFn {
    return makeCall({
      step,
      attempts,
      onIntent: () => {
        outstanding.v = true;
      },
      firstAttempt: this.state.firstAttempt(step.id),
      limiter: this.limiter,
      journal: () => this.recorder.current,
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
    await this.recorder.end(state);
    settle(this.summary());
  }

  private summary(): RunSummary {
    return summarize({
      plan: this.plan,
      runId: this.runId,
      journalPath: this.recorder.path,
      state: stateOf(this.actor.getSnapshot()),
      results: this.state.results,
      verdicts: this.state.verdicts,
      journalError: this.recorder.error,
      refusal: this.refusal,
    });
  }
}
