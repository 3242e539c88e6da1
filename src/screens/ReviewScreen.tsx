/**
 * Step 5: the plan, step by step, and a confirmation scaled to risk: y/n when everything can be
 * undone, the enrollment's or group's ID typed exactly when anything is deleted (DangerousConfirmation). A refusal by the
 * planner leaves only the way back.
 *
 * The plan shown is the session's (planned from the permanence screen's choices, or the restore of a
 * recorded run chosen on the Runs screen): confirming runs exactly that plan. A recorded run's own plan
 * (to resume it, from the Runs screen) comes with the route instead.
 */
import { Box } from 'ink';
import { useEffect, useMemo } from 'react';
import type { Plan, PlanRefusal } from '../core/plan-types.js';
import type { Actions } from '../core/selection.js';
import { sanitize } from '../core/text.js';
import { wrapText } from '../terminal/text.js';
import { type ConfirmationLine, useDangerousConfirmation } from './components/DangerousConfirmation.js';
import { Line } from './components/Line.js';
import { type ListRow, WindowedList } from './components/WindowedList.js';
import { planLines } from './components/plan-lines.js';
import { screenAdvice } from './components/warning-lines.js';
import { type Preview, previewOf, previewRestoreOf } from '../services/session/deprovision-session.js';
import { type KeyHint, type Navigator, useApp, useIsTop, useScreen, useSessionView } from './context.js';
import { isChar, type Keystroke } from './hooks/keys.js';
import { useRefState } from './hooks/use-ref-state.js';
import { isPermanent } from './PermanenceScreen.js';
import type { RecordedRun, SelectionInfo } from './routes.js';

/** Where the confirmation is (the plan's own state is the session's). */
type Phase = { step: 'confirming' } | { step: 'starting' } | { step: 'startError'; message: string };

const SCROLL_HINTS: KeyHint[] = [
  { keys: '↑↓ PgUp/PgDn', does: 'scroll the plan', footer: true },
  { keys: 'Home/End', does: 'top / bottom of the plan' },
  { keys: 'Esc', does: 'back (change the choices)', footer: true },
];

const positionText = (offset: number, height: number, total: number): string =>
  `lines ${offset + 1}-${Math.min(total, offset + height)} of ${total} · ↓ PgDn more`;

export interface ReviewProps {
  info: SelectionInfo;
  actions: Actions;
  /** An interrupted run's own plan, to finish that run; without it the session's plan is shown. */
  resume?: RecordedRun;
  /** The recorded run (its journal) whose restore the session plans and this screen shows. */
  restoreOf?: string;
}

export function ReviewScreen({ info, actions, resume, restoreOf }: ReviewProps) {
  const permanent = isPermanent(actions);
  const preview = useReviewPlan(info, actions, resume, restoreOf);
  const plan = preview.status === 'planned' ? preview.plan : undefined;
  const refusal = preview.status === 'refused' ? preview.refusal : undefined;
  const [phase, setPhase, getPhase] = useRefState<Phase>({ step: 'confirming' });
  const [scroll, setScroll, getScroll] = useRefState(0);
  const confirmId = sanitize(info.confirmId);
  const confirmation = useDangerousConfirmation({
    confirmId,
    onConfirm: () => {
      if (plan) start(plan);
    },
    onCancel: () => app.nav.back(),
  });

  const app = useScreen(hintsFor(!!plan, permanent), (k) => {
    const s = getScroll();
    const scrolled = scrollBy(k, s, Math.max(1, height - 1), maxScroll, false);
    if (scrolled !== undefined) setScroll(scrolled);
    else if (getPhase().step !== 'confirming' || !plan) return false;
    else if (permanent) return confirmation.handleKey(k);
    else if (isChar(k, 'y') || isChar(k, 'Y')) start(plan);
    else if (isChar(k, 'n') || isChar(k, 'N')) app.nav.back();
    else {
      // Letters scroll only when no ID is being typed.
      const byLetter = scrollBy(k, s, Math.max(1, height - 1), maxScroll, true);
      if (byLetter === undefined) return false;
      setScroll(byLetter);
    }
    return true;
  });
  const { columns, bodyRows } = app;

  const start = (p: Plan) => {
    setPhase({ step: 'starting' });
    startPlan(app.nav, p, resume).catch((err: unknown) => {
      setPhase({ step: 'startError', message: err instanceof Error ? err.message : String(err) });
    });
  };

  const lines = useMemo(() => reviewLines(info, plan, refusal, columns), [refusal, plan, info, columns]);

  const prompt = promptFor(preview, phase, permanent, !!resume);

  // The prompt wraps (a long ID must not push "or Esc to go back" off the line); the plan gets the rest.
  const promptRows: ConfirmationLine[] = prompt.confirming
    ? confirmation.lines(columns)
    : promptLines(prompt, columns);
  const height = Math.max(3, bodyRows - 1 - promptRows.length);
  const maxScroll = Math.max(0, lines.length - height);
  const offset = Math.min(scroll, maxScroll);
  return <ReviewView lines={lines} offset={offset} height={height} promptRows={promptRows} />;
}

