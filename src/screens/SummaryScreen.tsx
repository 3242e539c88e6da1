/**
 * Step 7: what happened. Results per phase, what failed and why, the verify verdict per device,
 * where the journal is, and the exact command that undoes the temporary actions. The journal path
 * and the restore command are pinned below the scrolling list and wrapped, never cut, so they can be
 * copied from an 80-column terminal.
 */
import { commandLine } from '../core/invocation.js';
import { Box } from 'ink';
import { useMemo } from 'react';
import type { Plan } from '../core/plan-types.js';
import { plural, sanitize } from '../core/text.js';
import { wrapText } from '../terminal/text.js';
import type { RunSummary } from '../services/backend.js';
import { Line } from './components/Line.js';
import { type ListRow, WindowedList } from './components/WindowedList.js';
import { tallyAttempts, tallyText } from './components/attempt-lines.js';
import { type KeyHint, useApp, useScreen } from './context.js';
import { type Keystroke, isChar } from './hooks/keys.js';
import { useRefState } from './hooks/use-ref-state.js';
import { type RegistrationAttempts, useRegistrationAttempts } from './hooks/use-registration-attempts.js';
import { type DeviceBlock, phaseTable, summaryLayout } from './components/summary-lines.js';

const STATE_TEXT: Record<RunSummary['state'], { text: string; tone: 'ok' | 'danger' | 'caution' }> = {
  completed: { text: 'completed', tone: 'ok' },
  completedWithFailures: { text: 'completed WITH FAILURES', tone: 'danger' },
  aborted: { text: 'ABORTED (resumable)', tone: 'caution' },
};

/** At most this many devices per `T`: each attempt is a real registration, one at a time. */
export const TRY_ALL_LIMIT = 50;

const clamp = (n: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, n));

/** The scroll that shows the whole block (its first line when it is taller than the window). */
function reveal(scroll: number, block: DeviceBlock | undefined, height: number, maxScroll: number): number {
  if (!block) return scroll;
  let s = scroll;
  if (block.last >= s + height) s = block.last - height + 1;
  if (block.first < s) s = block.first;
  return clamp(s, 0, maxScroll);
}

/** Where the window is: the top line, the highlighted device, and whether the window follows it. */
interface View {
  scroll: number;
  cursor: number;
  follow: boolean;
}

