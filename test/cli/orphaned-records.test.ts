/**
 * Issue 14 §7: the registration records a deleted enrollment group left (they count against the DPS
 * registration quota) are planned and deleted with `plan/run --orphaned-records GROUP_ID`, journaled,
 * with the usual --yes; against the emulator, which keeps a deleted group's records like DPS does.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type CliFixture, groupDevices, startCliFixture } from './fixture.js';

const group = 'legacy-sensors';

/** A demo fleet whose group `legacy-sensors` was deleted without --delete-registrations. */
async function withDeletedGroup(): Promise<{
  f: CliFixture;
  ids: string[];
  deleted: { code: number | null };
}> {
  const f = await startCliFixture({ seed: 'demo', timeScale: 120 });
  const ids = groupDevices(f.emulator, group);
  const deleted = await f.cli([
    'run',
    '--group',
    group,
    '--disenroll',
    'delete',
    '--deregister',
    'none',
    '--delete-group',
    '--yes',
  ]);
  return { f, ids, deleted };
}

// Each test stands alone, in any order: the reading tests share one fleet (they change nothing), the
// test that deletes the records has a fleet of its own.
let f: CliFixture;
let ids: string[] = [];
let deleted: { code: number | null };

beforeAll(async () => {
  ({ f, ids, deleted } = await withDeletedGroup());
});

afterAll(async () => {
  await f?.close();
});

describe('orphaned registration records of a deleted group', () => {
  it('deleting the group without --delete-registrations leaves its records (the emulator keeps them)', async () => {
    expect(ids.length).toBeGreaterThan(0);
    expect(deleted.code).toBe(0);
    expect(f.emulator.store.dps.groups.has(group)).toBe(false);
    for (const id of ids) expect(f.emulator.store.dps.registrations.has(id), id).toBe(true);
  });

  it('runs names the group deleted with records left, the run that did it, and the command to review deleting them', async () => {
    const runs = await f.cli(['runs'], { target: false });
    expect(runs.code).toBe(0);
    const text = runs.stdout.replace(/\s+/g, ' ');
    expect(text).toContain('Enrollment groups deleted with registration records left');
    expect(text).toMatch(
      new RegExp(
        `${ids.length} records of group ${group}, deleted by run \\d{8}T\\d{6}Z-[0-9a-f]{6} on DPS \\S+`,
      ),
    );
    expect(text).toContain(`plan --orphaned-records ${group}`);
    const json = JSON.parse((await f.cli(['runs', '--json'], { target: false })).stdout);
    expect(json.groupsLeftWithRecords).toEqual([
      expect.objectContaining({ groupId: group, records: ids.length, runId: json.runs[0].runId }),
    ]);
  });

  it('plan --orphaned-records lists a DELETE per record and the count against the quota; nothing changes', async () => {
    const plan = await f.cli(['plan', '--orphaned-records', group]);
    expect(plan.code).toBe(0);
    for (const id of ids) expect(plan.stdout).toContain(`DELETE registrations/${id}`);
    expect(plan.stdout.replace(/\s+/g, ' ')).toContain(
      `${ids.length} of the instance's 1,000,000 registrations (the DPS default quota`,
    );
    expect(plan.stdout).not.toContain(`enrollmentGroups/${group} provisioningStatus`);
    for (const id of ids) expect(f.emulator.store.dps.registrations.has(id), id).toBe(true);
  });

  it('a plain --group plan for the deleted group says the records are orphaned and how to delete them', async () => {
    const plan = await f.cli(['plan', '--group', group, '--disenroll', 'disable', '--deregister', 'disable']);
    expect(plan.code).not.toBe(0);
    expect(plan.stdout + plan.stderr).toContain('--orphaned-records legacy-sensors');
  });

  it('--orphaned-records for a group that still exists is refused (its records are not orphaned)', async () => {
    const plan = await f.cli(['plan', '--orphaned-records', 'contoso-root-ca']);
    expect(plan.code).not.toBe(0);
    expect(plan.stdout + plan.stderr).toContain('still exists');
  });

  it('--orphaned-records with an action flag is bad usage (exit 2), nothing changed', async () => {
    const bad = await f.cli(['plan', '--orphaned-records', group, '--deregister', 'delete']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--orphaned-records only deletes registration records');
  });

  it('run --orphaned-records needs --yes, then deletes every record (journaled), and a second run finds none', async () => {
    const own = await withDeletedGroup();
    onTestFinished(() => own.f.close());
    const { f, ids } = own;
    expect(own.deleted.code).toBe(0);
    const unconfirmed = await f.cli(['run', '--orphaned-records', group]);
    expect(unconfirmed.code).toBe(2);
    for (const id of ids) expect(f.emulator.store.dps.registrations.has(id), id).toBe(true);

    const run = await f.cli(['run', '--orphaned-records', group, '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/: completed$/m);
    for (const id of ids) {
      expect(f.emulator.store.dps.registrations.has(id), id).toBe(false);
      expect(f.emulator.stats().destructive[`dps/registrations/${id}`]).toEqual({ delete: 1 });
    }
    // Journaled: the run's journal holds the snapshot of the records it deleted.
    const journal = /Journal: (\S+)/.exec(run.stdout)?.[1];
    expect(journal).toBeDefined();
    const text = readFileSync(journal!, 'utf8');
    for (const id of ids) expect(text).toContain(id);
    expect(text).toContain('"orphanedRecords":true');

    const again = await f.cli(['plan', '--orphaned-records', group]);
    expect(again.code).not.toBe(0);
    expect(again.stdout + again.stderr).toContain(`No enrollment group "${group}"`);

    // Cleaned up: runs no longer names the group.
    const runs = await f.cli(['runs', '--json'], { target: false });
    expect(JSON.parse(runs.stdout).groupsLeftWithRecords).toEqual([]);
    expect((await f.cli(['runs'], { target: false })).stdout).not.toContain(
      'deleted with registration records left',
    );
  });
});
