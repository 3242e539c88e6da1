/**
 * What the core needs from the outside, as small interfaces. The Azure adapters (real SDKs, pointed at
 * Azure or at the emulator) implement them. Every method may reject with a ServiceError.
 */
import type {
  EnrollmentGroup,
  HubDevice,
  HubDeviceStatus,
  IndividualEnrollment,
  ProvisioningStatus,
  RegistrationRecord,
} from './model.js';

export interface BulkItemResult {
  id: string;
  ok: boolean;
  /** Service error code for a failed item, e.g. DeviceNotFound. */
  code?: string;
  message?: string;
  /** The item was already in the wanted state: nothing was written (a restore must not undo it). */
  unchanged?: boolean;
}

/**
 * An identity read for a status change, ready to be written back with only its status changed. Opaque:
 * what the write sends (keys included) stays inside the adapter that made it.
 */
export interface PreparedStatusWrite {
  readonly deviceId: string;
}

/** What reading identities for a status change found, per device. */
export interface StatusChangePreparation {
  /** Identities to write (their status differs from the one wanted). */
  writes: PreparedStatusWrite[];
  /** Devices that need no write: already in the wanted status, not on the hub, or changed since read. */
  settled: BulkItemResult[];
  /** Devices whose read failed: read them again (or report the error). */
  failed: { deviceId: string; error: unknown }[];
}

export interface DpsPort {
  /** DPS host name (for messages and journals; never a secret). */
  readonly host: string;
  getEnrollment(registrationId: string): Promise<IndividualEnrollment | undefined>;
  getGroup(groupId: string): Promise<EnrollmentGroup | undefined>;
  /** Every individual enrollment, page by page (the service ignores WHERE: filter locally). */
  listEnrollments(): AsyncIterable<IndividualEnrollment[]>;
  listGroups(): AsyncIterable<EnrollmentGroup[]>;
  /** Registration records of a group, page by page with continuation. */
  listGroupRegistrations(groupId: string): AsyncIterable<RegistrationRecord[]>;
  getRegistration(registrationId: string): Promise<RegistrationRecord | undefined>;
  /** Read-modify-write with If-Match; returns the enrollment as written. */
  setEnrollmentStatus(registrationId: string, status: ProvisioningStatus): Promise<IndividualEnrollment>;
  setGroupStatus(groupId: string, status: ProvisioningStatus): Promise<EnrollmentGroup>;
  deleteEnrollment(registrationId: string, etag?: string): Promise<void>;
  deleteGroup(groupId: string, etag?: string): Promise<void>;
  deleteRegistration(registrationId: string, etag?: string): Promise<void>;
  /**
   * Create a DISABLED individual enrollment that blocks one device of a group: X.509 from the device
   * certificate when given, else symmetric key with the registration ID. Tagged as a blocker.
   */
  createBlocker(input: {
    registrationId: string;
    groupId: string;
    certificatePem?: string;
    runId?: string;
  }): Promise<IndividualEnrollment>;
}

export interface HubPort {
  /** Hub host name, e.g. hub-eu.azure-devices.net */
  readonly host: string;
  getDevice(deviceId: string): Promise<HubDevice | undefined>;
  /** All device identities on the hub, page by page. */
  listDevices(): AsyncIterable<HubDevice[]>;
  /**
   * Reads each identity (1..100) for a status change, without retrying: the caller retries what failed.
   * `etag`: the device must still have it (else settled as PreconditionFailed).
   */
  prepareStatusChange(
    devices: { deviceId: string; etag?: string }[],
    status: HubDeviceStatus,
  ): Promise<StatusChangePreparation>;
  /** One bulk call (1..100 prepared identities) under their ETags; per-device results. */
  writeStatus(writes: PreparedStatusWrite[], status: HubDeviceStatus): Promise<BulkItemResult[]>;
  /** One bulk call (1..100 devices): read, then set status; per-device results. */
  setDevicesStatus(
    devices: { deviceId: string; etag?: string }[],
    status: HubDeviceStatus,
  ): Promise<BulkItemResult[]>;
  /**
   * The identities among these device IDs that are on the hub: one query (`deviceId IN [...]`) for a
   * query-sized batch (see core/hub-lookup.ts); IDs a query cannot quote safely are read one by one.
   */
  findDevices(deviceIds: string[]): Promise<HubDevice[]>;
  /** An Edge gateway's children (devices whose parentScopes name its scope) and its module IDs. */
  findEdgeDependents?(gateway: {
    deviceId: string;
    deviceScope: string;
  }): Promise<{ children: string[]; modules: string[] }>;
  /** One bulk call (1..100 devices): delete; per-device results (DeviceNotFound means already gone). */
  deleteDevices(devices: { deviceId: string; etag?: string }[]): Promise<BulkItemResult[]>;
  /**
   * Proves the credential may change identities, changing nothing: resolves when the hub accepted the
   * request (whatever its per-device answer), rejects with the hub's refusal (401/403) otherwise.
   */
  checkWritePermission?(): Promise<void>;
  /** The hub's import/export jobs (absent: this hub can only be called device by device). */
  readonly jobs?: HubJobsPort;
}

export type HubJobStatus =
  | 'enqueued'
  | 'queued'
  | 'running'
  | 'completed'
  | 'failed'
  | 'cancelled'
  | 'unknown';

/** An import/export job as the hub answers it (never its container URLs: they carry SASes). */
export interface HubJobInfo {
  jobId: string;
  type: string;
  status: HubJobStatus;
  /** Percent done. */
  progress?: number;
  failureReason?: string;
}

/** A hub's import/export jobs; container URLs carry SASes and go only to the hub. */
export interface HubJobsPort {
  exportDevices(outputContainerUrl: string, excludeKeys: boolean): Promise<HubJobInfo>;
  importDevices(inputContainerUrl: string, outputContainerUrl: string): Promise<HubJobInfo>;
  getJob(jobId: string): Promise<HubJobInfo>;
  cancelJob(jobId: string): Promise<HubJobInfo>;
  listJobs(): Promise<HubJobInfo[]>;
}

/** The hubs the tool can reach, by host name (lower case). */
export interface HubDirectory {
  get(hubHost: string): HubPort | undefined;
  hosts(): string[];
}
