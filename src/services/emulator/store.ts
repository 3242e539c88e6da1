/**
 * The emulator's state: one DPS (enrollments, enrollment groups, registration records, verified CA
 * certificates) and several hubs (device identities), plus the demo devices' private material.
 * Every write goes through a method here so that the sorted-key caches used for paging stay right and
 * persistence hears about the change.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { ServiceError } from './errors.js';
import type {
  DemoSecrets,
  SharedAccessPolicy,
  StoredDevice,
  StoredEnrollment,
  StoredGroup,
  StoredRegistration,
} from './types.js';

export const DPS_HOST = 'sandbox-dps.azure-devices-provisioning.net';
export const HUB_NAMES = ['hub-eu', 'hub-us', 'hub-asia'] as const;
export const DPS_POLICY = 'provisioningserviceowner';
export const HUB_POLICY = 'iothubowner';

export interface HubState {
  name: string;
  host: string;
  policy: SharedAccessPolicy;
  devices: Map<string, StoredDevice>;
  /** Verified CA certificates (PEM) by name: what CA-authenticated devices' chains must lead to. */
  caCertificates: Map<string, string>;
}

export interface DpsState {
  host: string;
  idScope: string;
  policy: SharedAccessPolicy;
  enrollments: Map<string, StoredEnrollment>;
  groups: Map<string, StoredGroup>;
  registrations: Map<string, StoredRegistration>;
  /** Verified CA certificates by name, for groups whose attestation has caReferences. */
  caCertificates: Map<string, string>;
}

/** What the state file holds (version 1). */
export interface StoreSnapshot {
  version: 1;
  sequence: number;
  dps: {
    host: string;
    idScope: string;
    policy: SharedAccessPolicy;
    enrollments: StoredEnrollment[];
    groups: StoredGroup[];
    registrations: StoredRegistration[];
    caCertificates: Record<string, string>;
  };
  hubs: {
    name: string;
    host: string;
    policy: SharedAccessPolicy;
    devices: StoredDevice[];
    caCertificates?: Record<string, string>;
  }[];
  demoSecrets: DemoSecrets;
  /** Secret from which the keys of SAS devices stored without keys (large seeds) are derived. */
  keySeed: string;
}

export const newKey = (): string => randomBytes(32).toString('base64');

/** The read-only policy each service also has (it can read everything and change nothing). */
export const READ_ONLY_POLICY = { dps: 'enrollmentread', hub: 'registryRead' } as const;

const derivedKey = (ownerKey: string, label: string): string =>
  createHmac('sha256', Buffer.from(ownerKey, 'base64')).update(label).digest('base64');

/**
 * A service's read-only policy: its keys derived from the owner policy's, so the state file needs no
 * more secrets. DPS: EnrollmentRead + RegistrationStatusRead; a hub: RegistryRead.
 */
export function readOnlyPolicy(state: HubState | DpsState): SharedAccessPolicy {
  const dps = 'idScope' in state;
  const name = dps ? READ_ONLY_POLICY.dps : READ_ONLY_POLICY.hub;
  return {
    name,
    primaryKey: derivedKey(state.policy.primaryKey, `${name}:primary`),
    secondaryKey: derivedKey(state.policy.secondaryKey, `${name}:secondary`),
    rights: dps ? ['EnrollmentRead', 'RegistrationStatusRead'] : ['RegistryRead'],
  };
}

/** Every policy a service accepts: its owner policy (all rights), then its read-only one. */
export const policiesOf = (state: HubState | DpsState): SharedAccessPolicy[] => [
  state.policy,
  readOnlyPolicy(state),
];

function newPolicy(name: string): SharedAccessPolicy {
  return { name, primaryKey: newKey(), secondaryKey: newKey() };
}

/** Sorted keys, rebuilt only after the collection changed. */
class SortedKeys {
  private cache: string[] | undefined;
  invalidate(): void {
    this.cache = undefined;
  }
  get(keys: () => Iterable<string>): string[] {
    this.cache ??= [...keys()].sort();
    return this.cache;
  }
}

export class EmulatorStore {
  readonly dps: DpsState;
  readonly hubs: Map<string, HubState>;
  demoSecrets: DemoSecrets;
  private sequence: number;
  private readonly keySeed: string;
  private readonly etagPrefix = randomBytes(10).toString('hex');
  private readonly listeners = new Set<() => void>();
  private readonly sortedEnrollments = new SortedKeys();
  private readonly sortedGroups = new SortedKeys();
  private readonly sortedDevices = new Map<string, SortedKeys>();
  private readonly registrationsByGroup = new Map<string, Set<string>>();
  private readonly sortedGroupRegistrations = new Map<string, SortedKeys>();

