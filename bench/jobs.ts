/**
 * Fleet scale (`npm run bench -- --only jobs`): a hub step through the hub's import/export jobs against
 * the same step through identity-registry calls, on one S1 hub (one unit) and over three, disable and
 * delete, at ONE time scale for the emulator, the executor and the job runner alike. Azurite (in memory)
 * is the job storage. Real backend: SDK adapters, executor, journal; plans of hub steps only, built here
 * (the planner's choice of path is not what is measured).
 *
 * Per case: the service time of each path (wall time times the time scale), the identity-registry
 * operations the emulator answered, the job calls, and the tool's overhead over the jobs' own durations
 * (as the hub reports them: startTimeUtc to endTimeUtc). The calls path at 100,000 devices would take
 * 2,000 service minutes on one S1 unit (10 real minutes at 200x): it is measured on a smaller fleet of the
 * same shape and extrapolated linearly (it runs at the identity throttle), and the output says so.
 * Figures are printed, never asserted. BENCH_JOBS_TIME_SCALE, BENCH_JOBS_DEVICES and
 * BENCH_JOBS_CALLS_DEVICES change the scale, the fleet and the measured calls fleet (quick trials).
 *
 * Time scaling speeds up the services, not the tool's own work (reading and writing the blobs, parsing,
 * journaling): measured at the time scale, that work counts time-scale times what it would beside real
 * jobs. So the overhead is given twice: as measured, and with the tool's local work at its real duration
 * (the wait until the tool sees a job ended stays in service time: it is a wait between reads).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  HUB_BULK_MAX,
  PHASES,
  type Phase,
  type Plan,
  type PlanStep,
  type StepOperation,
} from '../src/core/plan-types.js';
import { createRegistry } from '../src/services/azure/clients.js';
import { buildPorts, resolveTarget } from '../src/services/azure/target.js';
import { type EmulatorHandle, type EmulatorStats, startEmulator } from '../src/services/emulator/index.js';
import { DEFAULT_JOB_RATE, JOB_OVERHEAD_MS } from '../src/services/emulator/hub-jobs.js';
import { provision } from '../src/services/emulator/seed-shared.js';
import type { HubDirectory, HubJobInfo, HubJobsPort, HubPort } from '../src/core/ports.js';
import { execute } from '../src/services/executor/index.js';
import { openJournal, type RunJournal } from '../src/services/journal/index.js';
import { type JobStorage, openJobStorage } from '../src/services/storage/job-storage.js';
import { type JobStoragePool, poolOf } from '../src/services/storage/job-storage-pool.js';
import { type AzuriteHandle, startAzurite } from './azurite.js';
import type { BenchRow } from './report.js';
import { verifyReadRows } from './verify-read.js';

/** Service minutes per wall minute: the emulator's throttles and job runner, and the executor's limits. */
export const JOBS_TIME_SCALE = Number(process.env.BENCH_JOBS_TIME_SCALE ?? 200);
const FLEET = Number(process.env.BENCH_JOBS_DEVICES ?? 100_000);
/** The calls path is measured on this many devices (same hubs, same spread) and extrapolated to FLEET. */
const CALLS_MEASURED = Number(process.env.BENCH_JOBS_CALLS_DEVICES ?? 10_000);
/** The executor's default wait between reads of a job's state (2 s): service time, scaled like the rest. */
const POLL_SERVICE_MS = 2000;
/** S1, one unit: identity-registry operations per minute (notes/dps-rules.md). */
const S1_IDENTITY_PER_MIN = 100;
const GOAL_OVERHEAD = 1.1;
const GOAL_IDENTITY_OPS_PER_HUB = 20;

export type HubPath = 'calls' | 'jobs';
export type HubAction = 'disable' | 'delete';

/** Hub operations the identity-registry throttle counts, one per call (bulk calls: one per device). */
const IDENTITY_OPERATIONS = new Set([
  'hub:listDevices',
  'hub:getDevice',
  'hub:putDevice',
  'hub:deleteDevice',
  'hub:listModules',
  'hub:getModule',
  'hub:putModule',
  'hub:deleteModule',
  'hub:getTwin',
]);
/** Not an answered operation: refused for the throttle, or a request the emulator dropped. */
const NOT_AN_OPERATION = new Set(['429', 'reset', 'hang']);

