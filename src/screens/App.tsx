/**
 * The walkthrough: a stack of screens (kept mounted so Esc returns to a list exactly as it was left),
 * one input handler that routes each keystroke, the run's lifecycle (so that q and Ctrl-C can stop
 * a run safely from anywhere), and the header/footer chrome.
 */
import { EXIT } from '../core/errors.js';
import { Box, useApp as useInkApp, useInput } from 'ink';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { KnownState } from '../core/model.js';
import type { Plan } from '../core/plan-types.js';
import type { Backend, RunHandle, RunSummary } from '../services/backend.js';
import { Footer, Header, HelpOverlay } from './components/Chrome.js';
import { Line } from './components/Line.js';
import { type AppServices, AppContext, type KeyHandler, type KeyHint, RouteIdContext } from './context.js';
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
}

interface RunState {
  handle: RunHandle;
  plan: Plan;
  active: boolean;
  exitWhenDone: boolean;
  summary?: RunSummary;
  settled?: Promise<RunSummary>;
  error?: string;
}

type Prompt = undefined | 'quitDuringRun';

let nextRouteId = 1;
const entry = (route: Route): RouteEntry => ({ id: nextRouteId++, route });

export function App({ backend, color = true, onExit, controller, initialRoutes }: AppProps) {
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
  const run = useRef<RunState | undefined>(undefined);
  /** Set while backend.run() is creating the run (journal, first reads). */
  const starting = useRef<{ quit: boolean } | undefined>(undefined);
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
    const r = run.current;
    if (r?.active || r?.error) {
      finish({ interruptedRun: { runId: r.handle.runId, journalPath: r.handle.journalPath } });
    } else finish({ summary: r?.summary });
  }, [finish]);

  const push = useCallback((route: Route) => setStack((s) => [...s, entry(route)]), [setStack]);
  const back = useCallback(() => {
    setStack((s) => (s.length > 1 ? s.slice(0, -1) : s));
  }, [setStack]);
  const restart = useCallback(() => {
    setStack([entry({ screen: 'target' }), entry({ screen: 'enrollments' })]);
  }, [setStack]);

  const settle = useCallback(
    (r: RunState) => {
      const previous = r.settled;
      const current = r.handle.done;
      // A handle whose `done` already settled (retry on an implementation that keeps one promise):
      // wait for the progress to reach a final state and keep the earlier results.
      const next =
        current !== previous
          ? current
          : new Promise<RunSummary>((resolve) => {
              const unsubscribe = r.handle.subscribe((p) => {
                if (['completed', 'completedWithFailures', 'aborted'].includes(p.state)) {
                  unsubscribe();
                  resolve({ ...(r.summary as RunSummary), state: p.state as RunSummary['state'] });
                }
              });
            });
      r.settled = current;
      next.then(
        (summary) => {
          r.active = false;
          r.summary = summary;
          setStatus(undefined);
          if (r.exitWhenDone) return finish({ summary });
          setStack((s) => [
            ...s.filter((e) => e.route.screen !== 'summary'),
            entry({ screen: 'summary', plan: r.plan, handle: r.handle, summary }),
          ]);
        },
        (err: unknown) => {
          r.active = false;
          r.error = err instanceof Error ? err.message : String(err);
          if (r.exitWhenDone) {
            return finish({ interruptedRun: { runId: r.handle.runId, journalPath: r.handle.journalPath } });
          }
          setStatus(`The run stopped: ${r.error}. Resume it with: iot-deprovision resume ${r.handle.runId}`);
        },
      );
    },
    [finish, setStack],
  );

  const startRun = useCallback(
    async (plan: Plan, before?: KnownState) => {
      starting.current = { quit: false };
      let handle: RunHandle;
      try {
        handle = await backend.run(plan, before);
      } catch (err) {
        const quit = starting.current.quit;
        starting.current = undefined;
        if (quit) return finish({});
        throw err;
      }
      // A quit asked for while the run was starting stops it safely as soon as it exists.
      const r: RunState = { handle, plan, active: true, exitWhenDone: starting.current.quit };
      starting.current = undefined;
      run.current = r;
      if (r.exitWhenDone) handle.abort();
      push({ screen: 'run', plan, handle });
      settle(r);
    },
    [backend, push, settle, finish],
  );

  const retryRun = useCallback(() => {
    const r = run.current;
    if (!r || r.active) return;
    r.active = true;
    r.handle.retryFailed();
    setStack((s) => {
      const at = s.findIndex((e) => e.route.screen === 'run');
      return at >= 0 ? s.slice(0, at + 1) : s;
    });
    settle(r);
  }, [setStack, settle]);

  /** Quit, q: ask first while a run is going. Ctrl-C/signals: abort safely, then quit; twice: leave now. */
  const abortAndQuit = useCallback(() => {
    if (starting.current) {
      if (starting.current.quit) return quitNow();
      starting.current.quit = true;
      setStatus('Stopping: the run is starting; it will be aborted safely, then the tool quits.');
      return;
    }
    const r = run.current;
    if (!r?.active) return quitNow();
    if (r.exitWhenDone) return quitNow();
    r.exitWhenDone = true;
    r.handle.abort();
    setPrompt(undefined);
    setStatus('Aborting: waiting for in-flight calls to finish, then quitting. Ctrl-C again leaves now.');
  }, [quitNow, setPrompt]);

  const requestQuit = useCallback(() => {
    if (run.current?.active || starting.current) setPrompt('quitDuringRun');
    else quitNow();
  }, [quitNow, setPrompt]);

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
    () => ({ push, back, restart, startRun, retryRun }),
    [push, back, restart, startRun, retryRun],
  );
  const services: AppServices = useMemo(
    () => ({ backend, color, columns, bodyRows, nav, registerScreen, setHints }),
    [backend, color, columns, bodyRows, nav, registerScreen, setHints],
  );

  const top = stack.at(-1) as RouteEntry;
  const crumbs = stack.flatMap((e) => breadcrumbParts(e.route));
  const topHints = hints[top.id] ?? [];
  return (
    <AppContext.Provider value={services}>
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
