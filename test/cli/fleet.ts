/**
 * Builds a symmetric-key enrollment group of any size straight into the emulator's store: its
 * registration records and hub identities, spread round-robin over the hubs. Cheap enough to rebuild
 * between trials (2,000 devices in a few milliseconds).
 */
import type { EmulatorHandle } from '../../src/services/emulator/index.js';
import { enrollmentCommon, provision } from '../../src/services/emulator/seed-shared.js';
import { newKey } from '../../src/services/emulator/store.js';

export interface FleetOptions {
  /** Every n-th device (1-based) is already disabled on its hub before any run. Default: none. */
  disabledEvery?: number;
}

export interface Fleet {
  groupId: string;
  /** Registration ID (= device ID) -> hub host it is assigned to. */
  hubOf: Map<string, string>;
  /** Devices disabled on their hub before any run. */
  disabledBefore: Set<string>;
}

/** Adds (or rebuilds, enabled again) group `groupId` with `count` devices named `${groupId}-00001`... */
export function buildFleet(
  emulator: EmulatorHandle,
  groupId: string,
  count: number,
  options: FleetOptions = {},
): Fleet {
  const { store } = emulator;
  removeFleet(emulator, groupId);
  const at = new Date().toISOString();
  store.dps.groups.set(groupId, {
    enrollmentGroupId: groupId,
    ...enrollmentCommon(
      store,
      { type: 'symmetricKey', symmetricKey: { primaryKey: newKey(), secondaryKey: newKey() } },
      at,
    ),
  });
  const hubs = [...store.hubs.values()];
  const hubOf = new Map<string, string>();
  const disabledBefore = new Set<string>();
  for (let i = 0; i < count; i++) {
    const registrationId = `${groupId}-${String(i + 1).padStart(5, '0')}`;
    const hub = hubs[i % hubs.length];
    const disabled = options.disabledEvery !== undefined && (i + 1) % options.disabledEvery === 0;
    provision(store, {
      registrationId,
      enrollment: { kind: 'group', id: groupId },
      hub,
      authType: 'sas',
      ...(disabled ? { status: 'disabled' as const, statusReason: 'retired before the run' } : {}),
      at,
    });
    hubOf.set(registrationId, hub.host);
    if (disabled) disabledBefore.add(registrationId);
  }
  store.touch();
  return { groupId, hubOf, disabledBefore };
}

/** Removes the group, its records and its devices (whatever a previous trial left). */
export function removeFleet(emulator: EmulatorHandle, groupId: string): void {
  const { store } = emulator;
  store.dps.groups.delete(groupId);
  for (const [id, r] of store.dps.registrations) {
    if (r.enrollment.kind === 'group' && r.enrollment.id === groupId) store.dps.registrations.delete(id);
  }
  for (const e of store.dps.enrollments.keys())
    if (e.startsWith(`${groupId}-`)) store.dps.enrollments.delete(e);
  for (const hub of store.hubs.values()) {
    for (const id of hub.devices.keys()) if (id.startsWith(`${groupId}-`)) hub.devices.delete(id);
  }
  store.touch();
}
