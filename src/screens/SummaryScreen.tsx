/**
 * Step 7: what happened. Results per phase, what failed and why, the verify verdict per device,
 * where the journal is, and the exact command that undoes the temporary actions. The journal path
 * and the restore command are pinned below the scrolling list and wrapped, never cut, so they can be
 * copied from an 80-column terminal.
 */
import { Box } from 'ink';
import { useMemo } from 'react';
import { PHASES, type Phase, type Plan, type StepOutcome, type StepResult } from '../core/plan-types.js';
import { fitWidth, plural, sanitize, wrapText } from '../core/text.js';
import type { RunSummary } from '../services/backend.js';
import { Line } from './components/Line.js';
import { type ListRow, WindowedList } from './components/WindowedList.js';
import { type KeyHint, useScreen } from './context.js';
import { isChar } from './hooks/keys.js';
import { useRefState } from './hooks/use-ref-state.js';
import { verdictLabel } from './words.js';

type Counts = Record<StepOutcome, number>;

const zero = (): Counts => ({ succeeded: 0, alreadyDone: 0, failed: 0, skipped: 0 });

export function countsPerPhase(plan: Plan, results: readonly StepResult[]): Record<Phase, Counts> {
  const phaseOf = new Map(plan.steps.map((s) => [s.id, s.phase]));
  const out = Object.fromEntries(PHASES.map((p) => [p, zero()])) as Record<Phase, Counts>;
  for (const r of results) {
    const phase = phaseOf.get(r.stepId) ?? (r.stepId.split(':')[0] as Phase);
    const counts = out[phase];
    if (counts) counts[r.outcome]++;
  }
  return out;
}

export function summaryLines(plan: Plan, summary: RunSummary, width: number): ListRow[] {
  const lines: ListRow[] = [];
  const counts = countsPerPhase(plan, summary.results);
  const cols = [11, 8, 9, 8, 8];
  lines.push({
    text: ['PHASE', 'DONE', 'ALREADY', 'FAILED', 'SKIPPED']
      .map((h, i) => fitWidth(h, cols[i] ?? 8))
      .join(' '),
    bold: true,
  });
  for (const phase of PHASES) {
    const c = counts[phase];
    const cells = [phase, String(c.succeeded), String(c.alreadyDone), String(c.failed), String(c.skipped)];
    lines.push({
      text: cells.map((v, i) => fitWidth(v, cols[i] ?? 8)).join(' '),
      tone: c.failed > 0 ? 'danger' : 'plain',
    });
  }
  const callOf = new Map(plan.steps.map((s) => [s.id, s.call]));
  const failed = summary.results.filter((r) => r.outcome === 'failed');
  if (failed.length > 0) {
    lines.push({ text: ' ' });
    lines.push({ text: `Failed steps (${failed.length}):`, bold: true, tone: 'danger' });
    for (const r of failed) {
      const call = sanitize(callOf.get(r.stepId) ?? r.stepId);
      const text = `✗ ${call}: ${sanitize(r.message ?? 'failed')} (${plural(r.attempts, 'attempt')})`;
      for (const l of wrapText(text, width)) lines.push({ text: l, tone: 'danger' });
      for (const d of r.devices ?? []) {
        if (d.outcome !== 'failed') continue;
        lines.push({ text: `    ${sanitize(d.id)}: ${sanitize(d.message ?? 'failed')}`, tone: 'danger' });
      }
    }
  }
  lines.push({ text: ' ' });
  const tally = { blocked: 0, possible: 0, allowed: 0 };
  for (const v of summary.verify) tally[v.verdict]++;
  lines.push({
    text:
      'Verify: could each device provision again? ' +
      `${tally.blocked} blocked, ${tally.possible} possible, ${tally.allowed} allowed`,
    bold: true,
    tone: tally.allowed > 0 ? 'danger' : tally.possible > 0 ? 'caution' : 'ok',
  });
  if (summary.verify.length === 0) lines.push({ text: '  No verify results.', tone: 'dim' });
  for (const v of summary.verify) {
    const { marker, tone } = verdictLabel(v.verdict);
    const via = v.path ? ` [${sanitize(v.path)}]` : '';
    const text = `${sanitize(v.registrationId)}: ${sanitize(v.reason)}${via}`;
    wrapText(text, width - 12).forEach((line, i) => {
      lines.push({ text: `${fitWidth(i === 0 ? marker : '', 11)} ${line}`, tone });
    });
  }
  return lines;
}

