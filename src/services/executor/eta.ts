/**
 * The run's ETA and the progress the machine does not hold: what each unsettled step still has to spend
 * and its sum per service, the hub job steps' latest states and when their jobs started; the time left is
 * the longer of the calls (each service at its pace) and the job steps (at the job model's pace).
 */
import type { HubJobState } from '../../core/hub-job-state.js';
import { estimateJobsSeconds } from '../../core/hub-path.js';
import type { PlanStep, StepResult } from '../../core/plan-types.js';
import type { RunProgress } from '../../core/run-events.js';
import { estimateJobsRemainingMs, estimateRemainingMs } from '../../core/run-eta.js';
import type { Clock } from './clock.js';
import type { RunLimits } from './limits.js';
import { serviceOf } from './step-services.js';
import type { DeviceResult } from './step-types.js';

export class RunEta {
  /** Operations each unsettled step still has to spend, and their sum per service (the ETA). */
  private readonly stepOps: Float64Array;
  private readonly serviceOps = new Map<string, number>();
  /** Per jobs step (by index), its job's latest state, for the progress. */
  private readonly jobStates = new Map<number, HubJobState>();
  /** Per jobs step (by index), when its job started (created or re-attached): the ETA counts from there. */
  private readonly jobStartedAt = new Map<number, number>();

  constructor(
    private readonly steps: readonly PlanStep[],
    private readonly dpsHost: string,
    private readonly limits: RunLimits,
    private readonly clock: Clock,
    /** A service's allowed rate now, and until when a 429 holds it (the limiter's). */
    private readonly pace: (service: string) => { opsPerMinute: number; heldUntilMs: number },
    /** How many job steps run at once: one per job storage container. */
    private readonly jobLanes: () => number,
  ) {
    this.stepOps = new Float64Array(steps.length);
  }

  /** Operations left per step and per service, from the steps without a result. */
  count(
    results: readonly (StepResult | undefined)[],
    priorDevices: ReadonlyMap<number, ReadonlyMap<string, DeviceResult>>,
  ): void {
    this.serviceOps.clear();
    for (let i = 0; i < this.steps.length; i++) {
      const step = this.steps[i];
      const done = priorDevices.get(i)?.size ?? 0;
      this.stepOps[i] = results[i] ? 0 : opsOf(step, done);
      if (this.stepOps[i] <= 0) continue;
      const service = serviceOf(step, this.dpsHost);
      if (service === 'local') continue;
      this.serviceOps.set(service, (this.serviceOps.get(service) ?? 0) + this.stepOps[i]);
    }
  }

  /** Step i spent `ops` (all it had left when undefined). */
  spent(i: number, ops?: number): void {
    const n = Math.min(this.stepOps[i], ops ?? this.stepOps[i]);
    if (n <= 0) return;
    this.stepOps[i] -= n;
    const service = serviceOf(this.steps[i], this.dpsHost);
    const left = (this.serviceOps.get(service) ?? 0) - n;
    if (left > 0) this.serviceOps.set(service, left);
    else this.serviceOps.delete(service);
  }

  /** A jobs step's latest state; its job counts as started once the step no longer waits for one. */
  jobState(i: number, state: HubJobState): void {
    this.jobStates.set(i, state);
    if (state.status !== 'waiting' && !this.jobStartedAt.has(i)) this.jobStartedAt.set(i, this.clock.now());
  }

  /**
   * The machine's progress with the job steps' latest states (when there are any) and, while the run
   * goes on, the time left (none when a service with work has no rate).
   */
  withEta(given: RunProgress, final: boolean, results: readonly (StepResult | undefined)[]): RunProgress {
    const p = this.jobStates.size > 0 ? { ...given, jobs: [...this.jobStates.values()] } : given;
    if (final) return p;
    const now = this.clock.now();
    const remainingMs = this.remainingMs(now, results);
    if (remainingMs === undefined) return p;
    return { ...p, eta: { remainingMs, atMs: now } };
  }

  /** Milliseconds left; undefined when a service with work has no rate. */
  private remainingMs(now: number, results: readonly (StepResult | undefined)[]): number | undefined {
    const loads = [...this.serviceOps].map(([service, ops]) => ({
      service,
      ops,
      ...this.pace(service),
    }));
    const calls = estimateRemainingMs(loads, now);
    if (calls === undefined) return undefined;
    return Math.max(calls, this.jobsRemainingMs(now, results));
  }

  /** The job steps left, at the job model's pace (service time, scaled like the limits). */
  private jobsRemainingMs(now: number, results: readonly (StepResult | undefined)[]): number {
    const jobs = [];
    for (let i = 0; i < this.steps.length; i++) {
      const op = this.steps[i].op;
      if (op.kind !== 'hubJobDevices' || results[i]) continue;
      const estimateMs = (estimateJobsSeconds(op.deviceIds.length, op.action) * 1000) / this.limits.timeScale;
      jobs.push({ estimateMs, startedAtMs: this.jobStartedAt.get(i) });
    }
    // As many jobs at once as there are job storage containers (one job step per container).
    const lanes = this.jobLanes();
    return jobs.length === 0 ? 0 : estimateJobsRemainingMs(jobs, now, lanes);
  }
}

/** Identity operations per device of a hub step: a delete, or a read and a write. */
export const opsPerDevice = (step: PlanStep): number => (step.op.kind === 'deleteHubDevices' ? 1 : 2);

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
