/**
 * The walkthrough: a stack of screens (kept mounted so Esc returns to a list exactly as it was left),
 * one input handler that routes each keystroke, and the header/footer chrome. The run's lifecycle is
 * the DeprovisionSession's (services/session): the App sends its events (confirm, abort, retry) and
 * shows where it is, so that q and Ctrl-C can stop a run safely from anywhere.
 */
import { commandLine } from '../core/invocation.js';
import { EXIT } from '../core/errors.js';
import { Box, useApp as useInkApp, useInput } from 'ink';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { KnownState } from '../core/model.js';
import type { Plan } from '../core/plan-types.js';
import type { Backend, RunSummary } from '../services/backend.js';
import { DeprovisionSession } from '../services/session/deprovision-session.js';
import { Footer, Header, HelpOverlay } from './components/Chrome.js';
import { Line } from './components/Line.js';
import {
  type AppServices,
  AppContext,
  type KeyHandler,
  type KeyHint,
  RouteIdContext,
  TopRouteContext,
} from './context.js';
import { type Keystroke, isChar, isCtrl, toKeystrokes } from './hooks/keys.js';
import { useRefState } from './hooks/use-ref-state.js';
import { useScreenSize } from './hooks/use-screen-size.js';
import { RouteView } from './RouteView.js';
import { type Route, type RouteEntry, breadcrumbParts } from './routes.js';

/** How the TUI ended, for the exit code and the summary printed after leaving the alternate screen. */
export interface TuiOutcome {
  /** The last run's summary, when a run finished (or was aborted and settled). */
  summary?: RunSummary;
  /** A run that was left before it settled (second Ctrl-C): resumable from its journal. */
  interruptedRun?: { runId: string; journalPath: string };
  error?: string;
}

/** Lets the launcher forward signals (SIGINT, SIGTERM, SIGHUP) into the App. */
export interface TuiController {
  interrupt?: () => void;
}

export interface AppProps {
  backend: Backend;
  color?: boolean;
  onExit?: (outcome: TuiOutcome) => void;
  controller?: TuiController;
  /** Start somewhere else than the target screen (component tests). */
  initialRoutes?: Route[];
  /** The session to drive (tests watch it); by default one on `backend`. */
  session?: DeprovisionSession;
}

type Prompt = undefined | 'quitDuringRun';

let nextRouteId = 1;
const entry = (route: Route): RouteEntry => ({ id: nextRouteId++, route });

