/**
 * Bad input: exit 2, a message on stderr that says what was wrong (no stack trace), and nothing changed
 * (the whole store and the emulator's destructive counts compared before and after). Also a hub given
 * no credentials, and Ctrl-C during a run (exit 3, resumable).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, waitUntil } from '../support/cli.js';
import {
  type CliFixture,
  destructiveCounts,
  findDevice,
  groupDevices,
  startCliFixture,
  stateOf,
} from './fixture.js';

let f: CliFixture;
// A recognisable, valid-looking key: it must never be echoed.
const MARKED_KEY = Buffer.from('do-not-print-this-key-0123456789').toString('base64');

beforeAll(async () => {
  f = await startCliFixture({ seed: 'demo', timeScale: 120 }, { extraSecrets: [MARKED_KEY] });
});

afterAll(async () => {
  await f?.close();
});

const ACTIONS = ['--disenroll', 'disable', '--deregister', 'disable'];
const withKey = (cs: string, key: string) => cs.replace(/SharedAccessKey=[^;]+/, `SharedAccessKey=${key}`);

/** Runs a command that must be refused: exit 2, the message on stderr, nothing changed at all. */
async function refused(
  args: string[],
  message: RegExp,
  target: boolean | string[] = true,
): Promise<CliResult> {
  const before = stateOf(f.emulator);
  const writes = JSON.stringify(destructiveCounts(f.emulator));
  const r = await f.cli(args, { target });
  expect(r.stderr).toMatch(message);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^iot-deprovision: /m);
  expect(r.stderr, 'no stack trace').not.toMatch(/\n\s+at |Error:|node:internal/);
  expect(r.stdout).toBe('');
  expect(stateOf(f.emulator)).toBe(before);
  expect(JSON.stringify(destructiveCounts(f.emulator))).toBe(writes);
  return r;
}

function explicitTarget(
  dps: string,
  hubs: string[] = f.emulator.hubs.map((h) => h.connectionString),
): string[] {
  return ['--endpoint', f.emulator.url, '--dps', dps, ...hubs.flatMap((h) => ['--hub', h])];
}

