/**
 * What each step of a run has come to, by step index: its result, a verify step's verdicts, the devices
 * a bulk step settled well (not sent again), the jobs a job step created (re-attached to, not started
 * again), the steps to read before acting, and the attempts earlier sessions made. It starts from what
 * an earlier session of the run left (resume).
 */
import type { ReenrollmentVerdict } from '../../core/model.js';
import type { Plan, StepResult } from '../../core/plan-types.js';
import { failedRegistrationIds } from './results.js';
import type { DeviceResult, PriorJob } from './step-types.js';

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

const settledWell = (x: DeviceResult): boolean => x.outcome === 'succeeded' || x.outcome === 'alreadyDone';

export class StepState {
  readonly results: (StepResult | undefined)[];
  readonly verdicts: Map<string, ReenrollmentVerdict[]>;
  /** Steps whose intent was journaled without an outcome: the next try reads the service first. */
  readonly recheck = new Set<number>();
  /** Devices of bulk steps that earlier tries settled well. */
  readonly priorDevices = new Map<number, Map<string, DeviceResult>>();
  readonly priorJobs = new Map<number, PriorJob[]>();
  /** Registration IDs that failed in a partly failed bulk step of the prior state (for the scheduler). */
  readonly failedRegistrations = new Map<number, Set<string>>();
  private readonly baseAttempts: Map<string, number>;

  constructor(plan: Plan, prior?: PriorState) {
    const steps = plan.steps;
    this.results = new Array(steps.length);
    this.verdicts = new Map(prior?.verdicts ?? []);
    this.baseAttempts = prior?.attempts ?? new Map();
    const indexOf = new Map(steps.map((s, i) => [s.id, i]));
    for (const r of prior?.results ?? []) {
      const i = indexOf.get(r.stepId);
      if (i === undefined) continue;
      this.results[i] = r;
      if (r.outcome === 'failed' && r.devices && steps[i].registrationIds.length > 0) {
        const failed = failedRegistrationIds(plan, steps[i], r.devices);
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
    for (const [id, jobs] of prior?.jobs ?? []) {
      const i = indexOf.get(id);
      if (i !== undefined) this.priorJobs.set(i, jobs);
    }
  }

  /** The number of a step's first attempt in this session (after those journaled before). */
  firstAttempt(stepId: string): number {
    return (this.baseAttempts.get(stepId) ?? 0) + 1;
  }

  /** A part of bulk step i settled: no call of it is outstanding, and its good devices are not sent again. */
  partSettled(i: number, devices: readonly DeviceResult[]): void {
    this.recheck.delete(i);
    const good = devices.filter(settledWell);
    if (good.length > 0) {
      const prior = this.priorDevices.get(i) ?? new Map<string, DeviceResult>();
      for (const x of good) prior.set(x.id, x);
      this.priorDevices.set(i, prior);
    }
  }

  /** Job step i created a job. */
  jobCreated(i: number, job: PriorJob): void {
    const jobs = this.priorJobs.get(i) ?? [];
    jobs.push(job);
    this.priorJobs.set(i, jobs);
  }

  /** Step i settled: its result (and verdicts); what its tries left is no longer needed. */
  settle(i: number, result: StepResult, verdicts?: ReenrollmentVerdict[]): void {
    this.results[i] = result;
    this.recheck.delete(i);
    this.priorDevices.delete(i);
    this.priorJobs.delete(i);
    if (verdicts) this.verdicts.set(result.stepId, verdicts);
  }

  /**
   * Retry-failed: failed and skipped steps lose their result (their good devices are kept, not sent
   * again); `reopened` is told each of them.
   */
  reopenFailed(reopened: (i: number) => void): void {
    for (let i = 0; i < this.results.length; i++) {
      const r = this.results[i];
      if (r?.outcome === 'failed' || r?.outcome === 'skipped') {
        const good = (r.devices ?? []).filter(settledWell);
        if (good.length > 0) this.priorDevices.set(i, new Map(good.map((x) => [x.id, x])));
        this.results[i] = undefined;
        reopened(i);
      }
    }
  }
}
