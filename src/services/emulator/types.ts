/**
 * The emulator's public vocabulary (options, handle, faults, stats) and the records it keeps.
 * Records are stored the way the emulator needs them (certificates as PEM, keys in clear) and are
 * rendered into the services' wire shapes only when answering.
 */
export type HubTier = 'S1' | 'S2' | 'S3';
export type ServiceKind = 'dps' | 'hub';

export interface FaultSpec {
  /** Seed of the deterministic random sequence that decides which requests fail. Default 1. */
  seed?: number;
  /** Share of requests answered 500 or 503 (the operation is not applied). */
  error5xxRate?: number;
  /** Share of requests whose connection is destroyed before the operation is applied. */
  resetRate?: number;
  /** Share of requests whose connection is destroyed AFTER the operation was applied. */
  resetAfterRate?: number;
  /** Share of requests never answered (until the emulator stops). */
  hangRate?: number;
  /**
   * Share of requests answered 429 (throttled, the operation not applied) with `Retry-After:
   * retryAfterSeconds`, as a service over its limit answers: a run held by the service, on demand.
   */
  throttleRate?: number;
  /** The Retry-After of an injected 429, in seconds (default 1). */
  retryAfterSeconds?: number;
  /** Latency added to every request of the affected services. */
  latencyMs?: number;
  /** Services affected; default both. */
  only?: ServiceKind[];
}

export interface EmulatorOptions {
  /** 0 or undefined = random free port; listens on 127.0.0.1. */
  port?: number;
  /** Self-signed certificate generated at start; handle.ca is its CA (PEM). */
  https?: boolean;
  /** Loaded if it exists, saved atomically (temp + rename) on change, debounced. */
  statePath?: string;
  /** Only when the state is new. */
  seed?: 'demo' | number;
  /** Hub identity-registry limits. */
  tier?: HubTier;
  units?: number;
  /** e.g. 60 = one service minute passes in one second (limits scale). */
  timeScale?: number;
  /** Default true. */
  throttle?: boolean;
  /**
   * Devices per service minute an import/export job processes (default 60,000: Azure publishes no rate,
   * this is the emulator's pick). Scaled by timeScale like the throttles.
   */
  jobRate?: number;
  /** A CA certificate (PEM) the jobs trust on the storage they are given (a local Azurite over HTTPS). */
  storageCa?: string;
  faults?: FaultSpec;
  /** Tokens accepted as Authorization: Bearer (Entra ID tests). */
  bearerTokens?: string[];
}

export interface EmulatorStats {
  /** Per operation ("dps:getEnrollment", "hub:bulkDelete"), per answered status ("200", "reset"). */
  operations: Record<string, Record<string, number>>;
  /** Per target ("hub-eu.azure-devices.net/dev-1", "dps/enrollments/x"), per applied write. */
  destructive: Record<string, Record<string, number>>;
  requests: number;
}

export interface StoredX509Pair {
  primary?: string;
  secondary?: string;
}

export interface StoredAttestation {
  type: 'tpm' | 'x509' | 'symmetricKey';
  tpm?: { endorsementKey: string; storageRootKey?: string };
  x509?: {
    clientCertificates?: StoredX509Pair;
    signingCertificates?: StoredX509Pair;
    caReferences?: { primary?: string; secondary?: string };
  };
  symmetricKey?: { primaryKey: string; secondaryKey: string };
}

/** Fields individual enrollments and enrollment groups share. */
export interface StoredEnrollmentCommon {
  attestation: StoredAttestation;
  provisioningStatus: 'enabled' | 'disabled';
  etag: string;
  createdDateTimeUtc: string;
  lastUpdatedDateTimeUtc: string;
  iotHubHostName?: string;
  iotHubs?: string[];
  allocationPolicy?: string;
  reprovisionPolicy?: { updateHubAssignment: boolean; migrateDeviceData: boolean };
  capabilities?: { iotEdge: boolean };
  initialTwin?: unknown;
  customAllocationDefinition?: unknown;
}

export interface StoredEnrollment extends StoredEnrollmentCommon {
  registrationId: string;
  deviceId?: string;
}

export interface StoredGroup extends StoredEnrollmentCommon {
  enrollmentGroupId: string;
}

export interface StoredRegistration {
  registrationId: string;
  /** Which enrollment provisioned the device (DPS knows it; the wire shape does not say it). */
  enrollment: { kind: 'individual' | 'group'; id: string };
  deviceId: string;
  assignedHub?: string;
  status: 'unassigned' | 'assigning' | 'assigned' | 'failed' | 'disabled';
  substatus?:
    | 'initialAssignment'
    | 'deviceDataMigrated'
    | 'deviceDataReset'
    | 'reprovisionedToInitialAssignment';
  createdDateTimeUtc: string;
  lastUpdatedDateTimeUtc: string;
  etag: string;
  errorCode?: number;
  errorMessage?: string;
}

export type HubAuthType = 'sas' | 'selfSigned' | 'certificateAuthority' | 'none';

export interface StoredDevice {
  deviceId: string;
  etag: string;
  generationId: string;
  status: 'enabled' | 'disabled';
  statusReason?: string;
  statusUpdatedTime: string;
  connectionState: 'Connected' | 'Disconnected';
  connectionStateUpdatedTime: string;
  lastActivityTime: string;
  authType: HubAuthType;
  primaryKey?: string;
  secondaryKey?: string;
  primaryThumbprint?: string;
  secondaryThumbprint?: string;
  iotEdge: boolean;
  /** An Edge device's own scope (`ms-azure-iot-edge://{id}-{generationId}`); a child's: its parent's. */
  deviceScope?: string;
  /** The scopes of the Edge device(s) this device sits under. */
  parentScopes?: string[];
  /** Twin tags and desired properties (an enrollment's initialTwin, or what a migration carried over). */
  tags?: Record<string, unknown>;
  desired?: Record<string, unknown>;
  /** Module identities by module ID: they live and die with the device. */
  modules?: Record<string, StoredModule>;
  cloudToDeviceMessageCount: number;
  twinVersion: number;
}

export interface StoredModule {
  moduleId: string;
  etag: string;
  generationId: string;
  authType: HubAuthType;
  primaryKey?: string;
  secondaryKey?: string;
  primaryThumbprint?: string;
  secondaryThumbprint?: string;
  managedBy?: string;
  connectionStateUpdatedTime: string;
  lastActivityTime: string;
}

export interface SharedAccessPolicy {
  name: string;
  primaryKey: string;
  secondaryKey: string;
  /** What the policy allows; undefined: everything (the owner policies). */
  rights?: PolicyRight[];
}

/**
 * Shared access policy permissions as the services name them. A write right includes its read right
 * (as IoT Hub's RegistryWrite does).
 */
export type PolicyRight =
  | 'RegistryRead'
  | 'RegistryWrite'
  | 'EnrollmentRead'
  | 'EnrollmentWrite'
  | 'RegistrationStatusRead'
  | 'RegistrationStatusWrite';

/** Private material of demo devices, so the sandbox can later register them through the device API. */
export interface DemoSecrets {
  /** CA certificates by name (root and intermediates), with their private keys. */
  authorities: Record<string, { certPem: string; keyPem: string }>;
  /** Per registration ID: X.509 leaf + key + chain (leaf first), or the device's symmetric key. */
  devices: Record<string, { certPem?: string; keyPem?: string; chainPem?: string; symmetricKey?: string }>;
}
