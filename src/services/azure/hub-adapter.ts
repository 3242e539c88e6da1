/**
 * HubPort on azure-iothub's Registry. Bulk calls carry 1..100 devices and answer per device.
 *
 * A bulk 'update' replaces the identity: a device sent without its authentication gets NEW keys
 * (the SDK fills in empty keys, which the service regenerates), and one sent without deviceScope loses
 * its parent. So a status change first reads each identity and writes it back whole, with only the
 * status changed, under its ETag (UpdateIfMatchETag). Keys stay inside this module.
 */
import { randomUUID } from 'node:crypto';
import { isServiceError, ServiceError } from '../../core/errors.js';
import type { HubDevice, HubDeviceStatus } from '../../core/model.js';
import type {
  BulkItemResult,
  HubPort,
  PreparedStatusWrite,
  StatusChangePreparation,
} from '../../core/ports.js';
import { HUB_BULK_MAX } from '../../core/plan-types.js';
import type { Registry } from './clients.js';
import { mapLimited, settleLimited } from '../concurrency.js';
import { type CallContext, DEFAULT_TIMEOUT_MS, sdkCall } from './deadline.js';
import { AzureHubJobs } from './hub-jobs.js';
import { pages } from './paging.js';
import { identityWithStatus, queryLiteral, toHubDevice, unquote } from './hub-mapping.js';
import { type Json, bulkResultOf, sdkBody } from './json.js';
import { parseErrorBody, safeDetail } from './service-errors.js';

type DeviceDescriptions = Parameters<Registry['updateDevices']>[0];

export interface HubAdapterOptions {
  /** Deadline per SDK call (default 30 s). */
  timeoutMs?: number;
  /** How the client signs in (a refusal then names the role or the policy permissions to grant). */
  access?: 'sas' | 'entra';
  /** Twins per query page (default 1000: queries are throttled far harder than identity reads). */
  pageSize?: number;
  /** Identity reads in flight at once while preparing a bulk status change (default 8). */
  readConcurrency?: number;
}

/** What a prepared status write sends back: the identity as read (keys included), never outside this module. */
const preparedIdentities = new WeakMap<PreparedStatusWrite, Json>();
/** How long the write-permission check waits for its answer. */
const WRITE_CHECK_TIMEOUT_MS = 10_000;

export class AzureHubAdapter implements HubPort {
  private readonly timeoutMs: number;
  private readonly access: 'sas' | 'entra' | undefined;
  private readonly pageSize: number;
  private readonly readConcurrency: number;

  constructor(
    private readonly registry: Registry,
    readonly host: string,
    options: HubAdapterOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.access = options.access;
    this.pageSize = options.pageSize ?? 1000;
    this.readConcurrency = Math.max(1, options.readConcurrency ?? 8);
    this.jobs = new AzureHubJobs(registry, host, this.timeoutMs);
  }

  readonly jobs: AzureHubJobs;

  private ctx(action: string): CallContext {
    return {
      action,
      target: this.host,
      timeoutMs: this.timeoutMs,
      ...(this.access ? { access: { service: 'hub', auth: this.access } } : {}),
    };
  }

  /** The full identity (keys included, for write-back only), or undefined when the hub has no such device. */
  private async readIdentity(deviceId: string): Promise<Json | undefined> {
    try {
      const answer = await sdkCall(this.ctx(`get device '${deviceId}'`), () => this.registry.get(deviceId));
      return answer.responseBody as unknown as Json;
    } catch (err) {
      if (isServiceError(err) && err.kind === 'notFound') return undefined;
      throw err;
    }
  }

  async getDevice(deviceId: string): Promise<HubDevice | undefined> {
    const identity = await this.readIdentity(deviceId);
    return identity ? toHubDevice(this.host, identity, 'identity') : undefined;
  }

  /** Device twins, page by page (the twin's own etag is not the identity's: see toHubDevice). */
  listDevices(): AsyncIterable<HubDevice[]> {
    return pages(
      this.ctx('list devices'),
      () => this.registry.createQuery('SELECT * FROM devices', this.pageSize),
      (twin) => toHubDevice(this.host, twin, 'twin'),
    );
  }

