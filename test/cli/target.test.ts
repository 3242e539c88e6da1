/**
 * A run journal records its target (DPS host, hub hosts, sandbox or not; no secret). `resume` and
 * `restore` refuse, before any service call, a run recorded against another DPS, naming both; `resume`
 * without a run ID only considers runs of the target given; `runs` shows each run's target, selection
 * and actions in 80 columns. A journal of an older version (no target) is read, and said to be unknown.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines } from '../support/cli.js';
import { type CliFixture, startCliFixture, stateOf } from './fixture.js';

let f: CliFixture;

beforeAll(async () => {
  f = await startCliFixture({ seed: 'demo', timeScale: 120 });
});

afterAll(async () => {
  await f?.close();
});

const OTHER_DPS = 'other-dps.azure-devices-provisioning.net';
const runsDir = () => join(f.stateHome, 'iot-deprovision', 'runs');
const journalPath = (runId: string) => join(runsDir(), `${runId}.jsonl`);

async function runEnrollment(id: string): Promise<string> {
  const run = await f.cli([
    'run',
    '--enrollment',
    id,
    '--disenroll',
    'disable',
    '--deregister',
    'disable',
    '--yes',
    '--json',
  ]);
  expect(run.code).toBe(0);
  return String(jsonLines(run.stdout)[0].runId);
}

/** Rewrites a journal: `header` edits its first record; `dropEnd` makes the run look interrupted. */
async function rewrite(
  from: string,
  to: string,
  edit: { header?: (h: Record<string, unknown>) => void; dropEnd?: boolean },
): Promise<void> {
  const lines = (await readFile(journalPath(from), 'utf8')).split('\n').filter((l) => l !== '');
  const out = lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => !(edit.dropEnd && r.type === 'end'))
    .map((r) => {
      if (r.type === 'header') {
        r.runId = to;
        edit.header?.(r);
      }
      return JSON.stringify(r);
    });
  await writeFile(journalPath(to), `${out.join('\n')}\n`, { mode: 0o600 });
}

const onOtherDps = (h: Record<string, unknown>) => {
  h.target = { ...(h.target as object), dpsHost: OTHER_DPS };
};

describe('a run acts only on its own target', () => {
  const ids: Record<string, string> = {};
  // Every test starts from this run (each stands alone, in any order): it copies and edits its journal.
  beforeAll(async () => {
    ids.pump = await runEnrollment('pump-0007');
  });

  it('the journal header records DPS host, hub hosts and sandbox or not, and no secret', async () => {
    const header = JSON.parse((await readFile(journalPath(ids.pump), 'utf8')).split('\n')[0]);
    expect({ ...header.target, hubHosts: [...header.target.hubHosts].sort() }).toEqual({
      dpsHost: f.emulator.dps.host,
      hubHosts: f.emulator.hubs.map((h) => h.host).sort(),
      sandbox: false,
    });
  });

  it('restore of a run recorded against another DPS is refused (exit 2) before any call, naming both', async () => {
    await rewrite(ids.pump, '20200101T000000Z-0000aa', { header: onOtherDps });
    const before = stateOf(f.emulator);
    const requests = f.emulator.stats().requests;
    const restore = await f.cli(['restore', '20200101T000000Z-0000aa', '--yes']);
    expect(restore.code).toBe(2);
    expect(restore.stderr).toContain(OTHER_DPS);
    expect(restore.stderr).toContain(f.emulator.dps.host);
    expect(restore.stderr).not.toMatch(/\n\s+at /);
    expect(f.emulator.stats().requests).toBe(requests);
    expect(stateOf(f.emulator)).toBe(before);
  });

  it('resume RUN_ID of another DPS is refused the same way', async () => {
    await rewrite(ids.pump, '20200101T000000Z-0000ab', { header: onOtherDps, dropEnd: true });
    const requests = f.emulator.stats().requests;
    const resume = await f.cli(['resume', '20200101T000000Z-0000ab']);
    expect(resume.code).toBe(2);
    expect(resume.stderr).toContain(OTHER_DPS);
    expect(resume.stderr).toContain(f.emulator.dps.host);
    expect(f.emulator.stats().requests).toBe(requests);
  });

  it('resume without a run ID picks the newest unfinished run of the given target, not a newer one elsewhere', async () => {
    // Newest unfinished: another DPS's (created 2099); older: this target's.
    await rewrite(ids.pump, '20990101T000000Z-0000ac', { header: onOtherDps, dropEnd: true });
    await rewrite(ids.pump, '20210101T000000Z-0000ad', { dropEnd: true });
    const resume = await f.cli(['resume', '--json']);
    expect(resume.code).toBe(0);
    expect(jsonLines(resume.stdout)[0]).toMatchObject({ event: 'started', runId: '20210101T000000Z-0000ad' });
    expect(resume.stdout).not.toContain('20990101T000000Z-0000ac');
  });

  it('with only runs of other targets unfinished, resume refuses (exit 2) and names them', async () => {
    // This target's runs are finished (the resume test finishes the copy it makes); another DPS's run is not.
    await rewrite(ids.pump, '20990101T000000Z-0000ac', { header: onOtherDps, dropEnd: true });
    const requests = f.emulator.stats().requests;
    const resume = await f.cli(['resume']);
    expect(resume.code).toBe(2);
    expect(resume.stderr).toContain('20990101T000000Z-0000ac');
    expect(resume.stderr).toContain(OTHER_DPS);
    expect(f.emulator.stats().requests).toBe(requests);
  });

  it('runs shows each run target, selection and actions in 80 columns; --json carries them', async () => {
    await rewrite(ids.pump, '20200101T000000Z-0000af', { header: onOtherDps });
    const runs = await f.cli(['runs'], { target: false });
    expect(runs.code).toBe(0);
    for (const line of runs.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(runs.stdout).toContain('enrollment pump-0007: DPS disable, hub disable');
    expect(runs.stdout).toContain(`target: DPS ${f.emulator.dps.host}`);
    expect(runs.stdout).toContain(`target: DPS ${OTHER_DPS}`);
    const { runs: all } = JSON.parse((await f.cli(['runs', '--json'], { target: false })).stdout) as {
      runs: { runId: string; target?: { dpsHost: string; hubHosts: string[] }; actions?: object }[];
    };
    const pump = all.find((r) => r.runId === ids.pump);
    expect(pump?.target?.dpsHost).toBe(f.emulator.dps.host);
    expect(pump?.target?.hubHosts).toHaveLength(3);
    expect(pump?.actions).toMatchObject({ disenroll: 'disable', deregister: 'disable' });
  });

  it('a journal without a target (older version) is listed as unknown and still restored, with a note', async () => {
    ids.valve = await runEnrollment('pump-0008');
    await rewrite(ids.valve, '20220101T000000Z-0000ae', {
      header: (h) => {
        delete h.target;
      },
    });
    // Only the copy stays: a restore of the original too would undo the same changes twice.
    await rm(journalPath(ids.valve));
    const runs = await f.cli(['runs'], { target: false });
    expect(runs.stdout).toMatch(/20220101T000000Z-0000ae[^\n]*\n[^\n]*\n {2}target: unknown/);
    const restore = await f.cli(['restore', '20220101T000000Z-0000ae', '--yes']);
    expect(restore.code).toBe(0);
    expect(restore.stderr).toMatch(/does not record its target/);
    expect(f.emulator.store.dps.enrollments.get('pump-0008')?.provisioningStatus).toBe('enabled');
  });
});
