/**
 * Job storage of several containers through the compiled program, on the emulator + Azurite with the real
 * SDK clients: a group over three S1 hubs disabled through jobs with `--job-storage` given once per hub,
 * each job journaled with its container; the run killed (SIGKILL) during the import jobs; a resume without
 * those containers is bad input (exit 2, nothing done); the resume with them (in another order) re-attaches
 * each step to its job in its container: one export and one import job per hub, every device written once,
 * no blob left in any container, no key or SAS anywhere.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry } from '../../src/services/azure/clients.js';
import { resolveTarget } from '../../src/services/azure/target.js';
import { type AzuriteHandle, startAzurite } from '../support/azurite.js';
import { jsonLines, policyKeys, secretsIn, waitUntil } from '../support/cli.js';
import { type CliFixture, deviceOn, startCliFixture } from './fixture.js';
import { buildFleet } from './hub-jobs-fleet.js';

const HUBS = ['hub-eu', 'hub-us', 'hub-asia'];
const DEVICES = 6000;
const GROUP = 'pool-fleet';
// As test/cli/hub-jobs.test.ts: a service minute a real second, the client paced as 60 S1 units; a job
// processes 3,000 devices a service minute (2,000 devices a hub: each job lasts most of a real second).
const TIME_SCALE = 60;
const JOB_RATE = 3_000;
const CLIENT = [
  '--hub-tier',
  'S1',
  '--hub-units',
  String(TIME_SCALE),
  ...HUBS.flatMap((h) => ['--skip-hub-lookup', h]),
];
const CONTAINERS = ['pool-1', 'pool-2', 'pool-3'];

let f: CliFixture;
let azurite: AzuriteHandle;
/** The containers' SAS URLs (their signatures are secrets the fixture's scan looks for). */
let urls: string[];
let sigs: string[];
let ids: string[];

beforeAll(async () => {
  azurite = await startAzurite();
  urls = await Promise.all(CONTAINERS.map((c) => azurite.container(c)));
  sigs = urls.map((u) => new URL(u).searchParams.get('sig') as string);
  f = await startCliFixture(
    { tier: 'S1', units: 1, timeScale: TIME_SCALE, jobRate: JOB_RATE },
    { extraSecrets: sigs },
  );
  ids = buildFleet(f.emulator, GROUP, DEVICES, HUBS);
}, 120_000);

afterAll(async () => {
  await f?.close();
  await azurite?.stop();
});

const hostOf = (name: string) => f.emulator.hubs.find((h) => h.name === name)?.host as string;
const jobRecords = (journal: string): Record<string, unknown>[] =>
  jsonLines(readFileSync(journal, 'utf8')).filter((r) => r.type === 'job');
const withoutSas = (url: string) => url.split('?')[0];

const statuses = () => {
  const out: Record<string, number> = {};
  for (const [i, id] of ids.entries()) {
    const s = deviceOn(f.emulator, hostOf(HUBS[i % HUBS.length]), id)?.status ?? 'gone';
    out[s] = (out[s] ?? 0) + 1;
  }
  return out;
};

const expectNoSecret = (what: string, text: string) => {
  expect(secretsIn(text, policyKeys(f.emulator)), what).toEqual([]);
  expect(/[?&]sig=/.test(text), `${what} holds a SAS signature`).toBe(false);
};

