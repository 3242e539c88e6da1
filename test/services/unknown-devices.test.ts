/**
 * Unknown `--device`s are found from the group's records, read once: no read per device (and no hub
 * lookup) before the plan refuses them.
 */
import { describe, expect, it } from 'vitest';
import { readKnownState } from '../../src/services/session/read-state.js';
import { directoryOf, FakeDps, FakeHub } from '../executor/fakes.js';

const HUB = 'hub-eu.azure-devices.net';

describe('readKnownState with devices of a group', () => {
  it('reads nothing per device when some chosen devices have no record in the group', async () => {
    const dps = new FakeDps();
    const hub = new FakeHub(HUB);
    dps.addGroup('g1');
    for (const id of ['a', 'b', 'c']) {
      dps.addRegistration(id, HUB);
      hub.addDevice(id);
    }
    const devices = ['a', ...Array.from({ length: 200 }, (_, i) => `ghost-${i}`)].map((registrationId) => ({
      registrationId,
    }));
    const state = await readKnownState(
      dps,
      directoryOf(hub),
      { kind: 'groupDevices', groupId: 'g1', devices },
      {
        lookup: { skip: [], queriesPerMinute: () => 20, timeScale: 1 },
      },
    );
    expect(state.registrations.map((r) => r.registrationId).sort()).toEqual(['a', 'b', 'c']);
    expect(dps.script.calls.filter((c) => c.startsWith('getEnrollment:'))).toEqual([]);
    expect(hub.script.count('findDevices')).toBe(0);
    expect(hub.script.calls.filter((c) => c.startsWith('getDevice:'))).toEqual([]);
  });

  it('reads the individual enrollments of chosen devices that are all in the group', async () => {
    const dps = new FakeDps();
    const hub = new FakeHub(HUB);
    dps.addGroup('g1');
    for (const id of ['a', 'b']) {
      dps.addRegistration(id, HUB);
      hub.addDevice(id);
    }
    await readKnownState(dps, directoryOf(hub), {
      kind: 'groupDevices',
      groupId: 'g1',
      devices: [{ registrationId: 'a' }, { registrationId: 'b' }],
    });
    expect(dps.script.calls.filter((c) => c.startsWith('getEnrollment:')).sort()).toEqual([
      'getEnrollment:a',
      'getEnrollment:b',
    ]);
  });
});
