/**
 * A hub's import/export jobs through azure-iothub's Registry (exportDevicesToBlob, importDevicesFromBlob,
 * getJob, cancelJob, listJobs). The container URLs carry SASes: they go to the hub and nowhere else —
 * what comes back is the job's ID, state, progress and failure reason, never its container URLs.
 */
import type { HubJobInfo, HubJobsPort, HubJobStatus } from '../../core/ports.js';
import type { Registry } from './clients.js';
import { type CallContext, sdkCall } from './deadline.js';

import type { Json } from './json.js';
const STATUSES: HubJobStatus[] = ['enqueued', 'queued', 'running', 'completed', 'failed', 'cancelled'];

/** A job as the hub answers it, without its container URLs. */
export function toHubJob(body: Json): HubJobInfo {
  const raw = String(body?.status ?? '').toLowerCase() as HubJobStatus;
  const job: HubJobInfo = {
    jobId: String(body?.jobId ?? ''),
    type: String(body?.type ?? ''),
    status: STATUSES.includes(raw) ? (raw === 'queued' ? 'enqueued' : raw) : 'unknown',
  };
  if (typeof body?.progress === 'number') job.progress = body.progress;
  if (typeof body?.failureReason === 'string' && body.failureReason) {
    job.failureReason = body.failureReason.replace(/\?[^\s"']*sig=[^\s"']*/gi, '?<SAS>');
  }
  return job;
}

export class AzureHubJobs implements HubJobsPort {
  constructor(
    private readonly registry: Registry,
    private readonly host: string,
    private readonly timeoutMs: number,
  ) {}

  private ctx(action: string): CallContext {
    return { action, target: this.host, timeoutMs: this.timeoutMs };
  }

  async exportDevices(outputContainerUrl: string, excludeKeys: boolean): Promise<HubJobInfo> {
    const answer = await sdkCall(this.ctx('create export job'), () =>
      this.registry.exportDevicesToBlob(outputContainerUrl, excludeKeys),
    );
    return toHubJob(answer as unknown as Json);
  }

  async importDevices(inputContainerUrl: string, outputContainerUrl: string): Promise<HubJobInfo> {
    const answer = await sdkCall(this.ctx('create import job'), () =>
      this.registry.importDevicesFromBlob(inputContainerUrl, outputContainerUrl),
    );
    return toHubJob(answer as unknown as Json);
  }

  async getJob(jobId: string): Promise<HubJobInfo> {
    const answer = await sdkCall(this.ctx(`get job ${jobId}`), () => this.registry.getJob(jobId));
    return toHubJob(answer as unknown as Json);
  }

  async cancelJob(jobId: string): Promise<HubJobInfo> {
    const answer = await sdkCall(this.ctx(`cancel job ${jobId}`), () => this.registry.cancelJob(jobId));
    return toHubJob((answer ?? { jobId, status: 'cancelled' }) as unknown as Json);
  }

  async listJobs(): Promise<HubJobInfo[]> {
    const answer = await sdkCall(this.ctx('list jobs'), () => this.registry.listJobs());
    // listJobs answers { responseBody, httpResponse }; the other job calls answer the body itself.
    const body = (answer as unknown as { responseBody?: unknown }).responseBody;
    return Array.isArray(body) ? body.map((j) => toHubJob(j as Json)) : [];
  }
}