export interface OpsAccounting {
  /** Single-identity registry calls answered (a read or a write of one identity). */
  singleIdentityOps: number;
  /** Bulk registry calls answered. */
  bulkCalls: number;
  /** Identities those bulk calls wrote (each one identity operation on the hub's throttle). */
  bulkDevices: number;
  /** What the hub's identity-registry throttle counts: single calls + devices of bulk calls. */
  identityOps: number;
  /** Import/export jobs created (POST /jobs/create answered). */
  jobCreates: number;
  /** Job reads (GET /jobs/{id}, GET /jobs) and cancels answered: the jobs throttle, not the identity one. */
  jobReads: number;
  /** Hub queries answered (their own throttle). */
  queries: number;
  /** 429 answers (not operations). */
  throttled: number;
}

const sumOf = (byStatus: Record<string, number>, keep: (status: string) => boolean): number =>
  Object.entries(byStatus).reduce((n, [status, k]) => (keep(status) ? n + k : n), 0);

/**
 * The hub operations of a run, from the emulator's stats. A bulk call's devices are counted from the
 * identities it wrote: the hub writes applied (stats.destructive, per device) less the single writes and
 * less `jobWrites`, the identities the hub's import jobs wrote (they show there too, but a job's writes
 * are not identity-registry operations).
 */
export function accountOperations(stats: EmulatorStats, hubHosts: string[], jobWrites = 0): OpsAccounting {
  const acc: OpsAccounting = {
    singleIdentityOps: 0,
    bulkCalls: 0,
    bulkDevices: 0,
    identityOps: 0,
    jobCreates: 0,
    jobReads: 0,
    queries: 0,
    throttled: 0,
  };
  let singleWrites = 0;
  const answered = (s: string) => !NOT_AN_OPERATION.has(s);
  const succeeded = (s: string) => /^2\d\d$/.test(s);
  for (const [operation, byStatus] of Object.entries(stats.operations)) {
    if (!operation.startsWith('hub:')) continue;
    acc.throttled += byStatus['429'] ?? 0;
    const n = sumOf(byStatus, answered);
    if (IDENTITY_OPERATIONS.has(operation)) {
      acc.singleIdentityOps += n;
      if (operation === 'hub:putDevice' || operation === 'hub:deleteDevice')
        singleWrites += sumOf(byStatus, succeeded);
    } else if (operation.startsWith('hub:bulk')) acc.bulkCalls += n;
    else if (operation.startsWith('hub:createJob')) acc.jobCreates += n;
    else if (operation === 'hub:getJob' || operation === 'hub:listJobs' || operation === 'hub:cancelJob')
      acc.jobReads += n;
    else if (operation === 'hub:query') acc.queries += n;
  }
  const hosts = new Set(hubHosts.map((h) => h.toLowerCase()));
  let hubWrites = 0;
  for (const [target, actions] of Object.entries(stats.destructive)) {
    const parts = target.split('/');
    // host/deviceId only: module writes (host/device/modules/m) are single calls, counted above.
    if (parts.length !== 2 || !hosts.has(parts[0].toLowerCase())) continue;
    hubWrites += Object.values(actions).reduce((a, b) => a + b, 0);
  }
  if (acc.bulkCalls > 0) acc.bulkDevices = Math.max(0, hubWrites - singleWrites - jobWrites);
  acc.identityOps = acc.singleIdentityOps + acc.bulkDevices;
  return acc;
}

