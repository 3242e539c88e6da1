/**
 * Step 3: the registration records of the chosen enrollment or group, each with its identity on its
 * assigned hub. For a group, Space marks devices: none marked means the whole group (the words, and
 * what Enter acts on, are in devices-words.ts).
 */
import { Box } from 'ink';
import { useMemo } from 'react';
import type { IndividualEnrollment } from '../core/model.js';
import { sanitize } from '../core/text.js';
import type { Backend, DeviceRow } from '../services/backend.js';
import { type ColumnSpec, formatRow, layoutColumns, wrapText } from '../terminal/text.js';
import { Line } from './components/Line.js';
import { ListStatus } from './components/ListStatus.js';
import { TextPrompt } from './components/TextPrompt.js';
import { WindowedList } from './components/WindowedList.js';
import { type KeyHint, type Navigator, useScreen } from './context.js';
import {
  certificateWords,
  deviceCells,
  groupChoice,
  groupNextText,
  highlightedText,
  markText,
  rowTone,
  selectionInfo,
} from './devices-words.js';
import { isChar, type Keystroke } from './hooks/keys.js';
import { useDeviceCertificates } from './hooks/use-device-certificates.js';
import { type ListState, useListState } from './hooks/use-list-state.js';
import { useLoad } from './hooks/use-load.js';
import { useRefState } from './hooks/use-ref-state.js';
import { type DeviceSource, sourceId } from './routes.js';
import { groupAttestation, individualAttestation } from './words.js';

export {
  attachedText,
  type GroupChoice,
  groupChoice,
  groupNextText,
  hubStatusText,
  ownEnrollmentText,
  SAME_ID,
  selectionInfo,
} from './devices-words.js';

const GROUP_HINTS: KeyHint[] = [
  { keys: 'Space', does: 'mark device', footer: true },
  { keys: 'a', does: 'mark all / none', footer: true },
  { keys: 'Enter', does: 'continue', footer: true },
  { keys: '/', does: 'filter', footer: true },
  { keys: 'Esc', does: 'clear filter / back', footer: true },
  { keys: '↑↓ j/k', does: 'move' },
  { keys: 'PgUp/PgDn', does: 'page up / down' },
  { keys: 'Home/End g/G', does: 'first / last' },
];
const X509_GROUP_HINTS: KeyHint[] = [
  ...GROUP_HINTS.slice(0, 2),
  { keys: 'c', does: 'device certificate', footer: true },
  ...GROUP_HINTS.slice(2),
];
const ENROLLMENT_HINTS: KeyHint[] = [
  { keys: 'Enter', does: 'continue', footer: true },
  { keys: '/', does: 'filter', footer: true },
  { keys: 'Esc', does: 'back', footer: true },
  { keys: '↑↓ j/k', does: 'move' },
];

const NONE: DeviceRow[] = [];

export function DevicesScreen({ source }: { source: DeviceSource }) {
  const group = source.kind === 'group' ? source.group : undefined;
  const isGroup = group !== undefined;
  const x509Group = group?.attestation.type === 'x509';
  const app = useScreen(x509Group ? X509_GROUP_HINTS : isGroup ? GROUP_HINTS : ENROLLMENT_HINTS, (k) => {
    if (certificates.prompt.open) return certificates.prompt.handleKey(k);
    if (list.filtering && list.handleKey(k)) return true;
    certificates.setNote(undefined);
    if (isGroup && isChar(k, 'c')) {
      const row = list.current();
      if (row) certificates.ask(row.record.registrationId);
      return true;
    }
    if (k.name === 'return') {
      if (loaded.status === 'ready') continueWith(app.nav, loaded.value);
      return true;
    }
    if (isGroup && marks.handleKey(k, list)) return true;
    return list.handleKey(k);
  });
  const { backend, columns, bodyRows } = app;
  const [loaded] = useLoad(() =>
    backend.loadDevices(
      source.kind === 'enrollment'
        ? { kind: 'enrollment', registrationId: source.enrollment.registrationId }
        : { kind: 'group', groupId: source.group.enrollmentGroupId },
    ),
  );
  const { own, ownUnread } = useOwnEnrollments(backend, isGroup);
  const marks = useMarks();
  const certificates = useDeviceCertificates(backend, group, marks.mark);
  // Two lines under the list say what Enter acts on (wrapped at 80 columns).
  const listHeight = Math.max(1, bodyRows - 5);
  const wide = columns >= 100;
  const list = useListState<DeviceRow>(loaded.status === 'ready' ? loaded.value : NONE, {
    searchText: (r) => [...deviceCells(r, true), sanitize(r.record.deviceId)].join(' '),
    height: listHeight,
  });

  /** Enter: the enrollment, or what the group's marks or filter choose (see groupChoice). */
  const continueWith = (nav: Navigator, rows: DeviceRow[]) => {
    if (!isGroup) return nav.push({ screen: 'permanence', info: selectionInfo(source, rows, []) });
    const choice = groupChoice(rows, list.currentRows(), list.currentFilter(), marks.getMarked());
    if (choice.kind === 'nothingShown') return;
    const info =
      choice.kind === 'whole'
        ? selectionInfo(source, rows, [])
        : selectionInfo(
            source,
            rows,
            choice.ids,
            choice.kind === 'shown' ? choice.filter : undefined,
            certificates.getCerts(),
          );
    nav.push({ screen: 'permanence', info });
  };

  const title = titleOf(source);
  if (loaded.status !== 'ready') {
    return (
      <Box flexDirection="column">
        <Line text={title} bold />
        {loaded.status === 'loading' ? (
          <Line text="Reading registration records and their hub identities…" />
        ) : (
          <>
            <Line text={`Could not read the devices: ${sanitize(loaded.message)}`} tone="danger" />
            <Line text="Press Esc to go back and choose again." />
          </>
        )}
      </Box>
    );
  }

  const rows = loaded.value;
  const { marked } = marks;
  const { certs, note } = certificates;
  const { widths, specs, heading } = columnsOf(wide, columns);
  const blockedCount = isGroup
    ? rows.filter((r) => own.get(r.record.registrationId)?.provisioningStatus === 'disabled').length
    : 0;
  const at = list.rows[list.index];
  const withCerts = [...marked].filter((id) => certs.has(id)).length;
  const next = !isGroup
    ? 'Enter: continue with this enrollment.'
    : groupNextText(groupChoice(rows, list.rows, list.filter, marked), rows.length);
  const nextLines = wrapText(
    note ? note.text : next + certificateWords(x509Group, marked, certs),
    columns,
  ).slice(0, 2);
  const status = [
    isGroup ? `${marked.size} marked` : '',
    withCerts > 0 ? `${withCerts} with cert.` : '',
    isGroup && blockedCount > 0 ? `${blockedCount} blocked` : '',
    ownUnread ? 'blockers not read' : '',
    highlightedText(at, at && own.get(at.record.registrationId), at && certs.get(at.record.registrationId)),
  ];
  return (
    <Box flexDirection="column">
      <Line text={title} bold />
      <Line text={`  ${heading}`} tone="dim" />
      <WindowedList
        rows={list.rows}
        offset={list.offset}
        height={listHeight}
        index={list.index}
        empty={
          rows.length === 0
            ? 'No registration records: no device has registered yet.'
            : 'Nothing matches the filter.'
        }
        render={(row) => {
          const id = row.record.registrationId;
          const ownEnrollment = own.get(id);
          return {
            text: formatRow(
              [markText(id, isGroup, marked, certs), ...deviceCells(row, wide, ownEnrollment)],
              widths,
              specs,
            ),
            tone: rowTone(row, ownEnrollment),
          };
        }}
      />
      <ListStatus list={list} extra={status.filter((s) => s !== '').join(' · ')} />
      {certificates.prompt.open ? (
        <TextPrompt state={certificates.prompt} columns={columns} />
      ) : (
        nextLines.map((line) => <Line key={line} text={line} tone={note?.tone ?? 'accent'} />)
      )}
    </Box>
  );
}

