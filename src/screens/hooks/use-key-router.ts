/** The App's one key router (see useKeyRouter). */
import { useInput } from 'ink';
import { useCallback, useRef } from 'react';
import type { Prompt } from '../App.js';
import type { AppServices, KeyHandler } from '../context.js';
import type { RouteEntry } from '../routes.js';
import { isChar, isCtrl, type Keystroke, toKeystrokes } from './keys.js';

export interface KeyRouterOptions {
  getStack: () => RouteEntry[];
  getHelp: () => boolean;
  setHelp: (help: boolean) => void;
  getPrompt: () => Prompt;
  setPrompt: (prompt: Prompt) => void;
  abortAndQuit: () => void;
  requestQuit: () => void;
  restart: () => void;
  back: () => void;
}

/**
 * One `useInput` for the whole App: each keystroke goes to the help overlay, the quit prompt, or the
 * top screen's handler first, then to the App's own keys (? q Esc). Keys for a screen just pushed and
 * not mounted yet wait for it. Returns how a screen registers its handler.
 */
export function useKeyRouter({
  getStack,
  getHelp,
  setHelp,
  getPrompt,
  setPrompt,
  abortAndQuit,
  requestQuit,
  restart,
  back,
}: KeyRouterOptions): AppServices['registerScreen'] {
  const handlers = useRef(new Map<number, { current: KeyHandler }>());
  const queue = useRef<Keystroke[]>([]);
  const dispatch = useCallback(
    (k: Keystroke) => {
      if (overlayKey(k, { getHelp, setHelp, getPrompt, setPrompt, abortAndQuit })) return;
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
  return registerScreen;
}

/** Ctrl-C everywhere, then the help overlay's and the quit prompt's keys: true when the key was theirs. */
function overlayKey(
  k: Keystroke,
  o: Pick<KeyRouterOptions, 'getHelp' | 'setHelp' | 'getPrompt' | 'setPrompt' | 'abortAndQuit'>,
): boolean {
  if (isCtrl(k, 'c')) {
    o.abortAndQuit();
    return true;
  }
  if (o.getHelp()) {
    if (isChar(k, '?') || isChar(k, 'q') || k.name === 'escape' || k.name === 'return') o.setHelp(false);
    return true;
  }
  if (o.getPrompt() !== 'quitDuringRun') return false;
  if (isChar(k, 'y') || isChar(k, 'Y')) o.abortAndQuit();
  else if (isChar(k, 'n') || isChar(k, 'N') || k.name === 'escape') o.setPrompt(undefined);
  return true;
}
