/**
 * `--hub-path` and `--job-storage` on the command line: the plan shows per hub the path taken, why, and
 * the estimate of each path; a hub whose path is jobs gets ONE import/export job step; bad values are
 * bad input (exit 2, nothing changed) and the SAS of the job storage is never printed.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AzuriteHandle, startAzurite } from '../support/azurite.js';
import { jsonLines } from '../support/cli.js';
import { type CliFixture, startCliFixture, stateOf } from './fixture.js';
import { buildOneHubFleet } from './hub-jobs-fleet.js';

const GROUP = 'big-eu';
const DEVICES = 2000;
let f: CliFixture;
let azurite: AzuriteHandle;
let storage: string;
let sig: string;

beforeAll(async () => {
  azurite = await startAzurite();
  storage = await azurite.container('plan-jobs');
  sig = new URL(storage).searchParams.get('sig') as string;
  f = await startCliFixture({ tier: 'S1', units: 1 }, { extraSecrets: [sig] });
  buildOneHubFleet(f.emulator, GROUP, DEVICES, 'hub-eu');
}, 60_000);

afterAll(async () => {
  await f?.close();
  await azurite?.stop();
});

// Looking 2,000 IDs up on three S1 hubs costs minutes of their query budget: the records name the hub.
const SKIP_LOOKUP = ['hub-eu', 'hub-us', 'hub-asia'].flatMap((h) => ['--skip-hub-lookup', h]);
const planArgs = [
  'plan',
  '--group',
  GROUP,
  '--disenroll',
  'disable',
  '--deregister',
  'disable',
  ...SKIP_LOOKUP,
];
const hubEu = () => f.emulator.hubs.find((h) => h.name === 'hub-eu')?.host as string;

describe('plan: the hub path per hub', () => {
  it('auto with job storage takes jobs on an S1 hub for 2,000 devices, and says why with both estimates', async () => {
    const r = await f.cli([...planArgs, '--job-storage', storage]);
    expect(r.stderr).not.toMatch(/iot-deprovision:/);
    expect(r.code).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.includes(`${hubEu()}: jobs`));
    expect(line).toMatch(/calls would take longer than jobs on S1 x1/);
    // 2,000 devices x 2 operations at 100 a minute: 40 minutes on the call path.
    expect(line).toMatch(/estimated calls ~40 min, jobs ~\d+ (s|min)/);
    // The storage is shown without its SAS.
    expect(r.stdout).toContain(`job storage: ${storage.split('?')[0]}`);
    expect(r.stdout).not.toContain(sig);
    // One job step instead of 20 batches of 100.
    expect(r.stdout).toMatch(
      /export job, then import job \(updateIfMatchETag, status=disabled, 2,000 devices\)/,
    );
    expect(r.stdout).not.toMatch(/bulk update status=disabled/);
  });

  it('--json: hubPaths per hub and one hubJobDevices step with every device', async () => {
    const r = await f.cli([...planArgs, '--job-storage', storage, '--json']);
    expect(r.code).toBe(0);
    const plan = jsonLines(r.stdout)[0] as any;
    expect(plan.hubPaths).toEqual([
      expect.objectContaining({ hub: hubEu(), devices: DEVICES, action: 'disable', path: 'jobs' }),
    ]);
    expect(plan.hubPaths[0].callsSeconds).toBeGreaterThan(plan.hubPaths[0].jobsSeconds);
    const jobSteps = plan.steps.filter((s: any) => s.op.kind === 'hubJobDevices');
    expect(jobSteps).toHaveLength(1);
    expect(jobSteps[0].op.deviceIds).toHaveLength(DEVICES);
    expect(jobSteps[0].registrationIds).toHaveLength(DEVICES);
    expect(plan.steps.filter((s: any) => s.op.kind === 'disableHubDevices')).toEqual([]);
    // Step IDs stay numbered per phase.
    const deregister = plan.steps.filter((s: any) => s.phase === 'deregister').map((s: any) => s.id);
    expect(deregister).toEqual(deregister.map((_: string, i: number) => `deregister:${i + 1}`));
    expect(plan.jobStorage).toBe(storage.split('?')[0]);
    expect(r.stdout).not.toContain(sig);
  });

  it('auto without job storage keeps the call path and says so', async () => {
    const r = await f.cli([...planArgs]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/: calls \(no job storage configured \(--job-storage\)\)/);
    expect(r.stdout).toMatch(/bulk update status=disabled, 100 devices/);
  });

  it('--hub-path calls keeps the call path even with job storage; the storage also comes from the environment', async () => {
    const r = await f.cli([...planArgs, '--hub-path', 'calls'], {
      env: { IOT_DEPROVISION_JOB_STORAGE: storage },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/: calls \(--hub-path calls\)/);
    const auto = await f.cli([...planArgs], { env: { IOT_DEPROVISION_JOB_STORAGE: storage } });
    expect(auto.stdout).toMatch(/: jobs \(calls would take longer/);
  });
});

describe('job storage from the config file', () => {
  const configFile = () => join(f.stateHome, 'iot-deprovision', 'config.json');
  const writeConfig = (jobStorage: string) => {
    mkdirSync(join(f.stateHome, 'iot-deprovision'), { recursive: true });
    writeFileSync(configFile(), JSON.stringify({ jobStorage }));
  };

  it('"jobStorage" in the config file is job storage: auto takes jobs, the SAS never printed', async () => {
    writeConfig(storage);
    try {
      const r = await f.cli([...planArgs]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/: jobs \(calls would take longer/);
      expect(r.stdout).toContain(`job storage: ${storage.split('?')[0]}`);
      expect(r.stdout).not.toContain(sig);
    } finally {
      rmSync(configFile(), { force: true });
    }
  });

  it('a bad one is bad input naming the config file, without its SAS', async () => {
    writeConfig(storage.replace(/sig=[^&]+/, 'sv=1'));
    try {
      const r = await f.cli([...planArgs]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/carries no SAS.*\(jobStorage in config file .*config\.json\)/);
      expect(r.stderr).not.toContain(sig);
    } finally {
      rmSync(configFile(), { force: true });
    }
  });
});

describe('bad --hub-path and --job-storage values: exit 2, a clear message, nothing changed, no SAS', () => {
  const cases: [string, string[], RegExp][] = [
    ['an unknown path', ['--hub-path', 'fast'], /--hub-path "fast": expected calls .*, jobs .* or auto/],
    [
      'jobs without storage',
      ['--hub-path', 'jobs'],
      /--hub-path jobs needs job storage .*--job-storage .*IOT_DEPROVISION_JOB_STORAGE/,
    ],
    ['a storage that is no URL', ['--job-storage', 'not a url'], /--job-storage is not a URL/],
    [
      'a storage URL with a query but no SAS signature',
      ['--job-storage', 'https://acct.blob.core.windows.net/jobs?sv=2025-07-05'],
      /carries no SAS: give the container URL with a SAS allowing read, write, list and delete, or the container URL without a query/,
    ],
    [
      'a plain-HTTP container URL without a SAS (Entra ID needs HTTPS)',
      ['--job-storage', 'http://127.0.0.1:1/devstoreaccount1/jobs'],
      /is a container URL without a SAS, which means Entra ID sign-in: that needs https:\/\//,
    ],
    [
      'ACCOUNT/CONTAINER with a name Azure does not allow',
      ['--job-storage', 'contoso/Jobs_1'],
      /--job-storage contoso\/Jobs_1 \(ACCOUNT\/CONTAINER, Entra ID sign-in\): "Jobs_1" is not a container name/,
    ],
  ];
  it.each(cases)('%s', async (_what, flags, message) => {
    const before = stateOf(f.emulator);
    for (const verb of [planArgs, ['run', ...planArgs.slice(1), '--yes']]) {
      const r = await f.cli([...verb, ...flags]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(stateOf(f.emulator)).toBe(before);
  });

  it('an account URL (not a container) is refused, naming the URL without its SAS', async () => {
    const account = storage.replace('/plan-jobs?', '/plan-jobs/blob.txt?');
    const r = await f.cli([...planArgs, '--job-storage', account]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not name one container/);
    expect(r.stderr).toContain(account.split('?')[0]);
    expect(r.stderr).not.toContain(sig);
  });

  it.each([
    [
      'without delete and list',
      { permissions: 'rw' },
      /could not list blobs with the SAS given: the SAS does not allow it/,
    ],
    [
      'expired',
      { expiresOn: new Date(Date.now() - 60_000) },
      /could not write blobs with the SAS given: the SAS does not allow it/,
    ],
  ])(
    'a SAS %s is bad input before any change: the run stops at its check, no journal',
    async (_what, sas, message) => {
      const limited = await azurite.container(`limited-${Math.random().toString(36).slice(2, 8)}`, sas);
      const limitedSig = new URL(limited).searchParams.get('sig') as string;
      const before = stateOf(f.emulator);
      const runsBefore = (await f.cli(['runs'])).stdout;
      const r = await f.cli([
        'run',
        ...planArgs.slice(1),
        '--hub-path',
        'jobs',
        '--job-storage',
        limited,
        '--yes',
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/nothing was changed/);
      expect(r.stderr).toContain('read, write, list and delete');
      expect(r.stderr + r.stdout).not.toContain(limitedSig);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(stateOf(f.emulator)).toBe(before);
      expect(f.emulator.stats().destructive).toEqual({});
      // No run was journaled: nothing to resume or restore.
      expect((await f.cli(['runs'])).stdout).toBe(runsBefore);
    },
  );
});

describe('job storage of several containers (one job step at a time in each)', () => {
  let second: string;
  let secondSig: string;
  beforeAll(async () => {
    second = await azurite.container('plan-jobs-2');
    secondSig = new URL(second).searchParams.get('sig') as string;
  });
  const both = () => `job storage: ${storage.split('?')[0]}, ${second.split('?')[0]}`;
  const noSas = (text: string) => {
    expect(text).not.toContain(sig);
    expect(text).not.toContain(secondSig);
  };

  it('--job-storage given twice: the plan names both containers, neither SAS', async () => {
    const r = await f.cli([...planArgs, '--job-storage', storage, '--job-storage', second]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(both());
    noSas(r.stdout + r.stderr);
    // The same container twice is one container.
    const same = await f.cli([...planArgs, '--job-storage', storage, '--job-storage', storage]);
    expect(same.stdout).toContain(`job storage: ${storage.split('?')[0]}\n`);
  });

  it('IOT_DEPROVISION_JOB_STORAGE and the config file take a list (commas or spaces; a JSON array)', async () => {
    const fromEnv = await f.cli([...planArgs], {
      env: { IOT_DEPROVISION_JOB_STORAGE: `${storage}, ${second}` },
    });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toContain(both());
    noSas(fromEnv.stdout + fromEnv.stderr);
    const dir = join(f.stateHome, 'iot-deprovision');
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ jobStorage: [storage, second] }));
      const fromFile = await f.cli([...planArgs]);
      expect(fromFile.code).toBe(0);
      expect(fromFile.stdout).toContain(both());
      noSas(fromFile.stdout + fromFile.stderr);
    } finally {
      rmSync(join(dir, 'config.json'), { force: true });
    }
  });

  it('a bad one among them is bad input naming it and where it came from, nothing changed', async () => {
    const before = stateOf(f.emulator);
    const r = await f.cli(['run', ...planArgs.slice(1), '--yes'], {
      env: { IOT_DEPROVISION_JOB_STORAGE: `${storage} not-a-url` },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not a URL.*\(from IOT_DEPROVISION_JOB_STORAGE\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    noSas(r.stdout + r.stderr);
    expect(stateOf(f.emulator)).toBe(before);
  });
});
