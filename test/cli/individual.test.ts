/**
 * Individual enrollments (TPM, X.509 leaf, symmetric key) through `run ... --yes` then `verify`, on the
 * demo fleet: the emulator's store afterwards is the proof.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliFixture, findDevice, startCliFixture } from './fixture.js';

let f: CliFixture;

beforeAll(async () => {
  f = await startCliFixture({ seed: 'demo', timeScale: 120 });
});

afterAll(async () => {
  await f?.close();
});

type Disenroll = 'disable' | 'delete';
type Deregister = 'disable' | 'delete' | 'none';

// Each attestation with each DPS action and each hub action at least once.
const CASES: { attestation: string; id: string; disenroll: Disenroll; deregister: Deregister }[] = [
  { attestation: 'tpm', id: 'gateway-munich-0001', disenroll: 'disable', deregister: 'disable' },
  { attestation: 'tpm', id: 'gateway-munich-0002', disenroll: 'delete', deregister: 'delete' },
  { attestation: 'tpm', id: 'gateway-oslo-0003', disenroll: 'disable', deregister: 'none' },
  { attestation: 'x509', id: 'kiosk-madrid-0005', disenroll: 'delete', deregister: 'disable' },
  { attestation: 'x509', id: 'sensor-berlin-0042', disenroll: 'disable', deregister: 'delete' },
  { attestation: 'symmetricKey', id: 'pump-0007', disenroll: 'disable', deregister: 'delete' },
  { attestation: 'symmetricKey', id: 'pump-0008', disenroll: 'delete', deregister: 'none' },
];

describe('run --enrollment ... --yes, then verify', () => {
  it.each(CASES)('$attestation $id: disenroll $disenroll, deregister $deregister', async (c) => {
    const { store } = f.emulator;
    expect(store.dps.enrollments.get(c.id)?.attestation.type).toBe(c.attestation);
    const before = findDevice(f.emulator, c.id);
    expect(before?.device.status).toBe('enabled');
    const hubDevicesBefore = [...store.hubs.values()].reduce((n, h) => n + h.devices.size, 0);

    const run = await f.cli([
      'run',
      '--enrollment',
      c.id,
      '--disenroll',
      c.disenroll,
      '--deregister',
      c.deregister,
      '--yes',
    ]);
    expect(run.stderr).not.toMatch(/iot-deprovision:/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Run \d{8}T\d{6}Z-[0-9a-f]{6}: completed$/m);

    const enrollment = store.dps.enrollments.get(c.id);
    if (c.disenroll === 'disable') expect(enrollment?.provisioningStatus).toBe('disabled');
    else {
      expect(enrollment).toBeUndefined();
      // DPS removes an individual enrollment's registration record with it.
      expect(store.dps.registrations.has(c.id)).toBe(false);
    }
    const after = findDevice(f.emulator, c.id);
    if (c.deregister === 'delete') expect(after).toBeUndefined();
    else {
      // Deregistered on the hub it was assigned to, not moved.
      expect(after?.hub).toBe(before?.hub);
      expect(after?.device.status).toBe(c.deregister === 'disable' ? 'disabled' : 'enabled');
    }
    const hubDevicesNow = [...store.hubs.values()].reduce((n, h) => n + h.devices.size, 0);
    expect(hubDevicesNow).toBe(hubDevicesBefore - (c.deregister === 'delete' ? 1 : 0));

    // Read back by the run itself, then by `verify`: DPS refuses the device either way.
    expect(run.stdout).toContain('Re-enrollment: 1 blocked, 0 possible, 0 allowed');
    const verify = await f.cli(['verify', '--enrollment', c.id]);
    expect(verify.stdout).toMatch(new RegExp(`BLOCKED +${c.id}`));
    expect(verify.code).toBe(0);
  });

  it('plan warns (DANGER) before deleting an X.509 enrollment a group would replace', async () => {
    // sensor-berlin-0042's leaf is issued by the intermediate of the enabled group factory-line-berlin.
    // The case above disabled its enrollment: enable it again, as if the plan came first.
    const { store } = f.emulator;
    const berlin = store.demoSecrets.devices['sensor-berlin-0042'];
    expect(berlin?.certPem).toBeDefined();
    const existing = store.dps.enrollments.get('sensor-berlin-0042');
    expect(existing).toBeDefined();
    store.putEnrollment({ ...(existing as NonNullable<typeof existing>), provisioningStatus: 'enabled' });
    const writes = JSON.stringify(f.emulator.stats().destructive);

    const plan = await f.cli([
      'plan',
      '--enrollment',
      'sensor-berlin-0042',
      '--disenroll',
      'delete',
      '--deregister',
      'disable',
    ]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/!! DANGER: .*sensor-berlin-0042.*re-enroll/);
    expect(plan.stdout).toContain('factory-line-berlin');
    expect(plan.stdout).toMatch(/recommended: Disable instead/);
    expect(JSON.stringify(f.emulator.stats().destructive)).toBe(writes);
    expect(store.dps.enrollments.get('sensor-berlin-0042')?.provisioningStatus).toBe('enabled');
  });
});
