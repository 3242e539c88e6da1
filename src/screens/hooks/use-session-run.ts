/**
 * The run's lifecycle as the App follows it: the DeprovisionSession runs it; this hook shows the run
 * screen when a run exists and the summary when it settles, starts runs from the review, and quits
 * safely (q asks first while a run goes; Ctrl-C and signals abort, then quit; twice: leave now).
 */
import { type MutableRefObject, useCallback, useEffect, useRef, useState } from 'react';
import { commandLine } from '../../core/invocation.js';
import type { Plan } from '../../core/plan-types.js';
import type { DeprovisionSession } from '../../services/session/deprovision-session.js';
import type { Prompt, TuiController, TuiOutcome } from '../App.js';
import type { Update } from './use-ref-state.js';
import { type Route, type RouteEntry, routeEntry as entry } from '../routes.js';

export interface SessionRunOptions {
  session: DeprovisionSession;
  onExit?: (outcome: TuiOutcome) => void;
  /** Leaves the Ink app. */
  exit: () => void;
  /** The launcher forwards signals (SIGINT, SIGTERM, SIGHUP) through it: each is a Ctrl-C. */
  controller?: TuiController;
  push: (route: Route) => void;
  setStack: (next: Update<RouteEntry[]>) => void;
  setPrompt: (prompt: Prompt) => void;
}

export function useSessionRun({
  session,
  onExit,
  exit,
  controller,
  push,
  setStack,
  setPrompt,
}: SessionRunOptions) {
  /** What the footer says while a run stops (or why it stopped). */
  const [status, setStatus] = useState<string | undefined>(undefined);
  /** Quit once the run (starting or going) has stopped: asked by q + y, Ctrl-C or a signal. */
  const exitWhenDone = useRef(false);
  const exited = useRef(false);

  const finish = useCallback(
    (outcome: TuiOutcome) => {
      if (exited.current) return;
      exited.current = true;
      onExit?.(outcome);
      exit();
    },
    [exit, onExit],
  );

  const shared = { session, finish, exitWhenDone };
  useFollowRun({ ...shared, push, setStack, setStatus });
  const starts = useRunStarts({ ...shared, setStack });
  const quits = useQuit({ ...shared, setStatus, setPrompt });
  const { abortAndQuit } = quits;
  useEffect(() => {
    if (!controller) return;
    controller.interrupt = abortAndQuit;
    return () => {
      controller.interrupt = undefined;
    };
  }, [controller, abortAndQuit]);
  return { status, ...starts, ...quits };
}

interface Shared {
  session: DeprovisionSession;
  finish: (outcome: TuiOutcome) => void;
  /** Quit once the run (starting or going) has stopped. */
  exitWhenDone: MutableRefObject<boolean>;
}

/** The views follow the session: the run screen when a run exists, the summary when it settles. */
function useFollowRun({
  session,
  finish,
  exitWhenDone,
  push,
  setStack,
  setStatus,
}: Shared & Pick<SessionRunOptions, 'push' | 'setStack'> & { setStatus: (s: string | undefined) => void }) {
  useEffect(() => {
    let last = session.view.state;
    return session.subscribe(({ state, context }) => {
      const from = last;
      last = state;
      if (state === from) return;
      const { plan, handle, summary } = context;
      if (!plan || !handle) return;
      if (state === 'running' && (from === 'starting' || from === 'resuming'))
        push({ screen: 'run', plan, handle });
      else if (state === 'settled' && summary) {
        setStatus(undefined);
        if (exitWhenDone.current) return finish({ summary });
        setStack((s) => [
          ...s.filter((e) => e.route.screen !== 'summary'),
          entry({ screen: 'summary', plan, handle, summary }),
        ]);
      } else if (state === 'interrupted') {
        if (exitWhenDone.current) {
          return finish({ interruptedRun: { runId: handle.runId, journalPath: handle.journalPath } });
        }
        setStatus(
          `The run stopped: ${context.error}. Resume it with: ${commandLine('resume', handle.runId)}`,
        );
      }
    });
  }, [session, push, setStack, finish, exitWhenDone, setStatus]);
}

