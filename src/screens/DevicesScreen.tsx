/**
 * Step 3: the registration records of the chosen enrollment or group, each with its identity on its
 * assigned hub. For a group, Space marks devices: none marked means the whole group.
 */
import { Box } from 'ink';
import {
  type ColumnSpec,
  formatRow,
  formatTimestamp,
  layoutColumns,
  plural,
  sanitize,
  shortHost,
} from '../core/text.js';
import type { DeviceRow } from '../services/backend.js';
import { Line } from './components/Line.js';
import { ListStatus } from './components/ListStatus.js';
import { WindowedList } from './components/WindowedList.js';
import { type KeyHint, useScreen } from './context.js';
import { isChar } from './hooks/keys.js';
import { useListState } from './hooks/use-list-state.js';
import { useLoad } from './hooks/use-load.js';
import { useRefState } from './hooks/use-ref-state.js';
import { type DeviceSource, type SelectionInfo, sourceId } from './routes.js';
import { groupAttestation, individualAttestation } from './words.js';

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
const ENROLLMENT_HINTS: KeyHint[] = [
  { keys: 'Enter', does: 'continue', footer: true },
  { keys: '/', does: 'filter', footer: true },
  { keys: 'Esc', does: 'back', footer: true },
  { keys: '↑↓ j/k', does: 'move' },
];

export function hubStatusText(row: DeviceRow): string {
  if (row.hubError) return 'error';
  if (row.hubDevice) return row.hubDevice.status;
  return row.record.assignedHub ? 'not found' : '-';
}

/** The device ID usually equals the registration ID; saying so leaves room for the IDs at 80 columns. */
export const SAME_ID = '(same)';

function deviceCells(row: DeviceRow, wide: boolean): string[] {
  const r = row.record;
  const updated = formatTimestamp(r.lastUpdatedDateTimeUtc);
  const deviceId = r.deviceId === undefined ? '-' : r.deviceId === r.registrationId ? SAME_ID : r.deviceId;
  return [
    sanitize(r.registrationId),
    sanitize(deviceId),
    shortHost(sanitize(r.assignedHub)),
    r.status,
    hubStatusText(row),
    wide || updated === '-' ? updated : updated.slice(5),
  ];
}

/** What the person chose, in words, for the permanence and review screens. */
export function selectionInfo(
  source: DeviceSource,
  rows: readonly DeviceRow[],
  marked: readonly string[],
): SelectionInfo {
  const id = sourceId(source);
  if (source.kind === 'enrollment') {
    const e = source.enrollment;
    return {
      selection: { kind: 'enrollment', registrationId: e.registrationId },
      targetLabel: `individual enrollment ${id}`,
      scope: 'the enrollment and its device',
      attestation: individualAttestation(e),
      confirmId: e.registrationId,
    };
  }
  const g = source.group;
  const base = {
    targetLabel: `enrollment group ${id}`,
    attestation: groupAttestation(g),
    confirmId: g.enrollmentGroupId,
  };
  if (marked.length === 0) {
    return {
      ...base,
      selection: { kind: 'group', groupId: g.enrollmentGroupId },
      scope: `the whole group (${plural(rows.length, 'device')})`,
    };
  }
  return {
    ...base,
    selection: {
      kind: 'groupDevices',
      groupId: g.enrollmentGroupId,
      devices: marked.map((registrationId) => ({ registrationId })),
    },
    scope: `${plural(marked.length, 'marked device')} (a disabled blocker enrollment each)`,
  };
}

const NONE: DeviceRow[] = [];

export function DevicesScreen({ source }: { source: DeviceSource }) {
  const isGroup = source.kind === 'group';
  const app = useScreen(isGroup ? GROUP_HINTS : ENROLLMENT_HINTS, (k) => {
    if (list.filtering && list.handleKey(k)) return true;
    if (k.name === 'return') {
      if (loaded.status !== 'ready') return true;
      const rows = loaded.value;
      const chosen = getMarked();
      const marked = rows.map((r) => r.record.registrationId).filter((id) => chosen.has(id));
      app.nav.push({ screen: 'permanence', info: selectionInfo(source, rows, marked) });
      return true;
    }
    if (isGroup && isChar(k, ' ')) {
      const row = list.current();
      if (row) {
        const id = row.record.registrationId;
        setMarked((m) => {
          const next = new Set(m);
          if (next.has(id)) next.delete(id);
          else next.add(id);
          return next;
        });
      }
      return true;
    }
    if (isGroup && isChar(k, 'a')) {
      const ids = list.currentRows().map((r) => r.record.registrationId);
      setMarked((m) => {
        const next = new Set(m);
        const allMarked = ids.every((id) => next.has(id));
        for (const id of ids) {
          if (allMarked) next.delete(id);
          else next.add(id);
        }
        return next;
      });
      return true;
    }
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
  const [marked, setMarked, getMarked] = useRefState<Set<string>>(() => new Set());
  const listHeight = Math.max(1, bodyRows - 4);
  const wide = columns >= 100;
  const list = useListState<DeviceRow>(loaded.status === 'ready' ? loaded.value : NONE, {
    searchText: (r) => [...deviceCells(r, true), sanitize(r.record.deviceId)].join(' '),
    height: listHeight,
  });

  // At 80 columns the registration ID gets most of the room; the hub name is short (suffix cut).
  const specs: ColumnSpec[] = wide
    ? [{ width: 3 }, { flex: 3 }, { flex: 2 }, { flex: 2 }, { width: 10 }, { width: 9 }, { width: 16 }]
    : [{ width: 3 }, { flex: 5 }, { flex: 2 }, { width: 8 }, { width: 10 }, { width: 9 }, { width: 11 }];
  const widths = layoutColumns(specs, columns - 2);
  const heading = formatRow(
    ['', 'REGISTRATION ID', wide ? 'DEVICE ID' : 'DEVICE', 'HUB', 'DPS', 'HUB STAT.', 'UPDATED'],
    widths,
    specs,
  );
  const id = sourceId(source);
  const title =
    source.kind === 'enrollment'
      ? `Individual enrollment ${id} · ${individualAttestation(source.enrollment)} · ` +
        source.enrollment.provisioningStatus
      : `Enrollment group ${id} · ${groupAttestation(source.group)} · ${source.group.provisioningStatus}`;

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

  const total = loaded.value.length;
  const next = !isGroup
    ? 'Enter: continue with this enrollment.'
    : marked.size === 0
      ? `Enter: continue with the whole group (${plural(total, 'device')}). Space marks single devices.`
      : `Enter: continue with the ${plural(marked.size, 'marked device')} only.`;
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
          total === 0
            ? 'No registration records: no device has registered yet.'
            : 'Nothing matches the filter.'
        }
        render={(row) => {
          const mark = !isGroup ? '' : marked.has(row.record.registrationId) ? '[x]' : '[ ]';
          const hubStatus = hubStatusText(row);
          return {
            text: formatRow([mark, ...deviceCells(row, wide)], widths, specs),
            tone: hubStatus === 'error' || row.record.status === 'failed' ? 'caution' : 'plain',
          };
        }}
      />
      <ListStatus
        list={list}
        extra={[
          isGroup ? `${marked.size} marked` : '',
          sanitize(list.rows[list.index]?.record.registrationId),
        ]
          .filter((s) => s !== '')
          .join(' · ')}
      />
      <Line text={next} tone="accent" />
    </Box>
  );
}
