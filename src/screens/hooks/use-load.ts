/** Load something from the backend once (and again on `reload`), with loading and error states. */
import { useCallback, useEffect, useRef, useState } from 'react';

export type Loaded<T> =
  | { status: 'loading' }
  | { status: 'ready'; value: T }
  | { status: 'error'; message: string };

export function useLoad<T>(load: () => Promise<T>): [Loaded<T>, () => void] {
  const [state, setState] = useState<Loaded<T>>({ status: 'loading' });
  const loadRef = useRef(load);
  loadRef.current = load;
  const generation = useRef(0);
  const start = useCallback(() => {
    const mine = ++generation.current;
    setState({ status: 'loading' });
    loadRef.current().then(
      (value) => {
        if (mine === generation.current) setState({ status: 'ready', value });
      },
      (err: unknown) => {
        if (mine === generation.current) {
          setState({ status: 'error', message: err instanceof Error ? err.message : String(err) });
        }
      },
    );
  }, []);
  useEffect(() => {
    start();
    return () => {
      generation.current++;
    };
  }, [start]);
  return [state, start];
}
