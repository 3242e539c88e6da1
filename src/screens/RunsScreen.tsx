/**
 * The journaled runs, inside the TUI: the list (reached with r from the Target screen, R from the
 * Summary), and one run opened with its summary. An interrupted run is resumed, a temporary one restored,
 * through the same review and confirmation as a new run (the App's session runs it).
 */
import { Box } from 'ink';
import { useState } from 'react';
import { PHASES, type Plan } from '../core/plan-types.js';
import { type Actions, devicesLabel, SAFE_ACTIONS, type Selection } from '../core/selection.js';
import { formatTimestamp, plural, sanitize, shortHost } from '../core/text.js';
import { formatRow, layoutColumns, wrapText } from '../terminal/text.js';
import type { RunListing } from '../services/journal/runs.js';
import type { JournalContents } from '../services/journal/reader.js';
import { Line } from './components/Line.js';
import { type ListRow, WindowedList } from './components/WindowedList.js';
import { type KeyHint, useApp, useScreen } from './context.js';
import { isChar } from './hooks/keys.js';
import { useListState } from './hooks/use-list-state.js';
import { useLoad } from './hooks/use-load.js';
import { useRefState } from './hooks/use-ref-state.js';
import { isPermanent } from './PermanenceScreen.js';
import type { SelectionInfo } from './routes.js';

const LIST_HINTS: KeyHint[] = [
  { keys: 'Enter', does: 'open the run', footer: true },
  { keys: '↑↓ j/k', does: 'move', footer: true },
  { keys: '/', does: 'filter' },
  { keys: 'PgUp/PgDn', does: 'page up / down' },
  { keys: 'Home/End g/G', does: 'first / last' },
  { keys: 'r', does: 'read the journals again' },
  { keys: 'Esc', does: 'back', footer: true },
  { keys: 'q', does: 'quit', footer: true },
];

/** The selection in a few words (like the `runs` command). */
export function selectionText(s: Selection): string {
  if (s.kind === 'enrollment') return `enrollment ${s.registrationId}`;
  if (s.kind === 'group') return `group ${s.groupId}`;
  if (s.kind === 'devices') return devicesLabel(s.ids);
  const n = s.devices.length;
  return n === 1
    ? `device ${s.devices[0]?.registrationId} of group ${s.groupId}`
    : `${n} devices of group ${s.groupId}`;
}

export function actionsTextOf(a: Actions | undefined): string {
  if (!a) return 'actions unknown';
  const parts = [`DPS ${a.disenroll}`, `hub ${a.deregister}`];
  if (a.deleteRegistrations) parts.push('delete records');
  if (a.deleteGroup) parts.push('delete group');
  if (a.includeChildren) parts.push('Edge children too');
  return parts.join(', ');
}

const stateText = (r: RunListing): string =>
  r.error ? 'unreadable' : r.restoreOf ? `${r.state} (restore)` : r.state;

const targetText = (r: RunListing): string => {
  const t = r.target;
  if (!t) return 'unknown (journal of an older version)';
  const hubs =
    t.hubHosts.length === 1 ? `hub ${shortHost(t.hubHosts[0] ?? '')}` : plural(t.hubHosts.length, 'hub');
  return `DPS ${t.dpsHost}${t.sandbox ? ' (sandbox)' : ''}, ${hubs}`;
};

const whatText = (r: RunListing): string =>
  r.restoreOf ? `restores run ${r.restoreOf}` : `${selectionText(r.selection)}: ${actionsTextOf(r.actions)}`;

/** Can be resumed: the run did not finish (the process stopped, or it was aborted). */
export const resumable = (r: RunListing): boolean =>
  !r.error && (r.state === 'interrupted' || r.state === 'aborted');
/** Can be restored: a run (not itself a restore) not restored yet that did something temporary. */
export const restorable = (r: RunListing): boolean =>
  !r.error &&
  !r.restoreOf &&
  !r.restoredBy?.length &&
  r.counts.succeeded > 0 &&
  (r.actions === undefined || r.actions.disenroll === 'disable' || r.actions.deregister === 'disable');