/** Runs started from the review (or the Runs screen), and "retry failed" from the summary. */
function useRunStarts({
  session,
  finish,
  exitWhenDone,
  setStack,
}: Shared & Pick<SessionRunOptions, 'setStack'>) {
  /**
   * A run from wherever the session rests: the plan it holds (confirmed as shown: chosen devices, or a
   * recorded run's restore), or a recorded run's own plan given here (resumed). The last run's summary is left.
   */
  const launch = useCallback(
    async (
      go: { type: 'CONFIRM' } | { type: 'RESUME'; journalPath: string },
      plan: { recorded: Plan } | { shown: Plan },
    ) => {
      exitWhenDone.current = false;
      const { state } = session.view;
      if (state === 'running' || state === 'retrying' || state === 'starting' || state === 'resuming') {
        throw new Error('a run is still going: wait for it to finish');
      }
      if ('recorded' in plan) {
        if (state !== 'idle') session.send({ type: 'CANCEL' });
        session.send({ type: 'PLANNED', result: { ok: true, plan: plan.recorded } });
      } else if (state !== 'planned' || session.view.context.plan !== plan.shown) {
        // Confirmed is what was shown: a plan the session no longer holds is not run.
        throw new Error('the plan changed since it was shown: go back and review it again');
      }
      session.send(go);
      const started = await session.when('running', 'startFailed', 'settled', 'failed');
      if (started.state === 'failed') throw started.context.failure ?? new Error(started.context.error);
      if (started.state !== 'startFailed') return;
      // A quit asked for while the run was starting: nothing ran, the tool quits.
      if (exitWhenDone.current) return finish({});
      throw started.context.failure;
    },
    [session, finish, exitWhenDone],
  );
  const confirmRun = useCallback((shown: Plan) => launch({ type: 'CONFIRM' }, { shown }), [launch]);
  const resumeRun = useCallback(
    (plan: Plan, journalPath: string) => launch({ type: 'RESUME', journalPath }, { recorded: plan }),
    [launch],
  );

  const retryRun = useCallback(() => {
    if (session.view.state !== 'settled') return;
    session.send({ type: 'RETRY_FAILED' });
    setStack((s) => {
      const at = s.findIndex((e) => e.route.screen === 'run');
      return at >= 0 ? s.slice(0, at + 1) : s;
    });
  }, [session, setStack]);
  return { confirmRun, resumeRun, retryRun };
}

/** Quit, q: ask first while a run is going. Ctrl-C/signals: abort safely, then quit; twice: leave now. */
function useQuit({
  session,
  finish,
  exitWhenDone,
  setStatus,
  setPrompt,
}: Shared & Pick<SessionRunOptions, 'setPrompt'> & { setStatus: (s: string | undefined) => void }) {
  const quitNow = useCallback(() => {
    const { state, context } = session.view;
    const handle = context.handle;
    const unsettled = state === 'running' || state === 'retrying' || state === 'interrupted';
    if (unsettled && handle)
      finish({ interruptedRun: { runId: handle.runId, journalPath: handle.journalPath } });
    else finish({ summary: context.summary });
  }, [finish, session]);

  const abortAndQuit = useCallback(() => {
    const { state } = session.view;
    if (state === 'starting') {
      if (exitWhenDone.current) return quitNow();
      exitWhenDone.current = true;
      session.send({ type: 'ABORT' });
      setStatus('Stopping: the run is starting; it will be aborted safely, then the tool quits.');
      return;
    }
    if (state !== 'running' && state !== 'retrying') return quitNow();
    if (exitWhenDone.current) return quitNow();
    exitWhenDone.current = true;
    session.send({ type: 'ABORT' });
    setPrompt(undefined);
    setStatus('Aborting: waiting for calls in flight, then quitting. Ctrl-C again: leave now.');
  }, [quitNow, setPrompt, session, exitWhenDone, setStatus]);

  const requestQuit = useCallback(() => {
    const { state } = session.view;
    if (state === 'running' || state === 'retrying' || state === 'starting') setPrompt('quitDuringRun');
    else quitNow();
  }, [quitNow, setPrompt, session]);
  return { abortAndQuit, requestQuit };
}
