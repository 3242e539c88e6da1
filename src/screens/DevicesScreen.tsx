/**
 * Step 3: the registration records of the chosen enrollment or group, each with its identity on its
 * assigned hub. For a group, Space marks devices: none marked means the whole group.
 */
import { Box } from 'ink';
import { useMemo } from 'react';
import { formatTimestamp, plural, sanitize, shortHost } from '../core/text.js';
import { type ColumnSpec, formatRow, layoutColumns, wrapText } from '../terminal/text.js';
import type { DeviceCertificate } from '../core/device-certificate.js';
import type { IndividualEnrollment } from '../core/model.js';
import type { DeviceRow } from '../services/backend.js';
import { Line } from './components/Line.js';
import { ListStatus } from './components/ListStatus.js';
import { TextPrompt, useTextPrompt } from './components/TextPrompt.js';
import type { Tone } from './components/Line.js';
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

export function hubStatusText(row: DeviceRow): string {
  if (row.hubError) return 'error';
  if (row.hubDevice) return row.hubDevice.status;
  return row.record.assignedHub ? 'not found' : '-';
}

/** The device ID usually equals the registration ID; saying so leaves room for the IDs at 80 columns. */
export const SAME_ID = '(same)';

/**
 * A device of a group with an individual enrollment of its own: DPS reads that enrollment first, so a
 * disabled one (a blocker) keeps the device out whatever the group says.
 */
export function ownEnrollmentText(e: IndividualEnrollment | undefined): string | undefined {
  if (!e) return undefined;
  return e.provisioningStatus === 'disabled' ? 'blocked' : 'own enr.';
}

function deviceCells(row: DeviceRow, wide: boolean, own?: IndividualEnrollment): string[] {
  const r = row.record;
  const updated = formatTimestamp(r.lastUpdatedDateTimeUtc);
  const deviceId = r.deviceId === undefined ? '-' : r.deviceId === r.registrationId ? SAME_ID : r.deviceId;
  return [
    sanitize(r.registrationId),
    sanitize(deviceId),
    shortHost(sanitize(r.assignedHub)),
    ownEnrollmentText(own) ?? r.status,
    hubStatusText(row),
    wide || updated === '-' ? updated : updated.slice(5),
  ];
}

/**
 * What Enter acts on, for a group: the marked devices; else, with a filter on, exactly the devices it
 * shows (what you see is what you act on); else the whole group.
 */
export type GroupChoice =
  | { kind: 'marked'; ids: string[]; hidden: number }
  | { kind: 'shown'; ids: string[]; filter: string }
  | { kind: 'nothingShown' }
  | { kind: 'whole'; filtered: boolean };

export function groupChoice(
  rows: readonly DeviceRow[],
  shown: readonly DeviceRow[],
  filter: string,
  marked: ReadonlySet<string>,
): GroupChoice {
  if (marked.size > 0) {
    const ids = rows.map((r) => r.record.registrationId).filter((id) => marked.has(id));
    const visible = new Set(shown.map((r) => r.record.registrationId));
    return { kind: 'marked', ids, hidden: ids.filter((id) => !visible.has(id)).length };
  }
  if (filter === '') return { kind: 'whole', filtered: false };
  if (shown.length === 0) return { kind: 'nothingShown' };
  if (shown.length === rows.length) return { kind: 'whole', filtered: true };
  return { kind: 'shown', ids: shown.map((r) => r.record.registrationId), filter };
}

/** The line that says what Enter will act on (before anything else can be chosen). */
export function groupNextText(choice: GroupChoice, total: number): string {
  switch (choice.kind) {
    case 'marked':
      return (
        `Enter: continue with the ${plural(choice.ids.length, 'marked device')} only` +
        (choice.hidden > 0 ? ` (${choice.hidden} of them hidden by the filter).` : '.')
      );
    case 'shown':
      return (
        `Enter: continue with the ${plural(choice.ids.length, 'device')} shown only ` +
        `(a disabled blocker each), not the whole group of ${total}. Esc clears the filter.`
      );
    case 'nothingShown':
      return 'Nothing matches the filter, so there is nothing to continue with. Esc clears the filter.';
    case 'whole':
      return choice.filtered
        ? `Enter: continue with the whole group (${plural(total, 'device')}; the filter shows them all).`
        : `Enter: continue with the whole group (${plural(total, 'device')}). Space marks single devices.`;
  }
}

