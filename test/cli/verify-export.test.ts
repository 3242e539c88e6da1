/**
 * Verify at fleet scale through the compiled program, on the emulator + Azurite with the real SDK
 * clients: a large group on ONE S1 hub, its hub identities read through ONE export job without keys
 * (instead of a query per 100 IDs), giving the verdicts the query path gives, catching the one device
 * left enabled on the hub, leaving no blob in the container and no key in any output.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AzuriteHandle } from '../support/azurite.js';
import { readFileSync } from 'node:fs';
import { jsonLines, secretsIn } from '../support/cli.js';
import type { CliFixture } from './fixture.js';
import { buildOneHubFleet, startJobsFleet } from './hub-jobs-fleet.js';

// The size is 100,000 (the benchmark); 20,000 is what the fixtures build in seconds.
const DEVICES = Number(process.env.VERIFY_EXPORT_DEVICES ?? 20_000);
const GROUP = 'verify-fleet';
// As in hub-jobs.test.ts: the emulator runs 60x faster, the client paces itself as 60 S1 units.
const TIME_SCALE = 60;
const JOB_RATE = 6_000;
const CLIENT = ['--hub-tier', 'S1', '--hub-units', String(TIME_SCALE)];
/** The other hubs hold none of these devices: their lookups are skipped (no query there). */
const SKIP_OTHERS = ['hub-us', 'hub-asia'].flatMap((h) => ['--skip-hub-lookup', h]);

interface Verdict {
  registrationId: string;
  verdict: string;
  reason: string;
  hubs: { hub: string; deviceId: string; status: string }[];
}
interface HubRead {
  hub: string;
  path: string;
  reason: string;
  deviceIds: number;
}

let f: CliFixture;
let azurite: AzuriteHandle;
let storage: string;
let ids: string[];
let hubEu: string;
/** The one device left enabled on the hub while the rest are disabled. */
let live: string;

beforeAll(async () => {
  ({ f, azurite, storage, ids, hubEu } = await startJobsFleet({
    container: 'verify-jobs',
    group: GROUP,
    devices: DEVICES,
    timeScale: TIME_SCALE,
    jobRate: JOB_RATE,
  }));
  // As a run would leave it: the group disabled at DPS, every hub identity disabled but one.
  const group = f.emulator.store.dps.groups.get(GROUP);
  if (group) group.provisioningStatus = 'disabled';
  const hub = f.emulator.store.hubByHost(hubEu);
  live = ids[Math.floor(DEVICES / 3)];
  for (const id of ids) {
    const d = hub?.devices.get(id);
    if (d && id !== live) d.status = 'disabled';
  }
  f.emulator.store.touch();
}, 120_000);

afterAll(async () => {
  await f?.close();
  await azurite?.stop();
});

/** Some device keys of the fleet: none may appear in an output (the export excludes them). */
const deviceKeys = (): string[] => {
  const hub = f.emulator.store.hubByHost(hubEu);
  if (!hub) return [];
  return [0, 1, Math.floor(DEVICES / 3), DEVICES - 1].flatMap((i) => {
    const d = hub.devices.get(ids[i]);
    if (!d) return [];
    const k = f.emulator.store.deviceKeys(hub, d);
    return [k.primaryKey, k.secondaryKey];
  });
};

const queries = (): number =>
  Object.values(f.emulator.stats().operations['hub:query'] ?? {}).reduce((a, b) => a + b, 0);

const verifyJson = async (args: string[]) => {
  const r = await f.cli(['verify', '--group', GROUP, '--json', ...CLIENT, ...args]);
  expect(r.stderr).not.toMatch(/iot-deprovision:/);
  // Every device is blocked at DPS (the group is disabled): verify answers 0.
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as { verdicts: Verdict[]; hubReads: HubRead[] };
};

const byId = (verdicts: Verdict[]) => new Map(verdicts.map((v) => [v.registrationId, v]));

let exported: Verdict[];

