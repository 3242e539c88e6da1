/**
 * One or several devices of an enrollment group: each gets a DISABLED individual enrollment (a blocker)
 * carrying the tool's tag, X.509 from the device certificate or symmetric key by registration ID; the
 * rest of the group is left alone. A blocker is never deleted by the tool.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCKER_TAG } from '../../src/core/model.js';
import type { StoredEnrollment } from '../../src/services/emulator/index.js';
import {
  type CliFixture,
  destructiveCounts,
  findDevice,
  groupDevices,
  startCliFixture,
  stateOf,
} from './fixture.js';

let f: CliFixture;

beforeAll(async () => {
  f = await startCliFixture({ seed: 'demo', timeScale: 120 });
});

afterAll(async () => {
  await f?.close();
});

const tagOf = (e: StoredEnrollment | undefined) =>
  (e?.initialTwin as { tags?: Record<string, { groupId?: string; runId?: string }> } | undefined)?.tags?.[
    BLOCKER_TAG
  ];

/** What must stay untouched: the group, and the other devices' hub identities, records and enrollments. */
function untouched(groupId: string, chosen: string[]): string {
  const { store } = f.emulator;
  const others = groupDevices(f.emulator, groupId).filter((id) => !chosen.includes(id));
  return JSON.stringify({
    group: store.dps.groups.get(groupId),
    others: others.map((id) => [
      findDevice(f.emulator, id),
      store.dps.registrations.get(id),
      store.dps.enrollments.get(id),
    ]),
  });
}

const runIdOf = (stdout: string) => /^Run (\S+): /m.exec(stdout)?.[1];

describe('run --group G --device-cert / --device ... --yes, then verify', () => {
  it('one device of an X.509 group, by its certificate: an X.509 blocker, disabled and tagged', async () => {
    const { store } = f.emulator;
    const group = 'factory-line-berlin';
    const device = 'sensor-berlin-0005';
    const pem = store.demoSecrets.devices[device]?.certPem as string;
    const certFile = join(f.stateHome, `${device}.pem`);
    writeFileSync(certFile, pem);
    const before = untouched(group, [device]);
    const hub = findDevice(f.emulator, device)?.hub;

    const run = await f.cli([
      'run',
      '--group',
      group,
      '--device-cert',
      certFile,
      '--disenroll',
      'disable',
      '--deregister',
      'disable',
      '--yes',
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      `PUT enrollments/${device} (new, provisioningStatus=disabled, X.509 blocker`,
    );

    const blocker = store.dps.enrollments.get(device);
    expect(blocker?.provisioningStatus).toBe('disabled');
    expect(blocker?.attestation.type).toBe('x509');
    expect(blocker?.attestation.x509?.clientCertificates?.primary?.trim()).toBe(pem.trim());
    expect(tagOf(blocker)).toEqual({ groupId: group, runId: runIdOf(run.stdout) });
    expect(findDevice(f.emulator, device)).toEqual({
      hub,
      device: expect.objectContaining({ status: 'disabled' }),
    });
    expect(untouched(group, [device])).toBe(before);

    const verify = await f.cli(['verify', '--group', group, '--device-cert', certFile]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(new RegExp(`BLOCKED +${device} via enrollments/${device}`));
  });

  it('several devices of a symmetric-key group: symmetric-key blockers, devices deleted', async () => {
    const { store } = f.emulator;
    const group = 'smart-meters-eu';
    const chosen = ['meter-eu-0001', 'meter-eu-0002', 'meter-eu-0011'];
    const hubs = new Map(chosen.map((id) => [id, findDevice(f.emulator, id)?.hub]));
    expect(new Set(hubs.values()).size).toBeGreaterThan(1);
    const before = untouched(group, chosen);

    const run = await f.cli([
      'run',
      '--group',
      group,
      ...chosen.flatMap((id) => ['--device', id]),
      '--disenroll',
      'disable',
      '--deregister',
      'delete',
      '--yes',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Re-enrollment: 3 blocked, 0 possible, 0 allowed');
    const runId = runIdOf(run.stdout);
    for (const id of chosen) {
      const blocker = store.dps.enrollments.get(id);
      expect(blocker?.provisioningStatus, id).toBe('disabled');
      expect(blocker?.attestation.type, id).toBe('symmetricKey');
      expect(tagOf(blocker), id).toEqual({ groupId: group, runId });
      expect(findDevice(f.emulator, id), id).toBeUndefined();
      // The registration record stays: the group is not cleaned up for a few devices.
      expect(store.dps.registrations.get(id)?.assignedHub, id).toBe(hubs.get(id));
    }
    expect(store.dps.groups.get(group)?.provisioningStatus).toBe('enabled');
    expect(untouched(group, chosen)).toBe(before);

    const verify = await f.cli(['verify', '--group', group, ...chosen.flatMap((id) => ['--device', id])]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('Re-enrollment: 3 blocked, 0 possible, 0 allowed');
  });

  it('refuses to delete a blocker (exit 2) and changes nothing', async () => {
    const blocker = 'meter-eu-0002';
    expect(tagOf(f.emulator.store.dps.enrollments.get(blocker))).toBeDefined();
    const before = stateOf(f.emulator);
    const writes = JSON.stringify(destructiveCounts(f.emulator));

    const run = await f.cli([
      'run',
      '--enrollment',
      blocker,
      '--disenroll',
      'delete',
      '--deregister',
      'none',
      '--yes',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/refused \(delete-blocker\): enrollments\/meter-eu-0002 is a blocker/);
    expect(run.stderr).toMatch(/never deletes a blocker/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stdout).toBe('');
    expect(stateOf(f.emulator)).toBe(before);
    expect(JSON.stringify(destructiveCounts(f.emulator))).toBe(writes);
  });
});
