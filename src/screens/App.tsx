/**
 * The walkthrough: a stack of screens (kept mounted so Esc returns to a list exactly as it was left),
 * one input handler that routes each keystroke, and the header/footer chrome. The run's lifecycle is
 * the DeprovisionSession's (services/session), followed by `useSessionRun`: the App sends its events
 * (confirm, abort, retry) and shows where it is, so that q and Ctrl-C can stop a run safely from anywhere.
 */
import { useApp as useInkApp } from 'ink';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { EXIT } from '../core/errors.js';
import type { Backend, RunSummary } from '../services/backend.js';
import { DeprovisionSession } from '../services/session/deprovision-session.js';
import { AppFrame } from './components/AppFrame.js';
import { type AppServices, AppContext, type KeyHint } from './context.js';
import { useKeyRouter } from './hooks/use-key-router.js';
import { useRefState } from './hooks/use-ref-state.js';
import { useScreenSize } from './hooks/use-screen-size.js';
import { useSessionRun } from './hooks/use-session-run.js';
import { type Route, type RouteEntry, routeEntry as entry } from './routes.js';

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

export type Prompt = undefined | 'quitDuringRun';

export function App({ backend, color = true, onExit, controller, initialRoutes, session: given }: AppProps) {
  const ink = useInkApp();
  const { columns, rows } = useScreenSize();
  const { stack, setStack, getStack, push, back, restart } = useStack(initialRoutes);
  const [help, setHelp, getHelp] = useRefState(false);
  const [prompt, setPrompt, getPrompt] = useRefState<Prompt>(undefined);
  const [hints, setHintsState] = useState<Record<number, KeyHint[]>>({});
  /** The session owns the run's lifecycle (plan -> confirm -> run -> retry); the App routes and draws. */
  const session = useMemo(() => given ?? new DeprovisionSession(backend), [given, backend]);
  useEffect(() => () => session.stop(), [session]);
  const run = useSessionRun({ session, onExit, exit: ink.exit, controller, push, setStack, setPrompt });
  const { status, confirmRun, resumeRun, retryRun, abortAndQuit, requestQuit } = run;

  const registerScreen = useKeyRouter({
    getStack,
    getHelp,
    setHelp,
    getPrompt,
    setPrompt,
    abortAndQuit,
    requestQuit,
    restart,
    back,
  });

  const setHints = useCallback((routeId: number, h: KeyHint[]) => {
    setHintsState((all) => ({ ...all, [routeId]: h }));
  }, []);

  const bodyRows = Math.max(4, rows - 4);
  const nav = useMemo(
    () => ({ push, back, restart, confirmRun, resumeRun, retryRun }),
    [push, back, restart, confirmRun, resumeRun, retryRun],
  );
  const services: AppServices = useMemo(
    () => ({ backend, session, color, columns, bodyRows, nav, registerScreen, setHints }),
    [backend, session, color, columns, bodyRows, nav, registerScreen, setHints],
  );

  return (
    <AppContext.Provider value={services}>
      <AppFrame
        stack={stack}
        help={help}
        prompt={prompt}
        status={status}
        hints={hints}
        sandbox={backend.target.kind === 'sandbox'}
        columns={columns}
        rows={rows}
        bodyRows={bodyRows}
      />
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

/** The stack of screens: the top one is shown; the others stay mounted (Esc returns to them as left). */
function useStack(initialRoutes: Route[] | undefined) {
  const [stack, setStack, getStack] = useRefState<RouteEntry[]>(() =>
    (initialRoutes ?? [{ screen: 'target' }]).map(entry),
  );
  const push = useCallback((route: Route) => setStack((s) => [...s, entry(route)]), [setStack]);
  const back = useCallback(() => {
    setStack((s) => (s.length > 1 ? s.slice(0, -1) : s));
  }, [setStack]);
  const restart = useCallback(() => {
    setStack([entry({ screen: 'target' }), entry({ screen: 'enrollments' })]);
  }, [setStack]);
  return { stack, setStack, getStack, push, back, restart };
}
