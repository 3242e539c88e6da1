/**
 * Every hub identity of a selected device is deregistered: the one its record names, and every one the
 * backend found by looking the device ID up on the hubs it has credentials for (DPS never deletes the
 * identity on the old hub when it moves a device, and a deleted record leaves its identity behind).
 */
import { describe, expect, it } from 'vitest';
import {
  describeLookupCost,
  deviceIdsOf,
  LOOKUP_IDS_PER_QUERY,
  LOOKUP_QUERY_CHARS,
  lookupBatches,
  lookupCost,
} from '../../src/core/hub-lookup.js';
import type { HubDevice, HubLookup, KnownState } from '../../src/core/model.js';
import { planDeprovision } from '../../src/core/plan.js';
import type { Plan } from '../../src/core/plan-types.js';
import { actions, HUB_EU, HUB_US, individual, okPlan, record, state, symmetricKeyGroup } from './fixtures.js';

const HUB_ASIA = 'hub-asia.azure-devices.net';
const ALL = [HUB_EU, HUB_US, HUB_ASIA];

const identity = (hub: string, deviceId: string, status: HubDevice['status'] = 'enabled'): HubDevice => ({
  hub,
  deviceId,
  status,
});

const lookup = (partial: Partial<HubLookup> = {}): HubLookup => ({
  searched: ALL,
  skipped: [],
  cost: Object.fromEntries(ALL.map((h) => [h, lookupCost(1, 20)])),
  deviceIds: 1,
  ...partial,
});

const hubOps = (plan: Plan) =>
  plan.steps
    .filter((s) => s.phase === 'deregister')
    .map((s) => ({ op: s.op, registrationIds: s.registrationIds }));
const warning = (plan: Plan, code: string) => plan.warnings.find((w) => w.code === code);

describe('identities found by lookup', () => {
  const enrolled = (partial: Partial<KnownState>) =>
    state({ individualEnrollments: [individual('dev-7')], hubsWithCredentials: ALL, ...partial });

  it('a device moved to another hub: the old identity (found by lookup) and the new one (its record) are both deregistered', () => {
    const s = enrolled({
      registrations: [record('dev-7', undefined, HUB_US)],
      hubDevices: [identity(HUB_EU, 'dev-7'), identity(HUB_US, 'dev-7')],
      hubLookup: lookup(),
    });
    const plan = okPlan(planDeprovision({ kind: 'enrollment', registrationId: 'dev-7' }, actions(), s));
    expect(hubOps(plan)).toEqual([
      { op: { kind: 'disableHubDevices', hub: HUB_EU, deviceIds: ['dev-7'] }, registrationIds: ['dev-7'] },
      { op: { kind: 'disableHubDevices', hub: HUB_US, deviceIds: ['dev-7'] }, registrationIds: ['dev-7'] },
    ]);
    expect(plan.hubIdentities).toEqual([
      {
        hub: HUB_EU,
        byRecord: 0,
        byLookup: 1,
        foundByLookup: ['dev-7'],
        lookup: 'searched',
        cost: lookupCost(1, 20),
      },
      {
        hub: HUB_US,
        byRecord: 1,
        byLookup: 0,
        foundByLookup: [],
        lookup: 'searched',
        cost: lookupCost(1, 20),
      },
      {
        hub: HUB_ASIA,
        byRecord: 0,
        byLookup: 0,
        foundByLookup: [],
        lookup: 'searched',
        cost: lookupCost(1, 20),
      },
    ]);
    expect(plan.counts.devicesPerHub).toEqual({ [HUB_EU]: 1, [HUB_US]: 1 });
    const named = warning(plan, 'hub-identity-by-lookup');
    expect(named).toMatchObject({ severity: 'info', registrationIds: ['dev-7'] });
    expect(named?.message).toContain(HUB_EU);
  });

  it("no registration record, an identity on a hub: found by lookup and deregistered, under the enrollment's device ID", () => {
    const s = enrolled({
      individualEnrollments: [individual('dev-7', 'tpm', 'enabled', { deviceId: 'pump-7' })],
      hubDevices: [identity(HUB_ASIA, 'pump-7')],
      hubLookup: lookup(),
    });
    const plan = okPlan(
      planDeprovision({ kind: 'enrollment', registrationId: 'dev-7' }, actions({ deregister: 'delete' }), s),
    );
    expect(hubOps(plan)).toEqual([
      { op: { kind: 'deleteHubDevices', hub: HUB_ASIA, deviceIds: ['pump-7'] }, registrationIds: ['dev-7'] },
    ]);
    expect(plan.warnings.map((w) => w.code)).not.toContain('not-assigned');
  });

  it('nothing found anywhere: the not-assigned note says how many hubs were looked up', () => {
    const plan = okPlan(
      planDeprovision(
        { kind: 'enrollment', registrationId: 'dev-7' },
        actions(),
        enrolled({ hubLookup: lookup() }),
      ),
    );
    expect(hubOps(plan)).toEqual([]);
    expect(warning(plan, 'not-assigned')?.message).toContain('no identity on the 3 hubs looked up');
  });

  it('an identity a lookup did not cover (a hub not searched) is not planned from hubDevices alone', () => {
    const s = enrolled({
      hubDevices: [identity(HUB_ASIA, 'dev-7')],
      hubLookup: lookup({ searched: [HUB_EU, HUB_US], skipped: [{ hub: HUB_ASIA, why: 'asked' }] }),
    });
    const plan = okPlan(planDeprovision({ kind: 'enrollment', registrationId: 'dev-7' }, actions(), s));
    expect(hubOps(plan)).toEqual([]);
    const skipped = warning(plan, 'hub-lookup-skipped');
    expect(skipped).toMatchObject({ severity: 'caution', registrationIds: ['dev-7'] });
    expect(skipped?.message).toContain(HUB_ASIA);
    expect(plan.hubIdentities?.find((h) => h.hub === HUB_ASIA)).toMatchObject({ lookup: 'skipped' });
  });

  it('a failed lookup is a danger warning naming the hub and why', () => {
    const s = enrolled({
      registrations: [record('dev-7', undefined, HUB_EU)],
      hubLookup: lookup({
        searched: [HUB_EU, HUB_US],
        skipped: [{ hub: HUB_ASIA, why: 'failed', message: 'throttled' }],
      }),
    });
    const plan = okPlan(planDeprovision({ kind: 'enrollment', registrationId: 'dev-7' }, actions(), s));
    expect(hubOps(plan)).toHaveLength(1);
    const failed = warning(plan, 'hub-lookup-skipped');
    expect(failed).toMatchObject({ severity: 'danger' });
    expect(failed?.message).toMatch(/hub-asia.*failed \(throttled\)/);
    expect(plan.hubIdentities?.find((h) => h.hub === HUB_ASIA)).toMatchObject({ lookup: 'failed' });
  });

  it('a whole group: each device on every hub it has an identity on, one step per hub', () => {
    const ids = ['d1', 'd2', 'd3'];
    const s = state({
      enrollmentGroups: [symmetricKeyGroup('g1')],
      registrations: [
        record('d1', 'g1', HUB_EU),
        record('d2', 'g1', HUB_EU, { status: 'disabled' }),
        record('d3', 'g1', null),
      ],
      hubDevices: [identity(HUB_EU, 'd1'), identity(HUB_US, 'd1'), identity(HUB_US, 'd3')],
      hubsWithCredentials: ALL,
      hubLookup: lookup({ deviceIds: ids.length }),
    });
    const plan = okPlan(planDeprovision({ kind: 'group', groupId: 'g1' }, actions(), s));
    expect(hubOps(plan)).toEqual([
      {
        op: { kind: 'disableHubDevices', hub: HUB_EU, deviceIds: ['d1', 'd2'] },
        registrationIds: ['d1', 'd2'],
      },
      {
        op: { kind: 'disableHubDevices', hub: HUB_US, deviceIds: ['d1', 'd3'] },
        registrationIds: ['d1', 'd3'],
      },
    ]);
    expect(plan.hubIdentities?.map((h) => [h.hub, h.byRecord, h.byLookup])).toEqual([
      [HUB_EU, 2, 0],
      [HUB_US, 0, 2],
      [HUB_ASIA, 0, 0],
    ]);
  });

  it("a lookup costing a minute or more of a hub's query budget says so, and how to skip it", () => {
    const s = enrolled({
      registrations: [record('dev-7', undefined, HUB_EU)],
      hubLookup: lookup({
        cost: { [HUB_EU]: lookupCost(100, 20), [HUB_US]: lookupCost(1, 20) },
        deviceIds: 10_000,
      }),
    });
    const plan = okPlan(planDeprovision({ kind: 'enrollment', registrationId: 'dev-7' }, actions(), s));
    const cost = warning(plan, 'hub-lookup-cost');
    expect(cost?.message).toContain(`${HUB_EU}: 100 queries, about 5 min at 20 queries/min`);
    expect(cost?.message).not.toContain(HUB_US);
    expect(cost?.recommendation).toContain('--skip-hub-lookup');
  });
});

