/** Step 2: choose an individual enrollment or an enrollment group (two tabs, each filterable). */
import { Box, Text } from 'ink';
import type { IndividualEnrollment } from '../core/model.js';
import { formatTimestamp, plural, sanitize, shortHost } from '../core/text.js';
import { type ColumnSpec, formatRow, layoutColumns, truncate, wrapText } from '../terminal/text.js';
import type { EnrollmentGroupSummary } from '../services/backend.js';
import type { GroupLeftWithRecords } from '../services/journal/leftovers.js';
import { ORPHANED_RECORDS_ACTIONS } from '../core/selection.js';
import { Line } from './components/Line.js';
import { TextPrompt, useTextPrompt } from './components/TextPrompt.js';
import { ListStatus } from './components/ListStatus.js';
import { WindowedList } from './components/WindowedList.js';
import { type AppServices, type KeyHint, useScreen } from './context.js';
import { isChar, type Keystroke } from './hooks/keys.js';
import { type ListState, useListState } from './hooks/use-list-state.js';
import { useLoad } from './hooks/use-load.js';
import { useRefState } from './hooks/use-ref-state.js';
import { groupAttestation, individualAttestation } from './words.js';

type Tab = 'individual' | 'groups';

const HINTS: KeyHint[] = [
  { keys: 'Enter', does: 'open', footer: true },
  { keys: 'Tab ←→', does: 'individual / groups', footer: true },
  { keys: '/', does: 'filter', footer: true },
  { keys: 'Esc', does: 'clear filter / back', footer: true },
  { keys: '↑↓ j/k', does: 'move' },
  { keys: 'PgUp/PgDn', does: 'page up / down' },
  { keys: 'Home/End g/G', does: 'first / last' },
  { keys: 'r', does: 'read the enrollments again' },
  { keys: 'f', does: 'find device', footer: true },
  { keys: 'o', does: 'orphaned records of a deleted group (groups tab)' },
  { keys: 'q', does: 'quit', footer: true },
];

const INDIVIDUAL_COLUMNS: ColumnSpec[] = [{ flex: 3 }, { width: 13 }, { width: 8 }, { flex: 2 }];
const GROUP_COLUMNS: ColumnSpec[] = [
  { flex: 3 },
  { width: 13 },
  { width: 8 },
  { width: 7, align: 'right' },
  { flex: 2 },
];

const hubsText = (hubs: string[] | undefined): string =>
  hubs && hubs.length > 0 ? hubs.map((h) => shortHost(sanitize(h))).join(',') : 'any';

function individualCells(e: IndividualEnrollment): string[] {
  const id = sanitize(e.registrationId) + (e.blocker ? ' [blocker]' : '');
  return [id, individualAttestation(e), e.provisioningStatus, hubsText(e.iotHubs)];
}

function groupCells(g: EnrollmentGroupSummary): string[] {
  const count = g.deviceCount === undefined ? '?' : `${g.deviceCount}${g.deviceCountIsLowerBound ? '+' : ''}`;
  return [
    sanitize(g.enrollmentGroupId),
    groupAttestation(g),
    g.provisioningStatus,
    count,
    hubsText(g.iotHubs),
  ];
}

const NONE: never[] = [];

/** Offered group IDs shown under the `o` prompt (more are said to exist). */
const OFFERED_ROWS = 3;

const offeredText = (g: GroupLeftWithRecords): string =>
  `${sanitize(g.groupId)} · ${plural(g.records, 'record')} left · run ${sanitize(g.runId)} (${formatTimestamp(g.deletedAt)})`;

