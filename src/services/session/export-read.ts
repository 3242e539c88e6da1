/**
 * Verify at fleet scale: a hub's identities read through ONE export job without keys (the SDK's
 * Registry.exportDevicesToBlob(url, true)) instead of a query per 100 device IDs. The job writes the
 * whole registry to job storage as JSON lines; the lines are streamed, the selected IDs kept, and the
 * blob deleted however the read ends. Which hubs take it: core/hub-read-path.ts. Read-only: nothing of
 * it is journaled (a run's jobs are; verify's are not).
 */
import { hubJobWords } from '../../core/hub-job-state.js';
import { randomUUID } from 'node:crypto';
import { isServiceError } from '../../core/errors.js';
import type { HubPathChoice } from '../../core/hub-path.js';
import { chooseHubReadPath, type HubReadReport } from '../../core/hub-read-path.js';
import { expectedJobMs, JOB_POLL_MAX_MS } from '../../core/job-poll.js';
import type { HubDevice } from '../../core/model.js';
import type { HubDirectory, HubJobsPort } from '../../core/ports.js';
import { toHubDevice } from '../azure/hub-mapping.js';
import { at, type Json } from '../azure/json.js';
import { DEVICES_BLOB, JobFailed, type JobEnv, runJob } from '../executor/hub-job.js';
import type { ReadLimiter } from '../executor/read-limiter.js';
import { scrubSecrets } from '../journal/redact.js';
import { type JobStoragePool, withJobContainer } from '../storage/job-storage-pool.js';

/** The hubs a read takes through an export job, and what each hub's read was (verify's output). */
export interface ExportReads {
  /**
   * The reader of this hub's identities among some IDs through one export job, when the hub's read of
   * `deviceIds` IDs takes that path; undefined: the query path (as without job storage).
   */
  readerFor(host: string, deviceIds: number): ((ids: readonly string[]) => Promise<HubDevice[]>) | undefined;
  /** Each hub's read so far, in the order they were decided. */
  reports(): HubReadReport[];
}

export interface ExportReadsOptions {
  hubs: HubDirectory;
  choice: HubPathChoice;
  storage?: JobStoragePool;
  queriesPerMinute: (host: string) => number;
  /** Job calls (create, get) go through the session's read limiter, on the hub's jobs lane. */
  limiter: ReadLimiter;
  signal?: AbortSignal;
  jobPollMs?: number;
  /** The session's time scale (limits.timeScale): the job model's expected durations are divided by it. */
  timeScale?: number;
  /** What the read waits on (another job on the hub, the container in use). */
  onWaiting?: (text: string) => void;
}

/** A key in an exported identity: never expected (excludeKeys), never kept or shown. */
const carriesKey = (line: Json): boolean => {
  const keys = at(line, 'authentication', 'symmetricKey');
  return Boolean(keys?.primaryKey || keys?.secondaryKey);
};

/** An exported identity (ExportImportDevice: `id`, `eTag`) as a HubDevice of `host`. */
const exportedDevice = (host: string, line: Json): HubDevice =>
  toHubDevice(host, { ...line, deviceId: line.id, etag: line.eTag }, 'identity');

/** An exported line as a device when it is one of `wanted`; a line that is not JSON or carries keys fails. */
const wantedDevice = (host: string, text: string, wanted: ReadonlySet<string>): HubDevice | undefined => {
  if (!text.trim()) return undefined;
  let line: Json;
  try {
    line = JSON.parse(text) as Json;
  } catch {
    throw new JobFailed(`the export job on ${host} wrote a line that is not JSON`);
  }
  if (carriesKey(line))
    throw new JobFailed(`the export job on ${host} wrote device keys although asked for none`);
  return wanted.has(String(line.id ?? '')) ? exportedDevice(host, line) : undefined;
};

/**
 * One export job without keys on `host`, its devices file streamed and filtered to `wanted`. A free
 * container of the pool is claimed for the job (one job step at a time in it) and the file deleted however it ends;
 * a file that could not be deleted is said in the returned `left`.
 */
