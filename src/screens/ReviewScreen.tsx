/**
 * Step 5: the plan, step by step, and a confirmation scaled to risk: y/n when everything can be
 * undone, the enrollment's or group's ID typed exactly when anything is deleted (DangerousConfirmation). A refusal by the
 * planner leaves only the way back.
 *
 * The plan shown is the session's (planned from the permanence screen's choices): confirming runs
 * exactly that plan. A recorded run's plan (its resume or restore, from the Runs screen) comes with the
 * route instead.
 */
import { Box } from 'ink';
import { useEffect, useMemo } from 'react';
import type { Plan, PlanResult } from '../core/plan-types.js';
import type { Actions } from '../core/selection.js';
import { sanitize } from '../core/text.js';
import { wrapText } from '../terminal/text.js';
import { type ConfirmationLine, useDangerousConfirmation } from './components/DangerousConfirmation.js';
import { Line } from './components/Line.js';
import { WindowedList } from './components/WindowedList.js';
import { planLines } from './components/plan-lines.js';
import { screenAdvice } from './components/warning-lines.js';
import { previewOf } from '../services/session/deprovision-session.js';
import { type KeyHint, useApp, useIsTop, useScreen, useSessionView } from './context.js';
import { isChar } from './hooks/keys.js';
import { useRefState } from './hooks/use-ref-state.js';
import { isPermanent } from './PermanenceScreen.js';
import type { SelectionInfo } from './routes.js';

/** Where the confirmation is (the plan's own state is the session's). */
type Phase = { step: 'confirming' } | { step: 'starting' } | { step: 'startError'; message: string };

const SCROLL_HINTS: KeyHint[] = [
  { keys: '↑↓ PgUp/PgDn', does: 'scroll the plan', footer: true },
  { keys: 'Home/End', does: 'top / bottom of the plan' },
  { keys: 'Esc', does: 'back (change the choices)', footer: true },
];

const positionText = (offset: number, height: number, total: number): string =>
  `lines ${offset + 1}-${Math.min(total, offset + height)} of ${total} · ↓ PgDn more`;