/** The plan's window, where it is in the plan, and the prompt under it. */
function ReviewView({
  lines,
  offset,
  height,
  promptRows,
}: {
  lines: ListRow[];
  offset: number;
  height: number;
  promptRows: ConfirmationLine[];
}) {
  return (
    <Box flexDirection="column">
      <WindowedList rows={lines} offset={offset} height={height} index={-1} render={(l) => l} />
      <Line text={lines.length > height ? positionText(offset, height, lines.length) : ' '} tone="dim" />
      {promptRows.map((line, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the prompt's lines, re-created as a whole
        <Line key={`p${i}`} text={line.text} tone={line.tone} bold={line.bold} />
      ))}
    </Box>
  );
}

const promptLines = (prompt: Prompt, columns: number): ConfirmationLine[] => [
  ...wrapText(prompt.text, columns).map((text) => ({ text, tone: prompt.tone, bold: true })),
  ...wrapText(prompt.second ?? ' ', columns).map((text) => ({ text, tone: 'plain' as const })),
];

/**
 * The plan shown: the session's for these choices (it plans them unless it holds their plan already,
 * made on the permanence screen) or for the restore of a recorded run, or a recorded run's own plan
 * given with the route (to resume it).
 */
function useReviewPlan(
  info: SelectionInfo,
  actions: Actions,
  resume: RecordedRun | undefined,
  restoreOf: string | undefined,
): Preview {
  const { session } = useApp();
  const view = useSessionView(session);
  const top = useIsTop();
  useEffect(() => {
    if (resume || !top) return;
    if (restoreOf) session.previewRestore(restoreOf);
    else session.preview(info.selection, actions);
  }, [session, top, info.selection, actions, resume, restoreOf]);
  if (resume) return { status: 'planned', plan: resume.plan };
  return restoreOf ? previewRestoreOf(view, restoreOf) : previewOf(view, info.selection, actions);
}

/** Runs the plan shown: the session's as confirmed (choices or a restore), or a recorded run's, resumed. */
function startPlan(nav: Navigator, p: Plan, resume?: RecordedRun): Promise<void> {
  if (resume) return nav.resumeRun(p, resume.journalPath);
  return nav.confirmRun(p);
}

/** The new scroll offset for a scrolling key (arrows, pages, Home/End; with `letters`, j/k g/G). */
function scrollBy(k: Keystroke, s: number, page: number, max: number, letters: boolean): number | undefined {
  if (letters) {
    if (isChar(k, 'j')) return Math.min(max, s + 1);
    if (isChar(k, 'k')) return Math.max(0, s - 1);
    if (isChar(k, 'g')) return 0;
    if (isChar(k, 'G')) return max;
    return undefined;
  }
  if (k.name === 'up') return Math.max(0, s - 1);
  if (k.name === 'down') return Math.min(max, s + 1);
  if (k.name === 'pageUp') return Math.max(0, s - page);
  if (k.name === 'pageDown') return Math.min(max, s + page);
  if (k.name === 'home') return 0;
  if (k.name === 'end') return max;
  return undefined;
}

/** The plan's lines, or the planner's refusal in words. */
function reviewLines(
  info: SelectionInfo,
  plan: Plan | undefined,
  refusal: PlanRefusal | undefined,
  columns: number,
): ListRow[] {
  if (refusal) {
    const advice = screenAdvice(refusal);
    const text = `The tool will not do this: ${refusal.message}${advice ? ` ${advice}` : ''}`;
    return wrapText(sanitize(text), columns).map((text) => ({ text, tone: 'danger' as const, bold: true }));
  }
  return plan ? planLines(info, plan, columns - 2) : [];
}

const hintsFor = (canRun: boolean, permanent: boolean): KeyHint[] =>
  !canRun
    ? SCROLL_HINTS
    : permanent
      ? [{ keys: 'type ID + Enter', does: 'confirm', footer: true }, ...SCROLL_HINTS]
      : [
          { keys: 'y', does: 'run the plan', footer: true },
          { keys: 'n', does: 'go back', footer: true },
          { keys: 'j/k g/G', does: 'scroll the plan, top, bottom' },
          ...SCROLL_HINTS,
        ];

interface Prompt {
  text: string;
  tone: 'danger' | 'caution' | 'accent' | 'plain' | 'dim';
  second?: string;
  /** The typed-ID confirmation draws the prompt itself. */
  confirming?: boolean;
}

/** The line under the plan: where planning and confirming are, and what the person can do. */
function promptFor(preview: Preview, phase: Phase, permanent: boolean, resuming: boolean): Prompt {
  if (preview.status === 'checking')
    return { text: 'Reading what the plan needs and planning…', tone: 'dim' };
  if (preview.status === 'error') {
    return { text: `Could not plan: ${sanitize(preview.message)}`, tone: 'danger', second: 'Esc: go back.' };
  }
  if (preview.status === 'refused') {
    return { text: 'Nothing can run. Esc: go back and change the choices.', tone: 'danger' };
  }
  if (phase.step === 'starting') return { text: 'Confirmed. Starting the run…', tone: 'accent' };
  if (phase.step === 'startError') {
    return {
      text: `Could not start the run: ${sanitize(phase.message)}`,
      tone: 'danger',
      second: 'Esc: go back.',
    };
  }
  if (permanent) return { text: '', tone: 'danger', confirming: true };
  return {
    text: resuming
      ? 'Nothing is deleted (no permanent action). Finish this run? y: yes   n or Esc: go back'
      : 'Nothing is deleted (no permanent action). Run it? y: yes   n or Esc: go back',
    tone: 'caution',
  };
}
