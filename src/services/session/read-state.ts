/**
 * Reads what the planner and the re-enrollment analysis need for one selection, with as few billable
 * calls as the selection allows (DPS counts every call against 1,000 operations a minute).
 */
import { isServiceError } from '../../core/errors.js';
import { describeLookupCost, deviceIdsOf, lookupBatches, lookupCost } from '../../core/hub-lookup.js';
import type {
  EdgeGateway,
  EnrollmentGroup,
  HubDevice,
  HubLookup,
  IndividualEnrollment,
  KnownState,
  RegistrationRecord,
} from '../../core/model.js';
import type { ExportReads } from './export-read.js';
import type { DpsReads, HubReadDirectory } from './reads.js';
import { enrolledIds, type Selection } from '../../core/selection.js';
import { mapLimited } from '../concurrency.js';
import { scrubSecrets } from '../journal/index.js';

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
  /** Look the selected devices' IDs up on every hub with credentials (besides the hub each record names). */
  lookup?: LookupOptions;
  /** Verify: hubs whose identities are read through one export job instead of queries. */
  exportReads?: ExportReads;
}

export interface LookupOptions {
  /** Hubs (host names) not to search: the person skipped them. */
  skip?: string[];
  /** The hub's query budget (queries a minute for its tier and units). */
  queriesPerMinute: (host: string) => number;
  /** Client-side pacing runs this many times faster (tests, the sandbox's slowed clock). */
  timeScale?: number;
  /** More device IDs to look up (devices of the selection whose records are gone: a run's snapshot). */
  extraDeviceIds?: string[];
  /** Told before a lookup that takes a minute or more of a hub's query budget (headless: stderr). */
  onNotice?: (text: string) => void;
  /** Hubs read through an export job instead of queries (verify at fleet scale). */
  exportReads?: ExportReads;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Looks these device IDs up on every hub the tool has credentials for but the skipped ones: a query per
 * batch, the hubs side by side, each hub's queries paced to its query budget (a short burst, then one
 * query per 60/budget seconds) so the lookup does not eat the budget others need. A hub whose lookup
 * fails is reported as skipped with why; a refused key stops everything (a wrong target).
 */
export async function lookupHubIdentities(
  hubs: HubReadDirectory,
  deviceIds: string[],
  options: LookupOptions,
): Promise<{ devices: HubDevice[]; lookup: HubLookup; refused?: Error }> {
  const batches = lookupBatches(deviceIds);
  const skip = new Set((options.skip ?? []).map((h) => h.toLowerCase()));
  const lookup: HubLookup = { searched: [], skipped: [], cost: {}, deviceIds: batches.flat().length };
  const devices: HubDevice[] = [];
  let refused: Error | undefined;
  const timeScale = options.timeScale && options.timeScale > 0 ? options.timeScale : 1;
  await Promise.all(
    hubs.hosts().map(async (host) => {
      const key = host.toLowerCase();
      const perMinute = options.queriesPerMinute(key);
      lookup.cost[key] = lookupCost(batches.length, perMinute);
      if (skip.has(key)) {
        lookup.skipped.push({ hub: host, why: 'asked' });
        return;
      }
      const port = hubs.get(key);
      if (!port) return;
      const viaExport = options.exportReads?.readerFor(host, lookup.deviceIds);
      const cost = lookup.cost[key];
      if (!viaExport && cost.minutes >= 1) {
        options.onNotice?.(
          `Looking ${lookup.deviceIds.toLocaleString('en-US')} device IDs up on ${host}: ${describeLookupCost(cost)} ` +
            `(--skip-hub-lookup ${host} skips it, leaving identities there that no record names)`,
        );
      }
      const burst = Math.max(1, Math.floor(perMinute / 4));
      const interval = 60_000 / (perMinute * timeScale);
      const found: HubDevice[] = [];
      try {
        if (viaExport) found.push(...(await viaExport(batches.flat())));
        for (const [i, batch] of (viaExport ? [] : batches).entries()) {
          if (refused) return;
          if (i >= burst) await sleep(interval);
          found.push(...(await port.findDevices(batch)));
        }
      } catch (e) {
        if (isServiceError(e) && (e.kind === 'unauthorized' || e.kind === 'forbidden')) refused ??= e;
        lookup.skipped.push({ hub: host, why: 'failed', message: scrubSecrets((e as Error).message) });
        return;
      }
      lookup.searched.push(host);
      devices.push(...found);
    }),
  );
  // Hubs in the directory's order, whatever order their lookups finished in.
  const order = hubs.hosts().map((h) => h.toLowerCase());
  const rank = (h: string) => order.indexOf(h.toLowerCase());
  lookup.searched.sort((a, b) => rank(a) - rank(b));
  lookup.skipped.sort((a, b) => rank(a.hub) - rank(b.hub));
  return { devices, lookup, ...(refused ? { refused } : {}) };
}

