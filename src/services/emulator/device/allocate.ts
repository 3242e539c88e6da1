/**
 * What DPS writes once it has decided: the registration record (one per registration ID) and, for an
 * accepted device, its identity on the assigned hub. DPS creates a missing identity but never touches
 * an existing one: a device disabled on its hub stays disabled however often it provisions.
 */
import { createHash } from 'node:crypto';
import { renderRegistration } from '../dps-model.js';
import { newGenerationId } from '../hub-model.js';
import type { StatsRecorder } from '../stats.js';
import type { EmulatorStore, HubState } from '../store.js';
import type { StoredDevice, StoredEnrollmentCommon, StoredRegistration } from '../types.js';
import type { DecidingEnrollment, Decision, HubCredentials } from './decide.js';

const NEVER = '0001-01-01T00:00:00Z';
const DEFAULT_REPROVISION = { updateHubAssignment: true, migrateDeviceData: true };

/** The operation's final status and the registration state DPS returns with it. */
export interface RegistrationResult {
  status: 'assigned' | 'disabled' | 'failed';
  registrationState: Record<string, unknown>;
}

function settings(by: DecidingEnrollment): StoredEnrollmentCommon {
  return by.kind === 'individual' ? by.enrollment : by.group;
}

function link(by: DecidingEnrollment): StoredRegistration['enrollment'] {
  return by.kind === 'individual'
    ? { kind: 'individual', id: by.enrollment.registrationId }
    : { kind: 'group', id: by.group.enrollmentGroupId };
}

function hashIndex(registrationId: string, size: number): number {
  return createHash('sha256').update(registrationId).digest().readUInt32BE(0) % size;
}

/**
 * The hub the device goes to. Hashed allocation spreads registration IDs evenly over the enrollment's
 * hubs (all linked hubs when it names none); a hub the device already has is kept while it is still
 * one of them, which is what the hash answers for devices this emulator placed (seeded devices were
 * spread in order instead). `updateHubAssignment: false` keeps the device where it is. Geo-latency
 * and custom (Azure Function) allocation are treated as hashed.
 */
export function chooseHub(
  store: EmulatorStore,
  enrollment: StoredEnrollmentCommon,
  registrationId: string,
  previous: StoredRegistration | undefined,
): HubState | undefined {
  const hosts = enrollment.iotHubs?.length ? enrollment.iotHubs : [...store.hubs.keys()];
  const candidates = hosts.map((h) => store.hubByHost(h)).filter((h): h is HubState => !!h);
  const policy = enrollment.reprovisionPolicy ?? DEFAULT_REPROVISION;
  const current = previous?.assignedHub ? store.hubByHost(previous.assignedHub) : undefined;
  if (current && (!policy.updateHubAssignment || candidates.includes(current))) return current;
  if (candidates.length === 0) return undefined;
  if (enrollment.allocationPolicy === 'static') {
    const named = enrollment.iotHubHostName ? store.hubByHost(enrollment.iotHubHostName) : undefined;
    return named ?? candidates[0];
  }
  return candidates[hashIndex(registrationId, candidates.length)];
}

function substatusOf(
  previous: StoredRegistration | undefined,
  hub: HubState,
  enrollment: StoredEnrollmentCommon,
): NonNullable<StoredRegistration['substatus']> {
  if (previous?.status !== 'assigned' || !previous.assignedHub) return 'initialAssignment';
  if (previous.assignedHub === hub.host) return 'reprovisionedToInitialAssignment';
  return (enrollment.reprovisionPolicy ?? DEFAULT_REPROVISION).migrateDeviceData
    ? 'deviceDataMigrated'
    : 'deviceDataReset';
}