export function ReviewScreen({
  info,
  actions,
  planResult,
  resumeOf,
}: {
  info: SelectionInfo;
  actions: Actions;
  planResult?: PlanResult;
  resumeOf?: string;
}) {
  const permanent = isPermanent(actions);
  const { session } = useApp();
  const view = useSessionView(session);
  const top = useIsTop();
  const preview = planResult ? recorded(planResult) : previewOf(view, info.selection, actions);
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

  const hints: KeyHint[] = !plan
    ? SCROLL_HINTS
    : permanent
      ? [{ keys: 'type ID + Enter', does: 'confirm', footer: true }, ...SCROLL_HINTS]
      : [
          { keys: 'y', does: 'run the plan', footer: true },
          { keys: 'n', does: 'go back', footer: true },
          { keys: 'j/k g/G', does: 'scroll the plan, top, bottom' },
          ...SCROLL_HINTS,
        ];

  const app = useScreen(hints, (k) => {
    const s = getScroll();
    const page = Math.max(1, height - 1);
    if (k.name === 'up') setScroll(Math.max(0, s - 1));
    else if (k.name === 'down') setScroll(Math.min(maxScroll, s + 1));
    else if (k.name === 'pageUp') setScroll(Math.max(0, s - page));
    else if (k.name === 'pageDown') setScroll(Math.min(maxScroll, s + page));
    else if (k.name === 'home') setScroll(0);
    else if (k.name === 'end') setScroll(maxScroll);
    else if (getPhase().step !== 'confirming' || !plan) return false;
    else if (permanent) return confirmation.handleKey(k);
    else if (isChar(k, 'y') || isChar(k, 'Y')) start(plan);
    else if (isChar(k, 'n') || isChar(k, 'N')) app.nav.back();
    else if (isChar(k, 'j')) setScroll(Math.min(maxScroll, s + 1));
    else if (isChar(k, 'k')) setScroll(Math.max(0, s - 1));
    else if (isChar(k, 'g')) setScroll(0);
    else if (isChar(k, 'G')) setScroll(maxScroll);
    else return false;
    return true;
  });
  const { columns, bodyRows } = app;

  // The session plans these choices unless it holds their plan already (made on the permanence screen).
  useEffect(() => {
    if (!planResult && top) session.preview(info.selection, actions);
  }, [session, top, info.selection, actions, planResult]);

  const start = (p: Plan) => {
    setPhase({ step: 'starting' });
    const started = !planResult
      ? app.nav.confirmRun(p)
      : resumeOf
        ? app.nav.resumeRun(p, resumeOf)
        : app.nav.startRecorded(p, planResult.ok ? planResult.before : undefined);
    started.catch((err: unknown) => {
      setPhase({ step: 'startError', message: err instanceof Error ? err.message : String(err) });
    });
  };

  const lines = useMemo(() => {
    if (refusal) {
      const advice = screenAdvice(refusal);
      const text = `The tool will not do this: ${refusal.message}${advice ? ` ${advice}` : ''}`;
      return wrapText(sanitize(text), columns).map((text) => ({
        text,
        tone: 'danger' as const,
        bold: true,
      }));
    }
    return plan ? planLines(info, plan, columns - 2) : [];
  }, [refusal, plan, info, columns]);

  let prompt: {
    text: string;
    tone: 'danger' | 'caution' | 'accent' | 'plain' | 'dim';
    second?: string;
    /** The typed-ID confirmation draws the prompt itself. */
    confirming?: boolean;
  };
  if (preview.status === 'checking') {
    prompt = { text: 'Reading what the plan needs and planning…', tone: 'dim' };
  } else if (preview.status === 'error') {
    prompt = {
      text: `Could not plan: ${sanitize(preview.message)}`,
      tone: 'danger',
      second: 'Esc: go back.',
    };
  } else if (refusal) {
    prompt = { text: 'Nothing can run. Esc: go back and change the choices.', tone: 'danger' };
  } else if (phase.step === 'starting') prompt = { text: 'Confirmed. Starting the run…', tone: 'accent' };
  else if (phase.step === 'startError') {
    prompt = {
      text: `Could not start the run: ${sanitize(phase.message)}`,
      tone: 'danger',
      second: 'Esc: go back.',
    };
  } else if (permanent) {
    prompt = { text: '', tone: 'danger', confirming: true };
  } else {
    prompt = {
      text: resumeOf
        ? 'Nothing is deleted (no permanent action). Finish this run? y: yes   n or Esc: go back'
        : 'Nothing is deleted (no permanent action). Run it? y: yes   n or Esc: go back',
      tone: 'caution',
    };
  }

  // The prompt wraps (a long ID must not push "or Esc to go back" off the line); the plan gets the rest.
  const promptRows: ConfirmationLine[] = prompt.confirming
    ? confirmation.lines(columns)
    : [
        ...wrapText(prompt.text, columns).map((text) => ({ text, tone: prompt.tone, bold: true })),
        ...wrapText(prompt.second ?? ' ', columns).map((text) => ({ text, tone: 'plain' as const })),
      ];
  const height = Math.max(3, bodyRows - 1 - promptRows.length);
  const maxScroll = Math.max(0, lines.length - height);
  const offset = Math.min(scroll, maxScroll);

  return (
    <Box flexDirection="column">
      <WindowedList rows={lines} offset={offset} height={height} index={-1} render={(l) => l} />
      <Line text={maxScroll > 0 ? positionText(offset, height, lines.length) : ' '} tone="dim" />
      {promptRows.map((line, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the prompt's lines, re-created as a whole
        <Line key={`p${i}`} text={line.text} tone={line.tone} bold={line.bold} />
      ))}
    </Box>
  );
}

/** A recorded run's plan (resume, restore) as the review shows it. */
function recorded(result: PlanResult): ReturnType<typeof previewOf> {
  return result.ok
    ? { status: 'planned', plan: result.plan }
    : { status: 'refused', refusal: result.refusal };
}