  private constructor(
    dps: DpsState,
    hubs: HubState[],
    demoSecrets: DemoSecrets,
    sequence: number,
    keySeed: string,
  ) {
    this.dps = dps;
    this.keySeed = keySeed;
    this.hubs = new Map(hubs.map((h) => [h.host, h]));
    this.demoSecrets = demoSecrets;
    this.sequence = sequence;
    for (const r of dps.registrations.values()) this.indexRegistration(r);
  }

  /** A new, empty state with random keys and ID scope. */
  static create(): EmulatorStore {
    const idScope = `0ne${randomBytes(4).toString('hex').toUpperCase()}`;
    const dps: DpsState = {
      host: DPS_HOST,
      idScope,
      policy: newPolicy(DPS_POLICY),
      enrollments: new Map(),
      groups: new Map(),
      registrations: new Map(),
      caCertificates: new Map(),
    };
    const hubs = HUB_NAMES.map((name) => ({
      name,
      host: `${name}.azure-devices.net`,
      policy: newPolicy(HUB_POLICY),
      devices: new Map<string, StoredDevice>(),
      caCertificates: new Map<string, string>(),
    }));
    return new EmulatorStore(dps, hubs, { authorities: {}, devices: {} }, 0, newKey());
  }

  static fromSnapshot(s: StoreSnapshot): EmulatorStore {
    if (s?.version !== 1 || !s.dps || !Array.isArray(s.hubs)) {
      throw new Error(
        'the state file is not an emulator state (version 1); move it away or pick another --state file',
      );
    }
    const dps: DpsState = {
      host: s.dps.host,
      idScope: s.dps.idScope,
      policy: s.dps.policy,
      enrollments: new Map(s.dps.enrollments.map((e) => [e.registrationId, e])),
      groups: new Map(s.dps.groups.map((g) => [g.enrollmentGroupId, g])),
      registrations: new Map(s.dps.registrations.map((r) => [r.registrationId, r])),
      caCertificates: new Map(Object.entries(s.dps.caCertificates ?? {})),
    };
    const hubs = s.hubs.map((h) => ({
      name: h.name,
      host: h.host,
      policy: h.policy,
      devices: new Map(h.devices.map((d) => [d.deviceId, d])),
      caCertificates: new Map(Object.entries(h.caCertificates ?? {})),
    }));
    const demo = s.demoSecrets ?? { authorities: {}, devices: {} };
    return new EmulatorStore(dps, hubs, demo, s.sequence ?? 0, s.keySeed ?? newKey());
  }

  toSnapshot(): StoreSnapshot {
    return {
      version: 1,
      sequence: this.sequence,
      dps: {
        host: this.dps.host,
        idScope: this.dps.idScope,
        policy: this.dps.policy,
        enrollments: [...this.dps.enrollments.values()],
        groups: [...this.dps.groups.values()],
        registrations: [...this.dps.registrations.values()],
        caCertificates: Object.fromEntries(this.dps.caCertificates),
      },
      hubs: [...this.hubs.values()].map((h) => ({
        name: h.name,
        host: h.host,
        policy: h.policy,
        devices: [...h.devices.values()],
        caCertificates: Object.fromEntries(h.caCertificates),
      })),
      demoSecrets: this.demoSecrets,
      keySeed: this.keySeed,
    };
  }