/** Plans of hub steps only, shaped as the planner makes them (calls: HUB_BULK_MAX devices a step). */
export function hubPlan(path: HubPath, action: HubAction, byHub: Map<string, string[]>): Plan {
  const ops: StepOperation[] = [];
  for (const [hub, ids] of byHub) {
    if (path === 'jobs') ops.push({ kind: 'hubJobDevices', hub, action, deviceIds: ids });
    else
      for (let at = 0; at < ids.length; at += HUB_BULK_MAX) {
        const deviceIds = ids.slice(at, at + HUB_BULK_MAX);
        ops.push(
          action === 'delete'
            ? { kind: 'deleteHubDevices', hub, deviceIds }
            : { kind: 'disableHubDevices', hub, deviceIds },
        );
      }
  }
  const phase: Phase = 'deregister';
  const steps: PlanStep[] = ops.map((op, i) => ({
    id: `${phase}:${i}`,
    phase,
    op,
    call: op.kind,
    destructive: true,
    registrationIds: 'deviceIds' in op ? op.deviceIds : [],
  }));
  const counts = Object.fromEntries(PHASES.map((p) => [p, p === phase ? steps.length : 0])) as Record<
    Phase,
    number
  >;
  const devicesPerHub = Object.fromEntries([...byHub].map(([h, ids]) => [h, ids.length]));
  const devices = [...byHub.values()].reduce((n, ids) => n + ids.length, 0);
  return {
    selection: { kind: 'group', groupId: 'bench-fleet' },
    actions: { disenroll: 'disable', deregister: action, deleteRegistrations: false, deleteGroup: false },
    steps,
    warnings: [],
    snapshot: [],
    counts: { steps: counts, devicesPerHub, devices },
  };
}

/** `devices` SAS identities dealt round-robin to the first `hubs` hubs, written straight into the store. */
export function seedFleet(em: EmulatorHandle, devices: number, hubs: number): Map<string, string[]> {
  const at = new Date().toISOString();
  const chosen = em.hubs.slice(0, hubs).map((h) => em.store.hubByHost(h.host));
  const byHub = new Map<string, string[]>(em.hubs.slice(0, hubs).map((h) => [h.host, []]));
  for (let i = 0; i < devices; i++) {
    const hub = chosen[i % chosen.length];
    if (!hub) throw new Error('bench: the emulator has fewer hubs than asked');
    const registrationId = `bench-${String(i).padStart(6, '0')}`;
    provision(em.store, {
      registrationId,
      enrollment: { kind: 'group', id: 'bench-fleet' },
      hub,
      authType: 'sas',
      at,
    });
    byHub.get(hub.host)?.push(registrationId);
  }
  em.store.touch();
  return byHub;
}

/** Storage calls timed (real ms): the blob I/O the tool itself does between the jobs. */
const timedStorage = (s: JobStorage, spent: { ms: number }): JobStorage => {
  const timed =
    <A extends unknown[], T>(fn: (...a: A) => Promise<T>) =>
    async (...a: A): Promise<T> => {
      const t = process.hrtime.bigint();
      try {
        return await fn(...a);
      } finally {
        spent.ms += Number(process.hrtime.bigint() - t) / 1e6;
      }
    };
  return {
    url: s.url,
    display: s.display,
    writeText: timed((b: string, text: string) => s.writeText(b, text)),
    readText: timed((b: string) => s.readText(b)),
    readLines: (b: string) => s.readLines(b),
    delete: timed((b: string) => s.delete(b)),
    list: timed(() => s.list()),
    // Waiting for the container is not the tool's work: not timed.
    claim: (o) => s.claim(o),
    tryClaim: (holder) => s.tryClaim(holder),
    heldBy: (holder) => s.heldBy(holder),
  };
};

export interface CaseOptions {
  path: HubPath;
  action: HubAction;
  devices: number;
  hubs: number;
  timeScale: number;
  /** XDG_STATE_HOME for the journals. */
  stateHome: string;
  /** Job storage (jobs path). */
  azurite?: AzuriteHandle;
  /**
   * Jobs path: job storage of one container per hub (`--job-storage` once per container), so the hubs'
   * jobs run at once, instead of one container the hubs' steps take in turns.
   */
  containerPerHub?: boolean;
}

export interface JobTime {
  hub: string;
  type: string;
  status: string;
  /** startTimeUtc to endTimeUtc, real ms. */
  ms: number;
  /** From the job's end (endTimeUtc) to the tool's read that saw it ended, real ms. */
  noticedAfterMs: number;
}

