/**
 * Looking device IDs up on a hub: `SELECT * FROM devices WHERE deviceId IN [...]`, a page of IDs per
 * query. Queries have their own budget on a hub (S1/S2: 20 a minute per unit, S3: 1,000), far below the
 * identity registry's, so what a lookup costs is counted before it is made and shown in the plan.
 */
import { plural } from './text.js';
import {
  type HubIdentityCheck,
  type HubLookupCost,
  hubDeviceKey,
  type IndividualEnrollment,
  type KnownState,
  type RegistrationRecord,
} from './model.js';

/**
 * The device IDs a device may have on a hub: its record's, else its individual enrollment's (DPS names
 * the hub identity after it when set), else its registration ID. The record's comes first.
 */
export function deviceIdsOf(
  registrationId: string,
  record?: RegistrationRecord,
  enrollment?: IndividualEnrollment,
): string[] {
  const fallback = enrollment?.deviceId || registrationId;
  return [...new Set([record?.deviceId || fallback, fallback])];
}

/** IDs per query: the IN list stays short, and the answer is one page. */
export const LOOKUP_IDS_PER_QUERY = 100;
/** The query text stays under this many characters (IDs are up to 128 characters each). */
export const LOOKUP_QUERY_CHARS = 6000;
/** The text around the IN list: `SELECT * FROM devices WHERE deviceId IN [` ... `]`. */
const QUERY_OVERHEAD = 48;

/** Twin queries a minute per unit, per tier (documented throttles; basic and free tiers as S1). */
const QUERIES_PER_MINUTE_PER_UNIT: Record<string, number> = { S3: 1000, B3: 1000 };
const DEFAULT_QUERIES_PER_MINUTE = 20;

export const hubQueriesPerMinute = (capacity: { tier: string; units: number }): number =>
  (QUERIES_PER_MINUTE_PER_UNIT[capacity.tier.toUpperCase()] ?? DEFAULT_QUERIES_PER_MINUTE) *
  Math.max(1, capacity.units);

/**
 * The device IDs in query-sized batches, in order, without repeats: at most LOOKUP_IDS_PER_QUERY IDs
 * and LOOKUP_QUERY_CHARS characters of query text each (an ID costs its length plus quotes and comma).
 */
export function lookupBatches(deviceIds: readonly string[]): string[][] {
  const batches: string[][] = [];
  let batch: string[] = [];
  let chars = QUERY_OVERHEAD;
  for (const id of new Set(deviceIds)) {
    const cost = id.length + 4;
    if (batch.length > 0 && (batch.length >= LOOKUP_IDS_PER_QUERY || chars + cost > LOOKUP_QUERY_CHARS)) {
      batches.push(batch);
      batch = [];
      chars = QUERY_OVERHEAD;
    }
    batch.push(id);
    chars += cost;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

export function lookupCost(queries: number, queriesPerMinute: number): HubLookupCost {
  return { queries, queriesPerMinute, minutes: queries / Math.max(1, queriesPerMinute) };
}

/** "1 query", "120 queries, about 6 min at 20 queries/min". */
export function describeLookupCost(cost: HubLookupCost): string {
  const queries = plural(cost.queries, 'query', 'queries');
  if (cost.minutes < 1) return queries;
  const minutes =
    cost.minutes < 90 ? `${Math.ceil(cost.minutes)} min` : `${(cost.minutes / 60).toFixed(1)} h`;
  return `${queries}, about ${minutes} at ${cost.queriesPerMinute.toLocaleString('en-US')} queries/min`;
}

/**
 * Verify's hub side: per device, each hub identity it has or had, as read now. The hubs are the one its
 * record names (now, or before the run), the ones a run acted on (`expected`), and every hub the lookup
 * found one of its device IDs on. `absent`: the hub was read and holds no such identity; `unknown`: it
 * was not read (no credentials, lookup skipped or failed).
 */
export function hubIdentityChecks(
  registrationIds: readonly string[],
  state: KnownState,
  options: { prior?: KnownState; expected?: ReadonlyMap<string, { hub: string; deviceId: string }[]> } = {},
): Map<string, HubIdentityCheck[]> {
  const { prior, expected } = options;
  const records = new Map(state.registrations.map((r) => [r.registrationId, r]));
  const priorRecords = new Map(prior?.registrations.map((r) => [r.registrationId, r]));
  const individuals = new Map(
    [...(prior?.individualEnrollments ?? []), ...state.individualEnrollments].map((e) => [
      e.registrationId,
      e,
    ]),
  );
  const identities = new Map(state.hubDevices.map((d) => [hubDeviceKey(d.hub, d.deviceId), d]));
  const searched = (state.hubLookup?.searched ?? []).map((h) => h.toLowerCase());
  const credentialed = new Set(state.hubsWithCredentials?.map((h) => h.toLowerCase()));
  const unread = new Set(state.unreadHubs?.map((h) => h.toLowerCase()));
  const out = new Map<string, HubIdentityCheck[]>();
  for (const id of registrationIds) {
    const now = records.get(id);
    const record = now ?? priorRecords.get(id);
    const ids = deviceIdsOf(id, record, individuals.get(id));
    // Hubs read for this device: every hub searched, and the hub its current record names.
    const read = new Set(searched);
    const recordHub = now?.assignedHub?.toLowerCase();
    if (recordHub && credentialed.has(recordHub) && !unread.has(recordHub)) read.add(recordHub);
    const checks: HubIdentityCheck[] = [];
    const seen = new Set<string>();
    const add = (hub: string, deviceId: string) => {
      const key = hubDeviceKey(hub, deviceId);
      if (seen.has(key)) return;
      seen.add(key);
      const found = identities.get(key);
      const status = found ? found.status : read.has(hub.toLowerCase()) ? 'absent' : 'unknown';
      checks.push({ hub, deviceId, status });
    };
    if (record?.assignedHub) add(record.assignedHub, ids[0]);
    for (const e of expected?.get(id) ?? []) add(e.hub, e.deviceId);
    for (const hub of state.hubLookup?.searched ?? []) {
      for (const deviceId of ids) if (identities.has(hubDeviceKey(hub, deviceId))) add(hub, deviceId);
    }
    out.set(id, checks);
  }
  return out;
}
