/**
 * Every hub identity of a device, through the compiled program on the demo fleet: the one its record
 * names whatever the record's status, and those found by looking the device ID up on every hub given
 * (a device DPS moved keeps its old identity). `verify` reads each one back beside the DPS verdict.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubIdentityCheck, ReenrollmentVerdict } from '../../src/core/model.js';
import type { Plan } from '../../src/core/plan-types.js';
import { type CliFixture, deviceOn, findDevice, startCliFixture, stateOf } from './fixture.js';

let f: CliFixture;

beforeAll(async () => {
  f = await startCliFixture({ seed: 'demo', timeScale: 120 });
});

afterAll(async () => {
  await f?.close();
});

const ACTIONS = ['--disenroll', 'disable', '--deregister', 'disable'];
const short = (host: string) => host.replace(/\.azure-devices\.net$/, '');
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Gives the device a second, enabled identity on another hub (as DPS leaves one when it moves a device). */
function copyToAnotherHub(deviceId: string): { home: string; other: string } {
  const found = findDevice(f.emulator, deviceId);
  if (!found) throw new Error(`${deviceId} has no hub identity in the demo fleet`);
  const { store } = f.emulator;
  const other = [...store.hubs.values()].find((h) => h.host !== found.hub);
  if (!other) throw new Error('the demo fleet has one hub');
  store.putDevice(other, { ...found.device, etag: store.newHubEtag(), status: 'enabled' });
  return { home: found.hub, other: other.host };
}

describe('a device with identities on two hubs', () => {
  const id = 'pump-0007';

  it('plan names both, by record and by lookup; run disables both; verify reads both back', async () => {
    const { home, other } = copyToAnotherHub(id);

    const planned = await f.cli(['plan', '--enrollment', id, ...ACTIONS, '--json']);
    expect(planned.code).toBe(0);
    const plan = JSON.parse(planned.stdout) as Plan;
    expect(plan.hubIdentities).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ hub: home, byRecord: 1, byLookup: 0, lookup: 'searched' }),
        expect.objectContaining({
          hub: other,
          byRecord: 0,
          byLookup: 1,
          foundByLookup: [id],
          lookup: 'searched',
        }),
      ]),
    );
    expect(plan.warnings.find((w) => w.code === 'hub-identity-by-lookup')?.registrationIds).toEqual([id]);

    const text = await f.cli(['plan', '--enrollment', id, ...ACTIONS]);
    expect(text.stdout).toMatch(
      new RegExp(`^    ${literal(other)}: 1 \\(record 0, lookup 1 \\(${id}\\)\\); looked up: 1 query$`, 'm'),
    );
    expect(text.stdout).toMatch(
      new RegExp(`^    ${literal(home)}: 1 \\(record 1, lookup 0\\); looked up: 1 query$`, 'm'),
    );

    const run = await f.cli(['run', '--enrollment', id, ...ACTIONS, '--yes']);
    expect(run.code).toBe(0);
    expect(deviceOn(f.emulator, home, id)?.status).toBe('disabled');
    expect(deviceOn(f.emulator, other, id)?.status).toBe('disabled');
    // The run's summary carries the hub side of its verify.
    expect(run.stdout).toMatch(
      new RegExp(`^  ${id}  blocked at DPS .*${short(home)}: disabled  ${short(other)}: disabled$`, 'm'),
    );

    const verify = await f.cli(['verify', '--enrollment', id]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^Hub identities: 0 enabled, 2 disabled, 0 absent$/m);
    expect(verify.stdout).toMatch(
      new RegExp(
        `^  ${id}  blocked at DPS \\(enrollments/${id}\\)  ${short(home)}: disabled  ${short(other)}: disabled$`,
        'm',
      ),
    );
    const json = await f.cli(['verify', '--enrollment', id, '--json']);
    const { verdicts } = JSON.parse(json.stdout) as { verdicts: ReenrollmentVerdict[] };
    expect(verdicts[0].hubs).toEqual<HubIdentityCheck[]>([
      { hub: home, deviceId: id, status: 'disabled' },
      { hub: other, deviceId: id, status: 'disabled' },
    ]);
  });

  it('verify says which identity is still live and which is gone', async () => {
    const live = 'pump-0008';
    const { home, other } = copyToAnotherHub(live);
    f.emulator.store.deleteDevice(f.emulator.store.hubByHost(home)!, live);
    const json = await f.cli(['verify', '--enrollment', live, '--json']);
    const { verdicts } = JSON.parse(json.stdout) as { verdicts: ReenrollmentVerdict[] };
    expect(verdicts[0].hubs).toEqual<HubIdentityCheck[]>([
      { hub: home, deviceId: live, status: 'absent' },
      { hub: other, deviceId: live, status: 'enabled' },
    ]);
  });
});

describe('--skip-hub-lookup', () => {
  it('the named hub is not searched: its extra identity is left, and the plan says so', async () => {
    const id = 'gateway-munich-0001';
    const { home, other } = copyToAnotherHub(id);
    const run = await f.cli([
      'run',
      '--enrollment',
      id,
      ...ACTIONS,
      '--yes',
      '--skip-hub-lookup',
      short(other),
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      new RegExp(`caution: The device IDs were not looked up on ${literal(other)} \\(--skip-hub-lookup\\)`),
    );
    expect(run.stderr).toMatch(
      new RegExp(
        `^    ${literal(other)}: 0 \\(record 0, lookup 0\\); NOT looked up \\(--skip-hub-lookup; it costs 1 query\\)$`,
        'm',
      ),
    );
    expect(deviceOn(f.emulator, home, id)?.status).toBe('disabled');
    expect(deviceOn(f.emulator, other, id)?.status).toBe('enabled');
  });

  it('a hub name that is not given is bad input: exit 2, nothing changed', async () => {
    const before = stateOf(f.emulator);
    const r = await f.cli([
      'run',
      '--enrollment',
      'pump-0007',
      ...ACTIONS,
      '--yes',
      '--skip-hub-lookup',
      'hub-mars',
    ]);
    expect(r.code).toBe(2);
    expect(stateOf(f.emulator)).toBe(before);
    expect(r.stderr).toMatch(
      /--skip-hub-lookup "hub-mars" is none of the hubs the tool has credentials for \(hub-eu, hub-us, hub-asia\)/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('a registration record with status disabled that names a hub', () => {
  it('with no lookup at all, the record alone makes the plan deregister that identity', async () => {
    const id = 'sensor-berlin-0042';
    const { store } = f.emulator;
    const record = store.dps.registrations.get(id);
    if (!record?.assignedHub) throw new Error(`${id} has no assigned record in the demo fleet`);
    store.putRegistration({ ...record, status: 'disabled' });
    const skipAll = f.emulator.hubs.flatMap((h) => ['--skip-hub-lookup', h.name]);
    const run = await f.cli(['run', '--enrollment', id, ...ACTIONS, '--yes', ...skipAll]);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toMatch(/no registration record naming a hub/);
    expect(deviceOn(f.emulator, record.assignedHub, id)?.status).toBe('disabled');
  });
});
