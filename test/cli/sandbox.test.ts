/**
 * The sandbox path itself: `--sandbox --state F` runs the embedded emulator with the demo fleet, keeps
 * its state in F between commands, and holds the demo devices' chains, so the re-enrollment analysis
 * is exact: deleting the group on the Berlin intermediate lets its devices back in through the enabled
 * root group (by CA reference), and the plan says so before anything runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StoreSnapshot } from '../../src/services/emulator/store.js';
import { outputScan, runCli, tempDir } from '../support/cli.js';

let home: Awaited<ReturnType<typeof tempDir>>;
let stateFile: string;
const readState = (): StoreSnapshot => JSON.parse(readFileSync(stateFile, 'utf8')) as StoreSnapshot;
// Each test's own outputs are scanned when it ends, against the keys of the sandbox it ran.
const scan = outputScan(() => {
  const { dps, hubs } = readState();
  return [dps.policy, ...hubs.map((h) => h.policy)].flatMap((p) => [p.primaryKey, p.secondaryKey]);
});
afterEach(() => scan.check());

beforeAll(async () => {
  home = await tempDir('sandbox');
  stateFile = join(home.path, 'sandbox.json');
});

afterAll(async () => {
  await home?.remove();
});

const cli = async (args: string[]) => {
  const r = await runCli([...args, '--sandbox', '--state', stateFile], { stateHome: home.path });
  scan.add(r.stdout, r.stderr);
  return r;
};

describe('--sandbox --state F', () => {
  it('X.509 group on the intermediate deleted: DANGER, state file holds the result', async () => {
    const group = 'factory-line-berlin';
    const run = await cli([
      'run',
      '--group',
      group,
      '--disenroll',
      'delete',
      '--deregister',
      'disable',
      '--yes',
    ]);
    expect(run.stderr).toMatch(
      /!! DANGER: Once enrollment group factory-line-berlin is deleted, 12 devices .* can re-enroll/,
    );
    expect(run.stderr).toMatch(/contoso-root-ca/);
    // Every step ran, and the run's own read-back found what the plan warned about: exit 1.
    expect(run.code).toBe(1);
    const runId = /^Run (\S+): completedWithFailures$/m.exec(run.stdout)?.[1];
    expect(run.stdout).toMatch(/failed verify:1: sensor-berlin-0001 could provision again/);
    expect(run.stdout).toMatch(/deregister +done 3, already done 0, failed 0/);
    expect(run.stdout).toMatch(/cleanup +done 1, already done 0, failed 0/);
    // The journal records the sandbox and its state file: the command needs neither flag.
    expect(run.stdout).toContain(`npx iot-deprovision restore ${runId} --yes\n`);

    const state = readState();
    expect(state.dps.groups.map((g) => g.enrollmentGroupId)).not.toContain(group);
    expect(state.dps.groups.find((g) => g.enrollmentGroupId === 'contoso-root-ca')?.provisioningStatus).toBe(
      'enabled',
    );
    const records = state.dps.registrations.filter(
      (r) => r.enrollment.kind === 'group' && r.enrollment.id === group,
    );
    expect(records).toHaveLength(12);
    for (const r of records) {
      const hub = state.hubs.find((h) => h.host === r.assignedHub);
      expect(hub?.devices.find((d) => d.deviceId === r.registrationId)?.status, r.registrationId).toBe(
        'disabled',
      );
    }

    const verify = await cli(['verify', '--group', group]);
    expect(verify.code).toBe(1);
    // The chains are known: not "possible" but "allowed", through the root group.
    expect(verify.stdout).toContain('Re-enrollment: 0 blocked, 0 possible, 12 allowed');
    expect(verify.stdout).toMatch(/ALLOWED .* via enrollmentGroups\/contoso-root-ca/);
  });
});
