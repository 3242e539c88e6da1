/**
 * Nothing raw reaches the terminal, and nothing crashes on bad input: IDs and values with escape
 * sequences are printed sanitized (and escaped in --json), a damaged journal is refused with its line,
 * a bad --state file and a TLS mismatch are plain messages, a device ID containing `SharedAccessKey=`
 * is an ID, and a wrong key on any given hub is refused before the first change.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/services/emulator/index.js';
import { jsonLines, runCli } from '../support/cli.js';
import { type CliFixture, destructiveCounts, findDevice, startCliFixture, stateOf } from './fixture.js';

let f: CliFixture;
const MARKED_KEY = Buffer.from('do-not-print-this-hub-key-0123456789').toString('base64');
// Screen clear, an OSC 52 clipboard write, a bell; a C1 CSI and a right-to-left override.
const EVIL = 'evil\u001b[2J\u001b]52;c;cm0gLXJmIH4=\u0007\u0007x';
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

beforeAll(async () => {
  // The scan allows the bare word "SharedAccessKey=", which this file prints on purpose (a device ID, the
  // --hub usage example); keys are looked for by value, and a connection string with its key still fails.
  f = await startCliFixture(
    { seed: 'demo', timeScale: 120 },
    { extraSecrets: [MARKED_KEY], allowed: ['SharedAccessKey='] },
  );
});

afterAll(async () => {
  await f?.close();
});

const ACTIONS = ['--disenroll', 'disable', '--deregister', 'disable'];
const withKey = (cs: string, key: string) => cs.replace(/SharedAccessKey=[^;]+/, `SharedAccessKey=${key}`);

/** Gives a registration another device ID: the hub identity moves with it. */
function renameDevice(emulator: EmulatorHandle, registrationId: string, deviceId: string): string {
  const reg = emulator.store.dps.registrations.get(registrationId);
  if (!reg) throw new Error(`no registration ${registrationId}`);
  const hub = emulator.store.hubByHost(reg.assignedHub as string);
  const device = hub?.devices.get(reg.deviceId);
  if (!hub || !device) throw new Error(`no hub identity for ${registrationId}`);
  hub.devices.delete(reg.deviceId);
  hub.devices.set(deviceId, { ...device, deviceId });
  reg.deviceId = deviceId;
  return hub.host;
}

function explicitTarget(hubs: string[] = f.emulator.hubs.map((h) => h.connectionString)): string[] {
  return [
    '--endpoint',
    f.emulator.url,
    '--dps',
    f.emulator.dps.connectionString,
    ...hubs.flatMap((h) => ['--hub', h]),
  ];
}

