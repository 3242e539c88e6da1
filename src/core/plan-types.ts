/** A plan: ordered phases of steps, each one exact service operation, plus warnings. */
import type { AdvicePart } from './advice.js';
import type { Actions, Selection } from './selection.js';
import type {
  EnrollmentGroup,
  HubLookupCost,
  IndividualEnrollment,
  KnownState,
  RegistrationRecord,
} from './model.js';

export const PHASES = ['snapshot', 'disenroll', 'deregister', 'cleanup', 'verify'] as const;
export type Phase = (typeof PHASES)[number];

/** Hub bulk calls take at most 100 devices; DPS bulk enrollment calls at most 10 enrollments. */
export const HUB_BULK_MAX = 100;
export const DPS_BULK_MAX = 10;

/**
 * One service operation. Every kind maps to exactly one kind of call (or one bulk call) on a port.
 * `destructive` operations change the service; the journal records intent before and outcome after.
 */
export type StepOperation =
  /** Journal the registration records read before anything changed (no service call). */
  | { kind: 'snapshotRegistrations'; groupId?: string; count: number }
  | { kind: 'disableEnrollment'; registrationId: string }
  | { kind: 'enableEnrollment'; registrationId: string }
  | { kind: 'deleteEnrollment'; registrationId: string }
  | { kind: 'disableGroup'; groupId: string }
  | { kind: 'enableGroup'; groupId: string }
  | { kind: 'deleteGroup'; groupId: string }
  /** Write a DISABLED individual enrollment for one device of a group, then re-read it. */
  | {
      kind: 'createBlocker';
      registrationId: string;
      groupId: string;
      attestation: 'x509' | 'symmetricKey';
      /** Device certificate (PEM) for an X.509 blocker. */
      certificatePem?: string;
      /** The run that writes it (recorded in the blocker's tag). */
      runId?: string;
    }
  /**
   * Restore only: delete the blocker a run wrote, with If-Match on the ETag that run left (a blocker
   * changed since is not deleted). Every other plan refuses to delete a blocker.
   */
  | { kind: 'deleteBlocker'; registrationId: string; groupId: string; etag?: string; runId: string }
  /** `edgeChildrenOf`: these are the child devices of that IoT Edge gateway (no DPS selection of their own). */
  | { kind: 'disableHubDevices'; hub: string; deviceIds: string[]; edgeChildrenOf?: string }
  | { kind: 'enableHubDevices'; hub: string; deviceIds: string[] }
  | { kind: 'deleteHubDevices'; hub: string; deviceIds: string[]; edgeChildrenOf?: string }
  /**
   * One hub's devices through its import/export jobs (fleet scale): disable = an export job, then an
   * import job (updateIfMatchETag); enable (restore) the same with status enabled; delete = an import job.
   * Devices changed since the export are finished on the call path.
   */
  | { kind: 'hubJobDevices'; hub: string; action: 'disable' | 'enable' | 'delete'; deviceIds: string[] }
  | { kind: 'deleteRegistration'; registrationId: string }
  /** Read back and re-run the re-enrollment analysis for these registration IDs (no change). */
  | { kind: 'verify'; registrationIds: string[] };

export type StepKind = StepOperation['kind'];

export interface PlanStep {
  /** Stable within a plan: `${phase}:${index}`. The journal keys outcomes by it. */
  id: string;
  phase: Phase;
  op: StepOperation;
  /** The exact service call in words, e.g. "PUT enrollmentGroups/g1 provisioningStatus=disabled". */
  call: string;
  destructive: boolean;
  /** Registration IDs this step acts for (one device, a hub batch, ...). */
  registrationIds: string[];
}

export type WarningCode =
  /** Deleting an X.509 individual enrollment while an enabled group in the chain would accept the device. */
  | 'reenroll-through-group'
  /** Deleting a group while an enabled group higher in the chain would accept its devices. */
  | 'reenroll-through-higher-group'
  /** A group referencing a CA, or a device chain we do not hold: we cannot tell for sure. */
  | 'chain-unknown'
  /** Devices on hubs the tool has no credentials for: their hub step cannot run. */
  | 'hub-without-credentials'
  /** Registration records without an assigned hub: nothing to deregister for them. */
  | 'not-assigned'
  /** Identities no registration record names, found by looking the device IDs up on a hub. */
  | 'hub-identity-by-lookup'
  /** The device IDs were not looked up on a hub (the person skipped it, or the lookup failed). */
  | 'hub-lookup-skipped'
  /** Looking the device IDs up on every hub is costly for this selection (queries against the hub's budget). */
  | 'hub-lookup-cost'
  /** The hub action is "none": the device keeps its hub identity and may stay connected. */
  | 'hub-identity-kept'
  /** Disabling at DPS does not disconnect a connected device; only the hub step does. */
  | 'dps-only'
  /** Deleting registration records is permanent: the snapshot in the journal is the only copy. */
  | 'registrations-deleted'
  /** Symmetric-key group devices cannot be revoked by key rotation; the blocker is the way. */
  | 'symmetric-key-group-device'
  /** An individual enrollment already exists for a device of the group (not a blocker). */
  | 'existing-individual-enrollment'
  /** A device certificate given for a blocker is expired, not yet valid, or not issued by the group's CA. */
  | 'device-certificate-odd'
  /** A device of an X.509 group without a certificate gets the symmetric-key fallback blocker. */
  | 'key-blocker-for-x509-device'
  /** The group has no registration records: nothing to deregister or clean up. */
  | 'no-registrations'
  /** The group is deleted but its registration records are kept: they still count against the quota. */
  | 'orphaned-registrations'
  /** Restore: what the run deleted cannot be brought back. */
  | 'not-restorable'
  /** Restore: blockers stay; letting that device back in is a person's decision. */
  | 'blocker-kept'
  /** Restore: the blockers the run wrote are deleted, so those devices provision again through their group. */
  | 'blocker-deleted'
  /** Restore: a target changed since the run (a later run of this tool, or someone else): left as it is. */
  | 'changed-since'
  /** Restore: it was already disabled before the run, so restore leaves it disabled. */
  | 'was-already-disabled'
  /** An IoT Edge gateway the plan deregisters has child devices that connect through it. */
  | 'edge-children'
  /** Deleting an IoT Edge gateway deletes its module identities too. */
  | 'edge-modules'
  /** A device named by its ID that neither DPS nor any searched hub has. */
  | 'device-not-found'
  /** A device named by its ID that DPS has no enrollment for: only its hub identities are deregistered. */
  | 'device-hub-only';

