/**
 * What the screens list: the enrollment groups with their device counts (bounded: counting costs DPS
 * calls), and a target's registration records with their hub identities.
 */
import type { Selection } from '../../core/selection.js';
import type { Backend, DeviceRow, EnrollmentGroupSummary } from '../backend.js';
import { mapLimited } from '../concurrency.js';
import { collect, readHubDevices, readRecords } from './read-state.js';
import type { DpsReads, HubReadDirectory } from './reads.js';

/** The groups, each with its device count; past `countLimit` records the count is a lower bound. */
export async function listGroupSummaries(
  dps: DpsReads,
  countLimit: number,
): Promise<EnrollmentGroupSummary[]> {
  const groups = await collect(dps.listGroups());
  return mapLimited(groups, 4, async (g) => {
    let deviceCount = 0;
    for await (const page of dps.listGroupRegistrations(g.enrollmentGroupId)) {
      deviceCount += page.length;
      if (deviceCount >= countLimit) return { ...g, deviceCount, deviceCountIsLowerBound: true };
    }
    return { ...g, deviceCount };
  });
}

/** Registration records of the enrollment or group with their hub identities (or the hub's read error). */
export async function loadDeviceRows(
  dps: DpsReads,
  hubs: HubReadDirectory,
  target: Parameters<Backend['loadDevices']>[0],
): Promise<DeviceRow[]> {
  const selection: Selection =
    target.kind === 'enrollment' ? { kind: 'enrollment', registrationId: target.registrationId } : target;
  const records = await readRecords(dps, selection);
  const { devices, errors } = await readHubDevices(hubs, records);
  const byKey = new Map(devices.map((d) => [`${d.hub.toLowerCase()}/${d.deviceId}`, d]));
  return records.map((record) => {
    const hub = record.assignedHub?.toLowerCase();
    const hubDevice = hub ? byKey.get(`${hub}/${record.deviceId ?? record.registrationId}`) : undefined;
    const hubError = hub ? errors.get(hub) : undefined;
    return { record, ...(hubDevice ? { hubDevice } : {}), ...(hubError ? { hubError } : {}) };
  });
}