/** The device IDs of the selected devices, for the lookup. */
function selectedDeviceIds(
  selection: Selection,
  records: RegistrationRecord[],
  individuals: IndividualEnrollment[],
): string[] {
  const recordOf = new Map(records.map((r) => [r.registrationId, r]));
  const enrollmentOf = new Map(individuals.map((e) => [e.registrationId, e]));
  const ids =
    selection.kind === 'enrollment'
      ? [selection.registrationId]
      : selection.kind === 'groupDevices'
        ? selection.devices.map((d) => d.registrationId)
        : selection.kind === 'devices'
          ? selection.ids
          : records.map((r) => r.registrationId);
  return ids.flatMap((id) => deviceIdsOf(id, recordOf.get(id), enrollmentOf.get(id)));
}

/** The registration records a selection concerns, tagged with their group. */
export async function readRecords(dps: DpsReads, selection: Selection): Promise<RegistrationRecord[]> {
  if (selection.kind === 'enrollment') {
    const record = await dps.getRegistration(selection.registrationId);
    return record ? [record] : [];
  }
  if (selection.kind === 'devices') {
    // One read per device DPS has (the group search already found them), tagged with its group.
    const parts = selection.parts ?? { enrollments: [], groups: [], unenrolled: [] };
    const wanted = [
      ...parts.enrollments.map((id) => ({ id, groupId: undefined as string | undefined })),
      ...parts.groups.flatMap((g) =>
        g.devices.map((d) => ({ id: d.registrationId, groupId: g.groupId as string | undefined })),
      ),
    ];
    const found = await mapLimited(wanted, READ_CONCURRENCY, async (w) => {
      const r = await dps.getRegistration(w.id);
      return r && w.groupId !== undefined ? { ...r, enrollmentGroupId: r.enrollmentGroupId ?? w.groupId } : r;
    });
    return found.filter((r): r is RegistrationRecord => r !== undefined);
  }
  const records = await collect(dps.listGroupRegistrations(selection.groupId));
  return records.map((r) => ({ ...r, enrollmentGroupId: r.enrollmentGroupId ?? selection.groupId }));
}

/** Hub identities of these records, from the hubs the tool can reach. */
export async function readHubDevices(
  hubs: HubReadDirectory,
  records: RegistrationRecord[],
  exportReads?: ExportReads,
): Promise<{ devices: HubDevice[]; errors: Map<string, string>; refused?: Error }> {
  const byHub = new Map<string, string[]>();
  for (const r of records) {
    if (!r.assignedHub) continue;
    const hub = r.assignedHub.toLowerCase();
    const ids = byHub.get(hub) ?? [];
    ids.push(r.deviceId ?? r.registrationId);
    byHub.set(hub, ids);
  }
  // The hubs at once (each on its own limiter lane; export reads each take a job storage container),
  // their devices and errors kept in the hubs' order.
  const perHub = await Promise.all(
    [...byHub].map(async ([host, ids]): Promise<{ found: HubDevice[]; error?: unknown }> => {
      const port = hubs.get(host);
      if (!port) return { found: [], error: new Error(`no credentials for ${host}`) };
      try {
        const viaExport = exportReads?.readerFor(port.host, ids.length);
        if (viaExport) return { found: await viaExport(ids) };
        if (ids.length <= HUB_SINGLE_READ_MAX) {
          const found = await mapLimited(ids, READ_CONCURRENCY, (id) => port.getDevice(id));
          return { found: found.filter((d): d is HubDevice => d !== undefined) };
        }
        const wanted = new Set(ids);
        const found: HubDevice[] = [];
        for await (const page of port.listDevices()) {
          for (const d of page) if (wanted.has(d.deviceId)) found.push(d);
        }
        return { found };
      } catch (error) {
        return { found: [], error };
      }
    }),
  );
  const devices: HubDevice[] = [];
  const errors = new Map<string, string>();
  let refused: Error | undefined;
  for (const [i, host] of [...byHub.keys()].entries()) {
    const { found, error } = perHub[i] ?? { found: [] };
    devices.push(...found);
    if (error === undefined) continue;
    errors.set(host, (error as Error).message);
    if (isServiceError(error) && (error.kind === 'unauthorized' || error.kind === 'forbidden'))
      refused ??= error;
  }
  return { devices, errors, ...(refused ? { refused } : {}) };
}