  /** Called after every change (persistence debounces its saves on it). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tell listeners about a change made directly to the maps (tests, seeding). */
  touch(): void {
    this.sortedEnrollments.invalidate();
    this.sortedGroups.invalidate();
    for (const s of this.sortedDevices.values()) s.invalidate();
    this.registrationsByGroup.clear();
    for (const r of this.dps.registrations.values()) this.indexRegistration(r);
    for (const s of this.sortedGroupRegistrations.values()) s.invalidate();
    this.changed();
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  /** DPS ETags look like base64 of a quoted GUID-like value; they change on every write. */
  newDpsEtag(): string {
    this.sequence += 1;
    return Buffer.from(`"${this.etagPrefix}-${this.sequence.toString(16).padStart(12, '0')}"`).toString(
      'base64',
    );
  }

  /** A SAS device's keys; devices stored without keys get keys derived from this state's secret. */
  deviceKeys(hub: HubState, d: StoredDevice): { primaryKey: string; secondaryKey: string } {
    if (d.primaryKey && d.secondaryKey) return { primaryKey: d.primaryKey, secondaryKey: d.secondaryKey };
    const derive = (slot: string) =>
      createHmac('sha256', this.keySeed).update(`${hub.host}/${d.deviceId}/${slot}`).digest('base64');
    return {
      primaryKey: d.primaryKey ?? derive('primary'),
      secondaryKey: d.secondaryKey ?? derive('secondary'),
    };
  }

  /** Hub identity ETags: base64 of an increasing number. */
  newHubEtag(): string {
    this.sequence += 1;
    return Buffer.from(String(this.sequence)).toString('base64');
  }

  hubByHost(host: string): HubState | undefined {
    return this.hubs.get(host);
  }

  // --- individual enrollments
  putEnrollment(e: StoredEnrollment): void {
    if (!this.dps.enrollments.has(e.registrationId)) this.sortedEnrollments.invalidate();
    this.dps.enrollments.set(e.registrationId, e);
    this.changed();
  }
  deleteEnrollment(id: string): boolean {
    const had = this.dps.enrollments.delete(id);
    if (had) {
      this.sortedEnrollments.invalidate();
      this.changed();
    }
    return had;
  }
  enrollmentIds(): string[] {
    return this.sortedEnrollments.get(() => this.dps.enrollments.keys());
  }

  // --- enrollment groups
  putGroup(g: StoredGroup): void {
    if (!this.dps.groups.has(g.enrollmentGroupId)) this.sortedGroups.invalidate();
    this.dps.groups.set(g.enrollmentGroupId, g);
    this.changed();
  }
  deleteGroup(id: string): boolean {
    const had = this.dps.groups.delete(id);
    if (had) {
      this.sortedGroups.invalidate();
      this.changed();
    }
    return had;
  }
  groupIds(): string[] {
    return this.sortedGroups.get(() => this.dps.groups.keys());
  }

  // --- registration records
  private indexRegistration(r: StoredRegistration): void {
    if (r.enrollment.kind !== 'group') return;
    let set = this.registrationsByGroup.get(r.enrollment.id);
    if (!set) {
      set = new Set();
      this.registrationsByGroup.set(r.enrollment.id, set);
    }
    set.add(r.registrationId);
  }
  putRegistration(r: StoredRegistration): void {
    const old = this.dps.registrations.get(r.registrationId);
    if (old) this.unindexRegistration(old);
    this.dps.registrations.set(r.registrationId, r);
    this.indexRegistration(r);
    this.sortedGroupRegistrations.get(r.enrollment.id)?.invalidate();
    this.changed();
  }
  private unindexRegistration(r: StoredRegistration): void {
    if (r.enrollment.kind !== 'group') return;
    this.registrationsByGroup.get(r.enrollment.id)?.delete(r.registrationId);
    this.sortedGroupRegistrations.get(r.enrollment.id)?.invalidate();
  }
  deleteRegistration(id: string): boolean {
    const old = this.dps.registrations.get(id);
    if (!old) return false;
    this.dps.registrations.delete(id);
    this.unindexRegistration(old);
    this.changed();
    return true;
  }
  /** Registration IDs of one enrollment group, sorted. */
  groupRegistrationIds(groupId: string): string[] {
    let sorted = this.sortedGroupRegistrations.get(groupId);
    if (!sorted) {
      sorted = new SortedKeys();
      this.sortedGroupRegistrations.set(groupId, sorted);
    }
    return sorted.get(() => this.registrationsByGroup.get(groupId) ?? []);
  }

  // --- hub device identities
  putDevice(hub: HubState, d: StoredDevice): void {
    if (!hub.devices.has(d.deviceId)) this.sortedDevices.get(hub.host)?.invalidate();
    hub.devices.set(d.deviceId, d);
    this.changed();
  }
  deleteDevice(hub: HubState, id: string): boolean {
    const had = hub.devices.delete(id);
    if (had) {
      this.sortedDevices.get(hub.host)?.invalidate();
      this.changed();
    }
    return had;
  }
  deviceIds(hub: HubState): string[] {
    let sorted = this.sortedDevices.get(hub.host);
    if (!sorted) {
      sorted = new SortedKeys();
      this.sortedDevices.set(hub.host, sorted);
    }
    return sorted.get(() => hub.devices.keys());
  }
}

/**
 * One page of sorted keys after a continuation key; the token is opaque to clients. With `accept`,
 * keys are scanned until the page is full, and the token points after the last key scanned.
 */
export function pageAfter(
  sorted: string[],
  continuation: string | undefined,
  size: number,
  accept?: (key: string) => boolean,
): { keys: string[]; next?: string } {
  let start = 0;
  if (continuation) {
    const after = decodeContinuation(continuation);
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] <= after) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  if (!accept) {
    const keys = sorted.slice(start, start + size);
    const more = start + size < sorted.length;
    return { keys, next: more && keys.length ? encodeContinuation(keys[keys.length - 1]) : undefined };
  }
  const keys: string[] = [];
  let i = start;
  for (; i < sorted.length && keys.length < size; i++) if (accept(sorted[i])) keys.push(sorted[i]);
  return { keys, next: i < sorted.length && i > 0 ? encodeContinuation(sorted[i - 1]) : undefined };
}

function encodeContinuation(lastKey: string): string {
  return Buffer.from(JSON.stringify({ after: lastKey })).toString('base64url');
}

function decodeContinuation(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof parsed?.after === 'string') return parsed.after;
  } catch {
    // fall through
  }
  throw new ServiceError('badRequest', 'the x-ms-continuation token is not one this service issued');
}