export async function readHubByExport(
  o: Pick<ExportReadsOptions, 'storage' | 'limiter' | 'signal' | 'jobPollMs' | 'timeScale' | 'onWaiting'> & {
    jobs: HubJobsPort;
    storage: JobStoragePool;
  },
  host: string,
  wanted: ReadonlySet<string>,
): Promise<{ devices: HubDevice[]; left?: string }> {
  const { jobs } = o;
  const timeScale = o.timeScale && o.timeScale > 0 ? o.timeScale : 1;
  const env: JobEnv = {
    call: (lane, cost, _destructive, fn) =>
      o.limiter.read(lane, typeof cost === 'number' ? cost : cost(), fn),
    ...(o.jobPollMs !== undefined ? { jobPollMs: o.jobPollMs } : {}),
    // The export holds the whole hub: at least the wanted devices (all the read knows of its size).
    jobExpectedMs: expectedJobMs(wanted.size) / timeScale,
    jobPollMaxMs: JOB_POLL_MAX_MS / timeScale,
    ...(o.onWaiting ? { jobWaiting: (state) => o.onWaiting?.(hubJobWords(state)) } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  };
  const devices: HubDevice[] = [];
  let left: string | undefined;
  await withJobContainer(
    o.storage,
    {
      holder: `verify ${host.toLowerCase()} ${randomUUID()}`,
      ...(o.signal ? { signal: o.signal } : {}),
      retryMs: Math.min(o.jobPollMs ?? 1000, 1000),
      waiting: (busy) => o.onWaiting?.(`${busy} is in use by another job step: verify of ${host} waits`),
      blobs: [DEVICES_BLOB],
      left: (display) => {
        left = `${DEVICES_BLOB} left in ${display}: delete it`;
      },
    },
    async (storage) => {
      let created: string | undefined;
      let ended = false;
      try {
        // A file left by an earlier job is never read as this one's.
        await storage.delete(DEVICES_BLOB);
        await runJob(env, jobs, host.toLowerCase(), host, 'export', async () => {
          const job = await jobs.exportDevices(storage.url, true);
          created = job.jobId;
          return job;
        });
        ended = true;
        for await (const text of storage.readLines(DEVICES_BLOB)) {
          const device = wantedDevice(host, text, wanted);
          if (device) devices.push(device);
        }
      } catch (e) {
        // Stopped (or failed to follow the job) while it runs: cancelled, so it writes no file after.
        const jobId = created;
        if (jobId && !ended) await jobs.cancelJob(jobId).catch(() => undefined);
        throw e;
      }
    },
  );
  return { devices, ...(left ? { left } : {}) };
}

/** Why an export read failed, without SAS or keys; a refused key is rethrown by the caller as it is. */
const failureOf = (e: unknown): string => scrubSecrets(e instanceof Error ? e.message : String(e));

export function createExportReads(o: ExportReadsOptions): ExportReads {
  const reports = new Map<string, HubReadReport>();
  return {
    reports: () => [...reports.values()],
    readerFor(host, deviceIds) {
      const key = host.toLowerCase();
      const decision = chooseHubReadPath({
        choice: o.choice,
        deviceIds,
        queriesPerMinute: o.queriesPerMinute(key),
        storageConfigured: o.storage !== undefined,
      });
      const jobs = o.hubs.get(key)?.jobs;
      const storage = o.storage;
      if (decision.path === 'queries' || !jobs || !storage) {
        const reason = jobs ? decision.reason : 'the hub takes no import/export jobs here';
        reports.set(key, { hub: host, path: 'queries', reason, deviceIds });
        return undefined;
      }
      return async (ids) => {
        const report: HubReadReport = { hub: host, path: 'export', reason: decision.reason, deviceIds };
        reports.set(key, report);
        try {
          const read = await readHubByExport({ ...o, jobs, storage }, host, new Set(ids));
          if (read.left) report.reason = `${report.reason}; ${read.left}`;
          return read.devices;
        } catch (e) {
          if (!(isServiceError(e) && (e.kind === 'unauthorized' || e.kind === 'forbidden'))) {
            reports.set(key, { hub: host, path: 'failed', reason: failureOf(e), deviceIds });
          }
          throw e;
        }
      };
    },
  };
}