describe('lookup batches and cost', () => {
  it('no more than 100 IDs or the character budget per query, every ID once, in order', () => {
    const ids = Array.from({ length: 250 }, (_, i) => `dev-${i}`);
    const batches = lookupBatches([...ids, 'dev-3']);
    expect(batches.map((b) => b.length)).toEqual([LOOKUP_IDS_PER_QUERY, LOOKUP_IDS_PER_QUERY, 50]);
    expect(batches.flat()).toEqual(ids);
    const long = Array.from({ length: 100 }, (_, i) => `${'x'.repeat(120)}-${i}`);
    const longBatches = lookupBatches(long);
    expect(longBatches.length).toBeGreaterThan(1);
    for (const b of longBatches)
      expect(b.reduce((n, id) => n + id.length + 4, 48)).toBeLessThanOrEqual(LOOKUP_QUERY_CHARS);
    expect(longBatches.flat()).toEqual(long);
  });

  it('time at the budget in words', () => {
    expect(describeLookupCost(lookupCost(1, 20))).toBe('1 query');
    expect(describeLookupCost(lookupCost(1000, 20))).toBe('1,000 queries, about 50 min at 20 queries/min');
    expect(describeLookupCost(lookupCost(3000, 20))).toBe('3,000 queries, about 2.5 h at 20 queries/min');
  });

  it("a device's IDs: its record's first, then its enrollment's or its registration ID", () => {
    expect(deviceIdsOf('r1')).toEqual(['r1']);
    expect(deviceIdsOf('r1', record('r1', undefined, HUB_EU, { deviceId: 'd1' }))).toEqual(['d1', 'r1']);
    expect(deviceIdsOf('r1', undefined, individual('r1', 'tpm', 'enabled', { deviceId: 'e1' }))).toEqual([
      'e1',
    ]);
  });
});