const STATE_TEXT: Record<RunSummary['state'], { text: string; tone: 'ok' | 'danger' | 'caution' }> = {
  completed: { text: 'completed', tone: 'ok' },
  completedWithFailures: { text: 'completed WITH FAILURES', tone: 'danger' },
  aborted: { text: 'ABORTED (resumable)', tone: 'caution' },
};

export function SummaryScreen({ plan, summary }: { plan: Plan; summary: RunSummary }) {
  const failedCount = summary.results.filter((r) => r.outcome === 'failed').length;
  const hints: KeyHint[] = [
    ...(failedCount > 0 ? [{ keys: 'r', does: `retry the ${failedCount} failed`, footer: true }] : []),
    { keys: '↑↓ PgUp/PgDn', does: 'scroll', footer: true },
    { keys: 'Esc', does: 'start over', footer: true },
    { keys: 'q', does: 'quit', footer: true },
  ];
  const app = useScreen(hints, (k) => {
    const s = getScroll();
    const page = Math.max(1, height - 1);
    if (isChar(k, 'r') && failedCount > 0) app.nav.retryRun();
    else if (k.name === 'up' || isChar(k, 'k')) setScroll(Math.max(0, s - 1));
    else if (k.name === 'down' || isChar(k, 'j')) setScroll(Math.min(maxScroll, s + 1));
    else if (k.name === 'pageUp') setScroll(Math.max(0, s - page));
    else if (k.name === 'pageDown') setScroll(Math.min(maxScroll, s + page));
    else if (k.name === 'home' || isChar(k, 'g')) setScroll(0);
    else if (k.name === 'end' || isChar(k, 'G')) setScroll(maxScroll);
    else return false;
    return true;
  });
  const { columns, bodyRows } = app;
  const [scroll, setScroll, getScroll] = useRefState(0);
  const lines = useMemo(() => summaryLines(plan, summary, columns), [plan, summary, columns]);

  const pinned: ListRow[] = [];
  if (summary.journalError) {
    const text = `! The journal could not be written: ${sanitize(summary.journalError)}. The run stopped.`;
    for (const line of wrapText(text, columns)) pinned.push({ text: line, tone: 'danger', bold: true });
  }
  for (const text of wrapText(`Journal: ${sanitize(summary.journalPath)}`, columns)) pinned.push({ text });
  if (summary.restoreCommand) {
    pinned.push({ text: 'To undo the temporary (disable) actions, run:', bold: true });
    for (const text of wrapText(sanitize(summary.restoreCommand), columns - 2))
      pinned.push({ text: `  ${text}`, tone: 'accent' });
  } else pinned.push({ text: 'Nothing to restore: no temporary actions were done.', tone: 'dim' });
  if (summary.state === 'aborted') {
    pinned.push({
      text: `Finish it later with: iot-deprovision resume ${sanitize(summary.runId)}`,
      tone: 'caution',
    });
  }
  const height = Math.max(2, bodyRows - 1 - pinned.length);
  const maxScroll = Math.max(0, lines.length - height);
  const offset = Math.min(scroll, maxScroll);
  const state = STATE_TEXT[summary.state];
  return (
    <Box flexDirection="column">
      <Line text={`Run ${sanitize(summary.runId)} ${state.text}.`} tone={state.tone} bold />
      <WindowedList rows={lines} offset={offset} height={height} index={-1} render={(l) => l} />
      {pinned.map((l, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: fixed lines, re-created as a whole
        <Line key={`${i}:${l.text}`} text={l.text} tone={l.tone} bold={l.bold} />
      ))}
    </Box>
  );
}
