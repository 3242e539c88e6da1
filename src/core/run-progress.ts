/**
 * The run machine's context: what is true of every step of a run, held so that a 100,000-step run
 * costs numbers, not arrays, per event. Step statuses live in a Uint8Array indexed like the plan's
 * steps, counters in an Int32Array; both are owned by one run and updated in place (the machine's
 * `version` changes on every update, so a snapshot still tells that something moved).
 */
import { PHASES, type Phase, type PlanStep, type StepOutcome, type StepResult } from './plan-types.js';
import type { PhaseProgress, RunProgress } from './run-events.js';

export const STEP_STATUS = {
  pending: 0,
  inFlight: 1,
  succeeded: 2,
  alreadyDone: 3,
  failed: 4,
  skipped: 5,
} as const;
export type StepStatusCode = (typeof STEP_STATUS)[keyof typeof STEP_STATUS];

const OUTCOME_STATUS: Record<StepOutcome, StepStatusCode> = {
  succeeded: STEP_STATUS.succeeded,
  alreadyDone: STEP_STATUS.alreadyDone,
  failed: STEP_STATUS.failed,
  skipped: STEP_STATUS.skipped,
};

/** Counter slots of one phase inside `RunContext.counters`. */
const C = { total: 0, done: 1, alreadyDone: 2, failed: 3, skipped: 4, inFlight: 5 } as const;
const SLOTS = 6;
/** Which counter a settled status adds to. */
const STATUS_SLOT: Record<number, number> = {
  [STEP_STATUS.succeeded]: C.done,
  [STEP_STATUS.alreadyDone]: C.alreadyDone,
  [STEP_STATUS.failed]: C.failed,
  [STEP_STATUS.skipped]: C.skipped,
};

export const RECENT_SIZE = 20;

export interface RecentResult {
  stepId: string;
  label: string;
  outcome: StepOutcome;
  message?: string;
}

export interface RunContext {
  steps: readonly PlanStep[];
  indexOf: ReadonlyMap<string, number>;
  phaseOf: Uint8Array;
  status: Uint8Array;
  counters: Int32Array;
  /** Ring buffer of the latest results; `recentNext` is where the next one goes. */
  recent: (RecentResult | undefined)[];
  recentNext: number;
  recentCount: number;
  /** Service -> epoch ms until which it is throttled. */
  throttles: ReadonlyMap<string, number>;
  startedAtMs: number;
  version: number;
}

export interface RunInput {
  steps: readonly PlanStep[];
  startedAtMs: number;
  /** Outcomes already recorded (a resumed run): these steps start settled. */
  settled?: readonly StepResult[];
}

export const createRunContext = (input: RunInput): RunContext => {
  const n = input.steps.length;
  const indexOf = new Map<string, number>();
  const phaseOf = new Uint8Array(n);
  const counters = new Int32Array(PHASES.length * SLOTS);
  const phaseIndex = new Map<Phase, number>(PHASES.map((p, i) => [p, i]));
  input.steps.forEach((step, i) => {
    indexOf.set(step.id, i);
    const p = phaseIndex.get(step.phase) ?? 0;
    phaseOf[i] = p;
    counters[p * SLOTS + C.total]++;
  });
  const ctx: RunContext = {
    steps: input.steps,
    indexOf,
    phaseOf,
    status: new Uint8Array(n),
    counters,
    recent: new Array(RECENT_SIZE).fill(undefined),
    recentNext: 0,
    recentCount: 0,
    throttles: new Map(),
    startedAtMs: input.startedAtMs,
    version: 0,
  };
  for (const r of input.settled ?? []) {
    const i = indexOf.get(r.stepId);
    if (i !== undefined) setStatus(ctx, i, OUTCOME_STATUS[r.outcome]);
  }
  return ctx;
};

