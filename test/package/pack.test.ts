/**
 * The package as a user gets it: `npm pack` of the built project, installed from that tarball with
 * `--omit=dev` into a temporary prefix (the registry serves its dependencies), and the installed
 * `iot-deprovision` command run from outside the clone. One install per test run (beforeAll).
 * Needs `npm run build` first, like every test of the compiled program (the tarball ships dist/).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../support/cli.js';

const run = promisify(execFile);

let dir = '';
let bin = '';
let installed = '';
let packed: string[] = [];

/** npm's own variables from an `npm test` run would point the install at the clone. */
function npmEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (
      /^npm_(config_(prefix|global|local_prefix|global_prefix|omit|include|dry_run)|package_|lifecycle_)/i.test(
        k,
      )
    )
      delete env[k];
  }
  return env;
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the installed command from the temporary folder, with no target of the person's environment. */
async function cli(...args: string[]): Promise<Result> {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: dir, XDG_CONFIG_HOME: dir, NO_COLOR: '1' };
  for (const k of [
    'IOT_DPS_CONNECTION_STRING',
    'IOTHUB_CONNECTION_STRING',
    'IOT_DEPROVISION_ENDPOINT',
    'NODE_PATH',
  ]) {
    delete env[k];
  }
  try {
    const { stdout, stderr } = await run(bin, args, { cwd: dir, env, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    if (typeof err.code !== 'number') throw e;
    return { code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'iotd-pack-'));
  // --ignore-scripts: pack the dist/ that is there (prepack would rebuild it under the other tests' feet).
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
    cwd: PROJECT_ROOT,
    env: npmEnv(),
  });
  const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  packed = info.files.map((f) => f.path);
  const prefix = join(dir, 'prefix');
  await run(
    'npm',
    [
      'install',
      '--global',
      '--prefix',
      prefix,
      '--omit=dev',
      '--no-audit',
      '--no-fund',
      join(dir, info.filename),
    ],
    { cwd: dir, env: npmEnv(), timeout: 300_000 },
  );
  bin = join(prefix, 'bin', 'iot-deprovision');
  installed = join(prefix, 'lib', 'node_modules', 'iot-deprovision');
}, 360_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packed package, installed without development dependencies', () => {
  it('ships the launcher, the built program and the README, not sources or tests', () => {
    expect(packed).toContain('bin/iot-deprovision.js');
    expect(packed).toContain('dist/bundle/cli.js');
    expect(packed).toContain('dist/src/cli.js');
    expect(packed).toContain('README.md');
    expect(
      packed.filter((p) => /^(src|test|bench|scripts)\/|\.tsx?$|tsbuildinfo|inputs\.json/.test(p)),
    ).toEqual([]);
  });

  it('installs the runtime dependencies and none of the development ones', () => {
    const has = (name: string) => existsSync(join(installed, 'node_modules', name, 'package.json'));
    for (const name of [
      'azure-iot-provisioning-device',
      'azure-iot-provisioning-device-http',
      'azure-iot-security-symmetric-key',
      'azure-iot-security-x509',
      '@azure/core-auth',
    ]) {
      expect(has(name), name).toBe(true);
    }
    for (const name of ['typescript', 'vitest', 'esbuild', 'tsx', '@biomejs/biome', 'azurite'])
      expect(has(name), name).toBe(false);
  });

  it('iot-deprovision --help', async () => {
    const r = await cli('--help');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: iot-deprovision');
    expect(r.stdout).toMatch(/verify/);
  });

  it('plan --sandbox prints the plan of a group', async () => {
    const r = await cli(
      'plan',
      '--sandbox',
      '--state',
      join(dir, 'sandbox.json'),
      '--group',
      'smart-meters-eu',
      '--disenroll',
      'disable',
      '--deregister',
      'disable',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Plan: whole enrollment group smart-meters-eu');
    expect(r.stdout).toContain('PUT enrollmentGroups/smart-meters-eu provisioningStatus=disabled');
  });

  it('the sandbox without its Azurite (a dev dependency): jobs need --job-storage (exit 2), auto takes calls', async () => {
    const args = [
      '--sandbox',
      '--state',
      join(dir, 'sandbox.json'),
      '--group',
      'smart-meters-eu',
      '--disenroll',
      'disable',
      '--deregister',
      'disable',
    ];
    for (const verb of [['plan'], ['run', '--yes']]) {
      const r = await cli(...verb, ...args, '--hub-path', 'jobs');
      expect(r.code, verb[0]).toBe(2);
      expect(r.stderr).toMatch(
        /--hub-path jobs needs job storage .*the sandbox's Azurite \(a development dependency\) is not installed: give --job-storage .*or use --hub-path calls/,
      );
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe('');
    }
    const auto = await cli('plan', ...args);
    expect(auto.code).toBe(0);
    expect(
      auto.stdout.match(
        /: calls \(no job storage: the sandbox's Azurite \(a development dependency\) is not installed; give --job-storage\)/g,
      ),
    ).toHaveLength(3);
  });

  it('verify --attempt --sandbox registers the devices with the device SDK of the install', async () => {
    const r = await cli(
      'verify',
      '--attempt',
      '--sandbox',
      '--state',
      join(dir, 'sandbox.json'),
      '--group',
      'smart-meters-eu',
    );
    expect(r.stderr).not.toMatch(/Cannot find (package|module)/);
    // Nothing was run: the group's devices can re-enroll, and the attempts show it (exit 1).
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Registration attempts: (\d+) match the analysis, 0 differ/);
    expect(Number(/Registration attempts: (\d+) match/.exec(r.stdout)?.[1])).toBeGreaterThan(0);
  });
});
