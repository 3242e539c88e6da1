/**
 * The ports the session reads through: every read of a plan, a verify, a restore or a list goes
 * through the read limiter (executor/read-limiter.ts), so it waits its turn under the service's limit
 * and is retried there, once, by the one retry layer. Page by page for lists: a failed page is asked
 * for again, not the whole list. Writes are not offered: the executor makes them, with its own limiter.
 */
import type {
  EnrollmentGroup,
  HubDevice,
  IndividualEnrollment,
  RegistrationRecord,
} from '../../core/model.js';
import type { DpsPort, HubDirectory, HubPort } from '../../core/ports.js';
import { queryLane, type ReadLimiter } from '../executor/read-limiter.js';

/** The read half of the DPS port. */
export type DpsReads = Pick<
  DpsPort,
  | 'host'
  | 'getEnrollment'
  | 'getGroup'
  | 'getRegistration'
  | 'listEnrollments'
  | 'listGroups'
  | 'listGroupRegistrations'
>;
/** The read half of a hub port. */
export type HubReads = Pick<
  HubPort,
  'host' | 'getDevice' | 'listDevices' | 'findDevices' | 'findEdgeDependents'
>;
export interface HubReadDirectory {
  get(hubHost: string): HubReads | undefined;
  hosts(): string[];
}

/** Each page under the limiter; a page that failed past its retries ends the list with that error. */
function limitedPages<T>(
  reads: ReadLimiter,
  lane: string,
  source: () => AsyncIterable<T[]>,
): AsyncIterable<T[]> {
  return {
    [Symbol.asyncIterator]() {
      const pages = source()[Symbol.asyncIterator]();
      return { next: () => reads.read(lane, 1, () => pages.next()) };
    },
  };
}

export function limitedDps(dps: DpsPort, reads: ReadLimiter): DpsReads {
  const lane = dps.host;
  return {
    host: dps.host,
    getEnrollment: (id: string): Promise<IndividualEnrollment | undefined> =>
      reads.read(lane, 1, () => dps.getEnrollment(id)),
    getGroup: (id: string): Promise<EnrollmentGroup | undefined> =>
      reads.read(lane, 1, () => dps.getGroup(id)),
    getRegistration: (id: string): Promise<RegistrationRecord | undefined> =>
      reads.read(lane, 1, () => dps.getRegistration(id)),
    listEnrollments: () => limitedPages(reads, lane, () => dps.listEnrollments()),
    listGroups: () => limitedPages(reads, lane, () => dps.listGroups()),
    listGroupRegistrations: (groupId: string) =>
      limitedPages(reads, lane, () => dps.listGroupRegistrations(groupId)),
  };
}

function limitedHub(hub: HubPort, reads: ReadLimiter): HubReads {
  return {
    host: hub.host,
    // An identity read is an identity registry operation; a query (a list page, a lookup) is billed
    // against the hub's query budget.
    getDevice: (id: string): Promise<HubDevice | undefined> =>
      reads.read(hub.host, 1, () => hub.getDevice(id)),
    listDevices: () => limitedPages(reads, queryLane(hub.host), () => hub.listDevices()),
    findDevices: (ids: string[]) => reads.read(queryLane(hub.host), 1, () => hub.findDevices(ids)),
    ...(hub.findEdgeDependents
      ? {
          // Two queries: the gateway's children, then its modules.
          findEdgeDependents: (gateway: { deviceId: string; deviceScope: string }) =>
            reads.read(
              queryLane(hub.host),
              2,
              async () => (await hub.findEdgeDependents?.(gateway)) ?? { children: [], modules: [] },
            ),
        }
      : {}),
  };
}

export function limitedHubs(hubs: HubDirectory, reads: ReadLimiter): HubReadDirectory {
  const cache = new Map<string, HubReads>();
  return {
    hosts: () => hubs.hosts(),
    get(hubHost: string) {
      const key = hubHost.toLowerCase();
      const port = hubs.get(key);
      if (!port) return undefined;
      let limited = cache.get(key);
      if (!limited) {
        limited = limitedHub(port, reads);
        cache.set(key, limited);
      }
      return limited;
    },
  };
}
