/**
 * A symmetric-key enrollment group whose devices all sit on ONE hub (the fleet-scale case: an S1 hub
 * with tens of thousands of devices), built straight into the emulator's store.
 */
import type { EmulatorHandle } from '../../src/services/emulator/index.js';
import { type AzuriteHandle, startAzurite } from '../support/azurite.js';
import { type CliFixture, startCliFixture } from './fixture.js';
import { enrollmentCommon, provision } from '../../src/services/emulator/seed-shared.js';
import { newKey } from '../../src/services/emulator/store.js';

/** Adds group `groupId` with `count` devices `${groupId}-00001`... on the hub named `hubName`; their IDs. */
export function buildOneHubFleet(
  emulator: EmulatorHandle,
  groupId: string,
  count: number,
  hubName: string,
): string[] {
  return buildFleet(emulator, groupId, count, [hubName]);
}

/**
 * Adds group `groupId` with `count` devices `${groupId}-00001`..., spread in turn over the hubs named
 * `hubNames`; their IDs.
 */
export function buildFleet(
  emulator: EmulatorHandle,
  groupId: string,
  count: number,
  hubNames: string[],
): string[] {
  const { store } = emulator;
  const at = new Date().toISOString();
  store.dps.groups.set(groupId, {
    enrollmentGroupId: groupId,
    ...enrollmentCommon(
      store,
      { type: 'symmetricKey', symmetricKey: { primaryKey: newKey(), secondaryKey: newKey() } },
      at,
    ),
  });
  const hubs = hubNames.map((name) => {
    const hub = [...store.hubs.values()].find((h) => h.name === name);
    if (!hub) throw new Error(`no hub ${name}`);
    return hub;
  });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const registrationId = `${groupId}-${String(i + 1).padStart(5, '0')}`;
    provision(store, {
      registrationId,
      enrollment: { kind: 'group', id: groupId },
      hub: hubs[i % hubs.length],
      authType: 'sas',
      at,
    });
    ids.push(registrationId);
  }
  store.touch();
  return ids;
}

/** A CLI fixture on an S1 hub whose job storage is an Azurite container, with one big group on hub-eu. */
export interface JobsFleet {
  f: CliFixture;
  azurite: AzuriteHandle;
  /** The container's SAS URL (its signature is a secret the fixture's scan looks for). */
  storage: string;
  sig: string;
  ids: string[];
  /** hub-eu's host name. */
  hubEu: string;
}

export async function startJobsFleet(o: {
  container: string;
  group: string;
  devices: number;
  timeScale: number;
  jobRate: number;
}): Promise<JobsFleet> {
  const azurite = await startAzurite();
  const storage = await azurite.container(o.container);
  const sig = new URL(storage).searchParams.get('sig') as string;
  const f = await startCliFixture(
    { tier: 'S1', units: 1, timeScale: o.timeScale, jobRate: o.jobRate },
    { extraSecrets: [sig] },
  );
  const ids = buildOneHubFleet(f.emulator, o.group, o.devices, 'hub-eu');
  const hubEu = f.emulator.hubs.find((h) => h.name === 'hub-eu')?.host as string;
  return { f, azurite, storage, sig, ids, hubEu };
}
