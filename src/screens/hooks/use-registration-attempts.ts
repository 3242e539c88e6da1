/**
 * Devices trying to register themselves, one at a time (a device registering changes DPS and hub state,
 * and the emulator throttles like DPS does), while the screen keeps taking keys. Asked-for devices
 * queue behind the one registering; leaving the screen stops the queue after the attempt in flight.
 */
import { useCallback, useEffect, useMemo, useRef } from 'react';
import type { Backend, RegistrationAttempt } from '../../services/backend.js';
import type { AttemptState } from '../components/attempt-lines.js';
import { useRefState } from './use-ref-state.js';

export interface RegistrationAttempts {
  /** The backend can make devices register (the sandbox); without it nothing here does anything. */
  available: boolean;
  states: ReadonlyMap<string, AttemptState>;
  /** The device registering now, and how many wait behind it. */
  registering?: { registrationId: string; queued: number };
  /** Queues devices (those already queued or registering are not queued twice); false when unavailable. */
  request(registrationIds: readonly string[]): boolean;
}

interface Queue {
  states: ReadonlyMap<string, AttemptState>;
  waiting: readonly string[];
  current?: string;
}

/** A rejected attempt is still an answer the person must see: no answer, with what went wrong. */
async function attemptOnce(
  attempt: (registrationId: string) => Promise<RegistrationAttempt>,
  registrationId: string,
): Promise<RegistrationAttempt> {
  try {
    return await attempt(registrationId);
  } catch (err) {
    return { outcome: 'error', reason: err instanceof Error ? err.message : String(err) };
  }
}

export function useRegistrationAttempts(backend: Backend): RegistrationAttempts {
  const attempt = useMemo(() => backend.attemptRegistration?.bind(backend), [backend]);
  const [queue, setQueue, getQueue] = useRefState<Queue>({ states: new Map(), waiting: [] });
  const left = useRef(false);
  const working = useRef(false);
  useEffect(() => {
    left.current = false;
    return () => {
      left.current = true;
    };
  }, []);

  const drain = useCallback(async () => {
    if (!attempt || working.current) return;
    working.current = true;
    try {
      while (!left.current) {
        const q = getQueue();
        const [next, ...rest] = q.waiting;
        if (next === undefined) break;
        setQueue({
          states: withState(q.states, next, { status: 'registering' }),
          waiting: rest,
          current: next,
        });
        const answer = await attemptOnce(attempt, next);
        if (left.current) break;
        const after = getQueue();
        setQueue({
          ...after,
          states: withState(after.states, next, { status: 'answered', attempt: answer }),
          current: undefined,
        });
      }
    } finally {
      working.current = false;
    }
  }, [attempt, getQueue, setQueue]);

  const request = useCallback(
    (ids: readonly string[]): boolean => {
      if (!attempt) return false;
      const q = getQueue();
      const fresh = ids.filter(
        (id, i) => id !== q.current && !q.waiting.includes(id) && ids.indexOf(id) === i,
      );
      if (fresh.length > 0) {
        let states = q.states;
        for (const id of fresh) states = withState(states, id, { status: 'queued' });
        setQueue({ ...q, states, waiting: [...q.waiting, ...fresh] });
        void drain();
      }
      return true;
    },
    [attempt, getQueue, setQueue, drain],
  );

  return {
    available: attempt !== undefined,
    states: queue.states,
    registering:
      queue.current === undefined
        ? undefined
        : { registrationId: queue.current, queued: queue.waiting.length },
    request,
  };
}

function withState(
  states: ReadonlyMap<string, AttemptState>,
  id: string,
  state: AttemptState,
): ReadonlyMap<string, AttemptState> {
  const next = new Map(states);
  next.set(id, state);
  return next;
}
