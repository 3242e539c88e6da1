/**
 * The run engine: feeds the run machine, starts steps when their prerequisites have settled and the
 * machine allows it, and records every step in the journal. The machine decides what may start
 * (pause, abort); the engine decides what is ready (dependencies) and how fast (rate limits).
 */
import { isServiceError, ServiceError } from '../../core/errors.js';
import type { ReenrollmentVerdict } from '../../core/model.js';
import type { DpsPort, HubDirectory } from '../../core/ports.js';
import type { Plan, PlanStep, StepResult } from '../../core/plan-types.js';
import type { RunEvent, RunProgress } from '../../core/run-events.js';
import { createRunActor, isFinal, mayStartSteps, progressOf, stateOf } from '../../core/run-machine.js';
import { describeStep, STEP_STATUS } from '../../core/run-progress.js';
import type { RunSummary } from '../backend.js';
import { scrubSecrets } from '../journal/redact.js';
import type { RunJournal } from '../journal/writer.js';
import type { Clock } from './clock.js';
import { type DependencyIndex, buildDependencies, dependentsOf, prerequisitesOf } from './dependencies.js';
import { backoffMs, hubOpsPerMinute, type RunLimits } from './limits.js';
import { type CallFn, type DeviceResult, type Execution, performStep, serviceOf, type VerifyFn } from './operations.js';
import { ServiceLimiter, StoppedError } from './rate-limiter.js';
import { causeOf, notDoneBecause } from './reasons.js';

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
}

/** What an earlier session of this run left (resume). */
export interface PriorState {
  results: StepResult[];
  recheck: string[];
  attempts: Map<string, number>;
  verdicts: Map<string, ReenrollmentVerdict[]>;
  /** Devices that earlier tries of failed bulk steps settled well. */
  priorDevices: Map<string, DeviceResult[]>;
}

const LOCAL_IN_FLIGHT = 2;

class Lane {
  items: number[] = [];
  head = 0;
  inFlight = 0;
  push(i: number): void {
    this.items.push(i);
  }
  next(): number | undefined {
    if (this.head >= this.items.length) return undefined;
    const i = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return i;
  }
}

export class RunEngine {
  private readonly steps: readonly PlanStep[];
  private readonly deps: DependencyIndex;
  private readonly actor: ReturnType<typeof createRunActor>;
  private readonly limiter: ServiceLimiter;
  private readonly remaining: Int32Array;
  private readonly lanes = new Map<string, Lane>();
  private inFlight = 0;
  private readonly results: (StepResult | undefined)[];
  private readonly verdicts: Map<string, ReenrollmentVerdict[]>;
  private readonly cause = new Map<number, string>();
  /** Registration IDs that failed in a partly failed bulk step (dependents of the others go on). */
  private readonly failedRegistrations = new Map<number, Set<string>>();
  private readonly recheck = new Set<number>();
  private readonly priorDevices = new Map<number, Map<string, DeviceResult>>();
  private readonly baseAttempts: Map<string, number>;
  private readonly listeners = new Set<(p: RunProgress) => void>();
  private journal: RunJournal;
  private journalOpen = true;
  private stop = new AbortController();
  private finished = false;
  private journalError: string | undefined;
  private settleDone!: (s: RunSummary) => void;
  done: Promise<RunSummary>;