// One story over one fleet (the verify reads what the run left): the tests keep their order.
describe(`${DEVICES.toLocaleString('en-US')} devices over three S1 hubs, a job storage container per hub`, {
  shuffle: false,
}, () => {
  it('killed during the import jobs, resumed with the containers in another order: each step back in its own container', async () => {
    f.emulator.resetStats();
    const child = f.spawn([
      'run',
      '--group',
      GROUP,
      '--disenroll',
      'disable',
      '--deregister',
      'disable',
      '--hub-path',
      'jobs',
      ...urls.flatMap((u) => ['--job-storage', u]),
      '--yes',
      ...CLIENT,
    ]);
    const journal = await waitUntil(() => /journal (\S+\.jsonl)/.exec(child.output().stderr)?.[1], 50);
    // Killed once every hub's import job is journaled (their steps ran at once, a container each).
    await waitUntil(() => {
      try {
        return jobRecords(journal).filter((r) => r.jobType === 'import').length === 3 ? true : undefined;
      } catch {
        return undefined;
      }
    }, 50);
    child.child.kill('SIGKILL');
    expect((await child.result).signal).toBe('SIGKILL');

    const records = jobRecords(journal);
    // Each step's two jobs in one container, the three steps in three containers, named without SAS.
    const byStep = new Map<unknown, Set<unknown>>();
    for (const r of records) byStep.set(r.stepId, (byStep.get(r.stepId) ?? new Set()).add(r.container));
    expect([...byStep.values()].map((s) => s.size)).toEqual([1, 1, 1]);
    expect(new Set(records.map((r) => r.container))).toEqual(new Set(urls.map(withoutSas)));
    for (const hub of HUBS) expect(f.emulator.jobsCreated()[hub]).toEqual({ export: 1, import: 1 });

    // Without those containers: bad input naming them, nothing done.
    const other = await azurite.container('pool-other');
    const otherSig = new URL(other).searchParams.get('sig') as string;
    const refused = await f.cli(['resume', '--job-storage', other, ...CLIENT]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/results are in .*pool-\d.*which is not among the job storage given now/);
    expect(refused.stderr).toMatch(/give --job-storage for/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(refused.stderr).not.toContain(otherSig);
    for (const hub of HUBS) expect(f.emulator.jobsCreated()[hub]).toEqual({ export: 1, import: 1 });

    const resume = await f.cli([
      'resume',
      ...[...urls].reverse().flatMap((u) => ['--job-storage', u]),
      ...CLIENT,
    ]);
    expect(resume.stderr).not.toMatch(/iot-deprovision:/);
    expect(resume.code).toBe(0);
    expect(resume.stdout).toMatch(/: completed$/m);
    // Re-attached on every hub: no second job anywhere.
    for (const hub of HUBS) expect(f.emulator.jobsCreated()[hub]).toEqual({ export: 1, import: 1 });
    expect(statuses()).toEqual({ disabled: DEVICES });
    // Every device written exactly once (its hub's import job), none twice.
    const destructive = f.emulator.stats().destructive;
    const wrong = ids.filter((id, i) => {
      const counts = destructive[`${hostOf(HUBS[i % HUBS.length])}/${id}`] ?? {};
      return Object.values(counts).reduce((a, b) => a + b, 0) !== 1;
    });
    expect(wrong.slice(0, 5)).toEqual([]);
    // The device keys the exports wrote are gone from every container, claim markers too.
    for (const c of CONTAINERS) expect(await azurite.blobs(c)).toEqual([]);
    expectNoSecret('the journal', readFileSync(journal, 'utf8'));
    expectNoSecret('the outputs', f.outputs.join('\n'));
  }, 600_000);

  it('verify reads the three hubs through export jobs at once, a container each, and leaves them empty', async () => {
    const before = Object.fromEntries(HUBS.map((h) => [h, { ...f.emulator.jobsCreated()[h] }]));
    const r = await f.cli([
      'verify',
      '--group',
      GROUP,
      '--json',
      '--hub-path',
      'jobs',
      ...urls.flatMap((u) => ['--job-storage', u]),
      ...CLIENT,
    ]);
    expect(r.stderr).not.toMatch(/iot-deprovision:/);
    // Every device blocked at DPS (the run disabled the group): verify answers 0.
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { verdicts: { verdict: string }[]; hubReads: { path: string }[] };
    expect(out.verdicts).toHaveLength(DEVICES);
    expect(out.hubReads.map((h) => h.path)).toEqual(['export', 'export', 'export']);
    for (const hub of HUBS)
      expect(f.emulator.jobsCreated()[hub]).toEqual({ export: (before[hub]?.export ?? 0) + 1, import: 1 });
    // The three export jobs ran at once: each started before the others ended (as the hubs report).
    const target = resolveTarget({
      dps: f.emulator.dps.connectionString,
      hubs: f.emulator.hubs.map((h) => h.connectionString),
      endpoint: f.emulator.url,
      env: {},
      configPath: false,
      kind: 'sandbox',
    });
    const exports: { start: number; end: number }[] = [];
    for (const hub of f.emulator.hubs.filter((h) => HUBS.includes(h.name))) {
      const auth = target.hubs.get(hub.host);
      if (!auth) throw new Error(`no credentials for ${hub.host}`);
      const listed = (await createRegistry(auth, target.endpoint).listJobs()).responseBody as {
        type: string;
        startTimeUtc: string;
        endTimeUtc: string;
      }[];
      const last = listed.filter((j) => j.type.toLowerCase() === 'export').at(-1);
      if (last) exports.push({ start: Date.parse(last.startTimeUtc), end: Date.parse(last.endTimeUtc) });
    }
    expect(exports).toHaveLength(3);
    const latestStart = Math.max(...exports.map((e) => e.start));
    const earliestEnd = Math.min(...exports.map((e) => e.end));
    expect(latestStart).toBeLessThan(earliestEnd);
    for (const c of CONTAINERS) expect(await azurite.blobs(c)).toEqual([]);
  }, 300_000);
});
