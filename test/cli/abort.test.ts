/**
 * Abort means now: a run deleting 300 devices on three slowed hubs (hub steps of 100 sent in slices of
 * 50) gets SIGINT or SIGTERM once its first slice is applied. Proof from the emulator's stats, not
 * from timing: every changing request the emulator ever received was journaled (an intent) before
 * the abort mark, none after; the devices the emulator deleted are exactly those the journal names
 * done; `resume` deletes the rest, each device exactly once. A second Ctrl-C leaves at once and the
 * journal still lets `resume` finish with nothing done twice.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/cli.js';
import { type CliFixture, deviceOn, startCliFixture } from './fixture.js';
import { buildFleet } from './fleet.js';

const DEVICES = 300;
const GROUP = 'abort-300';
const CAPACITY = ['--hub-tier', 'S1', '--hub-units', '1'];
const RUN = [
  'run',
  '--group',
  GROUP,
  '--disenroll',
  'disable',
  '--deregister',
  'delete',
  '--yes',
  ...CAPACITY,
];

let f: CliFixture;

beforeAll(async () => {
  f = await startCliFixture({ tier: 'S1', units: 1, timeScale: 600 });
});

afterAll(async () => {
  await f?.close();
});

/** Requests that change something (bulk writes, PUT, DELETE), whatever the answer. */
function changingRequests(): number {
  let n = 0;
  for (const [op, byStatus] of Object.entries(f.emulator.stats().operations)) {
    if (!/^(hub|dps):(bulk|put|delete)/i.test(op)) continue;
    for (const count of Object.values(byStatus)) n += count;
  }
  return n;
}

/** Requests the emulator has answered so far. */
function answered(): number {
  let n = 0;
  for (const byStatus of Object.values(f.emulator.stats().operations))
    for (const count of Object.values(byStatus)) n += count;
  return n;
}

/** Every request the emulator received has been answered (none left in flight). */
const answeredAll = (): boolean => answered() >= f.emulator.stats().requests;

interface JournalLine {
  type: string;
  mark?: string;
  stepId?: string;
  devices?: { id: string; outcome: string }[];
  result?: { stepId: string; devices?: { id: string; outcome: string }[] };
}

const journalLines = (path: string): JournalLine[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as JournalLine);

/** Device IDs the journal names done (progress records and outcomes of hub steps). */
function journaledDone(lines: JournalLine[]): Set<string> {
  const done = new Set<string>();
  for (const l of lines) {
    const devices = l.type === 'progress' ? l.devices : l.type === 'outcome' ? l.result?.devices : undefined;
    for (const d of devices ?? [])
      if (d.outcome === 'succeeded' || d.outcome === 'alreadyDone') done.add(d.id);
  }
  return done;
}

const deletedOnce = (hubOf: Map<string, string>): string[] => {
  const destructive = f.emulator.stats().destructive;
  const wrong: string[] = [];
  for (const [id, hub] of hubOf) {
    const counts = destructive[`${hub}/${id}`] ?? {};
    if (
      deviceOn(f.emulator, hub, id) !== undefined ||
      counts.delete !== 1 ||
      Object.keys(counts).length !== 1
    )
      wrong.push(`${id} ${JSON.stringify(counts)}`);
  }
  return wrong;
};

async function startSlowRun(latencyMs = 700): Promise<{
  fleet: ReturnType<typeof buildFleet>;
  journal: string;
  child: ReturnType<CliFixture['spawn']>;
}> {
  const fleet = buildFleet(f.emulator, GROUP, DEVICES);
  f.emulator.resetStats();
  // Each hub request takes 700 ms: a slice is in flight long enough for the signal to land beside it.
  f.emulator.setFaults({ latencyMs, only: ['hub'], seed: 3 });
  const child = f.spawn(RUN);
  const journal = await waitUntil(() => /journal (\S+\.jsonl)/.exec(child.output().stderr)?.[1]);
  // The first slice is applied: some devices are gone, most are not.
  await waitUntil(() =>
    [...fleet.hubOf].some(([id, hub]) => deviceOn(f.emulator, hub, id) === undefined) ? true : undefined,
  );
  return { fleet, journal, child };
}

describe('abort stops changing requests at once', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    '%s: no changing request after the abort; resume does the rest once',
    async (signal) => {
      const { fleet, journal, child } = await startSlowRun();
      child.child.kill(signal);
      const run = await child.result;
      f.emulator.setFaults(undefined);
      expect(run.code, run.stderr).toBe(3);
      expect(run.stderr).toMatch(/Stopping/);

      const lines = journalLines(journal);
      const abortAt = lines.findIndex((l) => l.type === 'mark' && l.mark === 'abortRequested');
      expect(abortAt).toBeGreaterThan(0);
      const intentsBefore = lines.slice(0, abortAt).filter((l) => l.type === 'intent').length;
      // No call that changes something was even intended after the abort...
      expect(lines.slice(abortAt).filter((l) => l.type === 'intent')).toEqual([]);
      // ...and the emulator received no changing request beyond those journaled before it (in flight then),
      // besides the write-permission check made before the run on each hub it changes (a bulk delete of an
      // absent device under an ETag: it changes nothing and precedes the journal).
      const checks = new Set(fleet.hubOf.values()).size;
      const received = changingRequests() - checks;
      expect(received).toBeLessThanOrEqual(intentsBefore);
      // The abort really came in the middle: slices were left unsent.
      const gone = [...fleet.hubOf]
        .filter(([id, hub]) => deviceOn(f.emulator, hub, id) === undefined)
        .map(([id]) => id);
      expect(gone.length).toBeGreaterThan(0);
      expect(gone.length).toBeLessThan(DEVICES);
      // The journal names exactly the devices the emulator deleted.
      expect([...journaledDone(lines)].sort()).toEqual(gone.sort());

      const resume = await f.cli(['resume', ...CAPACITY]);
      expect(resume.stderr).not.toMatch(/iot-deprovision:/);
      expect(resume.code, resume.stderr).toBe(0);
      expect(resume.stdout).toMatch(/: completed$/m);
      expect(deletedOnce(fleet.hubOf)).toEqual([]);
      expect(f.emulator.stats().destructive[`dps/enrollmentGroups/${GROUP}`]).toEqual({ disable: 1 });
    },
  );

  it('a second Ctrl-C leaves at once; resume finishes with nothing done twice', async () => {
    // A signal that lands as the process exits on its own ends it by the signal: the second Ctrl-C
    // must land while the run still waits on a call, even on a loaded machine.
    const { fleet, child } = await startSlowRun();
    // From here each hub request takes 15 s. Both signals land once every request sent before is
    // answered and a slow one is not: the run is then waiting on it, so the process cannot be ending
    // on its own when the second signal arrives.
    f.emulator.setFaults({ latencyMs: 15_000, only: ['hub'], seed: 3 });
    const before = f.emulator.stats().requests;
    await waitUntil(() => {
      const { requests } = f.emulator.stats();
      return answered() >= before && requests > answered() ? true : undefined;
    });
    child.child.kill('SIGINT');
    await waitUntil(() => (/Stopping/.test(child.output().stderr) ? true : undefined));
    child.child.kill('SIGINT');
    const run = await child.result;
    f.emulator.setFaults(undefined);
    expect(run.code, `${run.signal}`).toBe(3);
    // The calls it left in flight still reach the emulator: resume comes after they are answered.
    await waitUntil(() => (answeredAll() ? true : undefined));
    const resume = await f.cli(['resume', ...CAPACITY]);
    expect(resume.code, resume.stderr).toBe(0);
    expect(deletedOnce(fleet.hubOf)).toEqual([]);
  }, 180_000);
});
