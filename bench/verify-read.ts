/**
 * Verify's hub read at fleet scale (part of `npm run bench -- --only jobs`): the identities of 100,000
 * devices on ONE S1 hub (one unit) read by queries (`WHERE deviceId IN [...]`, 100 IDs each, paced to
 * the hub's 20 queries a minute) against one export job without keys, at the jobs bench's time scale.
 * Real SDK adapters on the emulator, Azurite as job storage. Figures are printed, never asserted.
 */
import { hubQueriesPerMinute } from '../src/core/hub-lookup.js';
import { buildPorts, resolveTarget } from '../src/services/azure/target.js';
import { type EmulatorHandle, startEmulator } from '../src/services/emulator/index.js';
import { createReadLimiter } from '../src/services/executor/read-limiter.js';
import { readHubByExport } from '../src/services/session/export-read.js';
import { lookupHubIdentities } from '../src/services/session/read-state.js';
import { limitedHubs } from '../src/services/session/reads.js';
import { openJobStorage } from '../src/services/storage/job-storage.js';
import { poolOf } from '../src/services/storage/job-storage-pool.js';
import type { AzuriteHandle } from './azurite.js';
import type { BenchRow } from './report.js';

const S1 = { tier: 'S1' as const, units: 1 };

const countOf = (em: EmulatorHandle, operation: string): number =>
  Object.entries(em.stats().operations[operation] ?? {})
    .filter(([status]) => /^2\d\d$/.test(status))
    .reduce((n, [, c]) => n + c, 0);

interface ReadCase {
  wallMs: number;
  queries: number;
  jobs: number;
  found: number;
  blobsLeft: number;
}

async function readCase(
  path: 'queries' | 'export',
  devices: number,
  timeScale: number,
  seed: (em: EmulatorHandle, devices: number) => string[],
  azurite: AzuriteHandle,
): Promise<ReadCase> {
  const em = await startEmulator({ seed: 0, tier: 'S1', units: 1, timeScale });
  try {
    const ids = seed(em, devices);
    const host = em.hubs[0].host;
    const target = resolveTarget({
      dps: em.dps.connectionString,
      hubs: [em.hubs[0].connectionString],
      endpoint: em.url,
      env: {},
      configPath: false,
      kind: 'sandbox',
    });
    const ports = buildPorts(target);
    const limiter = createReadLimiter({ dpsHost: target.dps.host, limits: { timeScale, defaultHub: S1 } });
    const container = `verify-${path}-${Date.now()}`;
    const storage = openJobStorage(await azurite.container(container));
    em.resetStats();
    const t = Date.now();
    let found: number;
    if (path === 'export') {
      const jobs = ports.hubs.get(host)?.jobs;
      if (!jobs) throw new Error('bench: the hub takes no jobs');
      const read = await readHubByExport(
        { storage: poolOf(storage), jobs, limiter, jobPollMs: 2000 / timeScale, timeScale },
        host,
        new Set(ids),
      );
      found = read.devices.length;
    } else {
      const read = await lookupHubIdentities(limitedHubs(ports.hubs, limiter), ids, {
        queriesPerMinute: () => hubQueriesPerMinute(S1),
        timeScale,
      });
      found = read.devices.length;
    }
    const wallMs = Date.now() - t;
    const jobs = Object.values(em.jobsCreated()).reduce((n, c) => n + c.export + c.import, 0);
    const blobsLeft = (await azurite.blobs(container)).length;
    return { wallMs, queries: countOf(em, 'hub:query'), jobs, found, blobsLeft };
  } finally {
    await em.stop();
  }
}

/** Rows: each path's hub query operations, jobs and service minutes; queries / export. */
export async function verifyReadRows(o: {
  devices: number;
  timeScale: number;
  azurite: AzuriteHandle;
  seed: (em: EmulatorHandle, devices: number) => string[];
}): Promise<BenchRow[]> {
  const bench = 'jobs';
  const label = `verify ${o.devices.toLocaleString('en-US')} on 1 S1 hub`;
  const minutes = (ms: number) => Number(((ms * o.timeScale) / 60_000).toFixed(1));
  const rows: BenchRow[] = [];
  const measured: Record<string, ReadCase> = {};
  for (const path of ['queries', 'export'] as const) {
    process.stderr.write(`  ${label}: ${path}...\n`);
    measured[path] = await readCase(path, o.devices, o.timeScale, o.seed, o.azurite);
  }
  const q = measured.queries;
  const e = measured.export;
  const read = (c: ReadCase) =>
    `${c.jobs} jobs, ${c.found.toLocaleString('en-US')} identities read, ${c.blobsLeft} blobs left`;
  // The query budget is the floor whatever the tool does: the queries made at 20 a minute.
  const floor = Number((q.queries / hubQueriesPerMinute(S1)).toFixed(1));
  rows.push(
    {
      bench,
      metric: `${label}: queries (100 IDs each), hub query operations`,
      value: q.queries,
      unit: 'queries',
    },
    {
      bench,
      metric: `${label}: queries, service time at the S1 query budget (${hubQueriesPerMinute(S1)}/min)`,
      value: floor,
      unit: 'min',
    },
    {
      bench,
      metric: `${label}: queries, service time measured (the emulator's query work counts x${o.timeScale})`,
      value: minutes(q.wallMs),
      unit: `min (${read(q)})`,
    },
    {
      bench,
      metric: `${label}: one export job (no keys), hub query operations`,
      value: e.queries,
      unit: 'queries',
    },
    {
      bench,
      metric: `${label}: one export job, service time measured (the tool's parsing counts x${o.timeScale})`,
      value: minutes(e.wallMs),
      unit: `min (${read(e)})`,
    },
    {
      bench,
      metric: `${label}: query budget floor / export job (service time)`,
      value: Number((floor / Math.max(0.1, minutes(e.wallMs))).toFixed(1)),
      unit: 'x',
    },
  );
  return rows;
}
