/**
 * The run state machine (XState v5): which phase a run is in, whether it may start new work, and
 * how it ends. The executor feeds it RunEvents; views read `progressOf(snapshot)`.
 *
 * The phase states are not entered in a fixed order: the executor overlaps phases per device, so the
 * state shown is always the earliest phase that still has pending or in-flight steps (`routing` is a
 * transient state that picks it and is never observed).
 */
import { assign, createActor, type SnapshotFrom, setup } from 'xstate';
import { PHASES, type Phase } from './plan-types.js';
import type { RunEvent, RunProgress } from './run-events.js';
import {
  anyFailedOrSkipped,
  buildProgress,
  createRunContext,
  earliestUnsettledPhase,
  markReleased,
  markSettled,
  markStarted,
  type RunContext,
  type RunInput,
  resetFailed,
  STEP_STATUS,
  withThrottle,
} from './run-progress.js';

export const PHASE_STATE = {
  snapshot: 'snapshotting',
  disenroll: 'disenrolling',
  deregister: 'deregistering',
  cleanup: 'cleaningUp',
  verify: 'verifying',
} as const satisfies Record<Phase, string>;

export type RunStateName =
  | 'pending'
  | (typeof PHASE_STATE)[Phase]
  | 'paused'
  | 'aborting'
  | 'aborted'
  | 'completed'
  | 'completedWithFailures';

const RUNNING_STATES: ReadonlySet<string> = new Set(Object.values(PHASE_STATE));
export const FINAL_STATES: ReadonlySet<string> = new Set(['aborted', 'completed', 'completedWithFailures']);

/** Step events are recorded in every state where calls may still be in flight. */
const recordSteps = {
  STEP_STARTED: { actions: 'recordStarted' },
  STEP_SUCCEEDED: { actions: 'recordSettled' },
  STEP_FAILED: { actions: 'recordSettled' },
  STEP_SKIPPED: { actions: 'recordSettled' },
  STEP_RELEASED: { actions: 'recordReleased' },
} as const;

const phaseState = (phase: Phase) =>
  ({
    always: { guard: { type: 'notInPhase', params: { phase } }, target: 'routing' },
    on: {
      ...recordSteps,
      PAUSE_REQUESTED: { target: 'paused' },
      ABORT_REQUESTED: { target: 'aborting' },
    },
  }) as const;

export const runMachine = setup({
  types: {
    context: {} as RunContext,
    events: {} as RunEvent,
    input: {} as RunInput,
  },
  guards: {
    notInPhase: ({ context }, params: { phase: Phase }) => earliestUnsettledPhase(context) !== params.phase,
    earliestIs: ({ context }, params: { phase: Phase }) => earliestUnsettledPhase(context) === params.phase,
    anyFailed: ({ context }) => anyFailedOrSkipped(context),
  },
  actions: {
    recordStarted: assign(({ context, event }) => {
      if (event.type === 'STEP_STARTED') markStarted(context, event.stepId);
      return { version: context.version };
    }),
    recordSettled: assign(({ context, event }) => {
      if (event.type === 'STEP_SUCCEEDED') {
        const deviceFailed = event.devices?.some((d) => d.outcome === 'failed') ?? false;
        const outcome = deviceFailed ? 'failed' : event.alreadyDone ? 'alreadyDone' : 'succeeded';
        markSettled(context, event.stepId, outcome, event.message, event.devices);
      } else if (event.type === 'STEP_FAILED') {
        markSettled(context, event.stepId, 'failed', event.message, event.devices);
      } else if (event.type === 'STEP_SKIPPED') {
        markSettled(context, event.stepId, 'skipped', event.reason, undefined);
      }
      return { version: context.version };
    }),
    recordReleased: assign(({ context, event }) => {
      if (event.type === 'STEP_RELEASED') markReleased(context, event.stepId);
      return { version: context.version };
    }),
    resetFailed: assign(({ context }) => {
      resetFailed(context);
      return { version: context.version };
    }),
    recordThrottle: assign(({ context, event }) => {
      if (event.type === 'THROTTLED') {
        return withThrottle(context, event.service, (event.atMs ?? context.startedAtMs) + event.waitMs);
      }
      if (event.type === 'THROTTLE_CLEARED') return withThrottle(context, event.service, undefined);
      return {};
    }),
  },
}).createMachine({
  id: 'run',
  context: ({ input }) => createRunContext(input),
  initial: 'pending',
  on: {
    THROTTLED: { actions: 'recordThrottle' },
    THROTTLE_CLEARED: { actions: 'recordThrottle' },
  },
  states: {
    pending: {
      on: {
        START: { target: 'routing' },
        PAUSE_REQUESTED: { target: 'paused' },
        // Nothing has started, so nothing is in flight: the run stops at once.
        ABORT_REQUESTED: { target: 'aborted' },
      },
    },
    routing: {
      always: [
        ...PHASES.map((phase) => ({
          guard: { type: 'earliestIs' as const, params: { phase } },
          target: PHASE_STATE[phase],
        })),
        { guard: 'anyFailed', target: 'completedWithFailures' },
        { target: 'completed' },
      ],
    },
    snapshotting: phaseState('snapshot'),
    disenrolling: phaseState('disenroll'),
    deregistering: phaseState('deregister'),
    cleaningUp: phaseState('cleanup'),
    verifying: phaseState('verify'),
    paused: {
      on: {
        ...recordSteps,
        RESUME_REQUESTED: { target: 'routing' },
        ABORT_REQUESTED: { target: 'aborting' },
      },
    },
    aborting: {
      on: {
        ...recordSteps,
        IN_FLIGHT_SETTLED: { target: 'aborted' },
      },
    },
    aborted: {
      on: { RETRY_FAILED_REQUESTED: { target: 'routing', actions: 'resetFailed' } },
    },
    completedWithFailures: {
      on: { RETRY_FAILED_REQUESTED: { target: 'routing', actions: 'resetFailed' } },
    },
    completed: { type: 'final' },
  },
});

export type RunSnapshot = SnapshotFrom<typeof runMachine>;

export const stateOf = (snapshot: RunSnapshot): RunStateName => snapshot.value as RunStateName;

export const progressOf = (snapshot: RunSnapshot): RunProgress =>
  buildProgress(snapshot.context, stateOf(snapshot));

/** True when the executor may start new calls (not pending, paused, aborting or final). */
export const mayStartSteps = (snapshot: RunSnapshot): boolean => RUNNING_STATES.has(stateOf(snapshot));

export const isFinal = (snapshot: RunSnapshot): boolean => FINAL_STATES.has(stateOf(snapshot));

export const isPending = (snapshot: RunSnapshot, stepIndex: number): boolean =>
  snapshot.context.status[stepIndex] === STEP_STATUS.pending;

export const createRunActor = (input: RunInput) => createActor(runMachine, { input });