describe('nothing raw reaches the terminal', () => {
  it("a failing hub read names the service's device ID sanitized", async () => {
    const hubHost = renameDevice(f.emulator, 'gateway-munich-0001', EVIL);
    const hubs = f.emulator.hubs.map((h) =>
      h.host === hubHost ? withKey(h.connectionString, MARKED_KEY) : h.connectionString,
    );
    // No lookup by query: the device is read by its ID, whose text comes back in the error.
    const noLookup = f.emulator.hubs.flatMap((h) => ['--skip-hub-lookup', h.host]);
    const r = await f.cli(
      ['plan', '--enrollment', 'gateway-munich-0001', ...ACTIONS, ...noLookup, ...explicitTarget(hubs)],
      { target: false },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/get device 'evilx' on \S+ failed: 401/);
    expect(r.stderr).not.toMatch(RAW);
    expect(r.stderr).not.toContain(MARKED_KEY);
  });

  it('values echoed in usage errors are sanitized', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['plan', '--enrollment', 'pump-0007', ...ACTIONS, '--hub-tier', `S9${EVIL}`],
        /--hub-tier "S9evilx": expected/,
      ],
      [
        ['plan', '--enrollment', 'pump-0007', ...ACTIONS, '--hub-units', `0${EVIL}`],
        /--hub-units "0evilx": expected/,
      ],
      [['restore', `r${EVIL}`], /"revilx" is not a run ID/],
    ];
    for (const [args, message] of cases) {
      const r = await f.cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(RAW);
    }
    const endpoint = await f.cli(
      [
        'plan',
        '--enrollment',
        'pump-0007',
        ...ACTIONS,
        '--endpoint',
        `x${EVIL}`,
        '--dps',
        f.emulator.dps.connectionString,
      ],
      {
        target: false,
      },
    );
    expect(endpoint.code).toBe(2);
    expect(endpoint.stderr).toMatch(/--endpoint: "xevilx" is not a URL/);
    expect(endpoint.stderr).not.toMatch(RAW);
    const ca = await f.cli([
      'plan',
      '--enrollment',
      'pump-0007',
      ...ACTIONS,
      '--endpoint-ca',
      `/nope/${EVIL}`,
    ]);
    expect(ca.code).toBe(2);
    expect(ca.stderr).toMatch(/--endpoint-ca \/nope\/evilx: cannot read the file/);
    expect(ca.stderr).not.toMatch(RAW);
  });

  it('--json escapes C1 controls and bidi overrides; parsing gives the exact ID back', async () => {
    const id = 'pump\u009b2J\u202etxt.exe';
    renameDevice(f.emulator, 'pump-0008', id);
    const r = await f.cli(['plan', '--enrollment', 'pump-0008', ...ACTIONS, '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(RAW);
    expect(r.stdout).toContain('pump\\u009b2J\\u202etxt.exe');
    const plan = jsonLines(r.stdout)[0] as { snapshot: { deviceId: string }[] };
    expect(plan.snapshot[0]?.deviceId).toBe(id);
  });
});

describe('a device ID containing SharedAccessKey= is an ID, not a secret', () => {
  it('is deprovisioned, journaled and printed as it is', async () => {
    const id = 'meter-SharedAccessKey=1';
    const hub = renameDevice(f.emulator, 'kiosk-madrid-0005', id);
    const r = await f.cli(['run', '--enrollment', 'kiosk-madrid-0005', ...ACTIONS, '--yes']);
    expect(r.stderr).not.toMatch(/Refused to write a journal record/);
    expect(r.code).toBe(0);
    expect(f.emulator.store.hubByHost(hub)?.devices.get(id)?.status).toBe('disabled');
    const journal = /journal (\S+\.jsonl)/.exec(r.stderr)?.[1] as string;
    expect(readFileSync(journal, 'utf8')).toContain(id);
  });

  it('the --hub usage message is not garbled by the scrubber', async () => {
    const r = await f.cli(
      ['plan', '--enrollment', 'pump-0007', ...ACTIONS, ...explicitTarget(['not a host'])],
      { target: false },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'expected a connection string (HostName=...;SharedAccessKeyName=...;SharedAccessKey=...)',
    );
    expect(r.stderr).not.toContain('redacted');
  });
});

describe('a damaged journal is refused, not crashed on', () => {
  it('a record missing fields: resume reports its line and exits 2, nothing changed', async () => {
    // A real run, stopped before its end (its end record cut off), then one record damaged.
    const run = await f.cli(['run', '--enrollment', 'sensor-berlin-0042', ...ACTIONS, '--yes']);
    expect(run.code).toBe(0);
    const runId = /^Run (\S+): completed$/m.exec(run.stdout)?.[1] as string;
    const journal = /journal (\S+\.jsonl)/.exec(run.stderr)?.[1] as string;
    const lines = readFileSync(journal, 'utf8').trim().split('\n');
    const kept = lines.filter((l) => !l.includes('"type":"end"'));
    kept.push(JSON.stringify({ type: 'outcome', at: new Date().toISOString() }));
    writeFileSync(journal, `${kept.join('\n')}\n`);
    const before = stateOf(f.emulator);
    const writes = JSON.stringify(destructiveCounts(f.emulator));
    const r = await f.cli(['resume', runId]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`line ${kept.length} (outcome record) result: missing`);
    expect(r.stderr).toMatch(/cannot be resumed or restored/);
    expect(r.stderr).not.toMatch(/Cannot read properties|\n\s+at /);
    expect(stateOf(f.emulator)).toBe(before);
    expect(JSON.stringify(destructiveCounts(f.emulator))).toBe(writes);
    const runs = await f.cli(['runs'], { target: false });
    expect(runs.stdout).toMatch(new RegExp(`^${runId} [^\\n]*\\n +unreadable`, 'm'));
  });
});