function newIdentity(
  store: EmulatorStore,
  deviceId: string,
  credentials: HubCredentials,
  iotEdge: boolean,
): StoredDevice {
  const now = new Date().toISOString();
  const generationId = newGenerationId();
  return {
    deviceId,
    etag: store.newHubEtag(),
    generationId,
    status: 'enabled',
    statusUpdatedTime: now,
    connectionState: 'Disconnected',
    connectionStateUpdatedTime: NEVER,
    lastActivityTime: NEVER,
    ...credentials,
    iotEdge,
    // An Edge device gets a scope of its own, as the hub gives one to every Edge device it creates.
    ...(iotEdge ? { deviceScope: `ms-azure-iot-edge://${deviceId}-${generationId}`, parentScopes: [] } : {}),
    cloudToDeviceMessageCount: 0,
    twinVersion: 1,
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The twin a new identity starts with, as DPS writes it: moved from another hub with
 * migrateDeviceData, the old identity's tags and desired properties; otherwise (first assignment, or
 * deviceDataReset) the enrollment's initialTwin. An existing identity is never touched.
 */
function twinForNewIdentity(
  store: EmulatorStore,
  enrollment: StoredEnrollmentCommon,
  previous: StoredRegistration | undefined,
  deviceId: string,
): Pick<StoredDevice, 'tags' | 'desired'> {
  const policy = enrollment.reprovisionPolicy ?? DEFAULT_REPROVISION;
  const old = previous?.assignedHub
    ? store.hubByHost(previous.assignedHub)?.devices.get(previous.deviceId ?? deviceId)
    : undefined;
  if (old && policy.migrateDeviceData) {
    return { ...(old.tags ? { tags: old.tags } : {}), ...(old.desired ? { desired: old.desired } : {}) };
  }
  const twin = isObject(enrollment.initialTwin) ? enrollment.initialTwin : {};
  const tags = isObject(twin.tags) ? twin.tags : undefined;
  const properties = isObject(twin.properties) ? twin.properties : {};
  const desired = isObject(properties.desired) ? properties.desired : undefined;
  return {
    ...(tags ? { tags: structuredClone(tags) } : {}),
    ...(desired ? { desired: structuredClone(desired) } : {}),
  };
}

/** The registration state as the device API answers it: the record, plus the group it came through. */
function stateOf(record: StoredRegistration, by: DecidingEnrollment): Record<string, unknown> {
  const state: Record<string, unknown> = renderRegistration(record);
  if (by.kind === 'group') {
    const attestation = by.group.attestation.type === 'x509' ? 'x509' : 'symmetricKey';
    state[attestation] = { enrollmentGroupId: by.group.enrollmentGroupId };
  }
  return state;
}

/** Applies DPS's decision (accepted or disabled) to the registration record and the hub. */
export function applyDecision(
  store: EmulatorStore,
  stats: StatsRecorder,
  registrationId: string,
  decision: Exclude<Decision, { kind: 'unauthorized' }>,
): RegistrationResult {
  const now = new Date().toISOString();
  const { by } = decision;
  const enrollment = settings(by);
  const previous = store.dps.registrations.get(registrationId);
  const sameEnrollment =
    previous?.enrollment.kind === link(by).kind && previous.enrollment.id === link(by).id;
  const deviceId =
    sameEnrollment && previous
      ? previous.deviceId
      : (by.kind === 'individual' ? by.enrollment.deviceId : undefined) || registrationId;
  const base = {
    registrationId,
    createdDateTimeUtc: previous?.createdDateTimeUtc ?? now,
    lastUpdatedDateTimeUtc: now,
    etag: store.newDpsEtag(),
  };
  const target = `dps/registrations/${registrationId}`;

  if (decision.kind === 'disabled') {
    // The record says the device was refused; where it had been assigned stays on it.
    let record: StoredRegistration = { ...base, enrollment: link(by), deviceId, status: 'disabled' };
    if (previous) {
      const { substatus: _assignedAs, ...kept } = previous;
      record = { ...kept, ...base, status: 'disabled' };
    }
    store.putRegistration(record);
    stats.applied(target, 'disabled');
    return { status: 'disabled', registrationState: stateOf(record, by) };
  }

  const hub = chooseHub(store, enrollment, registrationId, previous);
  if (!hub) {
    const record: StoredRegistration = {
      ...base,
      enrollment: link(by),
      deviceId,
      status: 'failed',
      errorMessage: 'no IoT hub is linked to this enrollment or to the DPS instance',
    };
    store.putRegistration(record);
    stats.applied(target, 'failed');
    return { status: 'failed', registrationState: stateOf(record, by) };
  }
  if (!hub.devices.has(deviceId)) {
    const identity = newIdentity(
      store,
      deviceId,
      decision.hubCredentials,
      !!enrollment.capabilities?.iotEdge,
    );
    Object.assign(identity, twinForNewIdentity(store, enrollment, previous, deviceId));
    store.putDevice(hub, identity);
    stats.applied(`${hub.host}/${deviceId}`, 'create');
  }
  const record: StoredRegistration = {
    ...base,
    enrollment: link(by),
    deviceId,
    assignedHub: hub.host,
    status: 'assigned',
    substatus: substatusOf(previous, hub, enrollment),
  };
  store.putRegistration(record);
  stats.applied(target, 'assign');
  return { status: 'assigned', registrationState: stateOf(record, by) };
}