export function App({ backend, color = true, onExit, controller, initialRoutes, session: given }: AppProps) {
  const ink = useInkApp();
  const { columns, rows } = useScreenSize();
  const [stack, setStack, getStack] = useRefState<RouteEntry[]>(() =>
    (initialRoutes ?? [{ screen: 'target' }]).map(entry),
  );
  const [help, setHelp, getHelp] = useRefState(false);
  const [prompt, setPrompt, getPrompt] = useRefState<Prompt>(undefined);
  const [status, setStatus] = useState<string | undefined>(undefined);
  const [hints, setHintsState] = useState<Record<number, KeyHint[]>>({});
  const handlers = useRef(new Map<number, { current: KeyHandler }>());
  const queue = useRef<Keystroke[]>([]);
  /** The session owns the run's lifecycle (plan -> confirm -> run -> retry); the App routes and draws. */
  const session = useMemo(() => given ?? new DeprovisionSession(backend), [given, backend]);
  useEffect(() => () => session.stop(), [session]);
  /** Quit once the run (starting or going) has stopped: asked by q + y, Ctrl-C or a signal. */
  const exitWhenDone = useRef(false);
  const exited = useRef(false);

  const finish = useCallback(
    (outcome: TuiOutcome) => {
      if (exited.current) return;
      exited.current = true;
      onExit?.(outcome);
      ink.exit();
    },
    [ink, onExit],
  );

  const quitNow = useCallback(() => {
    const { state, context } = session.view;
    const handle = context.handle;
    const unsettled = state === 'running' || state === 'retrying' || state === 'interrupted';
    if (unsettled && handle)
      finish({ interruptedRun: { runId: handle.runId, journalPath: handle.journalPath } });
    else finish({ summary: context.summary });
  }, [finish, session]);

  const push = useCallback((route: Route) => setStack((s) => [...s, entry(route)]), [setStack]);
  const back = useCallback(() => {
    setStack((s) => (s.length > 1 ? s.slice(0, -1) : s));
  }, [setStack]);
  const restart = useCallback(() => {
    setStack([entry({ screen: 'target' }), entry({ screen: 'enrollments' })]);
  }, [setStack]);

  // The views follow the session: the run screen when a run exists, the summary when it settles.
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
  }, [session, push, setStack, finish]);

  /**
   * A run from wherever the session rests: the plan it holds (confirmed as shown), or a recorded run's
   * plan given here (resumed or restored). The last run's summary is left.
   */
  const launch = useCallback(
    async (
      go: { type: 'CONFIRM' } | { type: 'RESUME'; journalPath: string },
      plan: { recorded: Plan; before?: KnownState } | { shown: Plan },
    ) => {
      exitWhenDone.current = false;
      const { state } = session.view;
      if (state === 'running' || state === 'retrying' || state === 'starting' || state === 'resuming') {
        throw new Error('a run is still going: wait for it to finish');
      }
      if ('recorded' in plan) {
        if (state !== 'idle') session.send({ type: 'CANCEL' });
        session.send({ type: 'PLANNED', result: { ok: true, plan: plan.recorded, before: plan.before } });
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
    [session, finish],
  );
  const confirmRun = useCallback((shown: Plan) => launch({ type: 'CONFIRM' }, { shown }), [launch]);
  const startRecorded = useCallback(
    (plan: Plan, before?: KnownState) => launch({ type: 'CONFIRM' }, { recorded: plan, before }),
    [launch],
  );
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

  /** Quit, q: ask first while a run is going. Ctrl-C/signals: abort safely, then quit; twice: leave now. */
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
  }, [quitNow, setPrompt, session]);

  const requestQuit = useCallback(() => {
    const { state } = session.view;
    if (state === 'running' || state === 'retrying' || state === 'starting') setPrompt('quitDuringRun');
    else quitNow();
  }, [quitNow, setPrompt, session]);

  useEffect(() => {
    if (!controller) return;
    controller.interrupt = abortAndQuit;
    return () => {
      controller.interrupt = undefined;
    };
  }, [controller, abortAndQuit]);

  const dispatch = useCallback(
    (k: Keystroke) => {
      if (isCtrl(k, 'c')) return abortAndQuit();
      if (getHelp()) {
        if (isChar(k, '?') || isChar(k, 'q') || k.name === 'escape' || k.name === 'return') setHelp(false);
        return;
      }
      if (getPrompt() === 'quitDuringRun') {
        if (isChar(k, 'y') || isChar(k, 'Y')) abortAndQuit();
        else if (isChar(k, 'n') || isChar(k, 'N') || k.name === 'escape') setPrompt(undefined);
        return;
      }
      const top = getStack().at(-1) as RouteEntry;
      const handler = handlers.current.get(top.id);
      if (!handler || queue.current.length > 0) {
        // The screen just pushed has not mounted yet: keep the key for it.
        queue.current.push(k);
        return;
      }
      if (handler.current(k)) return;
      if (isChar(k, '?')) setHelp(true);
      else if (isChar(k, 'q')) requestQuit();
      else if (k.name === 'escape') {
        if (top.route.screen === 'summary') restart();
        else if (top.route.screen !== 'run') back();
      }
    },
    [abortAndQuit, getHelp, setHelp, getPrompt, setPrompt, getStack, requestQuit, restart, back],
  );

  useInput((input, key) => {
    for (const k of toKeystrokes(input, key)) dispatch(k);
  });

  const registerScreen = useCallback(
    (routeId: number, handler: { current: KeyHandler }) => {
      handlers.current.set(routeId, handler);
      if (getStack().at(-1)?.id === routeId && queue.current.length > 0) {
        const pending = queue.current;
        queue.current = [];
        for (const k of pending) dispatch(k);
      }
      return () => {
        handlers.current.delete(routeId);
      };
    },
    [dispatch, getStack],
  );

  const setHints = useCallback((routeId: number, h: KeyHint[]) => {
    setHintsState((all) => ({ ...all, [routeId]: h }));
  }, []);

  const bodyRows = Math.max(4, rows - 4);
  const nav = useMemo(
    () => ({ push, back, restart, confirmRun, startRecorded, resumeRun, retryRun }),
    [push, back, restart, confirmRun, startRecorded, resumeRun, retryRun],
  );
  const services: AppServices = useMemo(
    () => ({ backend, session, color, columns, bodyRows, nav, registerScreen, setHints }),
    [backend, session, color, columns, bodyRows, nav, registerScreen, setHints],
  );

  const top = stack.at(-1) as RouteEntry;
  const crumbs = stack.flatMap((e) => breadcrumbParts(e.route));
  const topHints = hints[top.id] ?? [];
  return (
    <AppContext.Provider value={services}>
      <TopRouteContext.Provider value={top.id}>
        <Box flexDirection="column" width={columns} height={rows - 1}>
          <Header sandbox={backend.target.kind === 'sandbox'} crumbs={crumbs} />
          <Box flexDirection="column" height={bodyRows} overflow="hidden">
            {help ? <HelpOverlay hints={topHints} height={bodyRows} /> : null}
            {stack.map((e) => (
              <Box key={e.id} flexDirection="column" display={!help && e === top ? 'flex' : 'none'}>
                <RouteIdContext.Provider value={e.id}>
                  <RouteView route={e.route} />
                </RouteIdContext.Provider>
              </Box>
            ))}
          </Box>
          {prompt === 'quitDuringRun' ? (
            <Line
              text="A run is going. Abort it safely (in-flight calls finish) and quit? y/n"
              tone="caution"
              bold
            />
          ) : status ? (
            <Line text={status} tone="caution" bold />
          ) : (
            <Footer hints={topHints} />
          )}
        </Box>
      </TopRouteContext.Provider>
    </AppContext.Provider>
  );
}

/** 0 done or nothing ran, 1 a run ended with failures, 3 a run was aborted or left unfinished. */
export function exitCodeFor(outcome: TuiOutcome): number {
  if (outcome.interruptedRun) return EXIT.aborted;
  if (outcome.error) return EXIT.failed;
  switch (outcome.summary?.state) {
    case 'completedWithFailures':
      return EXIT.failed;
    case 'aborted':
      return EXIT.aborted;
    default:
      return EXIT.done;
  }
}
