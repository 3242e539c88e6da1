/**
 * The application layer both faces drive: target -> selection -> plan -> confirm -> run -> verify ->
 * restore as one explicit state machine (XState v5, like core/run-machine.ts). The TUI renders its state
 * and sends its events; each headless command is a short script of the same events.
 *
 * The pre-run state travels with the plan (`PlanResult.before`) into `run`: nothing is looked up by the
 * plan object's identity. Reads and the run go to the Backend (services/session/create-backend.ts).
 */
import { assign, createActor, fromPromise, type SnapshotFrom, setup } from 'xstate';
import type { KnownState } from '../../core/model.js';
import type { Plan, PlanRefusal, PlanResult } from '../../core/plan-types.js';
import type { Actions, Selection } from '../../core/selection.js';
import type { Backend, DeviceVerdict, RunHandle, RunSummary } from '../backend.js';

/** A backend that can also finish and undo recorded runs (the headless commands' SessionBackend). */
export interface SessionPorts extends Backend {
  resume?(journalPath: string, opts?: { retryFailed?: boolean }): Promise<RunHandle>;
  planRestore?(journalPath: string): Promise<PlanResult>;
}

/** What a plan is asked for: the devices chosen and what to do to them. */
export interface PlanRequest {
  selection: Selection;
  actions: Actions;
}

export type SessionEvent =
  /** Read what the plan needs and plan (changes nothing). */
  | { type: 'PLAN'; selection: Selection; actions: Actions }
  /** The plan that undoes a recorded run's temporary actions. */
  | { type: 'PLAN_RESTORE'; journalPath: string }
  /** A plan made by a view that planned itself (the review screen), to confirm here. */
  | { type: 'PLANNED'; result: PlanResult }
  /** The person confirmed the plan: run it. */
  | { type: 'CONFIRM' }
  /** Back to choosing (a plan is dropped, a finished run's summary too). */
  | { type: 'CANCEL' }
  /** Finish a recorded run from its journal. */
  | { type: 'RESUME'; journalPath: string; retryFailed?: boolean }
  /** Stop the run safely (in-flight calls finish); before it exists, it is stopped as soon as it does. */
  | { type: 'ABORT' }
  /** Run the failed steps of the finished run again. */
  | { type: 'RETRY_FAILED' }
  /** Read back whether each selected device could re-enroll. */
  | { type: 'VERIFY'; selection: Selection };

