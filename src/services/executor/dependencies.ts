/**
 * Which steps wait for which, built once in O(steps + registration IDs).
 *
 * - A step acting for registration IDs waits for the earlier-phase steps sharing one of them (per
 *   device: blocker before its hub step, hub step before its registration record delete).
 * - A step with no registration IDs acts for the whole selection: it waits for every step before it
 *   and every step after it waits for it (a fence). Fences are chained, so each step holds at most
 *   one edge to a fence.
 */
import { PHASES, type PlanStep } from '../../core/plan-types.js';

export interface DependencyIndex {
  /** Step indexes in execution order (by phase, then plan order). */
  order: Int32Array;
  /** Prerequisites of step i are prereqs[prereqFrom[i] .. prereqFrom[i] + prereqCount[i]). */
  prereqFrom: Int32Array;
  prereqCount: Int32Array;
  prereqs: Int32Array;
  /** CSR: dependents of step i are dependents[dependentStart[i] .. dependentStart[i + 1]). */
  dependentStart: Int32Array;
  dependents: Int32Array;
}

/** Plan order within phases, phases in their fixed order: a stable bucket pass, O(n). */
const executionOrder = (steps: readonly PlanStep[]): Int32Array => {
  const rank = new Map(PHASES.map((p, i) => [p, i]));
  const buckets: number[][] = PHASES.map(() => []);
  steps.forEach((s, i) => {
    buckets[rank.get(s.phase) ?? 0].push(i);
  });
  return Int32Array.from(buckets.flat());
};

export const buildDependencies = (steps: readonly PlanStep[]): DependencyIndex => {
  const n = steps.length;
  const order = executionOrder(steps);
  const prereqFrom = new Int32Array(n);
  const prereqCount = new Int32Array(n);
  const edges: number[] = [];
  /** Dedupe stamp: seen[j] === i + 1 when j is already a prerequisite of i. */
  const seen = new Int32Array(n);
  /** Registration ID -> steps of phases before the current one. */
  const byRegistration = new Map<string, number[]>();
  let currentPhase: string | undefined;
  let phaseSteps: number[] = [];
  let fence = -1;
  let sinceFence: number[] = [];
  const add = (i: number, j: number) => {
    if (seen[j] === i + 1) return;
    seen[j] = i + 1;
    edges.push(j);
  };

  for (const i of order) {
    const step = steps[i];
    if (step.phase !== currentPhase) {
      for (const j of phaseSteps) {
        for (const r of steps[j].registrationIds) {
          const list = byRegistration.get(r);
          if (list) list.push(j);
          else byRegistration.set(r, [j]);
        }
      }
      phaseSteps = [];
      currentPhase = step.phase;
    }
    prereqFrom[i] = edges.length;
    if (fence >= 0) add(i, fence);
    if (step.registrationIds.length === 0) {
      for (const j of sinceFence) add(i, j);
      fence = i;
      sinceFence = [];
    } else {
      for (const r of step.registrationIds) {
        const list = byRegistration.get(r);
        if (list) for (const j of list) add(i, j);
      }
      sinceFence.push(i);
    }
    prereqCount[i] = edges.length - prereqFrom[i];
    phaseSteps.push(i);
  }

  const prereqs = Int32Array.from(edges);
  const dependentStart = new Int32Array(n + 1);
  for (const j of prereqs) dependentStart[j + 1]++;
  for (let i = 0; i < n; i++) dependentStart[i + 1] += dependentStart[i];
  const dependents = new Int32Array(prereqs.length);
  const fill = dependentStart.slice(0, n);
  for (const i of order) {
    for (let k = prereqFrom[i]; k < prereqFrom[i] + prereqCount[i]; k++) dependents[fill[prereqs[k]]++] = i;
  }
  return { order, prereqFrom, prereqCount, prereqs, dependentStart, dependents };
};

export const prerequisitesOf = (d: DependencyIndex, i: number): Int32Array =>
  d.prereqs.subarray(d.prereqFrom[i], d.prereqFrom[i] + d.prereqCount[i]);

export const dependentsOf = (d: DependencyIndex, i: number): Int32Array =>
  d.dependents.subarray(d.dependentStart[i], d.dependentStart[i + 1]);