export interface PlanWarning {
  code: WarningCode;
  severity: 'danger' | 'caution' | 'info';
  /** Plain words a technician understands: what could happen. */
  message: string;
  /** What to do instead (the recommended choice), in command-line words. */
  recommendation?: string;
  /** The same advice as parts, so that each place names the choice its own way (flag or control). */
  advice?: AdvicePart[];
  /** Devices concerned (registration IDs); empty when it concerns the whole plan. */
  registrationIds: string[];
  /** The enrollment or group that would let the device back in, when known. */
  path?: string;
}

/** The planner refuses: nothing may run. */
export interface PlanRefusal {
  code:
    | 'delete-blocker'
    | 'unknown-target'
    | 'invalid-selection'
    | 'no-devices'
    | 'wrong-attestation'
    /** Restore: the run was already restored (by the named restore run). */
    | 'already-restored';
  message: string;
  /** What to do instead, as parts (the command line and the TUI name the choice their own way). */
  advice?: AdvicePart[];
}

/** Per hub: which path its step takes (calls or import/export jobs), why, and the estimate of each path. */
export interface HubPathInfo {
  hub: string;
  devices: number;
  action: 'disable' | 'enable' | 'delete';
  path: 'calls' | 'jobs';
  reason: string;
  /** Estimated seconds on each path (the call path at the hub's identity throttle; jobs per the job model). */
  callsSeconds: number;
  jobsSeconds: number;
}

/** Per hub: the identities the plan deregisters there, and how they were found. */
export interface HubIdentityCount {
  hub: string;
  /** Identities a registration record names (its assignedHub, whatever the record's status). */
  byRecord: number;
  /** Identities no record names, found by looking the device IDs up on the hub. */
  byLookup: number;
  /** Registration IDs of the devices whose identity here only the lookup found. */
  foundByLookup: string[];
  /**
   * searched: every selected device ID was looked up here; skipped: the person chose not to; failed: the
   * lookup failed; none: no lookup was made (no credentials for the hub, or no lookup at all).
   */
  lookup: 'searched' | 'skipped' | 'failed' | 'none';
  /** What looking the device IDs up here costs (also for a skipped hub: what it would have cost). */
  cost?: HubLookupCost;
}

export interface Plan {
  selection: Selection;
  actions: Actions;
  steps: PlanStep[];
  warnings: PlanWarning[];
  /** Registration records snapshot taken before anything changes; lives in the journal. */
  snapshot: RegistrationRecord[];
  /** Per phase, the number of steps; per hub, the number of devices affected. */
  counts: {
    steps: Record<Phase, number>;
    devicesPerHub: Record<string, number>;
    devices: number;
    /** Module identities the plan's hub deletes remove with their devices (IoT Edge gateways). */
    modulesDeleted?: number;
  };
  /** Per hub: identities found (by record, by lookup) and what the lookup cost. Absent: no hub step planned. */
  hubIdentities?: HubIdentityCount[];
  /** Per hub with a hub step: the path it takes and why (absent in plans made before the choice existed). */
  hubPaths?: HubPathInfo[];
  /** The job storage a jobs step uses, as the container URL(s) without its SAS (never the SAS). */
  jobStorage?: string;
  /** How many job storage containers: as many hubs' jobs run at once (absent: one). */
  jobStorageContainers?: number;
  /** Set for a restore plan: the run it undoes. */
  restoreOf?: string;
  /**
   * The selected enrollment or group as read before the run (keys never included). A later `verify`
   * needs it once a deletion took it away: how the device attested, which certificates the group held.
   */
  prior?: { individualEnrollments: IndividualEnrollment[]; enrollmentGroups: EnrollmentGroup[] };
}

/**
 * What planning answers. `before`: the state the plan was made from, carried with it to the run (its
 * verify needs what the run's deletions take away); absent for plans made from a journal (restore).
 */
export type PlanResult = { ok: true; plan: Plan; before?: KnownState } | { ok: false; refusal: PlanRefusal };

/** How a step ended. `alreadyDone`: the target was already in the intended state (idempotent success). */
export type StepOutcome = 'succeeded' | 'alreadyDone' | 'failed' | 'skipped';

export interface StepResult {
  stepId: string;
  outcome: StepOutcome;
  /** Per-device outcomes for bulk steps (hub batches). */
  devices?: { id: string; outcome: StepOutcome; message?: string }[];
  message?: string;
  attempts: number;
  /**
   * The ETag the target had once this step settled (an enrollment or group written, a blocker read back):
   * restore compares it with the target's ETag now, to leave alone what changed since.
   */
  etag?: string;
}
