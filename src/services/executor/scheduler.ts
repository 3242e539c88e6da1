/**
 * What may run next: counts each pending step's unsettled prerequisites, queues a step per service
 * when they have all settled, and skips it instead when one of them failed (naming the cause); starts
 * the queued steps as their service has room for them.
 * Verify steps are never skipped: they only read, and after a failure the truth matters most.
 */
import type { PlanStep } from '../../core/plan-types.js';
import { STEP_STATUS } from '../../core/run-progress.js';
import { type DependencyIndex, dependentsOf, prerequisitesOf } from './dependencies.js';
import { Lane } from './lanes.js';
import { causeOf, notDoneBecause } from './reasons.js';

export class Scheduler {
  private readonly remaining: Int32Array;
  readonly lanes = new Map<string, Lane>();
  /** Root cause of each failed or skipped step, for the reasons of what it holds up. */
  private readonly cause = new Map<number, string>();
  /** Registration IDs that failed in a partly failed bulk step (dependents of the others go on). */
  private readonly failedRegistrations = new Map<number, Set<string>>();

  constructor(
    private readonly steps: readonly PlanStep[],
    private readonly deps: DependencyIndex,
    private readonly status: (i: number) => number,
    private readonly serviceOf: (step: PlanStep) => string,
    /** Records a skipped step (result, journal, machine event). */
    private readonly skip: (i: number, reason: string) => void,
  ) {
    this.remaining = new Int32Array(steps.length);
  }

  setFailedRegistrations(i: number, ids: Set<string>): void {
    this.failedRegistrations.set(i, ids);
  }

  /** The step goes back to pending (retry-failed): forget why it failed. */
  forget(i: number): void {
    this.cause.delete(i);
    this.failedRegistrations.delete(i);
  }

  /** Counts unsettled prerequisites of every pending step; releases those with none. O(steps + edges). */
  rebuild(): void {
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

  /**
   * Takes ready steps off each service's lane while fewer than `cap(service)` of its steps are in
   * flight; `start` runs each (its lane counts it in flight until the step is done with it).
   */
  startReady(cap: (service: string) => number, start: (i: number, lane: Lane) => void): void {
    for (const [service, lane] of this.lanes) {
      const most = cap(service);
      while (lane.inFlight < most) {
        const i = lane.next();
        if (i === undefined) break;
        if (this.status(i) !== STEP_STATUS.pending) continue;
        lane.inFlight++;
        start(i, lane);
      }
    }
  }

  /** Step i settled: its dependents with nothing else to wait for are queued or skipped. */
  settled(i: number): void {
    this.release(this.readyDependents(i));
  }

  private release(ready: number[]): void {
    const work = ready.reverse();
    for (let i = work.pop(); i !== undefined; i = work.pop()) {
      if (this.status(i) !== STEP_STATUS.pending) continue;
      const blocker = this.steps[i].phase === 'verify' ? -1 : this.blockingPrerequisite(i);
      if (blocker < 0) {
        this.lane(this.serviceOf(this.steps[i])).push(i);
        continue;
      }
      const cause = this.cause.get(blocker) ?? causeOf(this.steps[blocker]);
      this.cause.set(i, cause);
      this.skip(i, `${notDoneBecause(this.steps[i])}: ${cause}`);
      for (const d of this.readyDependents(i)) work.push(d);
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

  private readyDependents(i: number): number[] {
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
}
