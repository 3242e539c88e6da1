/**
 * The hub steps of a plan: for the chosen devices, on every hub holding one of their identities (the hub
 * each record names, whatever the record's status, and the hubs the lookup found them on), batches of at
 * most HUB_BULK_MAX devices a call, and the warnings that come with them. Devices of one group span hubs,
 * and one device can have identities on several. Hubs we hold no credentials for get a warning instead
 * of steps (their step could only fail).
 */
import { advise } from './advice.js';
import { describeLookupCost } from './hub-lookup.js';
import type { HubIdentityCount } from './plan-types.js';
import { HUB_BULK_MAX } from './plan-types.js';
import type { HubLookup } from './model.js';
import type { DeviceHubTarget } from './plan-context.js';
import { type PlanBuilder, sampleIds } from './plan-builder.js';
import type { Actions } from './selection.js';
import { plural } from './text.js';

type Deregister = Actions['deregister'];

/** The devices with an identity on one hub (a hub keeps the name it was first written with). */
interface HubDevices {
  hub: string;
  /** deviceIds[i] belongs to registrationIds[i]: restore and the executor rely on the pairing. */
  deviceIds: string[];
  registrationIds: string[];
  seen: Set<string>;
  byRecord: number;
  foundByLookup: string[];
}

/** The devices sorted by hub (keyed by the lower-case hub name), and those that have none or no credentials. */
interface ByHub {
  byHub: Map<string, HubDevices>;
  withoutCredentials: Map<string, { hub: string; registrationIds: string[] }>;
  notAssigned: string[];
}

export function addHubSteps(
  builder: PlanBuilder,
  devices: DeviceHubTarget[],
  deregister: Deregister,
  hubsWithCredentials: string[] | undefined,
  lookup?: HubLookup,
): void {
  if (devices.length === 0) return;
  if (deregister === 'none') {
    warnIdentitiesKept(builder, devices);
    return;
  }
  const sorted = sortByHub(devices, hubsWithCredentials, lookup);
  const skipped = new Map((lookup?.skipped ?? []).map((s) => [s.hub.toLowerCase(), s]));
  const searched = new Set((lookup?.searched ?? []).map((h) => h.toLowerCase()));
  for (const [key, entry] of sorted.byHub) {
    const cost = lookup?.cost[key];
    builder.hubIdentities.push({
      hub: entry.hub,
      byRecord: entry.byRecord,
      byLookup: entry.foundByLookup.length,
      foundByLookup: entry.foundByLookup,
      lookup: searched.has(key) ? 'searched' : lookupState(skipped.get(key)),
      ...(cost ? { cost } : {}),
    });
    addBatches(builder, entry, deregister);
  }
  for (const s of skipped.values()) {
    if (sorted.byHub.has(s.hub.toLowerCase())) continue;
    const cost = lookup?.cost[s.hub.toLowerCase()];
    builder.hubIdentities.push({
      hub: s.hub,
      byRecord: 0,
      byLookup: 0,
      foundByLookup: [],
      lookup: lookupState(s),
      ...(cost ? { cost } : {}),
    });
  }
  warnFoundByLookup(builder, sorted, deregister);
  warnLookupGaps(builder, lookup, devices);
  warnNotAssigned(builder, sorted.notAssigned, lookup);
  warnWithoutCredentials(builder, sorted, deregister);
}

const lookupState = (s: HubLookup['skipped'][number] | undefined): HubIdentityCount['lookup'] =>
  s === undefined ? 'none' : s.why === 'asked' ? 'skipped' : 'failed';

function warnIdentitiesKept(builder: PlanBuilder, devices: DeviceHubTarget[]): void {
  builder.warn({
    code: 'hub-identity-kept',
    severity: 'caution',
    message:
      `The hub identities of ${plural(devices.length, 'device')} are kept: ` +
      'a device that is connected now stays connected and keeps sending data. ' +
      'Disabling at DPS only stops it provisioning again.',
    ...advise(
      'Choose ',
      { choose: { deregister: 'disable' } },
      ' (reversible) to cut the device off its hub.',
    ),
    registrationIds: devices.map((d) => d.registrationId),
  });
}

