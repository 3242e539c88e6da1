/**
 * The session's state machine (XState v5, like core/run-machine.ts): target -> selection -> plan ->
 * confirm -> run -> verify -> restore. DeprovisionSession (deprovision-session.ts) runs it.
 */
import { assign, fromPromise, type SnapshotFrom, setup } from 'xstate';
import type { KnownState } from '../../core/model.js';
import type { Plan, PlanResult } from '../../core/plan-types.js';
import type { Actions, Selection } from '../../core/selection.js';
import type { DeviceVerdict, RunHandle, RunSummary } from '../backend.js';
import type { SessionContext, SessionEvent, SessionPorts } from './session-types.js';

export type { PlanRequest, SessionContext, SessionEvent, SessionPorts } from './session-types.js';

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

const fromResult = (result: PlanResult): Partial<SessionContext> =>
  result.ok
    ? { plan: result.plan, before: result.before, refusal: undefined, error: undefined, failure: undefined }
    : { plan: undefined, before: undefined, refusal: result.refusal, error: undefined, failure: undefined };

/** The failure kept as thrown (the CLI's edge explains it) and in words (the TUI shows them). */
const failed = (error: unknown): Partial<SessionContext> => ({ error: message(error), failure: error });

/**
 * The settled summary of the run now going. After `retryFailed()` a handle gives a new `done`; one that
 * keeps its settled promise is followed through its progress to a final state instead.
 */
function runDone(
  handle: RunHandle,
  followed: Promise<RunSummary> | undefined,
  last?: RunSummary,
): Promise<RunSummary> {
  const current = handle.done;
  if (current !== followed) return current;
  return new Promise<RunSummary>((resolve) => {
    const unsubscribe = handle.subscribe((p) => {
      if (p.state === 'completed' || p.state === 'completedWithFailures' || p.state === 'aborted') {
        unsubscribe();
        resolve({ ...(last as RunSummary), state: p.state });
      }
    });
  });
}

