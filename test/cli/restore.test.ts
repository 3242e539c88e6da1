/**
 * `restore RUN_ID --yes` undoes exactly what a temporary run disabled (what was disabled before the run
 * stays disabled); `runs` lists the runs; every `--json` output parses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines } from '../support/cli.js';
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

const GROUP = 'smart-meters-eu';
// meter-eu-0011 was taken out of service on its hub before any run.
const DISABLED_BEFORE = 'meter-eu-0011';
const runIds: { group?: string; enrollment?: string } = {};

const statusOf = (id: string) => findDevice(f.emulator, id)?.device.status;

// A story: each test continues the last (run, the restore's plan, the restore, the list of both), so its
// tests keep their order in the shuffled pass (the file still runs at any point among the others).
describe('restore after a temporary run', { shuffle: false }, () => {
  it('run --json prints parseable JSON lines: started, progress, summary', async () => {
    expect(statusOf(DISABLED_BEFORE)).toBe('disabled');
    const plan = await f.cli([
      'plan',
      '--group',
      GROUP,
      '--disenroll',
      'disable',
      '--deregister',
      'disable',
      '--json',
    ]);
    expect(plan.code).toBe(0);
    const planned = JSON.parse(plan.stdout);
    expect(planned.selection).toEqual({ kind: 'group', groupId: GROUP });
    expect(planned.counts.devices).toBe(15);

    const run = await f.cli([
      'run',
      '--group',
      GROUP,
      '--disenroll',
      'disable',
      '--deregister',
      'disable',
      '--yes',
      '--json',
    ]);
    expect(run.code).toBe(0);
    const events = jsonLines(run.stdout);
    expect(events[0]).toMatchObject({
      event: 'started',
      runId: expect.stringMatching(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/),
    });
    const summary = events.at(-1);
    expect(summary).toMatchObject({ event: 'summary', runId: events[0].runId, state: 'completed' });
    expect(events.slice(1, -1).every((e) => e.event === 'progress')).toBe(true);
    runIds.group = String(events[0].runId);

    expect(f.emulator.store.dps.groups.get(GROUP)?.provisioningStatus).toBe('disabled');
    for (const id of groupDevices(f.emulator, GROUP)) expect(statusOf(id), id).toBe('disabled');
  });

  it('restore without --yes shows the plan, exits 2 and changes nothing', async () => {
    const before = stateOf(f.emulator);
    const restore = await f.cli(['restore', runIds.group as string]);
    expect(restore.code).toBe(2);
    expect(restore.stdout).toContain(`Restore plan for run ${runIds.group}`);
    expect(restore.stderr).toMatch(/add --yes/);
    expect(stateOf(f.emulator)).toBe(before);
  });

  it('restore RUN_ID --yes re-enables what the run disabled, not the others', async () => {
    const writesBefore = destructiveCounts(f.emulator)[
      `${findDevice(f.emulator, DISABLED_BEFORE)?.hub}/${DISABLED_BEFORE}`
    ];
    const restore = await f.cli(['restore', runIds.group as string, '--yes', '--json']);
    expect(restore.code).toBe(0);
    const events = jsonLines(restore.stdout);
    expect(events.at(-1)).toMatchObject({ event: 'summary', state: 'completed' });

    expect(f.emulator.store.dps.groups.get(GROUP)?.provisioningStatus).toBe('enabled');
    for (const id of groupDevices(f.emulator, GROUP)) {
      expect(statusOf(id), id).toBe(id === DISABLED_BEFORE ? 'disabled' : 'enabled');
    }
    // Not even touched: no enable call reached the device that was disabled before the run.
    const after = destructiveCounts(f.emulator)[
      `${findDevice(f.emulator, DISABLED_BEFORE)?.hub}/${DISABLED_BEFORE}`
    ];
    expect(after?.enable ?? 0).toBe(writesBefore?.enable ?? 0);
  });

  it('restores an individual enrollment run (TPM): enrollment and hub identity enabled again', async () => {
    const id = 'gateway-munich-0001';
    const run = await f.cli([
      'run',
      '--enrollment',
      id,
      '--disenroll',
      'disable',
      '--deregister',
      'disable',
      '--yes',
    ]);
    expect(run.code).toBe(0);
    runIds.enrollment = /^Run (\S+): completed$/m.exec(run.stdout)?.[1];
    expect(run.stdout).toContain(
      `Undo the temporary actions with: npx iot-deprovision restore ${runIds.enrollment} --yes\n`,
    );
    expect(f.emulator.store.dps.enrollments.get(id)?.provisioningStatus).toBe('disabled');
    expect(statusOf(id)).toBe('disabled');

    const restore = await f.cli(['restore', runIds.enrollment as string, '--yes']);
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(/: completed$/m);
    expect(f.emulator.store.dps.enrollments.get(id)?.provisioningStatus).toBe('enabled');
    expect(statusOf(id)).toBe('enabled');
  });

  it('runs lists both runs and their restores; runs --json and verify --json parse', async () => {
    const runs = await f.cli(['runs'], { target: false });
    expect(runs.code).toBe(0);
    for (const id of [runIds.group, runIds.enrollment])
      expect(runs.stdout).toMatch(new RegExp(`^${id} +completed `, 'm'));
    expect(runs.stdout).toMatch(/completed \(restore\)/);

    const listed = await f.cli(['runs', '--json'], { target: false });
    const { runs: all } = JSON.parse(listed.stdout) as {
      runs: { runId: string; restoreOf?: string; state: string }[];
    };
    expect(all).toHaveLength(4);
    expect(
      all
        .filter((r) => r.restoreOf)
        .map((r) => r.restoreOf)
        .sort(),
    ).toEqual([runIds.group, runIds.enrollment].sort());
    expect(all.every((r) => r.state === 'completed')).toBe(true);

    const verify = await f.cli(['verify', '--group', GROUP, '--json']);
    // Restored: the group is enabled again, so its devices can provision.
    expect(verify.code).toBe(1);
    const { verdicts } = JSON.parse(verify.stdout) as {
      verdicts: { registrationId: string; verdict: string }[];
    };
    expect(verdicts).toHaveLength(15);
    expect(verdicts.every((v) => v.verdict === 'allowed')).toBe(true);
  });
});