export interface CaseResult {
  wallMs: number;
  accounting: OpsAccounting;
  hubs: number;
  /** Jobs created per hub name. */
  jobsCreated: Record<string, { export: number; import: number }>;
  jobs: JobTime[];
  /** The longest hub's sum of its jobs' durations (hubs run in parallel), real ms. */
  jobsOwnMs: number;
  /** On that hub: the time from its jobs' ends until the tool saw them ended, real ms. */
  noticeMs: number;
  /** Real ms the tool spent in job-storage calls (all hubs, summed). */
  storageMs: number;
  /** Devices in the end state the action asks for. */
  done: number;
  failedSteps: number;
  /** Devices the runs reported done that are not in the end state (a false success). */
  claimedNotDone: number;
  /** Devices the step finished on the call path (changed since the export). */
  finishedOnCalls: number;
  /** Blobs left in the job containers after the run. */
  blobsLeft: number;
}

let containers = 0;

/** The hub ports, their job calls watched: when the tool first saw each job ended (Date.now(), ms). */
function watchJobs(hubs: HubDirectory, seenEnded: Map<string, number>): HubDirectory {
  const terminal = new Set(['completed', 'failed', 'cancelled']);
  const watched = new Map<string, HubPort>();
  const wrap = (port: HubPort): HubPort => {
    const jobs = port.jobs;
    if (!jobs) return port;
    const seen = (j: HubJobInfo): HubJobInfo => {
      if (terminal.has(j.status) && !seenEnded.has(j.jobId)) seenEnded.set(j.jobId, Date.now());
      return j;
    };
    const watchedJobs: HubJobsPort = {
      exportDevices: async (url, excludeKeys) => seen(await jobs.exportDevices(url, excludeKeys)),
      importDevices: async (input, output) => seen(await jobs.importDevices(input, output)),
      getJob: async (id) => seen(await jobs.getJob(id)),
      cancelJob: (id) => jobs.cancelJob(id),
      listJobs: () => jobs.listJobs(),
    };
    return new Proxy(port, {
      get(target, prop) {
        if (prop === 'jobs') return watchedJobs;
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  };
  return {
    hosts: () => hubs.hosts(),
    get(host) {
      const key = host.toLowerCase();
      let port = watched.get(key);
      if (!port) {
        const raw = hubs.get(host);
        if (!raw) return undefined;
        port = wrap(raw);
        watched.set(key, port);
      }
      return port;
    },
  };
}

/** One case on a fresh emulator: seed, plan, journaled run through the executor, then the accounting. */
export async function runCase(o: CaseOptions): Promise<CaseResult> {
  const em = await startEmulator({ seed: 0, tier: 'S1', units: 1, timeScale: o.timeScale });
  try {
    const byHub = seedFleet(em, o.devices, o.hubs);
    const target = resolveTarget({
      dps: em.dps.connectionString,
      hubs: em.hubs.map((h) => h.connectionString),
      endpoint: em.url,
      env: {},
      configPath: false,
      kind: 'sandbox',
    });
    const ports = buildPorts(target);
    const seenEnded = new Map<string, number>();
    const hubs = watchJobs(ports.hubs, seenEnded);
    const env = { XDG_STATE_HOME: o.stateHome };
    const spent = { ms: 0 };
    const runs: { plan: Plan; journal: RunJournal; containers: string[]; storage?: JobStoragePool }[] = [];
    const plan = hubPlan(o.path, o.action, byHub);
    const journal = await openJournal(
      { target: { dpsHost: target.dps.host, hubHosts: [...byHub.keys()] }, plan },
      { env },
    );
    if (o.path !== 'jobs') runs.push({ plan, journal, containers: [] });
    else {
      const { azurite } = o;
      if (!azurite) throw new Error('bench: the jobs path needs job storage');
      const names = Array.from({ length: o.containerPerHub ? byHub.size : 1 }, () => `jobs-${++containers}`);
      const opened = await Promise.all(
        names.map(async (n) => timedStorage(openJobStorage(await azurite.container(n)), spent)),
      );
      runs.push({ plan, journal, containers: names, storage: poolOf(opened) });
    }
    em.resetStats();
    const t = process.hrtime.bigint();
    const summaries = await Promise.all(
      runs.map(
        (r) =>
          execute(r.plan, {
            dps: ports.dps,
            hubs,
            journal: r.journal,
            journalOptions: { env },
            limits: { timeScale: o.timeScale, defaultHub: { tier: 'S1', units: 1 } },
            ...(r.storage ? { jobStorage: r.storage, jobPollMs: POLL_SERVICE_MS / o.timeScale } : {}),
          }).done,
      ),
    );
    const wallMs = Number(process.hrtime.bigint() - t) / 1e6;
    const stats = em.stats();
    const results = summaries.flatMap((s) => s.results);
    const devices = results.flatMap((r) => r.devices ?? []);
    const finishedOnCalls = devices.filter((d) => d.message?.includes('finished on the call path')).length;
    const jobWrites =
      o.path === 'jobs' ? devices.filter((d) => d.outcome === 'succeeded').length - finishedOnCalls : 0;
    const jobs: JobTime[] = [];
    const ownByHub = new Map<string, { own: number; notice: number }>();
    if (o.path === 'jobs') {
      for (const host of byHub.keys()) {
        const auth = target.hubs.get(host);
        if (!auth) continue;
        const listed = (await createRegistry(auth, target.endpoint).listJobs()).responseBody as {
          jobId: string;
          type: string;
          status: string;
          startTimeUtc: string;
          endTimeUtc?: string;
        }[];
        const sums = { own: 0, notice: 0 };
        for (const j of listed) {
          const end = j.endTimeUtc ? Date.parse(j.endTimeUtc) : Number.NaN;
          const ms = end - Date.parse(j.startTimeUtc);
          const noticedAfterMs = Math.max(0, (seenEnded.get(j.jobId) ?? end) - end);
          jobs.push({ hub: host, type: j.type, status: j.status, ms, noticedAfterMs });
          sums.own += ms;
          sums.notice += noticedAfterMs;
        }
        ownByHub.set(host, sums);
      }
    }
    const longest = [...ownByHub.values()].reduce((a, b) => (b.own > a.own ? b : a), { own: 0, notice: 0 });
    let done = 0;
    let claimedNotDone = 0;
    const claimed = new Set(devices.filter((d) => d.outcome !== 'failed').map((d) => d.id));
    for (const [host, ids] of byHub) {
      const hub = em.store.hubByHost(host);
      for (const id of ids) {
        const d = hub?.devices.get(id);
        const isDone = o.action === 'delete' ? d === undefined : d?.status === 'disabled';
        if (isDone) done++;
        else if (claimed.has(id)) claimedNotDone++;
      }
    }
    let blobsLeft = 0;
    for (const r of runs)
      for (const c of r.containers) if (o.azurite) blobsLeft += (await o.azurite.blobs(c)).length;
    return {
      wallMs,
      accounting: accountOperations(stats, [...byHub.keys()], jobWrites),
      hubs: byHub.size,
      jobsCreated: em.jobsCreated(),
      jobs,
      jobsOwnMs: longest.own,
      noticeMs: longest.notice,
      storageMs: spent.ms,
      done,
      failedSteps: results.filter((r) => r.outcome === 'failed').length,
      claimedNotDone,
      finishedOnCalls,
      blobsLeft,
    };
  } finally {
    await em.stop();
  }
}

/**
 * The calls path's floor: the busiest hub's identity operations at S1's 100 a minute (a status change
 * reads and writes each identity: two; a delete: one).
 */
export const callsFloorMinutes = (devices: number, hubs: number, action: HubAction): number =>
  (Math.ceil(devices / hubs) * (action === 'disable' ? 2 : 1)) / S1_IDENTITY_PER_MIN;

const fmt = (n: number) => n.toLocaleString('en-US');

/** The emulator's job model for one hub's jobs: JOB_OVERHEAD_MS each, plus the devices at the job rate. */
const modelledJobMinutes = (devicesOnHub: number, action: HubAction): number => {
  const jobs = action === 'disable' ? 2 : 1;
  return (jobs * JOB_OVERHEAD_MS) / 60_000 + (jobs * devicesOnHub) / DEFAULT_JOB_RATE;
};

/** Rows for one jobs-path run: time, where the tool's overhead goes, operations, end state. */
function jobsRows(label: string, j: CaseResult, fleet: number, S: number, action: HubAction): BenchRow[] {
  const bench = 'jobs';
  const min = (realMs: number) => (realMs * S) / 60_000;
  const own = min(j.jobsOwnMs);
  const wall = min(j.wallMs);
  const notice = min(j.noticeMs);
  const localMs = Math.max(0, j.wallMs - j.jobsOwnMs - j.noticeMs);
  const projected = own + notice + localMs / 60_000;
  const creates = Object.values(j.jobsCreated).map((x) => `${x.export}+${x.import}`);
  return [
    { bench, metric: `${label}: jobs, service time`, value: Number(wall.toFixed(2)), unit: 'min' },
    {
      bench,
      metric: `${label}: jobs, their own time (longest hub's sum, start to end as the hub reports)`,
      value: Number(own.toFixed(2)),
      unit: 'min',
    },
    {
      bench,
      metric: `${label}: jobs, the emulator's job model for them (its job runner is CPU-bound here)`,
      value: Number(modelledJobMinutes(Math.ceil(fleet / j.hubs), action).toFixed(2)),
      unit: 'min',
    },
    {
      bench,
      metric: `${label}: jobs, tool overhead as measured (its local work scaled x${S} too)`,
      value: Number((wall - own).toFixed(2)),
      unit: 'min',
      ratio: j.jobsOwnMs > 0 ? j.wallMs / j.jobsOwnMs : undefined,
      reference: `the jobs' own time (goal <= ${GOAL_OVERHEAD.toFixed(2)})`,
    },
    {
      bench,
      metric: `${label}: jobs, - of it: until the tool saw a job ended (reads from ${POLL_SERVICE_MS / 1000} s up to 1/20 of a job's expected time)`,
      value: Number(notice.toFixed(2)),
      unit: 'min',
    },
    {
      bench,
      metric: `${label}: jobs, - of it: the tool's local work (real time; blob I/O ${fmt(Math.round(j.storageMs))} ms)`,
      value: Math.round(localMs),
      unit: 'ms',
    },
    {
      bench,
      metric: `${label}: jobs, tool overhead with its local work at real duration (not scaled)`,
      value: Number((projected - own).toFixed(2)),
      unit: 'min',
      ratio: own > 0 ? projected / own : undefined,
      reference: `the jobs' own time (goal <= ${GOAL_OVERHEAD.toFixed(2)})`,
    },
    {
      bench,
      metric: `${label}: jobs, identity-registry ops per hub (goal < ${GOAL_IDENTITY_OPS_PER_HUB})`,
      value: Number((j.accounting.identityOps / j.hubs).toFixed(1)),
      unit: 'ops',
    },
    {
      bench,
      metric: `${label}: jobs, jobs created per hub (export+import: ${creates.join(', ')})`,
      value: Number((j.accounting.jobCreates / j.hubs).toFixed(1)),
      unit: 'jobs',
    },
    {
      bench,
      metric: `${label}: jobs, job status reads per hub (jobs throttle, not identity)`,
      value: Number((j.accounting.jobReads / j.hubs).toFixed(1)),
      unit: 'calls',
    },
    {
      bench,
      metric: `${label}: jobs, devices in the end state`,
      value: j.done,
      unit: `of ${fmt(fleet)} (${j.failedSteps} failed steps, ${j.claimedNotDone} reported done but not, ${j.finishedOnCalls} finished on calls, ${j.blobsLeft} blobs left)`,
    },
  ];
}

export async function benchJobs(): Promise<BenchRow[]> {
  const bench = 'jobs';
  const S = JOBS_TIME_SCALE;
  const minutes = (realMs: number) => (realMs * S) / 60_000;
  const factor = FLEET / CALLS_MEASURED;
  const rows: BenchRow[] = [
    { bench, metric: 'time scale (emulator, job runner and executor alike)', value: S, unit: 'x' },
    {
      bench,
      metric: `job rate: the emulator's default (Azure publishes none), + ${JOB_OVERHEAD_MS / 1000} s a job`,
      value: DEFAULT_JOB_RATE,
      unit: 'devices/min',
    },
    {
      bench,
      metric: `calls path: MEASURED on ${fmt(CALLS_MEASURED)} devices, EXTRAPOLATED x${factor} to ${fmt(FLEET)}`,
      value: CALLS_MEASURED,
      unit: 'devices',
    },
  ];
  const load = () => loadavg()[0].toFixed(1);
  const loadBefore = load();
  const stateHome = mkdtempSync(join(tmpdir(), 'jobs-bench-'));
  const azurite = await startAzurite();
  try {
    for (const hubs of [1, 3]) {
      for (const action of ['disable', 'delete'] as const) {
        const label = `${fmt(FLEET)} on ${hubs} hub${hubs > 1 ? 's' : ''}, ${action}`;
        const base = { action, hubs, timeScale: S, stateHome };
        process.stderr.write(`  ${label}: jobs...\n`);
        let j = await runCase({ ...base, path: 'jobs', devices: FLEET, azurite });
        if (hubs > 1) {
          // One container: the hubs' steps take turns (each job reads and writes devices.txt there).
          rows.push(...jobsRows(`${label} (one container: the hubs' jobs take turns)`, j, FLEET, S, action));
          const turns = j;
          process.stderr.write(`  ${label}: jobs, a container per hub...\n`);
          j = await runCase({ ...base, path: 'jobs', devices: FLEET, azurite, containerPerHub: true });
          rows.push(
            ...jobsRows(`${label} (a container per hub: the hubs' jobs at once)`, j, FLEET, S, action),
          );
          rows.push({
            bench,
            metric: `${label}: jobs, service time with a container per hub`,
            value: Number(minutes(j.wallMs).toFixed(2)),
            unit: 'min',
            ratio: minutes(turns.wallMs) / minutes(j.wallMs),
            reference: `one container, ${minutes(turns.wallMs).toFixed(2)} min (ratio: how many times faster)`,
          });
        } else rows.push(...jobsRows(label, j, FLEET, S, action));
        process.stderr.write(`  ${label}: calls (${fmt(CALLS_MEASURED)} devices)...\n`);
        const c = await runCase({ ...base, path: 'calls', devices: CALLS_MEASURED });
        const callsMin = minutes(c.wallMs) * factor;
        const floor = callsFloorMinutes(FLEET, hubs, action);
        const jobsMin = minutes(j.wallMs);
        rows.push(
          {
            bench,
            metric: `${label}: calls, service time (EXTRAPOLATED x${factor})`,
            value: Number(callsMin.toFixed(1)),
            unit: 'min',
            ratio: callsMin / floor,
            reference: `the S1 identity floor, ${fmt(floor)} min`,
          },
          {
            bench,
            metric: `${label}: calls, identity-registry ops per hub (EXTRAPOLATED x${factor})`,
            value: Math.round((c.accounting.identityOps * factor) / c.hubs),
            unit: 'ops',
          },
          {
            bench,
            metric: `${label}: calls, measured on ${fmt(CALLS_MEASURED)}: devices in the end state`,
            value: c.done,
            unit: `(${c.failedSteps} failed steps, ${c.accounting.throttled} 429 answers)`,
          },
          {
            bench,
            metric: `${label}: calls / jobs (service time)`,
            value: Number((callsMin / jobsMin).toFixed(1)),
            unit: 'x',
          },
        );
      }
    }
    // Verify's read of the same fleet on one hub: queries against one export job without keys.
    rows.push(
      ...(await verifyReadRows({
        devices: FLEET,
        timeScale: S,
        azurite,
        seed: (em, n) => [...seedFleet(em, n, 1).values()].flat(),
      })),
    );
  } finally {
    await azurite.stop();
    rmSync(stateHome, { recursive: true, force: true });
  }
  rows.push({
    bench,
    metric: `load average (1 min) before / after, ${cpus().length} CPUs shared with other work`,
    value: Number(loadBefore),
    unit: `/ ${load()}`,
  });
  return rows;
}