  /** Two queries: the devices whose parentScopes name the gateway's scope, and the gateway's modules. */
  async findEdgeDependents(gateway: {
    deviceId: string;
    deviceScope: string;
  }): Promise<{ children: string[]; modules: string[] }> {
    const scope = queryLiteral(gateway.deviceScope);
    const id = queryLiteral(gateway.deviceId);
    if (scope === undefined || id === undefined) return { children: [], modules: [] };
    const ctx = this.ctx(`find the children and modules of ${gateway.deviceId}`);
    const children: string[] = [];
    for await (const page of pages(
      ctx,
      () =>
        this.registry.createQuery(
          `SELECT * FROM devices WHERE ARRAY_CONTAINS(parentScopes, ${scope})`,
          this.pageSize,
        ),
      (twin: Json) => String(twin.deviceId ?? ''),
    )) {
      for (const child of page) if (child && child !== gateway.deviceId) children.push(child);
    }
    const modules: string[] = [];
    for await (const page of pages(
      ctx,
      () => this.registry.createQuery(`SELECT * FROM devices.modules WHERE deviceId = ${id}`, this.pageSize),
      (twin: Json) => String(twin.moduleId ?? ''),
    )) {
      for (const m of page) if (m) modules.push(m);
    }
    return { children, modules };
  }

  async findDevices(deviceIds: string[]): Promise<HubDevice[]> {
    const unique = [...new Set(deviceIds)];
    const quoted = unique.map((id) => [id, queryLiteral(id)] as const);
    const inQuery = quoted.filter(([, q]) => q !== undefined);
    const found: HubDevice[] = [];
    if (inQuery.length > 0) {
      const sql = `SELECT * FROM devices WHERE deviceId IN [${inQuery.map(([, q]) => q).join(', ')}]`;
      const wanted = new Set(inQuery.map(([id]) => id));
      const ctx = this.ctx(`look up ${inQuery.length} device ID(s)`);
      for await (const page of pages(
        ctx,
        () => this.registry.createQuery(sql, this.pageSize),
        (twin) => toHubDevice(this.host, twin, 'twin'),
      )) {
        // Only what was asked for: a query answer is not trusted to have filtered.
        for (const d of page) if (wanted.has(d.deviceId)) found.push(d);
      }
    }
    const oneByOne = quoted.filter(([, q]) => q === undefined).map(([id]) => id);
    const read = await mapLimited(oneByOne, this.readConcurrency, (id) => this.getDevice(id));
    for (const d of read) if (d) found.push(d);
    return found;
  }

  async setDevicesStatus(
    devices: { deviceId: string; etag?: string }[],
    status: HubDeviceStatus,
  ): Promise<BulkItemResult[]> {
    const prepared = await this.prepareStatusChange(devices, status);
    if (prepared.failed.length > 0) throw prepared.failed[0].error;
    const results = new Map<string, BulkItemResult>();
    for (const r of prepared.settled) results.set(r.id, r);
    if (prepared.writes.length > 0) {
      for (const r of await this.writeStatus(prepared.writes, status)) results.set(r.id, r);
    }
    return devices.map((d) => results.get(d.deviceId) as BulkItemResult);
  }

  async prepareStatusChange(
    devices: { deviceId: string; etag?: string }[],
    status: HubDeviceStatus,
  ): Promise<StatusChangePreparation> {
    const action = `${status === 'disabled' ? 'disable' : 'enable'} ${devices.length} device(s)`;
    this.checkBatch(devices, action);
    const unique = [...new Map(devices.map((d) => [d.deviceId, d])).values()];
    const read = await settleLimited(unique, this.readConcurrency, (d) => this.readIdentity(d.deviceId));
    const out: StatusChangePreparation = { writes: [], settled: [], failed: [] };
    unique.forEach(({ deviceId, etag }, i) => {
      const answer = read[i];
      if (!answer.ok) {
        out.failed.push({ deviceId, error: answer.error });
        return;
      }
      const identity = answer.value;
      if (!identity) {
        out.settled.push({
          id: deviceId,
          ok: false,
          code: 'DeviceNotFound',
          message: 'no such device on the hub',
        });
      } else if (etag && unquote(etag) !== unquote(identity.etag)) {
        out.settled.push({
          id: deviceId,
          ok: false,
          code: 'PreconditionFailed',
          message: 'the device changed since it was read',
        });
      } else if (identity.status === status) {
        out.settled.push({ id: deviceId, ok: true, unchanged: true });
      } else {
        const write: PreparedStatusWrite = Object.freeze({ deviceId });
        preparedIdentities.set(write, identity);
        out.writes.push(write);
      }
    });
    return out;
  }

  async writeStatus(writes: PreparedStatusWrite[], status: HubDeviceStatus): Promise<BulkItemResult[]> {
    const action = `${status === 'disabled' ? 'disable' : 'enable'} ${writes.length} device(s)`;
    this.checkBatch(writes, action);
    const batch = writes.map((w) => {
      const identity = preparedIdentities.get(w);
      if (!identity) {
        throw new ServiceError(
          'badRequest',
          `${action} on ${this.host}: ${w.deviceId} was not read by this hub`,
          {
            target: this.host,
          },
        );
      }
      return identityWithStatus(identity, status);
    });
    return this.bulk(action, batch, (b) =>
      this.registry.updateDevices(sdkBody<DeviceDescriptions>(b), false),
    );
  }

