/**
 * Step 6: the run. One bar per phase, an ETA, throttling in plain sight, the latest per-device
 * results. Pause and abort are safe at any moment: in-flight calls finish and the journal records
 * where the run stopped. Rendering is capped at ten frames a second (use-throttled-progress.ts).
 */
import { Box } from 'ink';
import { PHASES, type Phase, type Plan } from '../core/plan-types.js';
import type { PhaseProgress, RunProgress } from '../core/run-events.js';
import { formatDuration, plural, sanitize } from '../core/text.js';
import { fitWidth, progressBar, textWidth } from '../terminal/text.js';
import { jobLines } from './components/job-lines.js';
import type { RunHandle } from '../services/backend.js';
import { Line } from './components/Line.js';
import { WindowedList } from './components/WindowedList.js';
import { type KeyHint, useScreen } from './context.js';
import { isChar } from './hooks/keys.js';
import { useRefState } from './hooks/use-ref-state.js';
import { useNow, useThrottledProgress } from './hooks/use-throttled-progress.js';
import { outcomeLabel } from './words.js';

const HINTS: KeyHint[] = [
  { keys: 'p', does: 'pause / resume', footer: true },
  { keys: 'a', does: 'abort safely', footer: true },
  { keys: 'q', does: 'abort and quit (asks first)', footer: true },
  { keys: 'Ctrl-C', does: 'abort safely, then quit' },
];

const FINAL_STATES = ['completed', 'completedWithFailures', 'aborted'];

const finished = (p: PhaseProgress): number => p.done + p.alreadyDone + p.failed + p.skipped;

export function phaseLine(phase: Phase, p: PhaseProgress, width: number): string {
  const label = fitWidth(phase, 11);
  if (p.total === 0) return `${label}—  nothing to do`;
  const left = Math.max(0, p.total - finished(p));
  const counts =
    ` ${fitWidth(`${finished(p)}/${p.total}`, 13, 'right')}  done ${p.done + p.alreadyDone}` +
    ` failed ${p.failed} skipped ${p.skipped} left ${left}`;
  const barWidth = Math.max(5, width - textWidth(label) - textWidth(counts) - 2);
  return `${label}[${progressBar(finished(p) / p.total, barWidth)}]${counts}`;
}

/**
 * Time left as the executor estimated it (operations left at each service's allowed rate), counted
 * down since; undefined when it gave none (before the run goes, after it ended).
 */
export function remainingMs(progress: RunProgress, now: number): number | undefined {
  if (!progress.eta) return undefined;
  return Math.max(0, progress.eta.remainingMs - Math.max(0, now - progress.eta.atMs));
}

/** Phases with calls in flight, in order (phases overlap per device). */
const runningPhases = (p: RunProgress): Phase[] => PHASES.filter((ph) => p.phases[ph].inFlight > 0);

/** The run's state in a word or two (the title line), and a line saying what it means (fits 80 columns). */
export function stateText(p: RunProgress): {
  text: string;
  note?: string;
  tone: 'plain' | 'caution' | 'danger' | 'ok';
} {
  switch (p.state) {
    case 'paused':
      return {
        text: 'PAUSED',
        note: 'PAUSED: calls in flight finish, no new call starts. p resumes.',
        tone: 'caution',
      };
    case 'aborting':
      return {
        text: 'ABORTING',
        note: 'ABORTING: calls in flight finish; nothing new is sent.',
        tone: 'danger',
      };
    case 'aborted':
      return { text: 'ABORTED', note: 'ABORTED. The journal records where the run stopped.', tone: 'danger' };
    case 'completed':
      return { text: 'Completed.', tone: 'ok' };
    case 'completedWithFailures':
      return { text: 'Completed with failures.', tone: 'danger' };
    default: {
      const running = runningPhases(p);
      const phases = running.length > 0 ? running : p.phase ? [p.phase] : [];
      return {
        text: phases.length > 0 ? `Running: ${phases.join(', ')}` : `Running: ${sanitize(p.state)}`,
        tone: 'plain',
      };
    }
  }
}

