/**
 * The commands the program prints run as printed. The run's journal records its target (DPS host, hub
 * hosts, sandbox and its state file), so `restore RUN --yes` and `resume RUN` need only credentials
 * (here: the config file) — no target flags. Each command is taken from the output, split into argv,
 * and run through the compiled program.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printedCommand, runCli } from '../support/cli.js';
import { type CliFixture, startCliFixture } from './fixture.js';

let f: CliFixture;

beforeAll(async () => {
  f = await startCliFixture({ seed: 'demo', timeScale: 120 });
  // Credentials only in the config file: the printed commands name no target.
  const dir = join(f.stateHome, 'iot-deprovision');
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({
      dps: f.emulator.dps.connectionString,
      hubs: f.emulator.hubs.map((h) => h.connectionString),
      endpoint: f.emulator.url,
    }),
    { mode: 0o600 },
  );
});

afterAll(async () => {
  await f?.close();
});

const asPrinted = (argv: string[]) => f.cli(argv, { target: false });

describe('printed commands run as printed', () => {
  let runId = '';
  let printed = '';
  let code: number | null = null;
  let statusAfterRun: string | undefined;
  // Both tests start from this run (each stands alone, in any order): one reads what it printed, one
  // runs the printed command.
  beforeAll(async () => {
    const run = await f.cli([
      'run',
      '--enrollment',
      'pump-0007',
      '--disenroll',
      'disable',
      '--deregister',
      'disable',
      '--yes',
    ]);
    code = run.code;
    runId = /^Run (\S+): completed$/m.exec(run.stdout)?.[1] ?? '';
    printed = run.stdout;
    statusAfterRun = f.emulator.store.dps.enrollments.get('pump-0007')?.provisioningStatus;
  });

  it('the summary prints the complete restore command (no secret, the invocation of this install)', async () => {
    expect(code).toBe(0);
    // The child's PATH has no iot-deprovision of this install: from the clone, npx runs it.
    expect(printed).toContain(
      `Undo the temporary actions with: npx iot-deprovision restore ${runId} --yes\n`,
    );
    expect(statusAfterRun).toBe('disabled');
  });

  it('the printed restore command, run as printed with credentials from the config file, restores (exit 0)', async () => {
    const argv = printedCommand(printed, 'Undo the temporary actions with:');
    expect(argv).toEqual(['restore', runId, '--yes']);
    const restore = await asPrinted(argv);
    expect(restore.stderr).not.toMatch(/no DPS configured/);
    expect(restore.code).toBe(0);
    expect(f.emulator.store.dps.enrollments.get('pump-0007')?.provisioningStatus).toBe('enabled');
  });

  it('the resume command printed for an unfinished restore runs as printed (exit 0)', async () => {
    // A restore of pump-0008 whose process stopped before it ended: its journal has no end record.
    const run = await f.cli([
      'run',
      '--enrollment',
      'pump-0008',
      '--disenroll',
      'disable',
      '--deregister',
      'disable',
      '--yes',
    ]);
    const printed = printedCommand(run.stdout, 'Undo the temporary actions with:');
    const restore = await asPrinted([...printed, '--json']);
    expect(restore.code).toBe(0);
    const restoreId = String(JSON.parse(restore.stdout.split('\n')[0]).runId);
    const path = join(f.stateHome, 'iot-deprovision', 'runs', `${restoreId}.jsonl`);
    const lines = (await readFile(path, 'utf8'))
      .split('\n')
      .filter((l) => l !== '' && JSON.parse(l).type !== 'end');
    await writeFile(path, `${lines.join('\n')}\n`, { mode: 0o600 });

    const again = await asPrinted(printed);
    expect(again.code).toBe(2);
    const resume = printedCommand(again.stderr, 'To finish that restore:');
    expect(resume).toEqual(['resume', restoreId]);
    const resumed = await asPrinted(resume);
    expect(resumed.stderr).not.toMatch(/no DPS configured/);
    expect(resumed.code).toBe(0);
  });
});

describe('a sandbox run', () => {
  it('is restored on its own sandbox state file by the printed command, without --sandbox or --state', async () => {
    const stateFile = join(f.stateHome, 'my-sandbox.json');
    const env = { XDG_STATE_HOME: f.stateHome };
    const run = await runCli(
      [
        'run',
        '--enrollment',
        'pump-0007',
        '--disenroll',
        'disable',
        '--deregister',
        'disable',
        '--yes',
        '--sandbox',
        '--state',
        stateFile,
      ],
      { stateHome: f.stateHome, env },
    );
    expect(run.code, run.stderr).toBe(0);
    const argv = printedCommand(run.stdout, 'Undo the temporary actions with:');
    expect(argv).not.toContain('--sandbox');
    const stateOf = async () =>
      JSON.parse(await readFile(stateFile, 'utf8')) as {
        dps: { enrollments: { registrationId: string; provisioningStatus: string }[] };
      };
    const status = async () =>
      (await stateOf()).dps.enrollments.find((e) => e.registrationId === 'pump-0007')?.provisioningStatus;
    expect(await status()).toBe('disabled');
    const restore = await runCli(argv, { stateHome: f.stateHome, env });
    expect(restore.code, restore.stderr).toBe(0);
    expect(await status()).toBe('enabled');
  });
});