export interface SessionContext {
  /** The choices the plan (or the planning going on, its refusal, its failure) is for: set by PLAN. */
  request?: PlanRequest;
  plan?: Plan;
  /** The state the plan was made from (its verify needs what the run's deletions take away). */
  before?: KnownState;
  refusal?: PlanRefusal;
  handle?: RunHandle;
  summary?: RunSummary;
  verdicts?: DeviceVerdict[];
  /** Why the last step failed (planning, starting, a run that stopped without settling, verify). */
  error?: string;
  /** That failure as thrown, for the CLI's edge to explain (exit code, hint). */
  failure?: unknown;
  /** ABORT came while the run was starting: it is aborted as soon as it exists. */
  abortRequested: boolean;
  /** The `done` promise already followed (a retry on a handle that keeps one promise: see runDone). */
  followed?: Promise<RunSummary>;
}

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
        event.type === 'PLANNED' ? { ...fromResult(event.result), request: undefined } : {},
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
            plan: undefined,
            before: undefined,
            refusal: undefined,
            error: undefined,
          };
        }),
        /** Choices changed while planning: the plan in progress is dropped, the latest choices planned. */
        on: { PLAN: { target: 'planning', reenter: true } },
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
        entry: assign({
          request: undefined,
          plan: undefined,
          before: undefined,
          refusal: undefined,
          error: undefined,
        }),
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
          PLANNED: { target: 'deciding', actions: 'takeGivenResult' },
        },
      },
      refused: {
        on: {
          CANCEL: { target: 'idle' },
          PLAN: { target: 'planning' },
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
        entry: assign({ request: undefined }),
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
        on: { CANCEL: { target: 'idle' }, PLAN: { target: 'planning' }, VERIFY: { target: 'verifying' } },
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

/** States where the session waits for the person (or a script) to say what next. */
const RESTING: ReadonlySet<SessionStateName> = new Set([
  'idle',
  'planned',
  'refused',
  'settled',
  'interrupted',
  'startFailed',
  'verified',
  'failed',
]);

export interface SessionView {
  state: SessionStateName;
  context: SessionContext;
}

/** States that take PLAN as it comes (the others rest on a run's outcome: CANCEL first). */
const TAKES_PLAN: ReadonlySet<SessionStateName> = new Set([
  'idle',
  'planning',
  'planned',
  'refused',
  'failed',
]);

/** States where a run (or a read of its outcome) is going: a preview waits for the person to come back. */
const BUSY: ReadonlySet<SessionStateName> = new Set([
  'starting',
  'resuming',
  'running',
  'retrying',
  'verifying',
  'planningRestore',
]);

const sameActions = (a: Actions, b: Actions): boolean => {
  if (a === b) return true;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof Actions>;
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
};

/** True when `request` asks for these choices (the same selection, equal actions). */
export function isRequest(request: PlanRequest | undefined, selection: Selection, actions: Actions): boolean {
  if (!request) return false;
  const sameSelection =
    request.selection === selection || JSON.stringify(request.selection) === JSON.stringify(selection);
  return sameSelection && sameActions(request.actions, actions);
}

/** What the session holds for these choices, as a screen shows it. */
export type Preview =
  | { status: 'checking' }
  | { status: 'planned'; plan: Plan }
  | { status: 'refused'; refusal: PlanRefusal }
  | { status: 'error'; message: string };

/**
 * The session's plan for these choices: planned (or confirmed and running), refused, failed, or still
 * being made. A session that holds another request (or none) is "checking" too: `preview` asks it for
 * these choices.
 */
export function previewOf(view: SessionView, selection: Selection, actions: Actions): Preview {
  const { state, context } = view;
  if (!isRequest(context.request, selection, actions) || state === 'planning') return { status: 'checking' };
  if (state === 'failed') return { status: 'error', message: context.error ?? 'planning failed' };
  // Planned, and also while it starts and runs: the plan stays the one that was confirmed.
  if (context.plan) return { status: 'planned', plan: context.plan };
  if (context.refusal) return { status: 'refused', refusal: context.refusal };
  return { status: 'checking' };
}

/** One session: the machine's actor, its events, and ways to wait for where it goes. */
export class DeprovisionSession {
  private readonly actor;

  constructor(readonly backend: SessionPorts) {
    this.actor = createActor(createSessionMachine(backend));
    this.actor.start();
  }

  get view(): SessionView {
    const s = this.actor.getSnapshot();
    return { state: s.value as SessionStateName, context: s.context };
  }

  send(event: SessionEvent): void {
    this.actor.send(event);
  }

  /**
   * Plan these choices for the person to see and confirm, unless the session already plans them or
   * holds their plan (the plan shown is then the one CONFIRM runs). Newer choices replace a planning
   * in progress; a finished run's outcome is set aside (its summary stays in the context). While a run
   * is going nothing is planned: returns false.
   */
  preview(selection: Selection, actions: Actions): boolean {
    const { state, context } = this.view;
    if (BUSY.has(state)) return false;
    const held = state === 'planning' || state === 'planned' || state === 'refused';
    if (held && isRequest(context.request, selection, actions)) return true;
    if (!TAKES_PLAN.has(state)) this.send({ type: 'CANCEL' });
    this.send({ type: 'PLAN', selection, actions });
    return true;
  }

  /** Called on every change of state (not on the run's progress: follow `context.handle` for that). */
  subscribe(listener: (view: SessionView) => void): () => void {
    const sub = this.actor.subscribe(() => listener(this.view));
    return () => sub.unsubscribe();
  }

  /** Resolves with the first view (now or later) whose state is one of `states`. */
  when(...states: SessionStateName[]): Promise<SessionView> {
    const wanted = new Set(states);
    return new Promise((resolve) => {
      if (wanted.has(this.view.state)) return resolve(this.view);
      const unsubscribe = this.subscribe((v) => {
        if (!wanted.has(v.state)) return;
        unsubscribe();
        resolve(v);
      });
    });
  }

  /** Resolves once the session rests (waits for an event): after planning, a run, a verify. */
  rest(): Promise<SessionView> {
    return this.when(...RESTING);
  }

  stop(): void {
    this.actor.stop();
  }
}