function sortByHub(
  devices: DeviceHubTarget[],
  hubsWithCredentials: string[] | undefined,
  lookup: HubLookup | undefined,
): ByHub {
  const credentialed = hubsWithCredentials
    ? new Set(hubsWithCredentials.map((h) => h.toLowerCase()))
    : undefined;
  const out: ByHub = { byHub: new Map(), withoutCredentials: new Map(), notAssigned: [] };
  const hubEntry = (hub: string) => {
    const key = hub.toLowerCase();
    let entry = out.byHub.get(key);
    if (!entry) {
      entry = { hub, deviceIds: [], registrationIds: [], seen: new Set(), byRecord: 0, foundByLookup: [] };
      out.byHub.set(key, entry);
    }
    return entry;
  };
  for (const hub of lookup?.searched ?? []) hubEntry(hub);
  for (const device of devices) {
    if (device.hubs.length === 0) out.notAssigned.push(device.registrationId);
    for (const { hub, deviceId, via } of device.hubs) {
      const key = hub.toLowerCase();
      if (credentialed && !credentialed.has(key)) {
        const missing = out.withoutCredentials.get(key) ?? { hub, registrationIds: [] };
        missing.registrationIds.push(device.registrationId);
        out.withoutCredentials.set(key, missing);
        continue;
      }
      const entry = hubEntry(hub);
      if (entry.seen.has(deviceId)) continue;
      entry.seen.add(deviceId);
      entry.deviceIds.push(deviceId);
      entry.registrationIds.push(device.registrationId);
      if (via === 'record') entry.byRecord += 1;
      else entry.foundByLookup.push(device.registrationId);
    }
  }
  return out;
}

/** One bulk call per HUB_BULK_MAX devices of the hub: a status update to disabled, or a delete. */
function addBatches(builder: PlanBuilder, entry: HubDevices, deregister: Deregister): void {
  const { hub, deviceIds, registrationIds } = entry;
  if (deviceIds.length === 0) return;
  builder.devicesPerHub[hub] = (builder.devicesPerHub[hub] ?? 0) + deviceIds.length;
  for (let i = 0; i < deviceIds.length; i += HUB_BULK_MAX) {
    const batch = deviceIds.slice(i, i + HUB_BULK_MAX);
    const ids = registrationIds.slice(i, i + HUB_BULK_MAX);
    const count = plural(batch.length, 'device');
    if (deregister === 'disable') {
      builder.add(
        'deregister',
        { kind: 'disableHubDevices', hub, deviceIds: batch },
        `POST devices (bulk update status=disabled, ${count}) on ${hub}`,
        ids,
      );
    } else {
      builder.add(
        'deregister',
        { kind: 'deleteHubDevices', hub, deviceIds: batch },
        `POST devices (bulk delete, ${count}) on ${hub}`,
        ids,
      );
    }
  }
}

function warnFoundByLookup(builder: PlanBuilder, sorted: ByHub, deregister: Deregister): void {
  for (const { hub, foundByLookup } of sorted.byHub.values()) {
    const n = foundByLookup.length;
    if (n === 0) continue;
    builder.warn({
      code: 'hub-identity-by-lookup',
      severity: 'info',
      message:
        `${plural(n, 'device')} (${sampleIds(foundByLookup)}) ${n === 1 ? 'has an identity' : 'have identities'} ` +
        `on ${hub} that no registration record names (found by looking the device IDs up there: ` +
        'a device DPS moved to another hub, or whose record was deleted, keeps its old identity). ' +
        `The plan will ${deregister} ${n === 1 ? 'it' : 'them'} too.`,
      registrationIds: foundByLookup,
    });
  }
}