const setStatus = (ctx: RunContext, i: number, next: StepStatusCode): void => {
  const base = ctx.phaseOf[i] * SLOTS;
  const prev = ctx.status[i];
  if (prev === STEP_STATUS.inFlight) ctx.counters[base + C.inFlight]--;
  else if (prev !== STEP_STATUS.pending) ctx.counters[base + STATUS_SLOT[prev]]--;
  if (next === STEP_STATUS.inFlight) ctx.counters[base + C.inFlight]++;
  else if (next !== STEP_STATUS.pending) ctx.counters[base + STATUS_SLOT[next]]++;
  ctx.status[i] = next;
};

export const isSettledStatus = (s: number): boolean => s >= STEP_STATUS.succeeded;

/** Marks a pending step in flight. Returns false (and changes nothing) for unknown or non-pending steps. */
export const markStarted = (ctx: RunContext, stepId: string): boolean => {
  const i = ctx.indexOf.get(stepId);
  if (i === undefined || ctx.status[i] !== STEP_STATUS.pending) return false;
  setStatus(ctx, i, STEP_STATUS.inFlight);
  ctx.version++;
  return true;
};

/** An in-flight step goes back to pending (it stopped waiting to retry). */
export const markReleased = (ctx: RunContext, stepId: string): boolean => {
  const i = ctx.indexOf.get(stepId);
  if (i === undefined || ctx.status[i] !== STEP_STATUS.inFlight) return false;
  setStatus(ctx, i, STEP_STATUS.pending);
  ctx.version++;
  return true;
};

/**
 * Settles a step once: a second outcome for a settled step is ignored, so a duplicated event cannot
 * count a step twice.
 */
export const markSettled = (
  ctx: RunContext,
  stepId: string,
  outcome: StepOutcome,
  message: string | undefined,
  devices: readonly { id: string; outcome: StepOutcome; message?: string }[] | undefined,
): boolean => {
  const i = ctx.indexOf.get(stepId);
  if (i === undefined || isSettledStatus(ctx.status[i])) return false;
  setStatus(ctx, i, OUTCOME_STATUS[outcome]);
  if (devices && devices.length > 0) {
    for (const d of devices) pushRecent(ctx, { stepId, label: d.id, outcome: d.outcome, message: d.message });
  } else {
    pushRecent(ctx, { stepId, label: describeStep(ctx.steps[i]), outcome, message });
  }
  ctx.version++;
  return true;
};

/** Failed steps, and the steps skipped because of them, go back to pending. O(n), once per request. */
export const resetFailed = (ctx: RunContext): number => {
  let reset = 0;
  for (let i = 0; i < ctx.status.length; i++) {
    const s = ctx.status[i];
    if (s === STEP_STATUS.failed || s === STEP_STATUS.skipped) {
      setStatus(ctx, i, STEP_STATUS.pending);
      reset++;
    }
  }
  ctx.version++;
  return reset;
};

const pushRecent = (ctx: RunContext, r: RecentResult): void => {
  ctx.recent[ctx.recentNext] = r;
  ctx.recentNext = (ctx.recentNext + 1) % RECENT_SIZE;
  ctx.recentCount = Math.min(ctx.recentCount + 1, RECENT_SIZE);
};

export const phaseProgress = (ctx: RunContext, phase: Phase): PhaseProgress => {
  const base = PHASES.indexOf(phase) * SLOTS;
  const c = ctx.counters;
  return {
    total: c[base + C.total],
    done: c[base + C.done],
    alreadyDone: c[base + C.alreadyDone],
    failed: c[base + C.failed],
    skipped: c[base + C.skipped],
    inFlight: c[base + C.inFlight],
  };
};

/** Steps of a phase that are pending or in flight. */
const unsettledIn = (ctx: RunContext, p: number): number => {
  const base = p * SLOTS;
  const c = ctx.counters;
  return (
    c[base + C.total] - c[base + C.done] - c[base + C.alreadyDone] - c[base + C.failed] - c[base + C.skipped]
  );
};

/** The displayed phase: the earliest one with unsettled steps (phases overlap per device). */
export const earliestUnsettledPhase = (ctx: RunContext): Phase | undefined => {
  for (let p = 0; p < PHASES.length; p++) if (unsettledIn(ctx, p) > 0) return PHASES[p];
  return undefined;
};

