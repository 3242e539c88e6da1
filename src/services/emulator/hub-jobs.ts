/**
 * IoT Hub import/export jobs (POST /jobs/create, GET /jobs, GET /jobs/{id}, DELETE /jobs/{id}): the
 * hub reads and writes blobs in the containers the job names, through their SAS URLs, with the real
 * storage client (@azure/storage-blob), so Azurite (or Azure Storage) holds what a job reads and writes.
 *
 * A job is `enqueued`, then `running` (progress in percent), then `completed`, `failed` (with a
 * `failureReason`) or `cancelled`. One import/export job may be active per hub: a second create is
 * refused with 409 while one is enqueued or running. Devices are processed at `jobRate` devices per
 * service minute (Azure publishes no rate; the default is the emulator's pick), scaled like the throttles.
 *
 * Export writes `devices.txt` (or `outputBlobName`), one ExportImportDevice JSON object a line, keys
 * included unless `excludeKeysInExport`. Import reads `devices.txt` (or `inputBlobName`) from the input
 * container, applies each line under its importMode, and writes the failures to `importErrors.log` in
 * the output container (one JSON object a line: deviceId, errorCode, errorStatus).
 */
import { randomUUID } from 'node:crypto';
import { AnonymousCredential, ContainerClient } from '@azure/storage-blob';
import { storageClientOptions } from '../storage/user-delegation.js';
import { ServiceError } from './errors.js';
import { applyImportItem, type BulkItem, importModeOf } from './hub-routes.js';
import { twinEtag } from './hub-model.js';
import { type Reply, type RequestContext, type Route, pathPattern } from './router.js';
import type { HubState } from './store.js';
import type { StoredDevice } from './types.js';

export type HubJobStatus = 'enqueued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** Devices per service minute a job processes when none is given (the emulator's assumption). */
export const DEFAULT_JOB_RATE = 60_000;
/** A job's fixed overhead (queueing, reading and writing its blobs), in service milliseconds. */
export const JOB_OVERHEAD_MS = 1_000;

interface HubJob {
  jobId: string;
  hub: string;
  type: 'export' | 'import';
  status: HubJobStatus;
  progress: number;
  startTimeUtc: string;
  endTimeUtc?: string;
  inputBlobContainerUri?: string;
  outputBlobContainerUri: string;
  inputBlobName: string;
  outputBlobName: string;
  excludeKeysInExport: boolean;
  failureReason?: string;
  /** Devices the job has to process (known once its input is read). */
  total: number;
  done: number;
}

export interface HubJobsOptions {
  /** Devices per service minute (default DEFAULT_JOB_RATE). */
  jobRate?: number;
  /** As the throttles: 60 = a service minute passes in a real second. */
  timeScale?: number;
  /** A CA certificate (PEM) to trust on the storage the jobs are given. */
  storageCa?: string;
}

/** Without its SAS: what a job shows of a container URL in messages. */
const withoutQuery = (uri: string): string => uri.split('?')[0];

export class HubJobs {
  private readonly jobs = new Map<string, HubJob>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private readonly rate: number;
  private readonly timeScale: number;
  private readonly storageCa?: string;
  /** Per hub, per job type, the jobs created (for tests: one import job per hub and step). */
  readonly created = new Map<string, { export: number; import: number }>();

  constructor(opts: HubJobsOptions = {}) {
    this.rate = opts.jobRate ?? DEFAULT_JOB_RATE;
    this.timeScale = opts.timeScale ?? 1;
    this.storageCa = opts.storageCa;
  }

