/**
 * One run per enrollment at a time: while a `run` works on a group, a second `run` (or `resume`, or
 * `restore`) on the same group of the same DPS is refused (exit 2, nothing changed) with who holds it;
 * the first completes. A lock file left by a process that is gone is taken over.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLockPath } from '../../src/services/journal/run-lock.js';
import { waitUntil } from '../support/cli.js';
import { type CliFixture, deviceOn, destructiveCounts, startCliFixture, stateOf } from './fixture.js';
import { buildFleet } from './fleet.js';

const GROUP = 'fleet-lock';
let f: CliFixture;

beforeAll(async () => {
  f = await startCliFixture({ tier: 'S3', units: 10, timeScale: 600 });
});

afterAll(async () => {
  await f?.close();
});

const RUN = [
  'run',
  '--group',
  GROUP,
  '--disenroll',
  'disable',
  '--deregister',
  'disable',
  '--yes',
  '--hub-tier',
  'S3',
  '--hub-units',
  '10',
];
const runsDir = () => join(f.stateHome, 'iot-deprovision', 'runs');

/**
 * The emulator's state once the stopped run's last requests (sent before SIGSTOP, still on their way
 * on a loaded machine) are answered: every request received is answered and the state stays the same.
 */
async function quiet(): Promise<string> {
  const answeredAll = () => {
    const { requests, operations } = f.emulator.stats();
    const answered = Object.values(operations).reduce(
      (sum, outcomes) => sum + Object.values(outcomes).reduce((a, b) => a + b, 0),
      0,
    );
    return answered === requests;
  };
  let last = stateOf(f.emulator);
  for (;;) {
    await new Promise((r) => setTimeout(r, 50));
    const now = stateOf(f.emulator);
    if (now === last && answeredAll()) return now;
    last = now;
  }
}

describe('two runs on the same group at once', () => {
  it('the second is refused with the holder pid and run ID; the first completes', async () => {
    const fleet = buildFleet(f.emulator, GROUP, 300);
    const first = f.spawn(RUN);
    const runId = await waitUntil(() => /Run (\S+) started/.exec(first.output().stderr)?.[1]);
    // The first run holds its lock; stopped (not dead), it cannot finish before the second tries.
    first.child.kill('SIGSTOP');
    try {
      const before = await quiet();
      const writes = JSON.stringify(destructiveCounts(f.emulator));
      const second = await f.cli(RUN);
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(
        new RegExp(`group ${GROUP} on \\S+ is being worked on by another iot-deprovision process`),
      );
      expect(second.stderr).toContain(`pid ${first.child.pid}`);
      expect(second.stderr).toContain(`run ${runId}`);
      expect(second.stderr).toMatch(/started \d{4}-\d\d-\d\dT/);
      expect(second.stderr, 'no stack trace').not.toMatch(/\n\s+at /);
      // Nothing was changed by the refused run, and it left no journal behind.
      expect(stateOf(f.emulator)).toBe(before);
      expect(JSON.stringify(destructiveCounts(f.emulator))).toBe(writes);
      expect(second.stderr).not.toMatch(/Run \S+ started/);
    } finally {
      first.child.kill('SIGCONT');
    }
    const done = await first.result;
    expect(done.code).toBe(0);
    for (const [id, hub] of fleet.hubOf) expect(deviceOn(f.emulator, hub, id)?.status, id).toBe('disabled');
    // The lock is released at the end.
    expect(existsSync(runLockPath(f.emulator.dps.host, { kind: 'group', groupId: GROUP }, runsDir()))).toBe(
      false,
    );
  }, 120_000);

  it('a lock file left by a dead process is taken over', async () => {
    const fleet = buildFleet(f.emulator, GROUP, 50);
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => dead.once('exit', r));
    const lock = runLockPath(f.emulator.dps.host, { kind: 'group', groupId: GROUP }, runsDir());
    mkdirSync(join(runsDir(), 'locks'), { recursive: true });
    writeFileSync(
      lock,
      JSON.stringify({ pid: dead.pid, startedAt: new Date().toISOString(), runId: 'gone' }),
    );
    const r = await f.cli(RUN);
    expect(r.stderr).not.toMatch(/being worked on/);
    expect(r.code).toBe(0);
    for (const [id, hub] of fleet.hubOf) expect(deviceOn(f.emulator, hub, id)?.status, id).toBe('disabled');
    expect(existsSync(lock)).toBe(false);
  }, 120_000);
});
