/**
 * A run's progress for the view, re-rendered at most once per `intervalMs` however fast the executor
 * reports: a 100,000-device run changes counters thousands of times a second, a terminal over SSH
 * shows ten frames a second at best.
 */
import { useEffect, useState } from 'react';
import type { RunProgress } from '../../core/run-events.js';
import type { RunHandle } from '../../services/backend.js';

export const PROGRESS_INTERVAL_MS = 100;

export function useThrottledProgress(handle: RunHandle, intervalMs = PROGRESS_INTERVAL_MS): RunProgress {
  const [progress, setProgress] = useState(() => handle.progress());
  useEffect(() => {
    let latest: RunProgress | undefined;
    let timer: NodeJS.Timeout | undefined;
    let lastShown = 0;
    const flush = () => {
      timer = undefined;
      lastShown = Date.now();
      if (latest) setProgress(latest);
    };
    const unsubscribe = handle.subscribe((p) => {
      latest = p;
      if (timer) return;
      timer = setTimeout(flush, Math.max(0, lastShown + intervalMs - Date.now()));
    });
    setProgress(handle.progress());
    return () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }, [handle, intervalMs]);
  return progress;
}

/** The current time, ticking every `intervalMs` while `enabled` (countdowns, ETA). */
export function useNow(enabled: boolean, intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!enabled) return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [enabled, intervalMs]);
  return now;
}
