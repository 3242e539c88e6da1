/**
 * Step 6: the run. One bar per phase, an ETA, throttling in plain sight, the latest per-device
 * results. Pause and abort are safe at any moment: in-flight calls finish and the journal records
 * where the run stopped. Rendering is capped at ten frames a second (use-throttled-progress.ts).
 */
import { Box } from 'ink';
import { PHASES, type Phase, type Plan } from '../core/plan-types.js';
import type { PhaseProgress, RunProgress } from '../core/run-events.js';
import { formatDuration, sanitize } from '../core/text.js';
import { fitWidth, progressBar, textWidth } from '../terminal/text.js';
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

/** Time left from the pace so far, or undefined before anything finished. */
export function estimateRemainingMs(progress: RunProgress, now: number): number | undefined {
  let total = 0;
  let done = 0;
  for (const phase of PHASES) {
    total += progress.phases[phase].total;
    done += finished(progress.phases[phase]);
  }
  if (done === 0 || total === 0) return undefined;
  const elapsed = Math.max(0, now - progress.startedAtMs);
  return (elapsed / done) * (total - done);
}

export function stateText(p: RunProgress): { text: string; tone: 'plain' | 'caution' | 'danger' | 'ok' } {
  switch (p.state) {
    case 'paused':
      return { text: 'PAUSED: in-flight calls finish; press p to resume.', tone: 'caution' };
    case 'aborting':
      return { text: 'ABORTING: waiting for in-flight calls to finish…', tone: 'danger' };
    case 'aborted':
      return { text: 'ABORTED. The journal records where the run stopped.', tone: 'danger' };
    case 'completed':
      return { text: 'Completed.', tone: 'ok' };
    case 'completedWithFailures':
      return { text: 'Completed with failures.', tone: 'danger' };
    default:
      return { text: p.phase ? `Running: ${p.phase} phase` : `Running: ${sanitize(p.state)}`, tone: 'plain' };
  }
}

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
  const eta = estimateRemainingMs(progress, now);
  const elapsed = formatDuration(now - progress.startedAtMs);
  const throttle = progress.throttled;
  const waitMs = throttle ? Math.max(0, throttle.untilMs - now) : 0;
  const status = stateText(progress);

  const fixed = 1 + PHASES.length + 1 + 1 + 1 + 1 + 1;
  const recentHeight = Math.max(1, bodyRows - fixed);
  const recent = progress.recent.slice(-recentHeight);
  return (
    <Box flexDirection="column">
      <Line
        text={`Run ${sanitize(handle.runId)} · ${plan.counts.devices} devices · ${status.text}`}
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
          throttle
            ? `throttled by ${sanitize(throttle.service)}, waiting ${Math.ceil(waitMs / 1000)}s`
            : 'Not throttled.'
        }
        tone={throttle ? 'caution' : 'dim'}
        bold={Boolean(throttle)}
      />
      <Line
        text={
          asking ? 'Abort the run? In-flight calls finish; the journal records where it stopped. y/n' : ' '
        }
        tone="danger"
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
