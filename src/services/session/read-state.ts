/**
 * Reads what the planner and the re-enrollment analysis need for one selection, with as few billable
 * calls as the selection allows (DPS counts every call against 1,000 operations a minute).
 */
import { isServiceError } from '../../core/errors.js';
import type { EnrollmentGroup, HubDevice, IndividualEnrollment, KnownState, RegistrationRecord } from '../../core/model.js';
import type { DpsPort, HubDirectory } from '../../core/ports.js';
import type { Selection } from '../../core/selection.js';
import { mapLimited } from '../concurrency.js';

/** Up to this many devices on one hub are read one by one; above it, the hub's device list is paged. */
const HUB_SINGLE_READ_MAX = 50;
const READ_CONCURRENCY = 8;

export async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) for (const item of page) all.push(item);
  return all;
}

export interface ReadOptions {
  caCertificates?: KnownState['caCertificates'];
}

/** The registration records a selection concerns, tagged with their group. */
export async function readRecords(dps: DpsPort, selection: Selection): Promise<RegistrationRecord[]> {
  if (selection.kind === 'enrollment') {
    const record = await dps.getRegistration(selection.registrationId);
    return record ? [record] : [];
  }
  const records = await collect(dps.listGroupRegistrations(selection.groupId));
  return records.map((r) => ({ ...r, enrollmentGroupId: r.enrollmentGroupId ?? selection.groupId }));
}

/** Hub identities of these records, from the hubs the tool can reach. */
export async function readHubDevices(
  hubs: HubDirectory,
  records: RegistrationRecord[],
): Promise<{ devices: HubDevice[]; errors: Map<string, string>; refused?: Error }> {
  const byHub = new Map<string, string[]>();
  for (const r of records) {
    if (!r.assignedHub) continue;
    const hub = r.assignedHub.toLowerCase();
    const ids = byHub.get(hub) ?? [];
    ids.push(r.deviceId ?? r.registrationId);
    byHub.set(hub, ids);
  }
  const devices: HubDevice[] = [];
  const errors = new Map<string, string>();
  let refused: Error | undefined;
  for (const [host, ids] of byHub) {
    const port = hubs.get(host);
    if (!port) {
      errors.set(host, `no credentials for ${host}`);
      continue;
    }
    try {
      if (ids.length <= HUB_SINGLE_READ_MAX) {
        const found = await mapLimited(ids, READ_CONCURRENCY, (id) => port.getDevice(id));
        for (const d of found) if (d) devices.push(d);
      } else {
        const wanted = new Set(ids);
        for await (const page of port.listDevices()) {
          for (const d of page) if (wanted.has(d.deviceId)) devices.push(d);
        }
      }
    } catch (e) {
      errors.set(host, (e as Error).message);
      if (isServiceError(e) && (e.kind === 'unauthorized' || e.kind === 'forbidden')) refused ??= e;
    }
  }
  return { devices, errors, ...(refused ? { refused } : {}) };
}

/** Everything the planner needs to decide, read fresh from the services. */
export async function readKnownState(
  dps: DpsPort,
  hubs: HubDirectory,
  selection: Selection,
  options: ReadOptions = {},
): Promise<KnownState> {
  const groupsP = collect(dps.listGroups());
  const recordsP = readRecords(dps, selection);
  // When a read below fails first (a wrong key: 401), these two are never awaited: without a handler
  // their rejections would crash the process with a stack trace instead of the error the caller reports.
  groupsP.catch(() => {});
  recordsP.catch(() => {});
  let individuals: IndividualEnrollment[];
  if (selection.kind === 'enrollment') {
    const e = await dps.getEnrollment(selection.registrationId);
    individuals = e ? [e] : [];
  } else if (selection.kind === 'groupDevices') {
    const found = await mapLimited(selection.devices, READ_CONCURRENCY, (d) => dps.getEnrollment(d.registrationId));
    individuals = found.filter((e): e is IndividualEnrollment => e !== undefined);
  } else {
    // A device of the group with its own enabled individual enrollment would provision through it:
    // the whole list is needed to tell.
    individuals = await collect(dps.listEnrollments());
  }
  const [groups, records] = await Promise.all([groupsP, recordsP]);
  const { devices, refused } = await readHubDevices(hubs, records);
  // A refused key or role is a wrong target, not a hub to work around: stop before anything changes.
  if (refused) throw refused;
  return {
    individualEnrollments: individuals,
    enrollmentGroups: groups as EnrollmentGroup[],
    registrations: records,
    hubDevices: devices,
    caCertificates: options.caCertificates,
    hubsWithCredentials: hubs.hosts(),
  };
}