/** What the person chose, in words, for the permanence and review screens. */
export function selectionInfo(
  source: DeviceSource,
  rows: readonly DeviceRow[],
  marked: readonly string[],
  /** Set when the devices are the ones a filter shows (none marked). */
  shownBy?: string,
  /** Device certificates attached on the Devices screen (X.509 groups), by registration ID. */
  certificates?: ReadonlyMap<string, DeviceCertificate>,
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
      devices: marked.map((registrationId) => {
        const cert = certificates?.get(registrationId);
        return cert ? { registrationId, certificatePem: cert.pem } : { registrationId };
      }),
    },
    scope:
      (shownBy === undefined
        ? `${plural(marked.length, 'marked device')} (a disabled blocker enrollment each)`
        : `the ${plural(marked.length, 'device')} shown by the filter "${sanitize(shownBy)}" ` +
          `(of ${rows.length}; a disabled blocker enrollment each)`) + certificateScope(marked, certificates),
  };
}

function certificateScope(
  marked: readonly string[],
  certificates?: ReadonlyMap<string, DeviceCertificate>,
): string {
  const n = marked.filter((id) => certificates?.has(id)).length;
  if (n === 0) return '';
  return n === marked.length
    ? `, each with its device certificate`
    : `, ${n} of them with a device certificate`;
}

/** What attaching a certificate said, shown under the list until the next key. */
interface CertificateNote {
  tone: Tone;
  text: string;
}

/** The words for an attached certificate (subject, what the blocker becomes, what looks odd). */
export function attachedText(id: string, cert: DeviceCertificate): string {
  return (
    `Certificate attached to ${sanitize(id)}: subject ${sanitize(cert.subject)}. ` +
    'Its blocker will be an X.509 enrollment made from it.' +
    (cert.oddities.length > 0 ? ` Note: ${sanitize(cert.oddities.join('; '))}.` : '')
  );
}

const NONE: DeviceRow[] = [];