  /** The container a job names, through the SAS in its URL. */
  private containerAt(uri: string): ContainerClient {
    return new ContainerClient(uri, new AnonymousCredential(), storageClientOptions(this.storageCa));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private sleep(serviceMs: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(
        () => {
          this.timers.delete(t);
          resolve();
        },
        Math.max(1, serviceMs / this.timeScale),
      );
      this.timers.add(t);
    });
  }

  list(hub: HubState): HubJob[] {
    return [...this.jobs.values()].filter((j) => j.hub === hub.name);
  }

  get(hub: HubState, id: string): HubJob {
    const job = this.jobs.get(id);
    if (!job || job.hub !== hub.name) {
      throw new ServiceError('notFound', `Job ${id} not found on this hub`, { hubCode: 'JobNotFound' });
    }
    return job;
  }

  create(ctx: RequestContext, hub: HubState, body: Record<string, unknown>): HubJob {
    const type = String(body.type ?? '').toLowerCase();
    if (type !== 'export' && type !== 'import') {
      throw new ServiceError('badRequest', `job type "${body.type}" is not export or import`);
    }
    if (String(body.storageAuthenticationType ?? 'keyBased').toLowerCase() === 'identitybased') {
      throw new ServiceError(
        'badRequest',
        'identity-based storage access is not emulated: give a container SAS URL',
      );
    }
    const uri = (name: string): string => {
      const v = body[name];
      if (typeof v !== 'string' || !/^https?:\/\//i.test(v)) {
        throw new ServiceError('badRequest', `${name} must be a blob container URL with a SAS`);
      }
      return v;
    };
    const outputBlobContainerUri = uri('outputBlobContainerUri');
    const inputBlobContainerUri = type === 'import' ? uri('inputBlobContainerUri') : undefined;
    const active = this.list(hub).find((j) => j.status === 'enqueued' || j.status === 'running');
    if (active) {
      throw new ServiceError(
        'conflict',
        `job ${active.jobId} is still active on this hub: one import/export job at a time`,
        {
          hubCode: 'JobRunPreconditionFailed',
        },
      );
    }
    const job: HubJob = {
      jobId: randomUUID(),
      hub: hub.name,
      type,
      status: 'enqueued',
      progress: 0,
      startTimeUtc: new Date().toISOString(),
      outputBlobContainerUri,
      ...(inputBlobContainerUri ? { inputBlobContainerUri } : {}),
      inputBlobName:
        typeof body.inputBlobName === 'string' && body.inputBlobName ? body.inputBlobName : 'devices.txt',
      outputBlobName:
        typeof body.outputBlobName === 'string' && body.outputBlobName ? body.outputBlobName : 'devices.txt',
      excludeKeysInExport: body.excludeKeysInExport === true,
      total: 0,
      done: 0,
    };
    this.jobs.set(job.jobId, job);
    const counts = this.created.get(hub.name) ?? { export: 0, import: 0 };
    counts[type] += 1;
    this.created.set(hub.name, counts);
    void this.run(job, ctx.emulator, hub);
    return job;
  }

  cancel(hub: HubState, id: string): HubJob {
    const job = this.get(hub, id);
    if (job.status === 'enqueued' || job.status === 'running') {
      job.status = 'cancelled';
      job.endTimeUtc = new Date().toISOString();
    }
    return job;
  }

  private finished(job: HubJob): boolean {
    return this.stopped || job.status === 'cancelled';
  }

  private async run(job: HubJob, emulator: RequestContext['emulator'], hub: HubState): Promise<void> {
    try {
      await this.sleep(JOB_OVERHEAD_MS / 2);
      if (this.finished(job)) return;
      job.status = 'running';
      if (job.type === 'export') await this.runExport(job, emulator, hub);
      else await this.runImport(job, emulator, hub);
      if (this.finished(job)) return;
      job.progress = 100;
      job.status = 'completed';
    } catch (e) {
      if (this.finished(job)) return;
      job.status = 'failed';
      job.failureReason = failureOf(e);
    }
    job.endTimeUtc = new Date().toISOString();
  }

  /** Waits as long as processing `n` devices takes at the job rate; false when the job was stopped. */
  private async process(job: HubJob, n: number): Promise<boolean> {
    await this.sleep((n / this.rate) * 60_000);
    job.done += n;
    job.progress = job.total ? Math.min(99, Math.floor((job.done / job.total) * 100)) : 99;
    return !this.finished(job);
  }

  private async runExport(job: HubJob, emulator: RequestContext['emulator'], hub: HubState): Promise<void> {
    const container = this.containerAt(job.outputBlobContainerUri);
    const ids = emulator.store.deviceIds(hub);
    job.total = ids.length;
    const lines: string[] = [];
    for (let at = 0; at < ids.length; at += 1000) {
      for (const id of ids.slice(at, at + 1000)) {
        const d = hub.devices.get(id);
        if (d) lines.push(JSON.stringify(exportDevice(d, emulator, hub, job.excludeKeysInExport)));
      }
      if (!(await this.process(job, Math.min(1000, ids.length - at)))) return;
    }
    const text = lines.length ? `${lines.join('\n')}\n` : '';
    await container.getBlockBlobClient(job.outputBlobName).upload(text, Buffer.byteLength(text));
    await this.sleep(JOB_OVERHEAD_MS / 2);
  }

  private async runImport(job: HubJob, emulator: RequestContext['emulator'], hub: HubState): Promise<void> {
    const input = this.containerAt(job.inputBlobContainerUri as string);
    const output = this.containerAt(job.outputBlobContainerUri);
    let text: string;
    try {
      text = (await input.getBlockBlobClient(job.inputBlobName).downloadToBuffer()).toString('utf8');
    } catch (e) {
      throw new JobFailure(
        `could not read ${job.inputBlobName} from ${withoutQuery(job.inputBlobContainerUri as string)}: ${failureOf(e)}`,
      );
    }
    const items: (BulkItem & { id: string })[] = [];
    for (const [n, line] of text.split(/\r?\n/).entries()) {
      if (!line.trim()) continue;
      let item: unknown;
      try {
        item = JSON.parse(line);
      } catch {
        throw new JobFailure(`${job.inputBlobName} line ${n + 1} is not JSON`);
      }
      const id = (item as { id?: unknown })?.id;
      if (typeof id !== 'string' || !id) throw new JobFailure(`${job.inputBlobName} line ${n + 1} has no id`);
      items.push(item as BulkItem & { id: string });
    }
    job.total = items.length;
    const errors: string[] = [];
    for (let at = 0; at < items.length; at += 1000) {
      for (const item of items.slice(at, at + 1000)) {
        const raw = String(item.importMode ?? 'createOrUpdate').toLowerCase();
        const mode = raw === 'createorupdate' ? 'update' : importModeOf(raw);
        if (!mode) {
          errors.push(
            JSON.stringify({
              deviceId: item.id,
              errorCode: 'ArgumentInvalid',
              errorStatus: `importMode "${item.importMode}" is not known`,
            }),
          );
          continue;
        }
        const failure = applyImportItem(emulator, hub, item, mode);
        if (failure) errors.push(JSON.stringify({ deviceId: item.id, ...failure }));
      }
      if (!(await this.process(job, Math.min(1000, items.length - at)))) return;
    }
    const log = errors.length ? `${errors.join('\n')}\n` : '';
    await output.getBlockBlobClient('importErrors.log').upload(log, Buffer.byteLength(log));
    await this.sleep(JOB_OVERHEAD_MS / 2);
  }
}