describe(`verify of ${DEVICES.toLocaleString('en-US')} devices on one S1 hub`, { shuffle: false }, () => {
  it('reads the hub through ONE export job without keys: no hub query, the live device caught, no blob left', async () => {
    f.emulator.resetStats();
    const before = { ...(f.emulator.jobsCreated()['hub-eu'] ?? { export: 0, import: 0 }) };
    const out = await verifyJson(['--hub-path', 'jobs', '--job-storage', storage, ...SKIP_OTHERS]);
    expect(f.emulator.jobsCreated()['hub-eu']).toEqual({ export: before.export + 1, import: before.import });
    expect(queries()).toBe(0);
    expect(out.hubReads).toEqual([
      { hub: hubEu, path: 'export', reason: '--hub-path jobs', deviceIds: DEVICES },
    ]);
    exported = out.verdicts;
    expect(exported).toHaveLength(DEVICES);
    const stillLive = exported.filter((v) => v.hubs.some((h) => h.status !== 'disabled'));
    expect(stillLive.map((v) => [v.registrationId, v.hubs])).toEqual([
      [live, [{ hub: hubEu, deviceId: live, status: 'enabled' }]],
    ]);
    expect(await azurite.blobs('verify-jobs')).toEqual([]);
    expect(secretsIn(f.outputs.join('\n'), deviceKeys())).toEqual([]);
  }, 300_000);

  it('gives the verdicts the query path gives (which makes a query per 100 IDs)', async () => {
    f.emulator.resetStats();
    const jobsBefore = { ...f.emulator.jobsCreated()['hub-eu'] };
    const out = await verifyJson(['--hub-path', 'calls', '--job-storage', storage, ...SKIP_OTHERS]);
    expect(f.emulator.jobsCreated()['hub-eu']).toEqual(jobsBefore);
    expect(out.hubReads).toMatchObject([{ hub: hubEu, path: 'queries', deviceIds: DEVICES }]);
    // At least a query per 100 IDs (more when the hub throttled one and it was asked again).
    expect(queries()).toBeGreaterThanOrEqual(DEVICES / 100);
    const queried = byId(out.verdicts);
    expect(queried.size).toBe(DEVICES);
    const differ = exported.filter(
      (v) => JSON.stringify(queried.get(v.registrationId)) !== JSON.stringify(v),
    );
    expect(differ.slice(0, 3)).toEqual([]);
  }, 300_000);

  it("with the hub's lookup skipped, the record's hub is read by the export job too; the output says so in 80 columns", async () => {
    f.emulator.resetStats();
    const before = { ...(f.emulator.jobsCreated()['hub-eu'] ?? { export: 0, import: 0 }) };
    const r = await f.cli([
      'verify',
      '--group',
      GROUP,
      '--hub-path',
      'jobs',
      '--job-storage',
      storage,
      ...CLIENT,
      ...SKIP_OTHERS,
      '--skip-hub-lookup',
      'hub-eu',
    ]);
    expect(r.stderr).not.toMatch(/iot-deprovision:/);
    expect(r.code).toBe(0);
    expect(f.emulator.jobsCreated()['hub-eu']).toEqual({ export: before.export + 1, import: before.import });
    expect(queries()).toBe(0);
    const lines = r.stdout.split('\n');
    const at = lines.indexOf('Hub reads:');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe(
      `  ${hubEu}: export job, no keys, ${DEVICES.toLocaleString('en-US')} IDs (--hub-path jobs)`,
    );
    // One line per hub read, in 80 columns.
    expect(lines.slice(at).filter((l) => l.startsWith('  ')).length).toBe(1);
    for (const line of lines.slice(at)) expect(line.length, line).toBeLessThanOrEqual(80);
    // The live device is named among the hub statuses.
    expect(r.stdout).toContain(live);
    expect(await azurite.blobs('verify-jobs')).toEqual([]);
    expect(secretsIn(f.outputs.join('\n'), deviceKeys())).toEqual([]);
  }, 300_000);
});

describe("a run's verify phase", () => {
  it("reads the hub through an export job too, says so on stderr, and journals only the step's jobs", async () => {
    const SMALL = 300;
    buildOneHubFleet(f.emulator, 'verify-run', SMALL, 'hub-us');
    const hubUs = f.emulator.hubs.find((h) => h.name === 'hub-us')?.host as string;
    const before = { ...(f.emulator.jobsCreated()['hub-us'] ?? { export: 0, import: 0 }) };
    const r = await f.cli([
      'run',
      '--group',
      'verify-run',
      '--disenroll',
      'disable',
      '--deregister',
      'disable',
      '--hub-path',
      'jobs',
      '--job-storage',
      storage,
      '--yes',
      ...CLIENT,
      ...['hub-eu', 'hub-asia'].flatMap((h) => ['--skip-hub-lookup', h]),
    ]);
    expect(r.stderr).not.toMatch(/iot-deprovision:/);
    expect(r.code).toBe(0);
    // The step's export and import, then verify's export (no import).
    expect(f.emulator.jobsCreated()['hub-us']).toEqual({
      export: before.export + 2,
      import: before.import + 1,
    });
    expect(r.stderr).toContain(`  ${hubUs}: export job, no keys, 300 IDs (--hub-path jobs)`);
    const journal = /Journal: (\S+)/.exec(r.stdout)?.[1] as string;
    const jobs = jsonLines(readFileSync(journal, 'utf8')).filter((l) => l.type === 'job');
    expect(jobs.map((j) => j.jobType)).toEqual(['export', 'import']);
    expect(await azurite.blobs('verify-jobs')).toEqual([]);
  }, 300_000);
});