export function SummaryScreen({ plan, summary }: { plan: Plan; summary: RunSummary }) {
  const { backend } = useApp();
  const attempts = useRegistrationAttempts(backend);
  const hasRuns = backend.listRuns !== undefined;
  const devices = summary.verify;
  const canTry = attempts.available && devices.length > 0;
  const failedCount = summary.results.filter((r) => r.outcome === 'failed').length;
  const hints = summaryHints(failedCount, canTry, hasRuns);
  const app = useScreen(hints, (k) => {
    if (isChar(k, 'r') && failedCount > 0) app.nav.retryRun();
    else if (isChar(k, 'R') && hasRuns) app.nav.push({ screen: 'runs' });
    else if (canTry) return deviceKey(k);
    else {
      const s = shownScroll(getView());
      const page = Math.max(1, height - 1);
      if (k.name === 'up' || isChar(k, 'k')) setScroll(s - 1);
      else if (k.name === 'down' || isChar(k, 'j')) setScroll(s + 1);
      else if (k.name === 'pageUp') setScroll(s - page);
      else if (k.name === 'pageDown') setScroll(s + page);
      else if (k.name === 'home' || isChar(k, 'g')) setScroll(0);
      else if (k.name === 'end' || isChar(k, 'G')) setScroll(maxScroll);
      else return false;
    }
    return true;
  });
  const { columns, bodyRows } = app;
  const [view, setView, getView] = useRefState<View>({ scroll: 0, cursor: 0, follow: false });
  const setScroll = (scroll: number) =>
    setView((v) => ({ ...v, scroll: clamp(scroll, 0, maxScroll), follow: false }));
  // The highlight marker takes two columns of every line.
  const textWidth = canTry ? columns - 2 : columns;
  // With how the run's verify read each hub (the backend's last verify: this run's).
  const { lines, blocks } = useMemo(
    () => summaryLayout(plan, summary, textWidth, attempts.states, backend.hubReads?.() ?? []),
    [plan, summary, textWidth, attempts.states, backend],
  );

  /** Arrows move the highlight between devices; past the first or last device they scroll the rest. */
  const deviceKey = (k: Keystroke): boolean => {
    const v = { ...getView(), scroll: shownScroll(getView()) };
    const page = Math.max(1, height - 1);
    const moveTo = (cursor: number) => {
      const c = clamp(cursor, 0, devices.length - 1);
      setView({ cursor: c, follow: true, scroll: reveal(v.scroll, blocks[c], height, maxScroll) });
    };
    const visible = (scroll: number) =>
      blocks.map((b, i) => ({ b, i })).filter(({ b }) => b.first >= scroll && b.first < scroll + height);
    if (k.name === 'up' || isChar(k, 'k')) {
      if (v.cursor > 0) moveTo(v.cursor - 1);
      else setScroll(v.scroll - 1);
    } else if (k.name === 'down' || isChar(k, 'j')) {
      if (v.cursor < devices.length - 1) moveTo(v.cursor + 1);
      else setScroll(v.scroll + 1);
    } else if (k.name === 'pageDown' || k.name === 'pageUp') {
      const scroll = clamp(v.scroll + (k.name === 'pageDown' ? page : -page), 0, maxScroll);
      const shown = visible(scroll);
      const cursor = (k.name === 'pageDown' ? shown[0] : shown.at(-1))?.i ?? v.cursor;
      setView({ scroll, cursor, follow: false });
    } else if (k.name === 'home' || isChar(k, 'g')) setView({ scroll: 0, cursor: 0, follow: false });
    else if (k.name === 'end' || isChar(k, 'G')) {
      setView({ scroll: maxScroll, cursor: devices.length - 1, follow: false });
    } else if (isChar(k, 't')) {
      const device = devices[v.cursor];
      if (device) attempts.request([device.registrationId]);
      setView({ ...v, follow: true });
    } else if (isChar(k, 'T')) {
      attempts.request(devices.slice(0, TRY_ALL_LIMIT).map((d) => d.registrationId));
    } else return false;
    return true;
  };

  const pinned = pinnedLines(summary, columns, canTry ? attemptStatus(attempts, devices) : undefined);
  const top = topLines(plan, summary, failedCount);
  // The highlighted device's whole reason, under the list (its line there is one line, cut to fit).
  const at = canTry ? devices[clamp(view.cursor, 0, Math.max(0, devices.length - 1))] : undefined;
  const detail = at ? reasonLines(at, columns) : [];
  const height = Math.max(2, bodyRows - 1 - top.length - detail.length - pinned.length);
  const maxScroll = Math.max(0, lines.length - height);
  const cursor = clamp(view.cursor, 0, Math.max(0, devices.length - 1));
  // An answer can make the highlighted device's lines longer: the window follows when it was following.
  const shownScroll = (v: View): number => {
    const scroll = clamp(v.scroll, 0, maxScroll);
    return v.follow
      ? reveal(scroll, blocks[clamp(v.cursor, 0, blocks.length - 1)], height, maxScroll)
      : scroll;
  };
  const offset = shownScroll(view);
  const state = STATE_TEXT[summary.state];
  return (
    <Box flexDirection="column">
      <Line text={`Run ${sanitize(summary.runId)} ${state.text}.`} tone={state.tone} bold />
      {top.map((l, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: fixed lines, re-created as a whole
        <Line key={`top${i}`} text={l.text} tone={l.tone} bold={l.bold} />
      ))}
      <WindowedList
        rows={lines}
        offset={offset}
        height={height}
        index={canTry ? (blocks[cursor]?.first ?? -1) : -1}
        render={(l) => l}
      />
      {detail.map((l, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: fixed lines, re-created as a whole
        <Line key={`detail${i}`} text={l.text} tone={l.tone} />
      ))}
      {pinned.map((l, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: fixed lines, re-created as a whole
        <Line key={`${i}:${l.text}`} text={l.text} tone={l.tone} bold={l.bold} />
      ))}
    </Box>
  );
}