/**
 * The Edge gateways among these devices, with the devices that connect through them and their modules
 * (two hub queries per gateway). A hub that cannot answer leaves the gateway out: the plan then does
 * not know of its children, as before this was read.
 */
export async function readEdgeGateways(hubs: HubReadDirectory, devices: HubDevice[]): Promise<EdgeGateway[]> {
  const gateways: EdgeGateway[] = [];
  for (const d of devices) {
    if (!d.iotEdge || !d.deviceScope) continue;
    const port = hubs.get(d.hub.toLowerCase());
    if (!port?.findEdgeDependents) continue;
    try {
      const { children, modules } = await port.findEdgeDependents({
        deviceId: d.deviceId,
        deviceScope: d.deviceScope,
      });
      gateways.push({ hub: d.hub, deviceId: d.deviceId, children, modules });
    } catch (e) {
      if (isServiceError(e) && (e.kind === 'unauthorized' || e.kind === 'forbidden')) throw e;
    }
  }
  return gateways;
}

/** Everything the planner needs to decide, read fresh from the services. */
export async function readKnownState(
  dps: DpsReads,
  hubs: HubReadDirectory,
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
  let unknownDevices = false;
  if (selection.kind === 'enrollment') {
    const e = await dps.getEnrollment(selection.registrationId);
    individuals = e ? [e] : [];
  } else if (selection.kind === 'devices') {
    // The group devices' own enrollments too: a blocker written for one, or one made since the search.
    const parts = selection.parts ?? { enrollments: [], groups: [], unenrolled: [] };
    const found = await mapLimited(enrolledIds(parts), READ_CONCURRENCY, (id) => dps.getEnrollment(id));
    individuals = found.filter((e): e is IndividualEnrollment => e !== undefined);
  } else if (selection.kind === 'groupDevices') {
    // The group's records are read once; a device without one is refused by the plan, so nothing more
    // is read for any of them (no read per unknown device, no hub lookup) before the refusal.
    const inGroup = new Set((await recordsP).map((r) => r.registrationId));
    if (selection.devices.some((d) => !inGroup.has(d.registrationId))) {
      unknownDevices = true;
      individuals = [];
    } else {
      const found = await mapLimited(selection.devices, READ_CONCURRENCY, (d) =>
        dps.getEnrollment(d.registrationId),
      );
      individuals = found.filter((e): e is IndividualEnrollment => e !== undefined);
    }
  } else {
    // A device of the group with its own enabled individual enrollment would provision through it:
    // the whole list is needed to tell.
    individuals = await collect(dps.listEnrollments());
  }
  const [groups, records] = await Promise.all([groupsP, recordsP]);
  // A directory that signs hubs in as their records name them (Entra ID) learns of them here, before
  // the lookup searches every hub it knows.
  for (const r of records) if (r.assignedHub) hubs.get(r.assignedHub.toLowerCase());
  let lookedUp: Awaited<ReturnType<typeof lookupHubIdentities>> | undefined;
  if (options.lookup && !unknownDevices) {
    const ids = [
      ...selectedDeviceIds(selection, records, individuals),
      ...(options.lookup.extraDeviceIds ?? []),
    ];
    lookedUp = await lookupHubIdentities(hubs, ids, {
      ...options.lookup,
      ...(options.exportReads ? { exportReads: options.exportReads } : {}),
    });
    if (lookedUp.refused) throw lookedUp.refused;
  }
  // The hubs the lookup searched are known for every selected device: read the records' other hubs only.
  const searched = new Set(lookedUp?.lookup.searched.map((h) => h.toLowerCase()));
  const unsearched = unknownDevices
    ? []
    : records.filter((r) => !r.assignedHub || !searched.has(r.assignedHub.toLowerCase()));
  const { devices, errors, refused } = await readHubDevices(hubs, unsearched, options.exportReads);
  // A refused key or role is a wrong target, not a hub to work around: stop before anything changes.
  if (refused) throw refused;
  const hubDevices = [...(lookedUp?.devices ?? []), ...devices];
  const edgeGateways = await readEdgeGateways(hubs, hubDevices);
  return {
    individualEnrollments: individuals,
    enrollmentGroups: groups as EnrollmentGroup[],
    registrations: records,
    hubDevices,
    ...(edgeGateways.length > 0 ? { edgeGateways } : {}),
    caCertificates: options.caCertificates,
    hubsWithCredentials: hubs.hosts(),
    ...(lookedUp ? { hubLookup: lookedUp.lookup } : {}),
    ...(errors.size > 0 ? { unreadHubs: [...errors.keys()] } : {}),
  };
}