export function EnrollmentsScreen() {
  const app = useScreen(HINTS, (k) => {
    const list = getTab() === 'individual' ? individual : groups;
    if (orphaned.prompt.open) return orphaned.handleKey(k);
    if (list.filtering && list.handleKey(k)) return true;
    orphaned.setNote(undefined);
    if (getTab() === 'groups' && isChar(k, 'o')) {
      orphaned.ask();
      return true;
    }
    if (k.name === 'tab' || k.name === 'left' || k.name === 'right') {
      setTab((t) => (t === 'individual' ? 'groups' : 'individual'));
      return true;
    }
    if (k.name === 'return') {
      if (getTab() === 'individual') {
        const enrollment = individual.current();
        if (enrollment) app.nav.push({ screen: 'devices', source: { kind: 'enrollment', enrollment } });
      } else {
        const group = groups.current();
        if (group) app.nav.push({ screen: 'devices', source: { kind: 'group', group } });
      }
      return true;
    }
    if (isChar(k, 'r')) {
      reload();
      return true;
    }
    if (isChar(k, 'f') && app.backend.findDevices) {
      app.nav.push({ screen: 'findDevices' });
      return true;
    }
    return list.handleKey(k);
  });
  const { backend, columns, bodyRows } = app;
  const [loaded, reload] = useLoad(async () => {
    const [enrollments, groupList] = await Promise.all([backend.listEnrollments(), backend.listGroups()]);
    return { enrollments, groups: groupList };
  });
  const [tab, setTab, getTab] = useRefState<Tab>('individual');
  const ready = loaded.status === 'ready' ? loaded.value : undefined;
  const orphaned = useOrphanedRecordsPrompt(app, ready?.groups);
  const listHeight = Math.max(1, bodyRows - 3 - orphaned.rows);
  const individual = useListState<IndividualEnrollment>(ready?.enrollments ?? NONE, {
    searchText: (e) => individualCells(e).join(' '),
    height: listHeight,
  });
  const groups = useListState<EnrollmentGroupSummary>(ready?.groups ?? NONE, {
    searchText: (g) => groupCells(g).join(' '),
    height: listHeight,
  });

  const isIndividual = tab === 'individual';
  const specs = isIndividual ? INDIVIDUAL_COLUMNS : GROUP_COLUMNS;
  const widths = layoutColumns(specs, columns - 2);
  const headings = isIndividual
    ? ['REGISTRATION ID', 'ATTESTATION', 'STATUS', 'HUBS']
    : ['GROUP ID', 'ATTESTATION', 'STATUS', 'DEVICES', 'HUBS'];
  const tabLabel = (t: Tab, label: string, count: number | undefined) => {
    const text = ` ${label}${count === undefined ? '' : ` (${count})`} `;
    return t === tab ? `[${text}]` : ` ${text} `;
  };
  const tabs =
    tabLabel('individual', 'Individual', ready?.enrollments.length) +
    tabLabel('groups', 'Groups', ready?.groups.length);
  const table = { widths, specs, height: listHeight };
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end" bold>
        {truncate(`${tabs}   Tab switches`, columns)}
      </Text>
      <Line text={`  ${formatRow(headings, widths, specs)}`} tone="dim" />
      {loaded.status === 'loading' ? (
        <Line text="Reading enrollments and enrollment groups from DPS…" />
      ) : loaded.status === 'error' ? (
        <Box flexDirection="column">
          <Line text={`Could not read the enrollments: ${sanitize(loaded.message)}`} tone="danger" />
          <Line text="Press r to try again, Esc to go back to the target." />
        </Box>
      ) : isIndividual ? (
        <EnrollmentList
          list={individual}
          table={table}
          cells={individualCells}
          none="No individual enrollments."
        />
      ) : (
        <EnrollmentList list={groups} table={table} cells={groupCells} none="No enrollment groups." />
      )}
      {ready ? <ListStatus list={isIndividual ? individual : groups} /> : null}
      <OrphanedRecordsPrompt orphaned={orphaned} columns={columns} />
    </Box>
  );
}

/** One tab's list: a row per enrollment or group, disabled ones dimmed. */
function EnrollmentList<T extends { provisioningStatus: string }>({
  list,
  table,
  cells,
  none,
}: {
  list: ListState<T>;
  table: { widths: number[]; specs: ColumnSpec[]; height: number };
  cells: (item: T) => string[];
  none: string;
}) {
  return (
    <WindowedList
      rows={list.rows}
      offset={list.offset}
      height={table.height}
      index={list.index}
      empty={list.total === 0 ? none : 'Nothing matches the filter.'}
      render={(item) => ({
        text: formatRow(cells(item), table.widths, table.specs),
        tone: item.provisioningStatus === 'disabled' ? 'dim' : 'plain',
      })}
    />
  );
}

