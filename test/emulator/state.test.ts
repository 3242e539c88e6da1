import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type EmulatorHandle, startEmulator } from '../../src/services/emulator/index.js';
import { deriveDeviceKey } from '../../src/services/emulator/seed-shared.js';
import { dpsClient, failure, hubClient } from './helpers.js';

describe('emulator: state file', () => {
  const started: EmulatorHandle[] = [];
  const start = async (opts: Parameters<typeof startEmulator>[0]) => {
    const em = await startEmulator({ throttle: false, ...opts });
    started.push(em);
    return em;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((e) => e.stop()));
  });

  it('restarts from the state file with the same keys and data; refuses a second emulator', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emulator-state-'));
    const statePath = join(dir, 'state.json');
    const first = await start({ statePath, seed: 30 });
    await hubClient(first, 0).delete('device-000000');
    const refused = await failure(startEmulator({ statePath }));
    expect(refused).toMatchObject({ name: 'UserError', code: 'stateLocked', exitCode: 2 });
    expect(refused.message).toContain(`pid ${process.pid}`);
    await first.stop();
    expect(readdirSync(dir).sort()).toEqual(['state.json']); // no temp file, lock released

    const second = await start({ statePath, seed: 'demo' }); // seed ignored: the state is not new
    expect(second.dps).toEqual(first.dps);
    expect(second.hubs).toEqual(first.hubs);
    expect(second.store.dps.registrations.size).toBe(30);
    expect((await failure(hubClient(second, 0).get('device-000000'))).name).toBe('DeviceNotFoundError');
    const kept = (await hubClient(second, 0).get('device-000018')).responseBody;
    const eu = first.store.hubByHost('hub-eu.azure-devices.net')!;
    const before = first.store.deviceKeys(eu, eu.devices.get('device-000018')!);
    expect(kept.authentication?.symmetricKey?.primaryKey).toBe(before.primaryKey);
  });

  it('takes over the lock of a process that is gone, and rejects a file that is not a state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emulator-state-'));
    const statePath = join(dir, 'state.json');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(`${statePath}.lock`, String(dead));
    const em = await start({ statePath });
    expect(JSON.parse(readFileSync(`${statePath}.lock`, 'utf8'))).toMatchObject({ pid: process.pid });
    await em.stop();
    writeFileSync(join(dir, 'other.json'), '{"hello": 1}');
    const err = await failure(startEmulator({ statePath: join(dir, 'other.json') }));
    expect(err.message).toMatch(/not an emulator state/);
    expect(readdirSync(dir)).not.toContain('other.json.lock');
  });
});

describe('emulator: demo data and HTTPS', () => {
  let em: EmulatorHandle | undefined;
  afterEach(async () => {
    await em?.stop();
  });

  it('seeds a realistic fleet: matching hub identities, real chains, a few disabled devices', async () => {
    em = await startEmulator({ seed: 'demo', https: true, throttle: false });
    expect(em.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const { store } = em;
    const records = [...store.dps.registrations.values()];
    expect(records.length).toBeGreaterThanOrEqual(40);
    expect(records.length).toBeLessThanOrEqual(60);
    for (const r of records)
      expect(store.hubByHost(r.assignedHub as string)?.devices.has(r.deviceId)).toBe(true);
    expect(new Set(records.map((r) => r.assignedHub)).size).toBe(3);
    const types = [...store.dps.enrollments.values()].map((e) => e.attestation.type);
    expect(new Set(types)).toEqual(new Set(['tpm', 'x509', 'symmetricKey']));
    const disabled = [...store.hubs.values()]
      .flatMap((h) => [...h.devices.values()])
      .filter((d) => d.status === 'disabled');
    expect(disabled.length).toBeGreaterThanOrEqual(2);

    // A group device's chain really is leaf -> intermediate -> root, and the group holds the intermediate.
    const secret = store.demoSecrets.devices['sensor-berlin-0005'];
    const [leaf, intermediate, root] = (secret.chainPem as string)
      .split(/(?<=-----END CERTIFICATE-----)\s*/)
      .filter((p) => p.includes('BEGIN'))
      .map((p) => new X509Certificate(p));
    expect(leaf.subject).toBe('CN=sensor-berlin-0005');
    expect(leaf.verify(intermediate.publicKey)).toBe(true);
    expect(intermediate.verify(root.publicKey)).toBe(true);
    const group = store.dps.groups.get('factory-line-berlin');
    expect(
      new X509Certificate(group?.attestation.x509?.signingCertificates?.primary as string).fingerprint,
    ).toBe(intermediate.fingerprint);
    // A symmetric-key group device's hub key is derived from the group key.
    const meters = store.dps.groups.get('smart-meters-eu')?.attestation.symmetricKey?.primaryKey as string;
    expect(store.demoSecrets.devices['meter-eu-0003'].symmetricKey).toBe(
      deriveDeviceKey(meters, 'meter-eu-0003'),
    );

    // Over HTTPS with the emulator's CA, through the real clients.
    const record = (await dpsClient(em).getDeviceRegistrationState('meter-eu-0003')).responseBody;
    const device = (
      await hubClient(
        em,
        em.hubs.findIndex((h) => h.host === record.assignedHub),
      ).get('meter-eu-0003')
    ).responseBody;
    expect(device.authentication?.symmetricKey?.primaryKey).toBe(deriveDeviceKey(meters, 'meter-eu-0003'));
  });
});
