/**
 * The TUI's root: the first frame goes on the screen at once, and the backend arrives later. Loading
 * the SDKs and starting the sandbox takes about a second; until the backend is there, the Target
 * step says what is starting, and q or Ctrl-C already quit. A backend that fails to start ends the TUI
 * and the launcher reports why (the same message and exit code as a headless command).
 */
import { Box, useApp as useInkApp, useInput } from 'ink';
import { useEffect, useMemo, useState } from 'react';
import type { Backend } from '../services/backend.js';
import { App, type AppProps } from './App.js';
import { Header } from './components/Chrome.js';
import { Line } from './components/Line.js';
import { LookContext } from './context.js';
import { useScreenSize } from './hooks/use-screen-size.js';

/** What the start-up frame says: the sandbox is badged from the first frame on. */
export interface StartingInfo {
  sandbox: boolean;
  text: string;
}

// The start-up frame is plain ASCII: Ink measures any other character with Unicode tables (an emoji
// regex, a grapheme segmenter) that take about 0.1 s to set up on a slow machine, the first time.
export const STARTING_SANDBOX: StartingInfo = {
  sandbox: true,
  text: 'Starting the sandbox: a local emulator with the demo fleet...',
};
export const STARTING_TARGET: StartingInfo = {
  sandbox: false,
  text: 'Starting: reading the target configuration and signing in...',
};

export interface TuiRootProps extends Omit<AppProps, 'backend'> {
  backend: Backend | Promise<Backend>;
  starting?: StartingInfo;
  /** Called when the backend promise rejects; the TUI then ends. */
  onStartFailed?: (err: unknown) => void;
}

const isPromise = (b: Backend | Promise<Backend>): b is Promise<Backend> =>
  typeof (b as Partial<Promise<Backend>>).then === 'function';

export function TuiRoot({ backend, starting = STARTING_TARGET, onStartFailed, ...appProps }: TuiRootProps) {
  const ink = useInkApp();
  const [ready, setReady] = useState<Backend | undefined>(() => (isPromise(backend) ? undefined : backend));
  useEffect(() => {
    if (!isPromise(backend)) {
      setReady(backend);
      return;
    }
    let live = true;
    backend.then(
      (b) => {
        if (live) setReady(b);
      },
      (err: unknown) => {
        if (!live) return;
        onStartFailed?.(err);
        ink.exit();
      },
    );
    return () => {
      live = false;
    };
  }, [backend, onStartFailed, ink]);
  if (ready) return <App backend={ready} {...appProps} />;
  const quit = () => {
    appProps.onExit?.({});
    ink.exit();
  };
  return <StartingScreen starting={starting} color={appProps.color ?? true} onQuit={quit} />;
}

export function StartingScreen({
  starting,
  color,
  onQuit,
}: {
  starting: StartingInfo;
  color: boolean;
  onQuit: () => void;
}) {
  const { columns, rows } = useScreenSize();
  const look = useMemo(() => ({ color, columns }), [color, columns]);
  useInput((input, key) => {
    if (input === 'q' || (key.ctrl && input === 'c')) onQuit();
  });
  return (
    <LookContext.Provider value={look}>
      <Box flexDirection="column" width={columns} height={rows - 1}>
        <Header sandbox={starting.sandbox} crumbs={['Target']} rule="-" />
        <Box flexDirection="column" height={Math.max(4, rows - 4)} overflow="hidden">
          {starting.sandbox ? (
            <Line
              text="[SANDBOX] A local emulator with demo data: nothing here touches Azure."
              tone="caution"
              bold
            />
          ) : null}
          <Line text={starting.text} />
        </Box>
        <Line text="q quit" tone="dim" />
      </Box>
    </LookContext.Provider>
  );
}
