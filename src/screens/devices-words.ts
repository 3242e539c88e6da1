/**
 * The Devices screen's words: each record's cells, what Enter acts on for a group (marked devices, the
 * devices a filter shows, or the whole group), and the person's choice in words for the next screens.
 */
import type { DeviceCertificate } from '../core/device-certificate.js';
import type { IndividualEnrollment } from '../core/model.js';
import { formatTimestamp, plural, sanitize, shortHost } from '../core/text.js';
import type { DeviceRow } from '../services/backend.js';
import type { Tone } from './components/Line.js';
import { type DeviceSource, type SelectionInfo, sourceId } from './routes.js';
import { groupAttestation, individualAttestation } from './words.js';

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

export function deviceCells(row: DeviceRow, wide: boolean, own?: IndividualEnrollment): string[] {
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

/** The words for an attached certificate (subject, what the blocker becomes, what looks odd). */
export function attachedText(id: string, cert: DeviceCertificate): string {
  return (
    `Certificate attached to ${sanitize(id)}: subject ${sanitize(cert.subject)}. ` +
    'Its blocker will be an X.509 enrollment made from it.' +
    (cert.oddities.length > 0 ? ` Note: ${sanitize(cert.oddities.join('; '))}.` : '')
  );
}

/** The highlighted device in the status line: its certificate, or its own enrollment (a blocker). */
export function highlightedText(
  row: DeviceRow | undefined,
  own: IndividualEnrollment | undefined,
  cert: DeviceCertificate | undefined,
): string {
  if (!row) return '';
  const id = sanitize(row.record.registrationId);
  if (cert) return `${id}: certificate ${sanitize(cert.subject)}`;
  if (!own) return id;
  return `${id}: ${own.provisioningStatus === 'disabled' ? 'blocked (disabled enrollment)' : 'own enabled enrollment'}`;
}

/** For an X.509 group with devices marked: which blockers come from certificates, and how to give one. */
export function certificateWords(
  x509Group: boolean,
  marked: ReadonlySet<string>,
  certs: ReadonlyMap<string, DeviceCertificate>,
): string {
  if (!x509Group || marked.size === 0) return '';
  const withCerts = [...marked].filter((id) => certs.has(id)).length;
  return withCerts === marked.size
    ? ' X.509 blockers from the certificates given.'
    : ` c: attach a device certificate; without one the blocker is the symmetric-key fallback (${marked.size - withCerts} of ${marked.size}).`;
}

/** A row's mark: [ ] not marked, [x] marked, [c] marked with a device certificate; none outside a group. */
export function markText(
  id: string,
  isGroup: boolean,
  marked: ReadonlySet<string>,
  certs: ReadonlyMap<string, DeviceCertificate>,
): string {
  if (!isGroup) return '';
  if (!marked.has(id)) return '[ ]';
  return certs.has(id) ? '[c]' : '[x]';
}

/** Devices needing a look (a hub read error, a failed registration) stand out; blocked ones recede. */
export function rowTone(row: DeviceRow, own: IndividualEnrollment | undefined): Tone {
  if (hubStatusText(row) === 'error' || row.record.status === 'failed') return 'caution';
  return own?.provisioningStatus === 'disabled' ? 'dim' : 'plain';
}
