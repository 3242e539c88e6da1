/**
 * The headless progress line says which phases are working and how long a throttling wait has left,
 * and it does not stand still on an old state while a long wait sends no event.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PhaseProgress, RunProgress } from '../../src/core/run-events.js';
import { formatProgress } from '../../src/commands/format.js';
import { printProgress } from '../../src/commands/headless.js';
import type { RunHandle, RunSummary } from '../../src/services/backend.js';

const phase = (total: number, done = 0, inFlight = 0): PhaseProgress => ({
  total,
  done,
  alreadyDone: 0,
  failed: 0,
  skipped: 0,
  inFlight,
});

const progress = (over: Partial<RunProgress> = {}): RunProgress => ({
  state: 'disenrolling',
  phase: 'disenroll',
  phases: {
    snapshot: phase(1, 1),
    disenroll: phase(1, 0, 1),
    deregister: phase(3, 1, 2),
    cleanup: phase(0),
    verify: phase(1),
  },
  throttled: undefined,
  recent: [],
  startedAtMs: 0,
  ...over,
});

afterEach(() => {
  vi.useRealTimers();
});

describe('formatProgress', () => {
  it('marks the phases with calls in flight and shows a wait while it lasts', () => {
    const p = progress({ throttled: { service: 'hub-us', untilMs: 10_500 } });
    expect(formatProgress(p, 1_000)).toBe(
      'disenrolling: snapshot 1/1, disenroll 0/1 (running), deregister 1/3 (running), verify 0/1  [throttled by hub-us, waiting 10s]',
    );
  });

  it('does not show a wait that has ended ("waiting 0s")', () => {
    const p = progress({ throttled: { service: 'hub-us', untilMs: 1_000 } });
    expect(formatProgress(p, 1_000)).not.toContain('throttled');
  });
});

describe('printProgress', () => {
  it('prints the current state again while no event comes (a long wait)', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    let current = progress({ throttled: { service: 'hub-us', untilMs: Date.now() + 5_000 } });
    const listeners = new Set<(p: RunProgress) => void>();
    let finish!: (s: RunSummary) => void;
    const handle = {
      runId: 'r1',
      journalPath: '/tmp/r1.jsonl',
      progress: () => current,
      subscribe: (l: (p: RunProgress) => void) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      pause() {},
      resume() {},
      abort() {},
      retryFailed() {},
      done: new Promise<RunSummary>((r) => {
        finish = r;
      }),
    } as RunHandle;
    const err: string[] = [];
    const stop = printProgress(handle, { stdout: () => {}, stderr: (t: string) => err.push(t) }, false);
    for (const l of listeners) l(current);
    expect(err.at(-1)).toContain('waiting 5s');
    // The wait ends and the disenroll step settles, but the event came within the twice-a-second cap.
    current = progress({ phases: { ...current.phases, disenroll: phase(1, 1) } });
    for (const l of listeners) l(current);
    expect(err.at(-1)).toContain('waiting 5s');
    vi.advanceTimersByTime(6_000);
    expect(err.at(-1)).toContain('disenroll 1/1,');
    expect(err.at(-1)).not.toContain('throttled');
    finish({ runId: 'r1', journalPath: '/tmp/r1.jsonl', state: 'completed', results: [], verify: [] });
    stop();
    const printed = err.length;
    vi.advanceTimersByTime(6_000);
    // Stopped: nothing more is printed.
    expect(err).toHaveLength(printed);
  });
});