function summaryHints(failedCount: number, canTry: boolean, hasRuns: boolean): KeyHint[] {
  return [
    ...(failedCount > 0 ? [{ keys: 'r', does: `retry the ${failedCount} failed`, footer: true }] : []),
    ...(canTry
      ? [
          { keys: 't', does: 'try to register now', footer: true },
          { keys: 'T', does: `try all (≤${TRY_ALL_LIMIT})`, footer: true },
          { keys: '↑↓', does: 'move', footer: true },
          { keys: 'j/k', does: 'move, like ↑↓' },
          { keys: 'PgUp/PgDn', does: 'page up / down' },
          { keys: 'Home/End g/G', does: 'top / bottom' },
        ]
      : [{ keys: '↑↓ PgUp/PgDn', does: 'scroll', footer: true }]),
    { keys: 'Esc', does: 'start over', footer: true },
    // q before R: on a narrow footer the way out stays visible (R is in ? help too).
    { keys: 'q', does: 'quit', footer: true },
    ...(hasRuns ? [{ keys: 'R', does: 'runs', footer: true }] : []),
  ];
}

/** The lines pinned under the list: attempts, the journal, the restore command, how to resume. */
function pinnedLines(summary: RunSummary, columns: number, attemptLine: ListRow | undefined): ListRow[] {
  const pinned: ListRow[] = [];
  if (attemptLine) pinned.push(attemptLine);
  if (summary.journalError) {
    const text = `! The journal could not be written: ${sanitize(summary.journalError)}. The run stopped.`;
    for (const line of wrapText(text, columns)) pinned.push({ text: line, tone: 'danger', bold: true });
  }
  for (const text of wrapText(`Journal: ${sanitize(summary.journalPath)}`, columns)) pinned.push({ text });
  if (summary.restoreCommand) {
    pinned.push({ text: 'To undo the temporary actions, run:', bold: true });
    for (const text of wrapText(sanitize(summary.restoreCommand), columns - 2))
      pinned.push({ text: `  ${text}`, tone: 'accent' });
    if (summary.restoreUndoes)
      for (const text of wrapText(sanitize(summary.restoreUndoes), columns))
        pinned.push({ text, tone: 'dim' });
  } else pinned.push({ text: 'Nothing to restore: no temporary actions were done.', tone: 'dim' });
  if (summary.state === 'aborted') {
    pinned.push({
      text: `Finish it later with: ${commandLine('resume', sanitize(summary.runId))}`,
      tone: 'caution',
    });
  }
  return pinned;
}

/** The phases' table, and a line when steps failed. */
function topLines(plan: Plan, summary: RunSummary, failedCount: number): ListRow[] {
  const top = phaseTable(plan, summary);
  if (failedCount > 0) {
    top.push({
      text: `✗ ${plural(failedCount, 'step')} failed: listed below the devices; r retries them.`,
      tone: 'danger',
      bold: true,
    });
  }
  return top;
}

/** A device's whole reason (at most three lines). */
function reasonLines(at: RunSummary['verify'][number], columns: number): ListRow[] {
  return wrapText(
    `${sanitize(at.registrationId)}: ${sanitize(at.reason)}${at.path ? ` [${sanitize(at.path)}]` : ''}`,
    columns,
  )
    .slice(0, 3)
    .map((text) => ({ text, tone: 'dim' as const }));
}

/** One line under the list: what is registering now, or what the attempts found so far. */
function attemptStatus(attempts: RegistrationAttempts, devices: RunSummary['verify']): ListRow {
  const now = attempts.registering;
  if (now) {
    const queued = now.queued > 0 ? ` (${now.queued} more waiting)` : '';
    return { text: `registering ${sanitize(now.registrationId)}…${queued}`, tone: 'info', bold: true };
  }
  const tally = tallyAttempts(devices, attempts.states);
  if (tally.tried === 0) {
    const capped = devices.length > TRY_ALL_LIMIT ? ` (first ${TRY_ALL_LIMIT})` : '';
    return {
      text: `Sandbox: t = the highlighted device tries to register now, T = all${capped}`,
      tone: 'dim',
    };
  }
  return {
    text: tallyText(tally),
    tone: tally.differs > 0 ? 'danger' : tally.unconfirmed > 0 ? 'caution' : 'ok',
    bold: tally.differs > 0,
  };
}