export function DevicesScreen({ source }: { source: DeviceSource }) {
  const isGroup = source.kind === 'group';
  const x509Group = source.kind === 'group' && source.group.attestation.type === 'x509';
  const app = useScreen(x509Group ? X509_GROUP_HINTS : isGroup ? GROUP_HINTS : ENROLLMENT_HINTS, (k) => {
    if (prompt.open) return prompt.handleKey(k);
    if (list.filtering && list.handleKey(k)) return true;
    setNote(undefined);
    if (isGroup && isChar(k, 'c')) {
      const row = list.current();
      if (!row) return true;
      const id = row.record.registrationId;
      if (!x509Group || !backend.readDeviceCertificate) {
        setNote({
          tone: 'caution',
          text: x509Group
            ? 'This target cannot read certificate files; use `run --device-cert FILE` instead.'
            : 'This group uses symmetric keys: its blockers are symmetric-key enrollments and need no certificate.',
        });
        return true;
      }
      setCertFor(id);
      prompt.ask(
        getCerts().has(id)
          ? `Certificate (PEM) of ${sanitize(id)}: type a path, or Enter on empty to remove the attached one. Esc cancels.`
          : `Certificate (PEM file) of ${sanitize(id)}: type its path and press Enter. Esc cancels.`,
      );
      return true;
    }
    if (k.name === 'return') {
      if (loaded.status !== 'ready') return true;
      const rows = loaded.value;
      if (!isGroup) {
        app.nav.push({ screen: 'permanence', info: selectionInfo(source, rows, []) });
        return true;
      }
      const choice = groupChoice(rows, list.currentRows(), list.currentFilter(), getMarked());
      if (choice.kind === 'nothingShown') return true;
      const info =
        choice.kind === 'whole'
          ? selectionInfo(source, rows, [])
          : selectionInfo(
              source,
              rows,
              choice.ids,
              choice.kind === 'shown' ? choice.filter : undefined,
              getCerts(),
            );
      app.nav.push({ screen: 'permanence', info });
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
  // The devices' own individual enrollments (blockers): read beside the records, never in their way.
  const [ownLoaded] = useLoad(() =>
    isGroup ? backend.listEnrollments().catch(() => undefined) : Promise.resolve([]),
  );
  const own = useMemo(
    () =>
      new Map(
        (ownLoaded.status === 'ready' ? (ownLoaded.value ?? []) : []).map((e) => [e.registrationId, e]),
      ),
    [ownLoaded],
  );
  const ownUnread = ownLoaded.status === 'ready' && ownLoaded.value === undefined;
  const [marked, setMarked, getMarked] = useRefState<Set<string>>(() => new Set());
  const [certs, setCerts, getCerts] = useRefState<Map<string, DeviceCertificate>>(() => new Map());
  const [note, setNote] = useRefState<CertificateNote | undefined>(undefined);
  const [, setCertFor, getCertFor] = useRefState<string>('');
  const prompt = useTextPrompt((path) => {
    const id = getCertFor();
    if (path.trim() === '' && getCerts().has(id)) {
      setCerts((m) => {
        const next = new Map(m);
        next.delete(id);
        return next;
      });
      setNote({
        tone: 'caution',
        text: `Certificate removed from ${sanitize(id)}: its blocker is a symmetric-key enrollment again.`,
      });
      return;
    }
    if (source.kind !== 'group' || !backend.readDeviceCertificate) return;
    setNote({ tone: 'dim', text: `Reading ${sanitize(path)}…` });
    backend.readDeviceCertificate(path, source.group, id).then(
      (cert) => {
        setCerts((m) => new Map(m).set(id, cert));
        setMarked((m) => new Set(m).add(id));
        setNote({ tone: cert.oddities.length > 0 ? 'caution' : 'ok', text: attachedText(id, cert) });
      },
      (e: unknown) => {
        setNote({
          tone: 'danger',
          text: `No certificate attached to ${sanitize(id)}: ${sanitize(e instanceof Error ? e.message : String(e))}`,
        });
      },
    );
  });
  // Two lines under the list say what Enter acts on (wrapped at 80 columns).
  const listHeight = Math.max(1, bodyRows - 5);
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
  const blockedCount = isGroup
    ? loaded.value.filter((r) => own.get(r.record.registrationId)?.provisioningStatus === 'disabled').length
    : 0;
  const at = list.rows[list.index];
  const atOwn = at ? own.get(at.record.registrationId) : undefined;
  const atCert = at ? certs.get(at.record.registrationId) : undefined;
  const highlightedText = !at
    ? ''
    : atCert
      ? `${sanitize(at.record.registrationId)}: certificate ${sanitize(atCert.subject)}`
      : atOwn
        ? `${sanitize(at.record.registrationId)}: ${
            atOwn.provisioningStatus === 'disabled'
              ? 'blocked (disabled enrollment)'
              : 'own enabled enrollment'
          }`
        : sanitize(at.record.registrationId);
  const next = !isGroup
    ? 'Enter: continue with this enrollment.'
    : groupNextText(groupChoice(loaded.value, list.rows, list.filter, marked), total);
  const withCerts = [...marked].filter((id) => certs.has(id)).length;
  const certWords =
    !x509Group || marked.size === 0
      ? ''
      : withCerts === marked.size
        ? ' X.509 blockers from the certificates given.'
        : ` c: attach a device certificate; without one the blocker is the symmetric-key fallback (${marked.size - withCerts} of ${marked.size}).`;
  const nextLines = note
    ? wrapText(note.text, columns).slice(0, 2)
    : wrapText(next + certWords, columns).slice(0, 2);
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
          const mark = !isGroup
            ? ''
            : marked.has(row.record.registrationId)
              ? certs.has(row.record.registrationId)
                ? '[c]'
                : '[x]'
              : '[ ]';
          const hubStatus = hubStatusText(row);
          const ownEnrollment = own.get(row.record.registrationId);
          return {
            text: formatRow([mark, ...deviceCells(row, wide, ownEnrollment)], widths, specs),
            tone:
              hubStatus === 'error' || row.record.status === 'failed'
                ? 'caution'
                : ownEnrollment?.provisioningStatus === 'disabled'
                  ? 'dim'
                  : 'plain',
          };
        }}
      />
      <ListStatus
        list={list}
        extra={[
          isGroup ? `${marked.size} marked` : '',
          withCerts > 0 ? `${withCerts} with cert.` : '',
          isGroup && blockedCount > 0 ? `${blockedCount} blocked` : '',
          ownUnread ? 'blockers not read' : '',
          highlightedText,
        ]
          .filter((s) => s !== '')
          .join(' · ')}
      />
      {prompt.open ? (
        <TextPrompt state={prompt} columns={columns} />
      ) : (
        nextLines.map((line) => <Line key={line} text={line} tone={note?.tone ?? 'accent'} />)
      )}
    </Box>
  );
}