export function RunsScreen() {
  const app = useScreen(LIST_HINTS, (k) => {
    if (list.filtering && list.handleKey(k)) return true;
    if (k.name === 'return') {
      const run = list.current();
      if (run) app.nav.push({ screen: 'runDetail', listing: run });
      return true;
    }
    if (isChar(k, 'r')) {
      reload();
      return true;
    }
    return list.handleKey(k);
  });
  const { backend, columns, bodyRows } = app;
  const [loaded, reload] = useLoad(async () => (backend.listRuns ? backend.listRuns() : []));
  // Title, column heads, then the list, then four lines about the highlighted run.
  const listHeight = Math.max(1, bodyRows - 7);
  const runs = loaded.status === 'ready' ? loaded.value : NONE;
  const list = useListState<RunListing>(runs, {
    searchText: (r) => `${r.runId} ${stateText(r)} ${whatText(r)} ${targetText(r)}`,
    height: listHeight,
  });
  const widths = layoutColumns([{ width: 16 }, { width: 21 }, { flex: 1 }], columns - 4);
  const current = list.rows[list.index];
  const detail: ListRow[] = current
    ? [
        { text: `Target: ${sanitize(targetText(current))}` },
        { text: `What:   ${sanitize(whatText(current))}` },
        {
          text: current.restoredBy?.length
            ? `Restored by ${current.restoredBy.map(sanitize).join(', ')}`
            : current.restoreOf
              ? `The restore of run ${sanitize(current.restoreOf)}`
              : 'Not restored',
          tone: 'dim',
        },
        {
          text:
            [resumable(current) ? 'can be resumed' : '', restorable(current) ? 'can be restored' : '']
              .filter(Boolean)
              .join(' · ')
              .replace(/^(.)/, (c) => c.toUpperCase()) || ' ',
          tone: 'accent',
        },
      ]
    : [];
  return (
    <Box flexDirection="column">
      <Line
        text={
          loaded.status === 'loading'
            ? 'Reading the run journals…'
            : loaded.status === 'error'
              ? `Could not read the run journals: ${sanitize(loaded.message)}`
              : `Runs recorded on this machine (${runs.length}), newest first${list.filter ? ` · filter: ${sanitize(list.filter)}` : ''}`
        }
        bold
        tone={loaded.status === 'error' ? 'danger' : 'plain'}
      />
      <Line text={`  ${formatRow(['WHEN (UTC)', 'STATE', 'WHAT'], widths)}`} tone="dim" />
      <WindowedList
        rows={list.rows}
        offset={list.offset}
        height={listHeight}
        index={list.index}
        empty={loaded.status === 'ready' ? 'No runs recorded yet.' : undefined}
        render={(r) => ({
          text: formatRow([formatTimestamp(r.createdAt), stateText(r), sanitize(whatText(r))], widths),
          tone: r.error ? 'danger' : r.state === 'interrupted' || r.state === 'aborted' ? 'caution' : 'plain',
        })}
      />
      <Line text=" " />
      {detail.length > 0
        ? detail.map((d, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: fixed lines about the highlighted run
            <Line key={`d${i}`} text={d.text} tone={d.tone} />
          ))
        : [0, 1, 2, 3].map((i) => <Line key={`d${i}`} text=" " />)}
    </Box>
  );
}

const NONE: RunListing[] = [];

/** The review's words for a recorded run's plan. */
function infoFor(plan: Pick<Plan, 'selection'>, listing: RunListing, restore: boolean): SelectionInfo {
  const s = plan.selection;
  const id = s.kind === 'enrollment' ? s.registrationId : s.kind === 'devices' ? (s.ids[0] ?? '') : s.groupId;
  return {
    selection: s,
    targetLabel: restore
      ? `the restore of run ${sanitize(listing.runId)}`
      : `run ${sanitize(listing.runId)} (resumed)`,
    scope: restore
      ? `undo what it did to ${sanitize(selectionText(s))}`
      : `${sanitize(selectionText(s))} (steps already done are not redone)`,
    attestation: '',
    confirmId: id,
  };
}

/** Why `c` could not continue the run (the restore's own outcome shows on the review). */
type Action = { step: 'idle' } | { step: 'error'; text: string };

