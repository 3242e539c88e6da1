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
  | { kind: 'groupDevices'; groupId: string; devices: DeviceChoice[] }
  /**
   * Devices known by their IDs (on-call: "these devices"), wherever they are enrolled. `parts`: where DPS
   * has each (filled by the backend before planning; the journal keeps it, so restore and verify know).
   */
  | { kind: 'devices'; ids: string[]; parts?: DeviceParts };

/** Where each device of a `devices` selection is enrolled. */
export interface DeviceParts {
  /** IDs with an individual enrollment of that registration ID. */
  enrollments: string[];
  /** IDs with a registration record in an enrollment group, by group. */
  groups: { groupId: string; devices: DeviceChoice[] }[];
  /** IDs DPS has neither: they may still have hub identities (the hub lookup finds them), or be nowhere. */
  unenrolled: string[];
}

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

export const selectionTarget = (s: Selection): string =>
  s.kind === 'enrollment' ? s.registrationId : s.kind === 'devices' ? devicesLabel(s.ids) : s.groupId;

/** "device d1" or "3 devices (d1, d2, d3)", for labels and the confirmation. */
export const devicesLabel = (ids: string[]): string =>
  ids.length === 1
    ? `device ${ids[0]}`
    : `${ids.length} devices (${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', …' : ''})`;

/** Every registration ID a `devices` selection names that DPS has (individually or in a group). */
export const enrolledIds = (p: DeviceParts): string[] => [
  ...p.enrollments,
  ...p.groups.flatMap((g) => g.devices.map((d) => d.registrationId)),
];

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
