/**
 * The domain model: what DPS and IoT Hub hold, in the service's own words.
 * Pure data, no I/O. Secrets (keys, connection strings) never live in these types.
 */

export type ProvisioningStatus = 'enabled' | 'disabled';
export type HubDeviceStatus = 'enabled' | 'disabled';
/** DPS registration record status (DeviceRegistrationState.status). */
export type RegistrationStatus = 'unassigned' | 'assigning' | 'assigned' | 'failed' | 'disabled';

/**
 * What DPS tells about a certificate (X509CertificateInfo). DPS returns this, never the PEM.
 * Thumbprints are upper-case hex without separators.
 */
export interface CertificateInfo {
  subjectName: string;
  issuerName: string;
  sha1Thumbprint: string;
  sha256Thumbprint: string;
  serialNumber?: string;
  notBefore?: string;
  notAfter?: string;
}

/** A certificate we hold in full (given by the user or generated), parsed. Leaf-first chains use these. */
export interface ParsedCertificate extends CertificateInfo {
  /** Subject common name (CN), the registration ID for X.509 devices. */
  commonName: string;
  isCA: boolean;
  pem: string;
}

export type IndividualAttestation =
  | { type: 'tpm' }
  | { type: 'x509'; clientCertificates: CertificateInfo[] }
  | { type: 'symmetricKey' };

export type GroupAttestation =
  | {
      type: 'x509';
      /** Uploaded signing certificates (primary, secondary). */
      signingCertificates: CertificateInfo[];
      /** Names of verified CA certificates the group references (caReferences). */
      caReferences: string[];
    }
  | { type: 'symmetricKey' };

export type AttestationType = IndividualAttestation['type'];

export interface ReprovisionPolicy {
  updateHubAssignment: boolean;
  migrateDeviceData: boolean;
}

/** Tag written into a blocker's initial twin, so the tool (and a person) can recognise it. */
export const BLOCKER_TAG = 'iotDeprovisionBlocker';

export interface IndividualEnrollment {
  registrationId: string;
  deviceId?: string;
  attestation: IndividualAttestation;
  provisioningStatus: ProvisioningStatus;
  etag?: string;
  iotHubs?: string[];
  reprovisionPolicy?: ReprovisionPolicy;
  createdDateTimeUtc?: string;
  lastUpdatedDateTimeUtc?: string;
  /** Set when the enrollment carries the tool's blocker tag: it was written to disallow one device of a group. */
  blocker?: { groupId?: string; runId?: string };
}

export interface EnrollmentGroup {
  enrollmentGroupId: string;
  attestation: GroupAttestation;
  provisioningStatus: ProvisioningStatus;
  etag?: string;
  iotHubs?: string[];
  reprovisionPolicy?: ReprovisionPolicy;
  createdDateTimeUtc?: string;
  lastUpdatedDateTimeUtc?: string;
}

/** DPS DeviceRegistrationState: created by DPS when a device registers; deletable, never updated. */
export interface RegistrationRecord {
  registrationId: string;
  deviceId?: string;
  assignedHub?: string;
  status: RegistrationStatus;
  etag?: string;
  /** The group it was registered through, when known (records listed per group). */
  enrollmentGroupId?: string;
  createdDateTimeUtc?: string;
  lastUpdatedDateTimeUtc?: string;
  errorCode?: number;
  errorMessage?: string;
}

export interface HubDevice {
  /** Hub host name, e.g. hub-eu.azure-devices.net */
  hub: string;
  deviceId: string;
  status: HubDeviceStatus;
  statusReason?: string;
  etag?: string;
  lastActivityTime?: string;
  /** When the status last changed (the service's clock); restore uses it to see a change since a run. */
  statusUpdatedTime?: string;
  /** An IoT Edge device (capabilities.iotEdge): other devices may connect through it. */
  iotEdge?: boolean;
  /** An Edge device's own scope; a child device's: its parent's. */
  deviceScope?: string;
}

/** An IoT Edge gateway among the devices read: the devices under it and its module identities. */
export interface EdgeGateway {
  hub: string;
  deviceId: string;
  /** Device IDs (on the same hub) whose parentScopes name the gateway. */
  children: string[];
  /** Module IDs of the gateway: deleting it deletes them. */
  modules: string[];
}

/** Everything a plan or an analysis may know about the services at one moment. */
export interface KnownState {
  individualEnrollments: IndividualEnrollment[];
  enrollmentGroups: EnrollmentGroup[];
  /** Registration records that were read (of the selected enrollment or group). */
  registrations: RegistrationRecord[];
  /** Hub devices that were read, keyed by hub and device id through `hubDeviceKey`. */
  hubDevices: HubDevice[];
  /** Verified CA certificates known by name (DPS control plane); groups with caReferences resolve through this. */
  caCertificates?: Record<string, CertificateInfo>;
  /** Hubs (host names) for which the tool holds credentials. Undefined: not checked. */
  hubsWithCredentials?: string[];
  /**
   * The selected devices' IDs looked up on the hubs (beside the hub each record names): a device can have
   * identities on several hubs. Undefined: no lookup was made (only the records' hubs are known).
   */
  hubLookup?: HubLookup;
  /** Hubs (lower-case host names) whose identities could not be read: what they hold is not known. */
  unreadHubs?: string[];
  /** The Edge gateways among the hub devices read, with their children and modules (hub queries). */
  edgeGateways?: EdgeGateway[];
}

/** What a lookup of device IDs on hubs costs: queries, and minutes at the hub's query budget. */
export interface HubLookupCost {
  queries: number;
  /** The hub's query budget (queries a minute for its tier and units). */
  queriesPerMinute: number;
  minutes: number;
}

/** Which hubs the selected devices' IDs were looked up on; the identities found are in `hubDevices`. */
export interface HubLookup {
  /** Hubs (host names) searched for every selected device ID. */
  searched: string[];
  /** Hubs not searched: the person asked to skip them, or the lookup failed (with why). */
  skipped: { hub: string; why: 'asked' | 'failed'; message?: string }[];
  /** Per hub (lower-case host), searched or skipped: what its lookup costs. */
  cost: Record<string, HubLookupCost>;
  /** How many device IDs were looked up. */
  deviceIds: number;
}

export const hubDeviceKey = (hub: string, deviceId: string): string => `${hub.toLowerCase()}/${deviceId}`;

/** Could this device provision again through DPS? (the re-enrollment analysis's answer) */
export type Verdict = 'blocked' | 'possible' | 'allowed';

/** A hub identity as read back: `absent` = not on the hub; `unknown` = not read (no credentials, lookup skipped or failed). */
export type HubIdentityStatus = HubDeviceStatus | 'absent' | 'unknown';

export interface HubIdentityCheck {
  /** Hub host name. */
  hub: string;
  deviceId: string;
  status: HubIdentityStatus;
}

export interface ReenrollmentVerdict {
  registrationId: string;
  verdict: Verdict;
  /** Which enrollment or group decides / would accept the device, e.g. "enrollmentGroups/root-ca". */
  path?: string;
  /** Plain words: why. */
  reason: string;
  /** A restore run's verify: what is not back as it was before the run it restores (unset when all is). */
  notBack?: string;
  /** The device's hub identities as read back (verify reads the hub side too), one per hub. */
  hubs?: HubIdentityCheck[];
}
