/**
 * The application layer both faces drive: target -> selection -> plan -> confirm -> run -> verify ->
 * restore as one explicit state machine (XState v5, like core/run-machine.ts). The TUI renders its state
 * and sends its events; each headless command is a short script of the same events.
 *
 * The pre-run state travels with the plan (`PlanResult.before`) into `run`: nothing is looked up by the
 * plan object's identity. Reads and the run go to the Backend (services/session/create-backend.ts).
 */
import { createActor } from 'xstate';
import type { Actions, Selection } from '../../core/selection.js';
import { isRequest } from './preview.js';
import {
  createSessionMachine,
  type SessionContext,
  type SessionEvent,
  type SessionPorts,
  type SessionStateName,
} from './session-machine.js';

export { isRequest, type Preview, previewOf, previewRestoreOf } from './preview.js';
export {
  createSessionMachine,
  type PlanRequest,
  type SessionContext,
  type SessionEvent,
  type SessionPorts,
  type SessionSnapshot,
  type SessionStateName,
} from './session-machine.js';

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

/** States that take PLAN and PLAN_RESTORE as they come (the others rest on a run's outcome: CANCEL first). */
const TAKES_PLAN: ReadonlySet<SessionStateName> = new Set([
  'idle',
  'planning',
  'planningRestore',
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
]);

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

  /**
   * Plan the restore of a recorded run (its journal) for the person to see and confirm, unless the
   * session already plans it or holds its plan: then CONFIRM runs exactly the restore shown. Like
   * `preview`, nothing is planned while a run is going (false).
   */
  previewRestore(journalPath: string): boolean {
    const { state, context } = this.view;
    if (BUSY.has(state)) return false;
    const held = state === 'planningRestore' || state === 'planned' || state === 'refused';
    if (held && context.restoreOf === journalPath) return true;
    if (!TAKES_PLAN.has(state)) this.send({ type: 'CANCEL' });
    this.send({ type: 'PLAN_RESTORE', journalPath });
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
