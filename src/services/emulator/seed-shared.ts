/** What both seeds do for each device: the registration record DPS keeps and the identity on its hub. */
import { createHmac } from 'node:crypto';
import { newGenerationId } from './hub-model.js';
import { type EmulatorStore, type HubState, newKey } from './store.js';
import type { HubAuthType, StoredDevice, StoredEnrollmentCommon, StoredRegistration } from './types.js';

/** A symmetric-key group device's key: base64(HMAC-SHA256(base64decode(groupKey), registrationId)). */
export function deriveDeviceKey(groupKey: string, registrationId: string): string {
  return createHmac('sha256', Buffer.from(groupKey, 'base64')).update(registrationId).digest('base64');
}

export interface ProvisionedDevice {
  registrationId: string;
  enrollment: { kind: 'individual' | 'group'; id: string };
  hub: HubState;
  authType: HubAuthType;
  primaryKey?: string;
  secondaryKey?: string;
  /** selfSigned identities: the thumbprint of the device's certificate. */
  primaryThumbprint?: string;
  /** Hub status (DPS does not disable; an operator did). */
  status?: 'enabled' | 'disabled';
  statusReason?: string;
  at: string;
}

/** Writes straight into the maps (no change events): callers call store.touch() once at the end. */
export function provision(store: EmulatorStore, p: ProvisionedDevice): void {
  const registration: StoredRegistration = {
    registrationId: p.registrationId,
    enrollment: p.enrollment,
    deviceId: p.registrationId,
    assignedHub: p.hub.host,
    status: 'assigned',
    substatus: 'initialAssignment',
    createdDateTimeUtc: p.at,
    lastUpdatedDateTimeUtc: p.at,
    etag: store.newDpsEtag(),
  };
  store.dps.registrations.set(p.registrationId, registration);
  // One object shape for every device keeps 100,000 of them cheap to build and to hold.
  const device: StoredDevice = {
    deviceId: p.registrationId,
    etag: store.newHubEtag(),
    generationId: newGenerationId(),
    status: p.status ?? 'enabled',
    statusUpdatedTime: p.at,
    connectionState: 'Disconnected',
    connectionStateUpdatedTime: p.at,
    lastActivityTime: p.at,
    authType: p.authType,
    iotEdge: false,
    cloudToDeviceMessageCount: 0,
    twinVersion: 1,
  };
  if (p.statusReason) device.statusReason = p.statusReason;
  if (p.authType === 'sas' && p.primaryKey) {
    device.primaryKey = p.primaryKey;
    device.secondaryKey = p.secondaryKey ?? newKey();
  }
  if (p.authType === 'selfSigned' && p.primaryThumbprint) device.primaryThumbprint = p.primaryThumbprint;
  p.hub.devices.set(p.registrationId, device);
}

export function enrollmentCommon(
  store: EmulatorStore,
  attestation: StoredEnrollmentCommon['attestation'],
  at: string,
  status: 'enabled' | 'disabled' = 'enabled',
): StoredEnrollmentCommon {
  return {
    attestation,
    provisioningStatus: status,
    etag: store.newDpsEtag(),
    createdDateTimeUtc: at,
    lastUpdatedDateTimeUtc: at,
    allocationPolicy: 'hashed',
    iotHubs: [...store.hubs.keys()],
    reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: true },
    capabilities: { iotEdge: false },
  };
}