  async deleteDevices(devices: { deviceId: string; etag?: string }[]): Promise<BulkItemResult[]> {
    const action = `delete ${devices.length} device(s)`;
    this.checkBatch(devices, action);
    // The SDK sets one importMode per call: devices with an ETag are deleted only if unchanged.
    const guarded = devices
      .filter((d) => d.etag)
      .map((d) => ({ deviceId: d.deviceId, eTag: unquote(d.etag) }));
    const unguarded = devices.filter((d) => !d.etag).map((d) => ({ deviceId: d.deviceId }));
    const results = new Map<string, BulkItemResult>();
    if (guarded.length > 0) {
      for (const r of await this.bulk(action, guarded, (b) =>
        this.registry.removeDevices(sdkBody<DeviceDescriptions>(b), false),
      ))
        results.set(r.id, r);
    }
    if (unguarded.length > 0) {
      for (const r of await this.bulk(action, unguarded, (b) =>
        this.registry.removeDevices(sdkBody<DeviceDescriptions>(b), true),
      ))
        results.set(r.id, r);
    }
    return devices.map((d) => results.get(d.deviceId) as BulkItemResult);
  }

  /**
   * A write that cannot change anything: one bulk call in mode DeleteIfMatchETag for a device ID that no
   * hub has (random) with an ETag no identity has. IoT Hub documents this mode as deleting an existing
   * device only when its ETag matches and failing per device (DeviceNotFound) for a missing one, so the
   * answer is a per-device failure; a credential without registry write permission is refused (401/403)
   * before any device is looked at, as authorization is checked for the request as a whole.
   */
  async checkWritePermission(): Promise<void> {
    const deviceId = `iotd-write-check-${randomUUID()}`;
    const action = 'check registry write permission (a delete, if its ETag matches, of an absent device)';
    // Bounded: a hub slow to answer only skips the check (the run then meets the hub as it is).
    const ctx = { ...this.ctx(action), timeoutMs: Math.min(this.timeoutMs, WRITE_CHECK_TIMEOUT_MS) };
    try {
      await sdkCall(ctx, () =>
        this.registry.removeDevices(
          sdkBody<DeviceDescriptions>([{ deviceId, eTag: 'iotd-write-check' }]),
          false,
        ),
      );
    } catch (e) {
      // Only a refusal of the credential answers the question: the per-device failure (or any other
      // answer) says the request as a whole was allowed.
      if (isServiceError(e) && (e.kind === 'unauthorized' || e.kind === 'forbidden')) throw e;
    }
  }

  private checkBatch(devices: { deviceId: string }[], action: string): void {
    if (devices.length < 1 || devices.length > HUB_BULK_MAX) {
      throw new ServiceError(
        'badRequest',
        `${action} on ${this.host}: a bulk call takes 1 to ${HUB_BULK_MAX} devices`,
        {
          target: this.host,
        },
      );
    }
  }

  /** One POST /devices; per-device results from the answer's `errors`. */
  private async bulk(
    action: string,
    batch: Json[],
    send: (batch: Json[]) => Promise<{ responseBody: unknown }>,
  ): Promise<BulkItemResult[]> {
    const answer = await sdkCall(this.ctx(action), () =>
      send(batch).catch((err) => {
        // A refused batch may still carry per-device answers; keep them when it does.
        const refused = bulkResultOf(err?.responseBody);
        if (refused) return { responseBody: refused };
        throw err;
      }),
    );
    const body = (answer.responseBody ?? {}) as Json;
    const errors = new Map<string, Json>();
    for (const e of Array.isArray(body.errors) ? body.errors : []) errors.set(String(e.deviceId), e);
    return batch.map((d) => {
      const id = String(d.deviceId);
      const failure = errors.get(id);
      if (!failure) {
        return body.isSuccessful === false && errors.size === 0
          ? { id, ok: false, message: 'the hub reported the operation as failed without details' }
          : { id, ok: true };
      }
      const code = failure.errorCode === undefined ? undefined : String(failure.errorCode);
      const detail =
        typeof failure.errorStatus === 'string'
          ? parseErrorBody({ Message: failure.errorStatus }).message
          : undefined;
      return { id, ok: false, code, message: detail ? safeDetail(detail) : undefined };
    });
  }
}
