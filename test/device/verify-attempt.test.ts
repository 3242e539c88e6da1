/**
 * `verify --attempt`: the compiled program on the sandbox registers each selected device for real and
 * sets DPS's answer beside the prediction. Then the comparison itself, on verdicts and answers given
 * by the test, for the disagreements the sandbox does not produce.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, verifyCommand } from '../../src/commands/headless.js';
import { agreementOf, hubAgreementOf } from '../../src/commands/verify-attempt.js';
import type { ReenrollmentVerdict } from '../../src/core/model.js';
import type { RegistrationAttempt } from '../../src/services/backend.js';
import type { SessionBackend } from '../../src/services/session/create-backend.js';
import { jsonLines, runCli, tempDir } from '../support/cli.js';

describe('verify --attempt on the sandbox (compiled program)', () => {
  let home: Awaited<ReturnType<typeof tempDir>>;
  let statePath: string;
  beforeAll(async () => {
    home = await tempDir('attempt');
    statePath = join(home.path, 'sandbox.json');
  });
  afterAll(() => home.remove());
  const cli = (args: string[]) =>
    runCli([...args, '--sandbox', '--state', statePath], { stateHome: home.path });

  it('an enabled group lets its devices in as predicted; after the run they are refused', async () => {
    const before = await cli(['verify', '--group', 'smart-meters-eu', '--attempt', '--json']);
    expect(before.stderr).toBe('');
    const [{ attempts }] = jsonLines(before.stdout) as [
      { attempts: { verdict: string; attempt: RegistrationAttempt; agreement: string }[] },
    ];
    expect(attempts).toHaveLength(15);
    for (const a of attempts)
      expect(a).toMatchObject({ verdict: 'allowed', attempt: { outcome: 'assigned' }, agreement: 'matches' });
    // Each device also sent telemetry to its hub with its key; meter-eu-0011 is disabled there (demo).
    const sends = Object.fromEntries(
      attempts.map((a) => [(a as { registrationId?: string }).registrationId, a.attempt.hubSend]),
    );
    expect(sends['meter-eu-0001']).toMatchObject({
      outcome: 'sent',
      hub: expect.stringMatching(/azure-devices\.net$/),
    });
    expect(sends['meter-eu-0011']).toMatchObject({ outcome: 'refused', status: 401 });
    // Allowed devices are not deprovisioned: verify still says so with its exit code.
    expect(before.code).toBe(EXIT.failed);

    const run = await cli([
      'run',
      '--group',
      'smart-meters-eu',
      '--disenroll',
      'disable',
      '--deregister',
      'disable',
      '--yes',
    ]);
    expect(run.code).toBe(EXIT.done);

    const after = await cli(['verify', '--group', 'smart-meters-eu', '--attempt']);
    expect(after.stdout).toContain('Registration attempts: 15 match the analysis, 0 differ');
    expect(after.stdout).toMatch(
      /matches\s+meter-eu-0001: predicted blocked; refused: DPS ended .* "disabled".*; hub hub-\w+\.azure-devices\.net: refused \(401\)/,
    );
    expect(after.stdout).not.toContain('DIFFERS');
    expect(after.code).toBe(EXIT.done);

    // The devices' own keys (kept in the sandbox state) never reach the output.
    const state = JSON.parse(await readFile(statePath, 'utf8')) as {
      demoSecrets: { devices: Record<string, { symmetricKey?: string }> };
    };
    const keys = Object.values(state.demoSecrets.devices).flatMap((d) =>
      d.symmetricKey ? [d.symmetricKey] : [],
    );
    expect(keys.length).toBeGreaterThan(0);
    for (const output of [before.stdout, after.stdout, after.stderr]) {
      for (const k of keys) expect(output).not.toContain(k);
    }
  });

  it('an X.509 device registers with its certificate chain over the HTTPS device endpoint', async () => {
    const x509 = await cli(['verify', '--enrollment', 'kiosk-madrid-0005', '--attempt']);
    expect(x509.stdout).toMatch(
      /matches\s+kiosk-madrid-0005: predicted allowed; assigned to \S+ as kiosk-madrid-0005; hub \S+: telemetry accepted/,
    );
    // A CA-authenticated group device: its chain leads to the root the hubs trust.
    const ca = await cli([
      'verify',
      '--group',
      'factory-line-berlin',
      '--device',
      'sensor-berlin-0001',
      '--attempt',
    ]);
    expect(ca.stdout).toMatch(
      /matches\s+sensor-berlin-0001: predicted allowed; assigned to .*; hub \S+: telemetry accepted/,
    );
  });
});

describe('the comparison', () => {
  const verdict = (registrationId: string, v: ReenrollmentVerdict['verdict']): ReenrollmentVerdict => ({
    registrationId,
    verdict: v,
    reason: 'test',
  });
  const assigned: RegistrationAttempt = {
    outcome: 'assigned',
    assignedHub: 'hub-eu.azure-devices.net',
    deviceId: 'd',
  };
  const refused: RegistrationAttempt = {
    outcome: 'refused',
    status: 401,
    reason: 'DPS refused the credential (401)',
  };
  const noAnswer: RegistrationAttempt = { outcome: 'error', reason: 'no answer from DPS within 20 s' };

  it('agrees when DPS did what the analysis said, or when the analysis was not sure', () => {
    expect(agreementOf('blocked', refused)).toBe('matches');
    expect(agreementOf('allowed', assigned)).toBe('matches');
    expect(agreementOf('possible', assigned)).toBe('matches');
    expect(agreementOf('possible', refused)).toBe('matches');
    expect(agreementOf('blocked', assigned)).toBe('differs');
    expect(agreementOf('allowed', refused)).toBe('differs');
    expect(agreementOf('blocked', noAnswer)).toBe('differs');
    expect(agreementOf('blocked', { outcome: 'unavailable', reason: 'no key' })).toBe('not-attempted');
  });

  it("the hub's answer to the device's telemetry must agree with the identity status verify read there", () => {
    const hub = 'hub-eu.azure-devices.net';
    const read = (status: 'enabled' | 'disabled' | 'absent') => [{ hub, deviceId: 'd', status }];
    const sent = { outcome: 'sent', hub } as const;
    const refusedByHub = {
      outcome: 'refused',
      hub,
      status: 401,
      reason: 'the hub refused the device (401)',
    } as const;
    expect(hubAgreementOf(read('enabled'), sent)).toBe('matches');
    expect(hubAgreementOf(read('disabled'), refusedByHub)).toBe('matches');
    expect(hubAgreementOf(read('absent'), refusedByHub)).toBe('matches');
    expect(hubAgreementOf(read('disabled'), sent)).toBe('differs');
    expect(hubAgreementOf(read('enabled'), refusedByHub)).toBe('differs');
    // Nothing read on that hub, or no answer: nothing to compare.
    expect(hubAgreementOf([], sent)).toBeUndefined();
    expect(hubAgreementOf(read('enabled'), { outcome: 'error', hub, reason: 'timeout' })).toBeUndefined();
  });

  /** A backend that answers verify and attemptRegistration from the test's tables (no services). */
  function backendWith(
    verdicts: ReenrollmentVerdict[],
    answers: Record<string, RegistrationAttempt>,
  ): SessionBackend {
    return {
      verify: async () => verdicts,
      hubReads: () => [],
      attemptRegistration: async (id: string) => answers[id],
    } as unknown as SessionBackend;
  }

  it('says DIFFERS and exits 1 when a device DPS should refuse gets in', async () => {
    let stdout = '';
    const io = {
      stdout: (t: string) => {
        stdout += t;
      },
      stderr: () => {},
    };
    const backend = backendWith([verdict('a', 'blocked'), verdict('b', 'blocked')], {
      a: refused,
      b: assigned,
    });
    const code = await verifyCommand(backend, { group: 'g', attempt: true }, io);
    expect(code).toBe(EXIT.failed);
    expect(stdout).toContain('1 match the analysis, 1 differ');
    expect(stdout).toMatch(/DIFFERS\s+b: predicted blocked; assigned to hub-eu.azure-devices.net/);
  });

  it('refuses --attempt where the tool holds no device credentials', async () => {
    const backend = { verify: async () => [] } as unknown as SessionBackend;
    await expect(
      verifyCommand(backend, { group: 'g', attempt: true }, { stdout: () => {}, stderr: () => {} }),
    ).rejects.toThrow(/only the sandbox holds/);
  });
});