export function createSessionMachine(backend: SessionPorts) {
  return setup({
    types: { context: {} as SessionContext, events: {} as SessionEvent },
    actors: {
      plan: fromPromise<PlanResult, { selection: Selection; actions: Actions }>(({ input }) =>
        backend.plan(input.selection, input.actions),
      ),
      planRestore: fromPromise<PlanResult, { journalPath: string }>(({ input }) => {
        if (!backend.planRestore) throw new Error('this session cannot restore recorded runs');
        return backend.planRestore(input.journalPath);
      }),
      start: fromPromise<RunHandle, { plan: Plan; before?: KnownState }>(({ input }) =>
        backend.run(input.plan, input.before),
      ),
      resume: fromPromise<RunHandle, { journalPath: string; retryFailed?: boolean }>(({ input }) => {
        if (!backend.resume) throw new Error('this session cannot resume recorded runs');
        return backend.resume(input.journalPath, { retryFailed: input.retryFailed });
      }),
      follow: fromPromise<RunSummary, { done: Promise<RunSummary> }>(({ input }) => input.done),
      verify: fromPromise<DeviceVerdict[], { selection: Selection }>(({ input }) =>
        backend.verify(input.selection),
      ),
    },
    actions: {
      takeGivenResult: assign(({ event }) =>
        event.type === 'PLANNED'
          ? { ...fromResult(event.result), request: undefined, restoreOf: undefined }
          : {},
      ),
      abortRun: ({ context }) => context.handle?.abort(),
      retryRun: ({ context }) => context.handle?.retryFailed(),
    },
    guards: {
      planOk: ({ context }) => context.plan !== undefined,
    },
  }).createMachine({
    id: 'session',
    initial: 'idle',
    context: { abortRequested: false },
    states: {
      idle: {
        on: {
          PLAN: { target: 'planning' },
          PLAN_RESTORE: { target: 'planningRestore' },
          PLANNED: { target: 'deciding', actions: 'takeGivenResult' },
          RESUME: { target: 'resuming' },
          VERIFY: { target: 'verifying' },
        },
      },
      planning: {
        entry: assign(({ event }) => {
          const e = event as Extract<SessionEvent, { type: 'PLAN' }>;
          return {
            request: { selection: e.selection, actions: e.actions },
            restoreOf: undefined,
            plan: undefined,
            before: undefined,
            refusal: undefined,
            error: undefined,
          };
        }),
        /** Choices changed while planning: the plan in progress is dropped, the latest choices planned. */
        on: { PLAN: { target: 'planning', reenter: true }, PLAN_RESTORE: { target: 'planningRestore' } },
        invoke: {
          src: 'plan',
          input: ({ event }) => {
            const e = event as Extract<SessionEvent, { type: 'PLAN' }>;
            return { selection: e.selection, actions: e.actions };
          },
          onDone: { target: 'deciding', actions: assign(({ event }) => fromResult(event.output)) },
          onError: { target: 'failed', actions: assign(({ event }) => failed(event.error)) },
        },
      },
      planningRestore: {
        entry: assign(({ event }) => ({
          request: undefined,
          restoreOf: (event as Extract<SessionEvent, { type: 'PLAN_RESTORE' }>).journalPath,
          plan: undefined,
          before: undefined,
          refusal: undefined,
          error: undefined,
        })),
        /** Another restore, or other choices, asked for meanwhile: the latest one is planned. */
        on: {
          PLAN: { target: 'planning' },
          PLAN_RESTORE: { target: 'planningRestore', reenter: true },
        },
        invoke: {
          src: 'planRestore',
          input: ({ event }) => ({
            journalPath: (event as Extract<SessionEvent, { type: 'PLAN_RESTORE' }>).journalPath,
          }),
          onDone: { target: 'deciding', actions: assign(({ event }) => fromResult(event.output)) },
          onError: { target: 'failed', actions: assign(({ event }) => failed(event.error)) },
        },
      },
      deciding: {
        always: [{ guard: 'planOk', target: 'planned' }, { target: 'refused' }],
      },
      /** A plan waits for the person's confirmation. */
      planned: {
        on: {
          CONFIRM: { target: 'starting' },
          /** The plan is a recorded run's (shown for confirmation): finish that run rather than start one. */
          RESUME: { target: 'resuming' },
          CANCEL: { target: 'idle' },
          PLAN: { target: 'planning' },
          PLAN_RESTORE: { target: 'planningRestore' },
          PLANNED: { target: 'deciding', actions: 'takeGivenResult' },
        },
      },
      refused: {
        on: {
          CANCEL: { target: 'idle' },
          PLAN: { target: 'planning' },
          PLAN_RESTORE: { target: 'planningRestore' },
          PLANNED: { target: 'deciding', actions: 'takeGivenResult' },
        },
      },
      starting: {
        entry: assign({ abortRequested: false, handle: undefined, summary: undefined, followed: undefined }),
        invoke: {
          src: 'start',
          input: ({ context }) => ({ plan: context.plan as Plan, before: context.before }),
          onDone: { target: 'running', actions: assign({ handle: ({ event }) => event.output }) },
          onError: { target: 'startFailed', actions: assign(({ event }) => failed(event.error)) },
        },
        on: { ABORT: { actions: assign({ abortRequested: true }) } },
      },
      resuming: {
        entry: assign({
          abortRequested: false,
          handle: undefined,
          summary: undefined,
          followed: undefined,
          request: undefined,
          restoreOf: undefined,
        }),
        invoke: {
          src: 'resume',
          input: ({ event }) => {
            const e = event as Extract<SessionEvent, { type: 'RESUME' }>;
            return { journalPath: e.journalPath, retryFailed: e.retryFailed };
          },
          onDone: { target: 'running', actions: assign({ handle: ({ event }) => event.output }) },
          onError: { target: 'failed', actions: assign(({ event }) => failed(event.error)) },
        },
        on: { ABORT: { actions: assign({ abortRequested: true }) } },
      },
      running: {
        entry: [
          ({ context }) => {
            if (context.abortRequested) context.handle?.abort();
          },
          assign({ followed: ({ context }) => context.handle?.done }),
        ],
        invoke: {
          src: 'follow',
          input: ({ context }) => ({ done: (context.handle as RunHandle).done }),
          onDone: { target: 'settled', actions: assign({ summary: ({ event }) => event.output }) },
          onError: { target: 'interrupted', actions: assign(({ event }) => failed(event.error)) },
        },
        on: { ABORT: { actions: ['abortRun', assign({ abortRequested: true })] } },
      },
      /** The run reached a final state (completed, with failures, or aborted). */
      settled: {
        on: {
          RETRY_FAILED: { target: 'retrying', actions: 'retryRun' },
          CANCEL: { target: 'idle' },
          VERIFY: { target: 'verifying' },
        },
      },
      retrying: {
        invoke: {
          src: 'follow',
          input: ({ context }) => ({
            done: runDone(context.handle as RunHandle, context.followed, context.summary),
          }),
          onDone: { target: 'settled', actions: assign({ summary: ({ event }) => event.output }) },
          onError: { target: 'interrupted', actions: assign(({ event }) => failed(event.error)) },
        },
        entry: assign({ abortRequested: false }),
        on: { ABORT: { actions: ['abortRun', assign({ abortRequested: true })] } },
      },
      /** The run stopped without settling (its journal could not be written): resumable from its journal. */
      interrupted: { on: { CANCEL: { target: 'idle' } } },
      startFailed: { on: { CONFIRM: { target: 'starting' }, CANCEL: { target: 'idle' } } },
      verifying: {
        entry: assign({ request: undefined, restoreOf: undefined }),
        invoke: {
          src: 'verify',
          input: ({ event }) => ({
            selection: (event as Extract<SessionEvent, { type: 'VERIFY' }>).selection,
          }),
          onDone: { target: 'verified', actions: assign({ verdicts: ({ event }) => event.output }) },
          onError: { target: 'failed', actions: assign(({ event }) => failed(event.error)) },
        },
      },
      verified: { on: { CANCEL: { target: 'idle' }, VERIFY: { target: 'verifying' } } },
      failed: {
        on: {
          CANCEL: { target: 'idle' },
          PLAN: { target: 'planning' },
          PLAN_RESTORE: { target: 'planningRestore' },
          VERIFY: { target: 'verifying' },
        },
      },
    },
  });
}

export type SessionSnapshot = SnapshotFrom<ReturnType<typeof createSessionMachine>>;
export type SessionStateName =
  | 'idle'
  | 'planning'
  | 'planningRestore'
  | 'deciding'
  | 'planned'
  | 'refused'
  | 'starting'
  | 'resuming'
  | 'running'
  | 'settled'
  | 'retrying'
  | 'interrupted'
  | 'startFailed'
  | 'verifying'
  | 'verified'
  | 'failed';
