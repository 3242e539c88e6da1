/**
 * How often the executor reads a long import/export job's state, against the emulator (the hub) and
 * Azurite (the storage), real SDK clients: a 100,000-device job is read at most every twentieth of its
 * expected duration (8 s of service time), not every 2 s. Counted from the emulator's calls, relative to
 * the job's duration as the hub reports it; never a wall-time assertion (a slow machine only sleeps
 * longer between reads, so it reads fewer times).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectedJobMs, JOB_POLL_MAX_MS, jobPollCeilingMs } from '../../src/core/job-poll.js';
import type { Plan } from '../../src/core/plan-types.js';
import { createRegistry } from '../../src/services/azure/clients.js';
import { provision } from '../../src/services/emulator/seed-shared.js';
import { execute } from '../../src/services/executor/index.js';
import { openJournal } from '../../src/services/journal/index.js';
import { openJobStorage } from '../../src/services/storage/job-storage.js';
import { poolOf } from '../../src/services/storage/job-storage-pool.js';
import { type Sandbox, startSandbox } from '../azure/support.js';
import { type AzuriteHandle, startAzurite } from '../support/azurite.js';
import { planOf } from './plans.js';

/** Service minutes per wall minute: the emulator's job runner and the executor alike (as the bench). */
const SCALE = 200;
const N = 100_000;
/** Slower than the job model (60,000 a minute): the job runs 300 s of service time (1.5 s here). */
const JOB_RATE = 20_000;
/** The executor's base wait between reads: 2 s of service time. */
const BASE_MS = 2000 / SCALE;

let azurite: AzuriteHandle;
let sb: Sandbox;
let host: string;
let root: string;
const ids = Array.from({ length: N }, (_, i) => `poll-${String(i).padStart(6, '0')}`);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hub-jobs-poll-'));
  azurite = await startAzurite();
  sb = await startSandbox({ jobRate: JOB_RATE, timeScale: SCALE });
  host = sb.emulator.hubs[0].host;
  const hub = sb.emulator.store.hubByHost(host);
  if (!hub) throw new Error('no hub in the emulator');
  const at = new Date().toISOString();
  for (const registrationId of ids)
    provision(sb.emulator.store, {
      registrationId,
      enrollment: { kind: 'group', id: 'poll' },
      hub,
      authType: 'sas',
      at,
    });
  sb.emulator.store.touch();
}, 120_000);
afterAll(async () => {
  await sb?.emulator.stop();
  await azurite?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

const deletePlan = (): Plan =>
  planOf(
    { kind: 'group', groupId: 'poll' },
    { disenroll: 'disable', deregister: 'delete', deleteRegistrations: false, deleteGroup: false },
    [
      {
        phase: 'deregister',
        op: { kind: 'hubJobDevices', hub: host, action: 'delete', deviceIds: ids },
        registrationIds: ids,
      },
    ],
    [],
  );

it('reads a long job at most every twentieth of its expected duration, far fewer times than every 2 s', async () => {
  const plan = deletePlan();
  const env = { XDG_STATE_HOME: root };
  const journal = await openJournal(
    { target: { dpsHost: sb.target.dps.host, hubHosts: [host] }, plan } as never,
    { env },
  );
  sb.emulator.resetStats();
  const handle = execute(plan, {
    dps: sb.ports.dps,
    hubs: sb.ports.hubs,
    journal,
    journalOptions: { env },
    limits: { timeScale: SCALE, callTimeoutMs: 30_000 },
    jobStorage: poolOf(openJobStorage(await azurite.container('poll'))),
    jobPollMs: BASE_MS,
  });
  const summary = await handle.done;
  const step = summary.results.find((r) => r.stepId === 'deregister:0');
  expect(step?.outcome).toBe('succeeded');
  expect(sb.emulator.store.deviceIds(sb.emulator.store.hubByHost(host) as never)).toEqual([]);
  expect(sb.emulator.jobsCreated()[sb.emulator.hubs[0].name]).toEqual({ export: 0, import: 1 });
  const reads = Object.values(sb.emulator.stats().operations['hub:getJob'] ?? {}).reduce((a, b) => a + b, 0);

  // The job's duration as the hub reports it (wall ms of this run).
  const raw = createRegistry(sb.target.hubs.get(host) as never, sb.target.endpoint);
  const listed = (await raw.listJobs()).responseBody as { startTimeUtc: string; endTimeUtc?: string }[];
  expect(listed).toHaveLength(1);
  const durationMs = Date.parse(listed[0].endTimeUtc ?? '') - Date.parse(listed[0].startTimeUtc);
  expect(durationMs).toBeGreaterThan(0);

  // 100,000 devices by the job model: 160 s, read at most every 8 s of service time (40 ms here).
  const ceilingMs = jobPollCeilingMs(expectedJobMs(N) / SCALE, BASE_MS, JOB_POLL_MAX_MS / SCALE);
  expect(ceilingMs * SCALE).toBe(8000);
  // Reads while the job ran: two of the ramp (10 and 20 ms), then one every ceiling at most; the last
  // read sees it ended. A slow machine sleeps longer between reads: fewer reads, never more.
  expect(reads).toBeGreaterThan(0);
  expect(reads).toBeLessThanOrEqual(Math.floor(durationMs / ceilingMs) + 4);
  // Every 2 s (the old fixed ceiling) would be about durationMs / BASE_MS reads: over 3 times as many.
  expect(reads * 3).toBeLessThan(durationMs / BASE_MS);
}, 180_000);