export function RunDetailScreen({ listing }: { listing: RunListing }) {
  const { backend: session } = useApp();
  const canResume = resumable(listing) && !!session.resume;
  const canRestore = restorable(listing) && !!session.planRestore;
  const hints: KeyHint[] = [
    ...(canResume ? [{ keys: 'c', does: 'continue (resume) the run', footer: true }] : []),
    ...(canRestore ? [{ keys: 'u', does: 'undo (restore) the run', footer: true }] : []),
    { keys: '↑↓ PgUp/PgDn', does: 'scroll', footer: true },
    { keys: 'Esc', does: 'back to the runs', footer: true },
    { keys: 'q', does: 'quit', footer: true },
  ];
  const [scroll, setScroll, getScroll] = useRefState(0);
  const [action, setAction] = useState<Action>({ step: 'idle' });
  const app = useScreen(hints, (k) => {
    const s = getScroll();
    const page = Math.max(1, height - 1);
    if (k.name === 'up' || isChar(k, 'k')) setScroll(Math.max(0, s - 1));
    else if (k.name === 'down' || isChar(k, 'j')) setScroll(Math.min(maxScroll, s + 1));
    else if (k.name === 'pageUp') setScroll(Math.max(0, s - page));
    else if (k.name === 'pageDown') setScroll(Math.min(maxScroll, s + page));
    else if (isChar(k, 'c') && canResume) resume();
    else if (isChar(k, 'u') && canRestore) restore();
    else return false;
    return true;
  });
  const { backend, columns, bodyRows } = app;
  const [loaded] = useLoad(async () => (backend.readRun ? backend.readRun(listing.path) : undefined));

  const resume = () => {
    const contents = loaded.status === 'ready' ? loaded.value : undefined;
    if (!contents?.plan) {
      setAction({
        step: 'error',
        text: 'This run stopped before its plan was journaled: there is nothing to resume.',
      });
      return;
    }
    const plan = contents.plan;
    app.nav.push({
      screen: 'review',
      info: infoFor(plan, listing, false),
      actions: contents.header.actions ?? plan.actions,
      resume: { plan, journalPath: listing.path },
    });
  };

  /** The session plans the restore; the review shows it and asks (a restore is temporary: y/n). */
  const restore = () =>
    app.nav.push({
      screen: 'review',
      info: infoFor({ selection: listing.selection }, listing, true),
      actions: SAFE_ACTIONS,
      restoreOf: listing.path,
    });

  const lines = detailLines(listing, loaded.status === 'ready' ? loaded.value : undefined, columns - 2);
  if (loaded.status === 'loading') lines.push({ text: 'Reading the journal…', tone: 'dim' });
  if (loaded.status === 'error')
    lines.push({ text: `Could not read the journal: ${sanitize(loaded.message)}`, tone: 'danger' });
  const prompt: ListRow =
    action.step === 'error'
      ? { text: sanitize(action.text), tone: 'danger', bold: true }
      : canResume || canRestore
        ? {
            text: [canResume ? 'c: continue this run' : '', canRestore ? 'u: undo (restore) it' : '']
              .filter(Boolean)
              .join('   '),
            tone: 'caution',
            bold: true,
          }
        : { text: ' ' };
  const promptRows = wrapText(prompt.text, columns).map((text) => ({ ...prompt, text }));
  const height = Math.max(3, bodyRows - 1 - promptRows.length);
  const maxScroll = Math.max(0, lines.length - height);
  const offset = Math.min(scroll, maxScroll);
  return (
    <Box flexDirection="column">
      <WindowedList rows={lines} offset={offset} height={height} index={-1} render={(l) => l} />
      <Line
        text={
          maxScroll > 0
            ? `lines ${offset + 1}-${Math.min(lines.length, offset + height)} of ${lines.length}`
            : ' '
        }
        tone="dim"
      />
      {promptRows.map((line, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the prompt's lines, re-created as a whole
        <Line key={`p${i}`} text={line.text} tone={line.tone} bold={line.bold} />
      ))}
    </Box>
  );
}

/** A recorded run's summary: what, where, how it ended, then each step and its outcome. */
export function detailLines(r: RunListing, contents: JournalContents | undefined, width: number): ListRow[] {
  const out: ListRow[] = [];
  const wrap = (text: string, row: Omit<ListRow, 'text'> = {}) => {
    for (const [i, line] of wrapText(sanitize(text), width).entries())
      out.push({ ...row, text: i === 0 ? line : `  ${line}` });
  };
  wrap(`Run ${r.runId} · ${formatTimestamp(r.createdAt)} UTC · ${stateText(r)}`, { bold: true });
  if (r.error) {
    wrap(`unreadable: ${r.error}`, { tone: 'danger' });
    return out;
  }
  wrap(`What:   ${whatText(r)}`);
  wrap(`Target: ${targetText(r)}`);
  const c = r.counts;
  wrap(
    `Steps:  ${c.steps} · ${c.succeeded} done · ${c.alreadyDone} already done · ${c.failed} failed · ` +
      `${c.skipped} skipped · ${c.unknown} unknown · ${c.notStarted} not started`,
    { tone: c.failed > 0 || c.unknown > 0 ? 'caution' : 'plain' },
  );
  if (r.restoredBy?.length) wrap(`Restored by run ${r.restoredBy.join(', ')}`);
  else if (!r.restoreOf) wrap('Not restored', { tone: 'dim' });
  if (r.actions && isPermanent(r.actions))
    wrap('Permanent actions: what they deleted cannot be restored.', { tone: 'caution' });
  if (r.torn) wrap('Some journal lines were torn by a crash and are ignored.', { tone: 'caution' });
  const plan = contents?.plan;
  if (!plan) return out;
  out.push({ text: ' ' });
  for (const phase of PHASES) {
    const steps = plan.steps.filter((s) => s.phase === phase);
    if (steps.length === 0) continue;
    out.push({ text: `${phase}`, bold: true });
    for (const s of steps) {
      const res = contents.results.get(s.id);
      const outcome = res?.outcome ?? (contents.unknownSteps.includes(s.id) ? 'unknown' : 'not started');
      wrap(`  ${outcome.padEnd(11)} ${s.call}${res?.message ? ` (${res.message})` : ''}`, {
        tone:
          outcome === 'failed' || outcome === 'unknown'
            ? 'danger'
            : outcome === 'not started'
              ? 'dim'
              : 'plain',
      });
    }
  }
  return out;
}