class JobFailure extends Error {}

function failureOf(e: unknown): string {
  if (e instanceof JobFailure) return e.message;
  const err = e as { statusCode?: number; code?: string; message?: string };
  // Storage errors may quote the URL they were given: never its SAS.
  const text = String(err?.message ?? e).replace(/\?[^\s"']*sig=[^\s"']*/gi, '?<SAS>');
  return err?.statusCode
    ? `storage answered ${err.statusCode}${err.code ? ` ${err.code}` : ''}`
    : text.split('\n')[0];
}

/** One ExportImportDevice line, as Azure writes it. */
function exportDevice(
  d: StoredDevice,
  emulator: RequestContext['emulator'],
  hub: HubState,
  excludeKeys: boolean,
): Record<string, unknown> {
  const keys = d.authType === 'sas' ? emulator.store.deviceKeys(hub, d) : undefined;
  const authentication: Record<string, unknown> = { type: d.authType };
  if (d.authType === 'sas') {
    authentication.symmetricKey = excludeKeys
      ? { primaryKey: null, secondaryKey: null }
      : { primaryKey: keys?.primaryKey ?? null, secondaryKey: keys?.secondaryKey ?? null };
  }
  if (d.authType === 'selfSigned') {
    authentication.x509Thumbprint = {
      primaryThumbprint: d.primaryThumbprint ?? null,
      secondaryThumbprint: d.secondaryThumbprint ?? null,
    };
  }
  return {
    id: d.deviceId,
    eTag: d.etag,
    status: d.status,
    ...(d.statusReason ? { statusReason: d.statusReason } : {}),
    authentication,
    capabilities: { iotEdge: d.iotEdge },
    ...(d.deviceScope ? { deviceScope: d.deviceScope } : {}),
    ...(d.parentScopes?.length ? { parentScopes: d.parentScopes } : {}),
    twinETag: twinEtag(d.twinVersion),
    ...(d.tags ? { tags: d.tags } : {}),
    properties: { desired: { ...(d.desired ?? {}) }, reported: {} },
  };
}

/** The job as the service renders it (JobProperties). */
function render(job: HubJob): Record<string, unknown> {
  return {
    jobId: job.jobId,
    type: job.type,
    status: job.status,
    progress: job.progress,
    startTimeUtc: job.startTimeUtc,
    ...(job.endTimeUtc ? { endTimeUtc: job.endTimeUtc } : {}),
    ...(job.inputBlobContainerUri
      ? { inputBlobContainerUri: job.inputBlobContainerUri, inputBlobName: job.inputBlobName }
      : {}),
    outputBlobContainerUri: job.outputBlobContainerUri,
    outputBlobName: job.outputBlobName,
    excludeKeysInExport: job.excludeKeysInExport,
    storageAuthenticationType: 'keyBased',
    ...(job.failureReason ? { failureReason: job.failureReason } : {}),
  };
}

function hubOf(ctx: RequestContext): HubState {
  if (!ctx.hub) throw new ServiceError('notFound', 'no such hub', { hubCode: 'IotHubNotFound' });
  return ctx.hub;
}

function jobsOf(ctx: RequestContext): HubJobs {
  const jobs = ctx.emulator.jobs;
  if (!jobs) throw new ServiceError('internal', 'import/export jobs are not running in this emulator');
  return jobs;
}

export function hubJobRoutes(): Route[] {
  const r = (
    method: string,
    path: string,
    operation: Route['operation'],
    handle: (ctx: RequestContext) => Reply,
  ): Route => ({
    service: 'hub',
    method,
    pattern: pathPattern(path),
    operation,
    handle,
  });
  return [
    r(
      'POST',
      '/jobs/create',
      (ctx) =>
        `hub:createJob:${String((ctx.body as { type?: unknown } | undefined)?.type ?? '').toLowerCase()}`,
      (ctx) => {
        const body = ctx.body;
        if (!body || typeof body !== 'object' || Array.isArray(body)) {
          throw new ServiceError('badRequest', 'the body must be a job (type, container URLs)');
        }
        const job = jobsOf(ctx).create(ctx, hubOf(ctx), body as Record<string, unknown>);
        return { status: 200, body: render(job) };
      },
    ),
    r('GET', '/jobs', 'hub:listJobs', (ctx) => ({
      status: 200,
      body: jobsOf(ctx).list(hubOf(ctx)).map(render),
    })),
    r('GET', '/jobs/{id}', 'hub:getJob', (ctx) => ({
      status: 200,
      body: render(jobsOf(ctx).get(hubOf(ctx), ctx.params[0])),
    })),
    r('DELETE', '/jobs/{id}', 'hub:cancelJob', (ctx) => ({
      status: 200,
      body: render(jobsOf(ctx).cancel(hubOf(ctx), ctx.params[0])),
    })),
  ];
}