function titleOf(source: DeviceSource): string {
  const id = sourceId(source);
  return source.kind === 'enrollment'
    ? `Individual enrollment ${id} · ${individualAttestation(source.enrollment)} · ${source.enrollment.provisioningStatus}`
    : `Enrollment group ${id} · ${groupAttestation(source.group)} · ${source.group.provisioningStatus}`;
}

/** At 80 columns the registration ID gets most of the room; the hub name is short (suffix cut). */
function columnsOf(
  wide: boolean,
  columns: number,
): { widths: number[]; specs: ColumnSpec[]; heading: string } {
  const specs: ColumnSpec[] = wide
    ? [{ width: 3 }, { flex: 3 }, { flex: 2 }, { flex: 2 }, { width: 10 }, { width: 9 }, { width: 16 }]
    : [{ width: 3 }, { flex: 5 }, { flex: 2 }, { width: 8 }, { width: 10 }, { width: 9 }, { width: 11 }];
  const widths = layoutColumns(specs, columns - 2);
  const heading = formatRow(
    ['', 'REGISTRATION ID', wide ? 'DEVICE ID' : 'DEVICE', 'HUB', 'DPS', 'HUB STAT.', 'UPDATED'],
    widths,
    specs,
  );
  return { widths, specs, heading };
}

/** The group's devices' own individual enrollments (blockers): read beside the records, never in their way. */
function useOwnEnrollments(backend: Backend, isGroup: boolean) {
  const [ownLoaded] = useLoad(() =>
    isGroup ? backend.listEnrollments().catch(() => undefined) : Promise.resolve([]),
  );
  const own = useMemo(
    () =>
      new Map<string, IndividualEnrollment>(
        (ownLoaded.status === 'ready' ? (ownLoaded.value ?? []) : []).map((e) => [e.registrationId, e]),
      ),
    [ownLoaded],
  );
  return { own, ownUnread: ownLoaded.status === 'ready' && ownLoaded.value === undefined };
}

/** The group's marked devices: Space marks the highlighted one, `a` all shown (or none, when all are). */
function useMarks() {
  const [marked, setMarked, getMarked] = useRefState<Set<string>>(() => new Set());
  const mark = (id: string) => setMarked((m) => new Set(m).add(id));
  const toggle = (ids: string[]) =>
    setMarked((m) => {
      const next = new Set(m);
      const allMarked = ids.every((id) => next.has(id));
      for (const id of ids) {
        if (allMarked) next.delete(id);
        else next.add(id);
      }
      return next;
    });
  const handleKey = (k: Keystroke, list: ListState<DeviceRow>): boolean => {
    if (isChar(k, ' ')) {
      const row = list.current();
      if (row) toggle([row.record.registrationId]);
      return true;
    }
    if (isChar(k, 'a')) {
      toggle(list.currentRows().map((r) => r.record.registrationId));
      return true;
    }
    return false;
  };
  return { marked, getMarked, mark, handleKey };
}