describe('a bad --state file: exit 2, plain words', () => {
  it('a directory, a file that is not JSON, JSON that is not a state', async () => {
    const dir = join(f.stateHome, 'state-dir');
    mkdirSync(dir, { recursive: true });
    const notJson = join(f.stateHome, 'state.txt');
    writeFileSync(notJson, 'hello');
    const other = join(f.stateHome, 'other.json');
    writeFileSync(other, '{"version": 1, "dps": {}, "hubs": []}');
    const cases: [string, RegExp][] = [
      [dir, /state file \S+ is a folder, not a file; move it away or choose another --state file/],
      [notJson, /state file \S+ is not valid JSON/],
      [other, /state file \S+ is not an emulator state/],
    ];
    for (const [path, message] of cases) {
      const r = await f.cli(['plan', '--sandbox', '--state', path, '--enrollment', 'pump-0007', ...ACTIONS], {
        target: false,
      });
      expect(r.code, path).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/EISDIR|TypeError|\n\s+at /);
    }
  });
});

describe('credentials of every given hub are checked before the first change', () => {
  it('an extra --hub with a wrong key (no device of the plan on it): refused naming that hub, nothing changed', async () => {
    const target = findDevice(f.emulator, 'gateway-oslo-0003')?.hub as string;
    const extra = f.emulator.hubs.find((h) => h.host !== target);
    if (!extra) throw new Error('the demo has several hubs');
    const hubs = f.emulator.hubs.map((h) =>
      h.host === extra.host ? withKey(h.connectionString, MARKED_KEY) : h.connectionString,
    );
    const before = stateOf(f.emulator);
    const writes = JSON.stringify(destructiveCounts(f.emulator));
    const host = extra.host.replace(/\./g, '\\.');
    // Planning looks every device up on every hub: the wrong key is met there, naming the hub.
    const looked = await f.cli(
      ['run', '--enrollment', 'gateway-oslo-0003', ...ACTIONS, '--yes', ...explicitTarget(hubs)],
      {
        target: false,
      },
    );
    expect(looked.code).toBe(2);
    expect(looked.stderr).toMatch(new RegExp(`on ${host} failed: 401`));
    // With that lookup skipped, the check before the first change still refuses it.
    const r = await f.cli(
      [
        'run',
        '--enrollment',
        'gateway-oslo-0003',
        ...ACTIONS,
        '--yes',
        '--skip-hub-lookup',
        extra.host,
        ...explicitTarget(hubs),
      ],
      { target: false },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`hub ${host}: its credentials were refused \\(401\\)`));
    for (const out of [looked.stderr, r.stderr]) expect(out).not.toContain(MARKED_KEY);
    expect(stateOf(f.emulator)).toBe(before);
    expect(JSON.stringify(destructiveCounts(f.emulator))).toBe(writes);
  });
});

describe('HTTPS to a plain-HTTP endpoint', () => {
  it('is a plain message, not OpenSSL internals', async () => {
    const https = f.emulator.url.replace(/^http:/, 'https:');
    const r = await runCli(
      [
        'plan',
        '--enrollment',
        'pump-0007',
        ...ACTIONS,
        '--endpoint',
        https,
        '--dps',
        f.emulator.dps.connectionString,
      ],
      { stateHome: f.stateHome },
    );
    f.record(r);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /the endpoint does not speak HTTPS \(it looks like plain HTTP\): use an http:\/\/ URL/,
    );
    expect(r.stderr).not.toMatch(/SSL routines|ssl3_get_record|wrong version number|0A00010B/);
  });
});
