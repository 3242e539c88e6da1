/** What the person chose: which enrollment or devices, and how permanent each action is. */

export interface DeviceChoice {
  registrationId: string;
  /** PEM of the device certificate chain (leaf first, intermediates after) when the person gave one. */
  certificatePem?: string;
}

export type Selection =
  /** One individual enrollment (TPM, X.509 leaf, symmetric key). */
  | { kind: 'enrollment'; registrationId: string }
  /** A whole enrollment group and every device registered through it. */
  | { kind: 'group'; groupId: string }
  /** One or several devices of an enrollment group: each gets a disabled blocker enrollment. */
  | { kind: 'groupDevices'; groupId: string; devices: DeviceChoice[] };

/** disenroll = the DPS action; deregister = the hub action (the seed procedure's words). */
export interface Actions {
  disenroll: 'disable' | 'delete';
  deregister: 'disable' | 'delete' | 'none';
  /** Whole group only: delete the group's registration records after the hub step. */
  deleteRegistrations: boolean;
  /** Whole group only: delete the enrollment group itself (after its registration records). */
  deleteGroup: boolean;
  /** Also deregister (same action) the child devices of an IoT Edge gateway the plan deregisters. */
  includeChildren?: boolean;
  /** Only the registration records a deleted group left (orphaned): refused while the group exists. */
  orphanedRecords?: boolean;
}

/** The safe defaults: temporary, reversible, nothing cleaned up. */
export const SAFE_ACTIONS: Actions = {
  disenroll: 'disable',
  deregister: 'disable',
  deleteRegistrations: false,
  deleteGroup: false,
};

export const selectionTarget = (s: Selection): string => (s.kind === 'enrollment' ? s.registrationId : s.groupId);

/**
 * The actions that clean up the orphaned registration records of a deleted enrollment group (selection
 * `{ kind: 'group', groupId }` of a group that no longer exists): delete the records, nothing else.
 */
export const ORPHANED_RECORDS_ACTIONS: Actions = {
  disenroll: 'disable',
  deregister: 'none',
  deleteRegistrations: true,
  deleteGroup: false,
  orphanedRecords: true,
};

/** The DPS default quota of registration records per instance (Azure's documented limit). */
export const DPS_REGISTRATION_QUOTA = 1_000_000;