export const ABORT_QUESTION = 'Abort? Calls in flight finish; nothing new is sent. y/n';

export function RunScreen({ plan, handle }: { plan: Plan; handle: RunHandle }) {
  const [asking, setAsking, getAsking] = useRefState(false);
  const app = useScreen(HINTS, (k) => {
    const state = handle.progress().state;
    const final = FINAL_STATES.includes(state);
    if (getAsking()) {
      if (isChar(k, 'y') || isChar(k, 'Y')) {
        setAsking(false);
        handle.abort();
      } else if (isChar(k, 'n') || isChar(k, 'N') || k.name === 'escape') setAsking(false);
      return true;
    }
    if (isChar(k, 'p') && !final) {
      if (state === 'paused') handle.resume();
      else if (state !== 'aborting') handle.pause();
      return true;
    }
    if (isChar(k, 'a') && !final && state !== 'aborting') {
      setAsking(true);
      return true;
    }
    // Esc must not leave a running run behind.
    return k.name === 'escape';
  });
  const { columns, bodyRows } = app;
  const progress = useThrottledProgress(handle);
  // The tick only forces a re-render each second; a progress update re-renders with the time now.
  useNow(!FINAL_STATES.includes(progress.state));
  const now = Date.now();
  const eta = remainingMs(progress, now);
  const elapsed = formatDuration(now - progress.startedAtMs);
  const throttle = progress.throttled;
  const waitMs = throttle ? Math.max(0, throttle.untilMs - now) : 0;
  // A wait that has ended is not shown (the executor clears it when the calls go again).
  const waiting = throttle !== undefined && waitMs >= 500;
  const status = stateText(progress);

  const base = 1 + PHASES.length + 1 + 1 + 1 + 1 + 1;
  // The hubs' jobs take at most half of the rows left; the latest results keep the rest.
  const jobs = jobLines(progress.jobs, columns, Math.max(1, Math.floor((bodyRows - base) / 2)));
  const fixed = base + jobs.length;
  const recentHeight = Math.max(1, bodyRows - fixed);
  const recent = progress.recent.slice(-recentHeight);
  return (
    <Box flexDirection="column">
      <Line
        text={`Run ${sanitize(handle.runId)} · ${plural(plan.counts.devices, 'device')} · ${status.text}`}
        tone={status.tone}
        bold
      />
      {PHASES.map((phase) => (
        <Line
          key={phase}
          text={phaseLine(phase, progress.phases[phase], columns)}
          tone={progress.phases[phase].failed > 0 ? 'danger' : progress.phase === phase ? 'accent' : 'plain'}
        />
      ))}
      <Line text={`Elapsed ${elapsed} · ETA ${eta === undefined ? '--' : formatDuration(eta)}`} />
      <Line
        text={
          waiting
            ? `throttled by ${sanitize(throttle.service)}, waiting ${Math.ceil(waitMs / 1000)}s`
            : 'Not throttled.'
        }
        tone={waiting ? 'caution' : 'dim'}
        bold={waiting}
      />
      {jobs.map((l, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: one line per job state, re-created as a whole
        <Line key={`job${i}`} text={l.text} tone={l.tone} />
      ))}
      <Line
        text={asking ? ABORT_QUESTION : (status.note ?? ' ')}
        tone={asking ? 'danger' : status.tone}
        bold
      />
      <Line text="Latest results:" bold />
      <WindowedList
        rows={recent}
        offset={0}
        height={recentHeight}
        index={-1}
        empty="No results yet."
        render={(r) => {
          const { marker, tone } = outcomeLabel(r.outcome);
          const message = r.message ? `: ${sanitize(r.message)}` : '';
          return { text: `${fitWidth(marker, 10)} ${sanitize(r.label)}${message}`, tone };
        }}
      />
      <Line text={`Journal: ${sanitize(handle.journalPath)}`} tone="dim" />
    </Box>
  );
}