/** Hubs not looked up (skipped, failed), and a lookup costly enough to be worth skipping. */
function warnLookupGaps(
  builder: PlanBuilder,
  lookup: HubLookup | undefined,
  devices: DeviceHubTarget[],
): void {
  if (!lookup) return;
  const all = devices.map((d) => d.registrationId);
  const asked = lookup.skipped.filter((s) => s.why === 'asked').map((s) => s.hub);
  if (asked.length > 0) {
    builder.warn({
      code: 'hub-lookup-skipped',
      severity: 'caution',
      message:
        `The device IDs were not looked up on ${asked.join(', ')} (--skip-hub-lookup): an identity there ` +
        'that no registration record names is left as it is, and that device can keep connecting to it.',
      recommendation: 'Plan without --skip-hub-lookup to find and deregister every identity.',
      registrationIds: all,
    });
  }
  for (const failed of lookup.skipped.filter((s) => s.why === 'failed')) {
    builder.warn({
      code: 'hub-lookup-skipped',
      severity: 'danger',
      message:
        `Looking the device IDs up on ${failed.hub} failed${failed.message ? ` (${failed.message})` : ''}: ` +
        'an identity there that no registration record names is left as it is, and that device can keep ' +
        'connecting to it.',
      recommendation: 'Plan again; if the hub keeps failing, deregister those devices on it yourself.',
      registrationIds: all,
    });
  }
  const costly = Object.entries(lookup.cost).filter(([, c]) => c.minutes >= 1);
  if (costly.length > 0) {
    const named = costly.map(([hub, c]) => `${hub}: ${describeLookupCost(c)}`).join('; ');
    builder.warn({
      code: 'hub-lookup-cost',
      severity: 'info',
      message:
        `Looking ${plural(lookup.deviceIds, 'device ID')} up on every hub costs queries against each hub's ` +
        `query budget (${named}), shared with everything else that queries the hub.`,
      recommendation:
        'To skip a hub, plan with --skip-hub-lookup HUB: identities there that no record names are then left.',
      registrationIds: [],
    });
  }
}

function warnNotAssigned(builder: PlanBuilder, notAssigned: string[], lookup: HubLookup | undefined): void {
  if (notAssigned.length === 0) return;
  const looked = lookup?.searched.length ?? 0;
  builder.warn({
    code: 'not-assigned',
    severity: 'info',
    message:
      `${plural(notAssigned.length, 'device')} (${sampleIds(notAssigned)}) ` +
      `${notAssigned.length === 1 ? 'has' : 'have'} no registration record naming a hub` +
      (looked > 0
        ? ` and no identity on the ${plural(looked, 'hub')} looked up: there is no hub identity to deregister.`
        : ': there is no hub identity to deregister for them.'),
    recommendation:
      'If such a device was assigned by hand to a hub the tool has no credentials for, deregister it on that hub yourself.',
    registrationIds: notAssigned,
  });
}

function warnWithoutCredentials(builder: PlanBuilder, sorted: ByHub, deregister: Deregister): void {
  if (sorted.withoutCredentials.size === 0) return;
  const list = [...sorted.withoutCredentials.values()];
  const named = list.map((h) => `${h.hub} (${plural(h.registrationIds.length, 'device')})`).join(', ');
  builder.warn({
    code: 'hub-without-credentials',
    severity: 'danger',
    message:
      `No credentials for ${named}: the plan cannot ${deregister} those hub identities, ` +
      'so those devices can keep connecting to their hub.',
    ...advise({
      cli: 'Add --hub with a connection string (or host for Entra ID) for each of these hubs, then plan again.',
      tui:
        'Quit, give the tool credentials for these hubs (a connection string, or a host for ' +
        'Entra ID, in its configuration), and start it again.',
    }),
    registrationIds: list.flatMap((h) => h.registrationIds),
  });
}