/**
 * `o` on the groups tab: the ID of a deleted group whose registration records remain (orphaned), typed
 * or picked (Up/Down) from the groups journaled runs deleted with records left; Enter plans the
 * deletion of those records on the review.
 */
function useOrphanedRecordsPrompt(app: AppServices, groups: EnrollmentGroupSummary[] | undefined) {
  const [note, setNote] = useRefState<string | undefined>(undefined);
  /** Groups journaled runs deleted with registration records left (offered while the prompt is open). */
  const [offered, setOffered, getOffered] = useRefState<GroupLeftWithRecords[]>([]);
  const prompt = useTextPrompt((typed) => {
    const groupId = typed.trim();
    if (groupId === '') return;
    if ((groups ?? []).some((g) => g.enrollmentGroupId === groupId)) {
      setNote(
        `Enrollment group ${sanitize(groupId)} still exists, so its records are not orphaned: open it and choose ` +
          '"delete registration records".',
      );
      return;
    }
    const id = sanitize(groupId);
    app.nav.push({
      screen: 'review',
      info: {
        selection: { kind: 'group', groupId },
        targetLabel: `deleted enrollment group ${id}`,
        scope: 'the registration records it left (orphaned; they count against the DPS registration quota)',
        attestation: 'unknown (the group is deleted)',
        confirmId: id,
      },
      actions: ORPHANED_RECORDS_ACTIONS,
    });
  });
  const ask = () => {
    prompt.ask('ID of a deleted enrollment group whose registration records remain (Enter; Esc cancels):');
    setOffered([]);
    const existing = new Set((groups ?? []).map((g) => g.enrollmentGroupId));
    void app.backend
      .groupsLeftWithRecords?.()
      .then((left) => setOffered(left.filter((g) => !existing.has(g.groupId))))
      .catch(() => setOffered([]));
  };
  /** Up/Down pick one of the groups offered; typing still works. */
  const handleKey = (k: Keystroke): boolean => {
    const choices = getOffered();
    if ((k.name === 'up' || k.name === 'down') && choices.length > 0) {
      const at = choices.findIndex((g) => g.groupId === prompt.typed);
      const next = k.name === 'down' ? (at + 1) % choices.length : at <= 0 ? choices.length - 1 : at - 1;
      prompt.fill(choices[next].groupId);
      return true;
    }
    return prompt.handleKey(k);
  };
  // The window of offered groups follows the one picked.
  const picked = offered.findIndex((g) => g.groupId === prompt.typed);
  const start = picked >= OFFERED_ROWS ? picked - OFFERED_ROWS + 1 : 0;
  const shown = prompt.open ? offered.slice(start, start + OFFERED_ROWS) : [];
  const offeredRows = shown.length > 0 ? shown.length + 1 + (offered.length > OFFERED_ROWS ? 1 : 0) : 0;
  /** Rows under the list: the prompt (or the note) and the groups offered. */
  const rows = (prompt.open || note ? 2 : 0) + offeredRows;
  return { prompt, note, setNote, offered, shown, offeredRows, rows, ask, handleKey };
}

function OrphanedRecordsPrompt({
  orphaned,
  columns,
}: {
  orphaned: ReturnType<typeof useOrphanedRecordsPrompt>;
  columns: number;
}) {
  const { prompt, note, offered, shown, offeredRows } = orphaned;
  return (
    <>
      {prompt.open ? <TextPrompt state={prompt} columns={columns} /> : null}
      {offeredRows > 0 ? (
        <Box flexDirection="column">
          <Line text="Deleted by runs with records left (↑↓ picks one):" tone="dim" />
          {shown.map((g) => (
            <Line
              key={g.groupId}
              text={`${g.groupId === prompt.typed ? '›' : ' '} ${offeredText(g)}`}
              tone={g.groupId === prompt.typed ? 'accent' : 'plain'}
            />
          ))}
          {offered.length > OFFERED_ROWS ? (
            <Line
              text={`  ${plural(offered.length - OFFERED_ROWS, 'more group')} (↑↓, or type the ID)`}
              tone="dim"
            />
          ) : null}
        </Box>
      ) : null}
      {!prompt.open && note
        ? wrapText(note, columns)
            .slice(0, 2)
            .map((line) => <Line key={line} text={line} tone="caution" />)
        : null}
    </>
  );
}