describe('bad input: exit 2, a clear message, nothing changed', () => {
  const run = ['run', '--enrollment', 'pump-0007', ...ACTIONS, '--yes'];

  it('a connection string without SharedAccessKey (a key under another name is not echoed)', async () => {
    const policy = 'SharedAccessKeyName=provisioningserviceowner';
    const dps = `HostName=${f.emulator.dps.host};${policy};Key=${MARKED_KEY}`;
    const r = await refused(
      [...run, ...explicitTarget(dps)],
      /--dps: the connection string has no SharedAccessKey/,
      false,
    );
    expect(r.stderr).not.toContain(MARKED_KEY);
  });

  it('a wrong DPS key: the service answers 401', async () => {
    const dps = withKey(f.emulator.dps.connectionString, MARKED_KEY);
    const r = await refused([...run, ...explicitTarget(dps)], /401.*the key or token was refused/, false);
    expect(r.stderr).toContain(f.emulator.dps.host);
    expect(r.stderr).not.toContain(MARKED_KEY);
  });

  it('a wrong hub key: refused while planning, before DPS is touched', async () => {
    const hubHost = findDevice(f.emulator, 'pump-0007')?.hub;
    const hubs = f.emulator.hubs.map((h) =>
      h.host === hubHost ? withKey(h.connectionString, MARKED_KEY) : h.connectionString,
    );
    const r = await refused(
      [...run, ...explicitTarget(f.emulator.dps.connectionString, hubs)],
      /401.*refused/,
      false,
    );
    expect(r.stderr).toContain(hubHost);
    expect(r.stderr).not.toContain(MARKED_KEY);
  });

  it('an unknown enrollment, an unknown group', async () => {
    await refused(
      ['run', '--enrollment', 'no-such-device', ...ACTIONS, '--yes'],
      /No individual enrollment "no-such-device"/,
    );
    await refused(
      ['run', '--group', 'no-such-group', ...ACTIONS, '--yes'],
      /No enrollment group "no-such-group"/,
    );
  });

  it('an unreadable or invalid --device-cert file, named in the message', async () => {
    const missing = join(f.stateHome, 'missing.pem');
    await refused(
      ['run', '--group', 'factory-line-berlin', '--device-cert', missing, ...ACTIONS, '--yes'],
      new RegExp(`--device-cert ${missing}: cannot read the file`),
    );
    const notPem = join(f.stateHome, 'not.pem');
    writeFileSync(notPem, 'this is not a certificate\n');
    await refused(
      ['run', '--group', 'factory-line-berlin', '--device-cert', notPem, ...ACTIONS, '--yes'],
      new RegExp(`--device-cert ${notPem}: .*PEM certificate`),
    );
    const damaged = join(f.stateHome, 'damaged.pem');
    writeFileSync(damaged, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    await refused(
      ['run', '--group', 'factory-line-berlin', '--device-cert', damaged, ...ACTIONS, '--yes'],
      new RegExp(`--device-cert ${damaged}: .*not a certificate`),
    );
  });

  it('conflicting flags', async () => {
    await refused(
      ['run', '--enrollment', 'pump-0007', '--group', 'smart-meters-eu', ...ACTIONS, '--yes'],
      /either --enrollment ID or --group ID, not both/,
    );
    await refused(
      ['run', '--enrollment', 'pump-0007', '--delete-group', ...ACTIONS, '--yes'],
      /--delete-group cleans up a whole enrollment group: use it with --group ID/,
    );
  });

  it('run without --yes', async () => {
    await refused(
      ['run', '--enrollment', 'pump-0007', ...ACTIONS],
      /review it with `iot-deprovision plan \.\.\.` first, then add --yes/,
    );
  });
});

describe('a group whose devices sit on hubs given no --hub', () => {
  it('the plan names each hub without credentials (DANGER); run leaves those devices', async () => {
    const group = 'contoso-root-ca';
    const given = f.emulator.hubs[0];
    const devices = groupDevices(f.emulator, group).map((id) => ({
      id,
      hub: findDevice(f.emulator, id)?.hub,
    }));
    const elsewhere = devices.filter((d) => d.hub !== given.host);
    const missingHubs = [...new Set(elsewhere.map((d) => d.hub as string))];
    expect(missingHubs).toHaveLength(2);

    const run = await f.cli(['run', '--group', group, ...ACTIONS, '--yes'], { target: [given.name] });
    // Decided: the run goes on (the person may leave a hub to its owners), says which hubs and devices,
    // and does not call itself done: exit 1, with the devices left named again after the summary.
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^NOT DONE: No credentials for /m);
    for (const hub of missingHubs) {
      const n = elsewhere.filter((d) => d.hub === hub).length;
      expect(run.stderr).toMatch(
        new RegExp(`!! DANGER: No credentials for .*${hub.replace(/\./g, '\\.')} \\(${n} devices?\\)`),
      );
    }
    expect(run.stderr).toMatch(/Add --hub with a connection string/);
    expect(f.emulator.store.dps.groups.get(group)?.provisioningStatus).toBe('disabled');
    for (const d of devices) {
      expect(findDevice(f.emulator, d.id)?.device.status, d.id).toBe(
        d.hub === given.host ? 'disabled' : 'enabled',
      );
    }
  });
});

describe('Ctrl-C during a run', () => {
  it('stops after the calls in flight, exits 3, and leaves a journal that resume finishes', async () => {
    const group = 'factory-line-berlin';
    // Slow answers keep the run open long enough to interrupt it mid-way.
    f.emulator.setFaults({ latencyMs: 300, seed: 3 });
    const child = f.spawn(['run', '--group', group, ...ACTIONS, '--yes']);
    const journal = await waitUntil(() => /journal (\S+\.jsonl)/.exec(child.output().stderr)?.[1]);
    await waitUntil(() => (readFileSync(journal, 'utf8').includes('"type":"intent"') ? true : undefined));
    child.child.kill('SIGINT');
    const r = await child.result;
    f.emulator.setFaults(undefined);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/Stopping after the calls in flight finish/);
    expect(r.stdout).toMatch(/: aborted$/m);
    const runId = /^Run (\S+): aborted$/m.exec(r.stdout)?.[1] as string;
    expect(r.stdout).toContain(`Resume with: npx iot-deprovision resume ${runId}\n`);
    const records = readFileSync(journal, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.at(-1)).toMatchObject({ type: 'end', state: 'aborted' });
    // Some hub identities are still enabled: the run really stopped before its end.
    const devices = groupDevices(f.emulator, group);
    expect(devices.some((id) => findDevice(f.emulator, id)?.device.status === 'enabled')).toBe(true);

    const runs = await f.cli(['runs'], { target: false });
    expect(runs.stdout).toMatch(new RegExp(`^${runId} +aborted `, 'm'));
    const resume = await f.cli(['resume', runId]);
    expect(resume.code).toBe(0);
    expect(resume.stdout).toMatch(new RegExp(`^Run ${runId}: completed$`, 'm'));
    expect(f.emulator.store.dps.groups.get(group)?.provisioningStatus).toBe('disabled');
    for (const id of devices) expect(findDevice(f.emulator, id)?.device.status, id).toBe('disabled');
  });
});
