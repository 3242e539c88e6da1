/**
 * What every screen gets from the App: the backend, the screen size, colour on/off, navigation, and
 * the key router (one `useInput` in the App; the top screen's handler gets each keystroke first).
 */
import { createContext, useContext, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { Plan } from '../core/plan-types.js';
import type { Backend } from '../services/backend.js';
import type { DeprovisionSession, SessionView } from '../services/session/deprovision-session.js';
import type { Keystroke } from './hooks/keys.js';
import type { Route } from './routes.js';

export interface KeyHint {
  keys: string;
  does: string;
  /** Shown in the footer (all hints are shown by `?`). */
  footer?: boolean;
}

export type KeyHandler = (k: Keystroke) => boolean;

export interface Navigator {
  push(route: Route): void;
  back(): void;
  /** Start over at the enrollments list (fresh reads). */
  restart(): void;
  /**
   * Run the plan the session holds, which must be `shown` (the one the review shows); the App owns
   * the run so that quit and Ctrl-C can stop it safely.
   */
  confirmRun(shown: Plan): Promise<void>;
  /** Finish a recorded run (its plan shown and confirmed on the review) through the same session. */
  resumeRun(plan: Plan, journalPath: string): Promise<void>;
  /** Show the run screen again after "retry failed". */
  retryRun(): void;
}

export interface AppServices {
  backend: Backend;
  /** The application layer: screens send it their choices and show the plan it holds. */
  session: DeprovisionSession;
  color: boolean;
  columns: number;
  /** Rows the screen body may use (header and footer excluded). */
  bodyRows: number;
  nav: Navigator;
  registerScreen(routeId: number, handler: { current: KeyHandler }): () => void;
  setHints(routeId: number, hints: KeyHint[]): void;
}

export const AppContext = createContext<AppServices | null>(null);
export const RouteIdContext = createContext<number>(0);
/** The id of the route on top (the screen the person sees). */
export const TopRouteContext = createContext<number>(0);

/** True while this screen is the one on top. */
export function useIsTop(): boolean {
  return useContext(RouteIdContext) === useContext(TopRouteContext);
}

/** The session's view, redrawn on each of its changes. */
export function useSessionView(session: DeprovisionSession): SessionView {
  const [view, setView] = useState(() => session.view);
  useEffect(() => {
    setView(session.view);
    return session.subscribe(setView);
  }, [session]);
  return view;
}

/** What the chrome and lines need to draw: colour on/off and the width to fit. */
export interface Look {
  color: boolean;
  columns: number;
}

/** For frames drawn before the App exists (the start-up frame); inside the App, the App's look wins. */
export const LookContext = createContext<Look>({ color: true, columns: 80 });

export function useLook(): Look {
  const app = useContext(AppContext);
  const look = useContext(LookContext);
  return app ?? look;
}

export function useApp(): AppServices {
  const app = useContext(AppContext);
  if (!app) throw new Error('screens must be rendered inside <App>');
  return app;
}

/**
 * Registers the screen's key handler and key hints. The handler is kept in a ref (the latest render's
 * closure); it must read state through ref getters to be safe within a burst of keys.
 */
export function useScreen(hints: KeyHint[], onKey: KeyHandler): AppServices {
  const app = useApp();
  const routeId = useContext(RouteIdContext);
  const handler = useRef(onKey);
  handler.current = onKey;
  const { registerScreen, setHints } = app;
  useLayoutEffect(() => registerScreen(routeId, handler), [registerScreen, routeId]);
  const hintsKey = hints.map((h) => `${h.keys}\u0000${h.does}\u0000${h.footer ? 1 : 0}`).join('\u0001');
  const hintsRef = useRef(hints);
  hintsRef.current = hints;
  // biome-ignore lint/correctness/useExhaustiveDependencies: hintsKey stands for the hints' content
  useLayoutEffect(() => setHints(routeId, hintsRef.current), [setHints, routeId, hintsKey]);
  return app;
}