  constructor(
    readonly plan: Plan,
    readonly runId: string,
    private readonly d: EngineDeps,
    prior?: PriorState,
  ) {
    this.steps = plan.steps;
    this.journal = d.journal;
    this.deps = buildDependencies(this.steps);
    this.remaining = new Int32Array(this.steps.length);
    this.results = new Array(this.steps.length);
    this.verdicts = new Map(prior?.verdicts ?? []);
    this.baseAttempts = prior?.attempts ?? new Map();
    const indexOf = new Map(this.steps.map((s, i) => [s.id, i]));
    for (const r of prior?.results ?? []) {
      const i = indexOf.get(r.stepId);
      if (i === undefined) continue;
      this.results[i] = r;
      if (r.outcome === 'failed' && r.devices && this.steps[i].registrationIds.length > 0) {
        const failed = this.failedRegistrationIds(this.steps[i], r.devices);
        if (failed) this.failedRegistrations.set(i, failed);
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
    this.actor = createRunActor({ steps: this.steps, startedAtMs: d.clock.now(), settled: prior?.results });
    const { limits } = d;
    this.limiter = new ServiceLimiter(
      d.clock,
      (service) =>
        service === d.dps.host
          ? limits.dpsOpsPerMinute
          : hubOpsPerMinute(limits.hubs[service] ?? limits.defaultHub),
      limits.timeScale,
      limits.burstSeconds,
      limits.throttleNoticeMs,
      {
        throttled: (service, waitMs) => this.send({ type: 'THROTTLED', service, waitMs, atMs: d.clock.now() }),
        cleared: (service) => this.send({ type: 'THROTTLE_CLEARED', service }),
      },
    );
    this.done = this.newDone();
    this.actor.subscribe((snapshot) => {
      if (this.listeners.size === 0) return;
      const p = progressOf(snapshot);
      for (const l of this.listeners) l(p);
    });
  }

  start(): void {
    this.actor.start();
    this.send({ type: 'START' });
    this.rebuildReadiness();
    this.pump();
    this.checkEnd();
  }

  progress(): RunProgress {
    return progressOf(this.actor.getSnapshot());
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
        const good = (r.devices ?? []).filter((x) => x.outcome === 'succeeded' || x.outcome === 'alreadyDone');
        if (good.length > 0) this.priorDevices.set(i, new Map(good.map((x) => [x.id, x])));
        this.results[i] = undefined;
        this.cause.delete(i);
        this.failedRegistrations.delete(i);
      }
    }
    this.stop = new AbortController();
    this.limiter.restart();
    this.mark('retryFailed');
    this.send({ type: 'RETRY_FAILED_REQUESTED' });
    this.rebuildReadiness();
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

  /** Counts unsettled prerequisites of every pending step; releases those with none. O(steps + edges). */
  private rebuildReadiness(): void {
    this.lanes.clear();
    const ready: number[] = [];
    for (const i of this.deps.order) {
      if (this.status(i) !== STEP_STATUS.pending) continue;
      let n = 0;
      for (const j of prerequisitesOf(this.deps, i)) {
        const s = this.status(j);
        if (s === STEP_STATUS.pending || s === STEP_STATUS.inFlight) n++;
      }
      this.remaining[i] = n;
      if (n === 0) ready.push(i);
    }
    this.release(ready);
  }

  /** Steps whose prerequisites all settled: skip them when one failed, else queue them. */
  private release(ready: number[]): void {
    const work = ready.reverse();
    while (work.length > 0) {
      const i = work.pop()!;
      if (this.status(i) !== STEP_STATUS.pending) continue;
      const blocker = this.steps[i].phase === 'verify' ? -1 : this.blockingPrerequisite(i);
      if (blocker < 0) {
        this.lane(serviceOf(this.steps[i], this.d.dps.host)).push(i);
        continue;
      }
      const cause = this.cause.get(blocker) ?? causeOf(this.steps[blocker]);
      this.cause.set(i, cause);
      const reason = `${notDoneBecause(this.steps[i])}: ${cause}`;
      const result: StepResult = { stepId: this.steps[i].id, outcome: 'skipped', message: reason, attempts: 0 };
      this.results[i] = result;
      this.journal.appendOutcome(result, false).catch((e) => this.fail(e));
      this.send({ type: 'STEP_SKIPPED', stepId: result.stepId, reason });
      for (const d of this.settledDependents(i)) work.push(d);
    }
  }

  private blockingPrerequisite(i: number): number {
    const regs = this.steps[i].registrationIds;
    for (const j of prerequisitesOf(this.deps, i)) {
      const s = this.status(j);
      if (s !== STEP_STATUS.failed && s !== STEP_STATUS.skipped) continue;
      const failed = this.failedRegistrations.get(j);
      if (s === STEP_STATUS.failed && failed && regs.length > 0 && !regs.some((r) => failed.has(r))) continue;
      return j;
    }
    return -1;
  }

  private settledDependents(i: number): number[] {
    const ready: number[] = [];
    for (const d of dependentsOf(this.deps, i)) {
      if (this.status(d) === STEP_STATUS.pending && --this.remaining[d] === 0) ready.push(d);
    }
    return ready;
  }

  private lane(service: string): Lane {
    let lane = this.lanes.get(service);
    if (!lane) {
      lane = new Lane();
      this.lanes.set(service, lane);
    }
    return lane;
  }

  private pump(): void {
    if (!mayStartSteps(this.actor.getSnapshot())) return;
    for (const [service, lane] of this.lanes) {
      const cap = service === 'local' ? LOCAL_IN_FLIGHT : this.d.limits.maxInFlightPerService;
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
    let execution: Execution | undefined;
    try {
      execution = await performStep(step, {
        dps: this.d.dps,
        hubs: this.d.hubs,
        runId: this.runId,
        restore: this.plan.restoreOf !== undefined,
        call: this.callFor(step, attempts),
        recheck: this.recheck.has(i),
        priorDone: this.priorDevices.get(i),
        verify: this.d.verify,
        ensureSnapshot: async () => {
          if (!this.journal.hasSnapshot) await this.journal.appendSnapshot(this.plan.snapshot);
          return this.plan.snapshot.length;
        },
      });
    } catch (e) {
      if (!(e instanceof StoppedError)) execution = this.failure(step, i, e);
    }
    if (!execution) {
      // Stopped while waiting: no outcome. If an intent was journaled, the next try reads first.
      if (attempts.n > 0) this.recheck.add(i);
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
    };
    this.results[i] = result;
    this.recheck.delete(i);
    this.priorDevices.delete(i);
    if (x.outcome === 'failed' && x.devices && step.registrationIds.length > 0) {
      const failed = this.failedRegistrationIds(step, x.devices);
      if (failed) this.failedRegistrations.set(i, failed);
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
    this.release(this.settledDependents(i));
  }

  /**
   * Registration IDs behind the failed devices of a bulk step: by position when the planner lined
   * them up with the device IDs, else through the snapshot. Undefined = cannot tell, treat all as failed.
   */
  private failedRegistrationIds(step: PlanStep, devices: DeviceResult[]): Set<string> | undefined {
    const op = step.op;
    if (!('deviceIds' in op)) return undefined;
    const failedIds = new Set(devices.filter((x) => x.outcome === 'failed').map((x) => x.id));
    const out = new Set<string>();
    if (op.deviceIds.length === step.registrationIds.length) {
      op.deviceIds.forEach((id, k) => {
        if (failedIds.has(id)) out.add(step.registrationIds[k]);
      });
      return out;
    }
    const regs = new Set(step.registrationIds);
    for (const r of this.plan.snapshot) {
      if (regs.has(r.registrationId) && failedIds.has(r.deviceId ?? r.registrationId)) out.add(r.registrationId);
    }
    return out.size === failedIds.size ? out : undefined;
  }

  private failure(step: PlanStep, i: number, e: unknown): Execution {
    const text = scrubSecrets(e instanceof Error ? e.message : String(e));
    const message = `${describeStep(step)}: ${text}`;
    const op = step.op;
    if (!('deviceIds' in op)) return { outcome: 'failed', message };
    const prior = this.priorDevices.get(i);
    const devices = op.deviceIds.map(
      (id): DeviceResult => prior?.get(id) ?? { id, outcome: 'failed', message: text },
    );
    return { outcome: 'failed', message, devices };
  }

  /** One service call: rate-limited, retried as the error kind allows, intent journaled first. */
  private callFor(step: PlanStep, attempts: { n: number }): CallFn {
    const { limits, clock, random } = this.d;
    const base = this.baseAttempts.get(step.id) ?? 0;
    // Once the step's change is made, its follow-up reads finish even during an abort.
    let committed = false;
    return async (service, cost, destructive, fn) => {
      let tries = 0;
      let throttledTries = 0;
      for (;;) {
        await this.limiter.acquire(service, cost, !committed);
        if (destructive) {
          attempts.n++;
          await this.journal.appendIntent(step.id, base + attempts.n, step.call);
        }
        try {
          const value = await withTimeout(fn(), limits.callTimeoutMs);
          if (destructive) committed = true;
          return value;
        } catch (e) {
          if (!isServiceError(e)) throw e;
          if (e.kind === 'throttled') {
            if (++throttledTries >= limits.maxThrottledAttempts) throw e;
            const wait = e.details.retryAfterMs ?? backoffMs(limits, throttledTries, random);
            this.limiter.penalize(service, wait, limits.adaptWindowMs / limits.timeScale);
            continue;
          }
          if (e.kind !== 'transient' && e.kind !== 'timeout' && e.kind !== 'preconditionFailed') throw e;
          if (++tries >= limits.maxAttempts) throw e;
          // An ETag conflict needs a fresh read, not a pause: the adapter re-reads on the next call.
          if (e.kind !== 'preconditionFailed') {
            const signal = committed ? undefined : this.stop.signal;
            await clock.sleep(backoffMs(limits, tries, random), signal);
            if (signal?.aborted) throw new StoppedError();
          }
        }
      }
    };
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
    void this.finish(stateOf(snapshot) as RunSummary['state']);
  }

  private async finish(state: RunSummary['state']): Promise<void> {
    if (this.journalOpen) {
      this.journalOpen = false;
      try {
        await this.journal.appendEnd(state);
      } catch (e) {
        this.journalError ??= (e as Error).message;
      }
      await this.journal.close().catch(() => undefined);
    }
    this.settleDone(this.summary());
  }

  /** The journal cannot be written: stop the run so that what happened stays recoverable. */
  private fail(e: unknown): void {
    this.journalError ??= scrubSecrets((e as Error).message ?? String(e));
    this.abort();
  }

  private summary(): RunSummary {
    const state = stateOf(this.actor.getSnapshot());
    const results = this.results.filter((r): r is StepResult => r !== undefined);
    const temporary = this.steps.some(
      (s, i) =>
        (s.op.kind === 'disableEnrollment' || s.op.kind === 'disableGroup' || s.op.kind === 'disableHubDevices') &&
        this.results[i]?.outcome === 'succeeded',
    );
    return {
      runId: this.runId,
      journalPath: this.journal.path,
      state: (state === 'completed' || state === 'completedWithFailures' ? state : 'aborted') as RunSummary['state'],
      results,
      verify: [...this.verdicts.values()].flat(),
      ...(temporary && !this.plan.restoreOf ? { restoreCommand: `iot-deprovision restore ${this.runId} --yes` } : {}),
      ...(this.journalError ? { journalError: this.journalError } : {}),
    };
  }
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> => {
  if (!Number.isFinite(ms) || ms <= 0) return p;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ServiceError('timeout', `no answer within ${Math.round(ms / 1000)} s`)),
      ms,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
};
