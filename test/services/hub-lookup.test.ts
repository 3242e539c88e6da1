/**
 * The lookup of device IDs on every hub (read-state): batches of IDs per query, every hub but the skipped
 * ones, a failed hub reported with why, a refused key stopping everything, and a notice before a lookup
 * that takes a minute or more of a hub's query budget.
 */
import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../src/core/errors.js';
import { lookupHubIdentities } from '../../src/services/session/read-state.js';
import { directoryOf, FakeHub, transient } from '../executor/fakes.js';

const EU = 'hub-eu.azure-devices.net';
const US = 'hub-us.azure-devices.net';
const ASIA = 'hub-asia.azure-devices.net';

function hubs() {
  const eu = new FakeHub(EU);
  const us = new FakeHub(US);
  const asia = new FakeHub(ASIA);
  return { eu, us, asia, directory: directoryOf(eu, us, asia) };
}

const ids = Array.from({ length: 250 }, (_, i) => `dev-${i}`);

describe('lookupHubIdentities', () => {
  it('searches every hub not skipped, a query per 100 IDs, and finds the identities there', async () => {
    const { eu, us, asia, directory } = hubs();
    eu.addDevice('dev-3');
    us.addDevice('dev-3', 'disabled');
    us.addDevice('dev-249');
    asia.addDevice('dev-7');
    const notices: string[] = [];
    const { devices, lookup } = await lookupHubIdentities(directory, ids, {
      skip: [ASIA],
      queriesPerMinute: () => 2,
      timeScale: 60_000,
      onNotice: (t) => notices.push(t),
    });
    expect(devices.map((d) => `${d.hub}/${d.deviceId}/${d.status}`).sort()).toEqual([
      `${EU}/dev-3/enabled`,
      `${US}/dev-249/enabled`,
      `${US}/dev-3/disabled`,
    ]);
    expect(lookup.searched).toEqual([EU, US]);
    expect(lookup.skipped).toEqual([{ hub: ASIA, why: 'asked' }]);
    expect(eu.script.count('findDevices')).toBe(3);
    expect(asia.script.count('findDevices')).toBe(0);
    expect(lookup.cost[ASIA]).toEqual({ queries: 3, queriesPerMinute: 2, minutes: 1.5 });
    expect(lookup.deviceIds).toBe(250);
    // A lookup of a minute or more at the budget is announced, per hub searched, with how to skip it.
    expect(notices).toEqual([
      `Looking 250 device IDs up on ${EU}: 3 queries, about 2 min at 2 queries/min (--skip-hub-lookup ${EU} skips it, leaving identities there that no record names)`,
      `Looking 250 device IDs up on ${US}: 3 queries, about 2 min at 2 queries/min (--skip-hub-lookup ${US} skips it, leaving identities there that no record names)`,
    ]);
  });

  it('a hub whose lookup fails is reported as failed with why; the others are searched', async () => {
    const { eu, us, directory } = hubs();
    us.addDevice('dev-1');
    const failure = new ServiceError('badRequest', 'the query was refused', { status: 400 });
    eu.script.fail('findDevices', failure);
    const { devices, lookup } = await lookupHubIdentities(directory, ['dev-1'], {
      queriesPerMinute: () => 20,
    });
    expect(devices.map((d) => d.hub)).toEqual([US]);
    expect(lookup.searched).toEqual([US, ASIA]);
    expect(lookup.skipped).toEqual([{ hub: EU, why: 'failed', message: 'the query was refused' }]);
  });

  it('a refused key is handed back: the caller stops before anything changes', async () => {
    const { us, directory } = hubs();
    us.script.fail(
      'findDevices',
      new ServiceError('unauthorized', 'the key was refused', { status: 401 }),
      transient(),
    );
    const { refused } = await lookupHubIdentities(directory, ['dev-1'], { queriesPerMinute: () => 20 });
    expect(refused?.message).toBe('the key was refused');
  });
});