export const totalInFlight = (ctx: RunContext): number => {
  let n = 0;
  for (let p = 0; p < PHASES.length; p++) n += ctx.counters[p * SLOTS + C.inFlight];
  return n;
};

export const anyFailedOrSkipped = (ctx: RunContext): boolean => {
  for (let p = 0; p < PHASES.length; p++) {
    if (ctx.counters[p * SLOTS + C.failed] + ctx.counters[p * SLOTS + C.skipped] > 0) return true;
  }
  return false;
};

export const withThrottle = (ctx: RunContext, service: string, untilMs: number | undefined): RunContext => {
  const throttles = new Map(ctx.throttles);
  if (untilMs === undefined) throttles.delete(service);
  else throttles.set(service, untilMs);
  return { ...ctx, throttles, version: ctx.version + 1 };
};

/** Builds what a view shows. Copies a few numbers and at most RECENT_SIZE entries. */
export const buildProgress = (ctx: RunContext, state: string): RunProgress => {
  const phases = {} as Record<Phase, PhaseProgress>;
  for (const p of PHASES) phases[p] = phaseProgress(ctx, p);
  let throttled: RunProgress['throttled'];
  for (const [service, untilMs] of ctx.throttles) {
    if (!throttled || untilMs > throttled.untilMs) throttled = { service, untilMs };
  }
  const recent: RecentResult[] = [];
  const start = (ctx.recentNext - ctx.recentCount + RECENT_SIZE) % RECENT_SIZE;
  for (let k = 0; k < ctx.recentCount; k++) {
    const r = ctx.recent[(start + k) % RECENT_SIZE];
    if (r) recent.push(r);
  }
  const phase = earliestUnsettledPhase(ctx);
  return { state, phase, phases, throttled, recent, startedAtMs: ctx.startedAtMs };
};

/** Steps that ended well (done or already done), for summaries. */
export const settledOf = (p: PhaseProgress): number => p.done + p.alreadyDone + p.failed + p.skipped;

/** A short label for a step in the person's words (the run screen's recent list, skip reasons). */
export const describeStep = (step: PlanStep): string => {
  const op = step.op;
  switch (op.kind) {
    case 'snapshotRegistrations':
      return op.groupId ? `snapshot of group ${op.groupId}'s registration records` : 'registration snapshot';
    case 'disableEnrollment':
      return `disable enrollment ${op.registrationId}`;
    case 'enableEnrollment':
      return `enable enrollment ${op.registrationId}`;
    case 'deleteEnrollment':
      return `delete enrollment ${op.registrationId}`;
    case 'disableGroup':
      return `disable enrollment group ${op.groupId}`;
    case 'enableGroup':
      return `enable enrollment group ${op.groupId}`;
    case 'deleteGroup':
      return `delete enrollment group ${op.groupId}`;
    case 'createBlocker':
      return `blocker for ${op.registrationId}`;
    case 'deleteBlocker':
      return `delete blocker for ${op.registrationId}`;
    case 'disableHubDevices':
      return `disable ${countOf(op.deviceIds)} on ${op.hub}`;
    case 'enableHubDevices':
      return `enable ${countOf(op.deviceIds)} on ${op.hub}`;
    case 'deleteHubDevices':
      return `delete ${countOf(op.deviceIds)} on ${op.hub}`;
    case 'hubJobDevices':
      return `${op.action} ${countOf(op.deviceIds)} on ${op.hub} through import/export jobs`;
    case 'deleteRegistration':
      return `delete registration record ${op.registrationId}`;
    case 'verify': {
      const ids = op.registrationIds;
      return `verify ${ids.length === 1 ? ids[0] : `${ids.length} devices`}`;
    }
  }
};

const countOf = (ids: readonly string[]): string =>
  ids.length === 1 ? `device ${ids[0]}` : `${ids.length} devices`;
