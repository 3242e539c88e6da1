/**
 * IoT Hub identity registry (api-version 2021-04-12), one registry per hub told apart by the Host
 * header: devices with quoted ETags (If-Match "*" or "<etag>"), bulk import modes, queries over
 * twins with continuation, registry statistics.
 */
import { ServiceError } from './errors.js';
import { page, pageRequest } from './dps-routes.js';
import { parseDeviceQuery } from './hub-query.js';
import { parseDevice, parseModule, renderDevice, renderModule, renderTwin } from './hub-model.js';
import { type Reply, type RequestContext, type Route, pathPattern } from './router.js';
import { type HubState, pageAfter } from './store.js';
import type { StoredDevice } from './types.js';

const MAX_BULK = 100;
const MODES = ['create', 'update', 'updateifmatchetag', 'delete', 'deleteifmatchetag'] as const;
export type ImportMode = (typeof MODES)[number];
type Mode = ImportMode;
const MODE_NAMES: Record<Mode, string> = {
  create: 'Create',
  update: 'Update',
  updateifmatchetag: 'UpdateIfMatchETag',
  delete: 'Delete',
  deleteifmatchetag: 'DeleteIfMatchETag',
};

const unquote = (s: string) =>
  s
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');

function ifMatch(ctx: RequestContext): string | undefined {
  const v = ctx.headers['if-match'];
  const s = Array.isArray(v) ? v[0] : v;
  return s ? unquote(s) : undefined;
}

const deviceNotFound = (id: string) => new ServiceError('notFound', `Device ${id} not found on this hub`);

function hubOf(ctx: RequestContext): HubState {
  if (!ctx.hub) throw new ServiceError('notFound', 'no such hub', { hubCode: 'IotHubNotFound' });
  return ctx.hub;
}

function target(hub: HubState, id: string): string {
  return `${hub.host}/${id}`;
}

function putDevice(ctx: RequestContext): Reply {
  const hub = hubOf(ctx);
  const { store, stats } = ctx.emulator;
  const id = ctx.params[0];
  const body = (ctx.body ?? {}) as Record<string, unknown>;
  if (body.deviceId !== undefined && body.deviceId !== id) {
    throw new ServiceError(
      'badRequest',
      `the body's deviceId "${body.deviceId}" does not match the URL's "${id}"`,
    );
  }
  const existing = hub.devices.get(id);
  const match = ifMatch(ctx);
  if (match === undefined) {
    if (existing) throw new ServiceError('conflict', `Device ${id} already exists on this hub`);
  } else {
    if (!existing) throw deviceNotFound(id);
    if (match !== '*' && match !== existing.etag) {
      throw new ServiceError(
        'preconditionFailed',
        `Device ${id}: the ETag in If-Match is not the current one`,
      );
    }
  }
  const device = parseDevice(body, id, existing, store, hub);
  store.putDevice(hub, device);
  stats.applied(target(hub, id), writeAction(existing, device));
  return { status: 200, body: renderDevice(device, store, hub), headers: { etag: `"${device.etag}"` } };
}

function writeAction(existing: StoredDevice | undefined, next: StoredDevice): string {
  if (!existing) return 'create';
  if (existing.status !== next.status) return next.status === 'disabled' ? 'disable' : 'enable';
  return 'update';
}

function deleteDevice(ctx: RequestContext): Reply {
  const hub = hubOf(ctx);
  const { store, stats } = ctx.emulator;
  const id = ctx.params[0];
  const existing = hub.devices.get(id);
  if (!existing) throw deviceNotFound(id);
  const match = ifMatch(ctx);
  if (match !== undefined && match !== '*' && match !== existing.etag) {
    throw new ServiceError('preconditionFailed', `Device ${id}: the ETag in If-Match is not the current one`);
  }
  store.deleteDevice(hub, id);
  stats.applied(target(hub, id), 'delete');
  return { status: 204 };
}

export interface BulkItem {
  id?: unknown;
  eTag?: unknown;
  importMode?: unknown;
  [k: string]: unknown;
}

function bulkItems(ctx: RequestContext): BulkItem[] {
  const items = ctx.body;
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_BULK) {
    throw new ServiceError('badRequest', `a bulk registry operation takes 1 to ${MAX_BULK} devices`, {
      hubCode: Array.isArray(items) && items.length > MAX_BULK ? 'TooManyDevices' : undefined,
    });
  }
  return items as BulkItem[];
}

function modeOf(item: BulkItem): Mode {
  const mode = String(item.importMode ?? '').toLowerCase() as Mode;
  if (!MODES.includes(mode)) {
    throw new ServiceError(
      'badRequest',
      `importMode "${item.importMode}" is not one of ${Object.values(MODE_NAMES).join(', ')}`,
    );
  }
  return mode;
}

function bulkOperationName(ctx: RequestContext): string {
  const items = Array.isArray(ctx.body) ? (ctx.body as BulkItem[]) : [];
  const modes = new Set(items.map((i) => String(i?.importMode ?? '').toLowerCase()));
  const only = modes.size === 1 ? ([...modes][0] as Mode) : undefined;
  return only && MODE_NAMES[only] ? `hub:bulk${MODE_NAMES[only]}` : 'hub:bulk';
}

/**
 * Bulk import semantics of the registry: update modes create a missing device, delete modes fail on
 * one; each device succeeds or fails on its own and the call answers 200 with the per-device errors.
 */
function bulk(ctx: RequestContext): Reply {
  const hub = hubOf(ctx);
  const items = bulkItems(ctx);
  const seen = new Set<string>();
  for (const item of items) {
    if (typeof item?.id !== 'string' || !item.id)
      throw new ServiceError('badRequest', 'every device needs an id');
    if (seen.has(item.id)) {
      throw new ServiceError('badRequest', `device ${item.id} appears more than once in the request`, {
        hubCode: 'DeviceDefinedMultipleTimes',
      });
    }
    seen.add(item.id);
    modeOf(item);
  }
  const errors: { deviceId: string; errorCode: string; errorStatus: string }[] = [];
  for (const item of items) {
    const failure = applyImportItem(ctx.emulator, hub, item as BulkItem & { id: string }, modeOf(item));
    if (failure) errors.push({ deviceId: item.id as string, ...failure });
  }
  return { status: 200, body: { isSuccessful: errors.length === 0, errors, warnings: [] } };
}

/**
 * Applies one device of a bulk call or an import job under its import mode: update modes create a
 * missing device, delete modes fail on one. Answers the device's failure, or undefined when applied.
 */
export function applyImportItem(
  emulator: Pick<RequestContext['emulator'], 'store' | 'stats'>,
  hub: HubState,
  item: BulkItem & { id: string },
  mode: Mode,
): { errorCode: string; errorStatus: string } | undefined {
  const { store, stats } = emulator;
  const id = item.id;
  const existing = hub.devices.get(id);
  // The service reads JSON names case-insensitively: the Node SDK sends a device's `etag` as is.
  const rawEtag = item.eTag ?? item.etag;
  const etag = typeof rawEtag === 'string' ? unquote(rawEtag) : undefined;
  const fail = (errorCode: string, errorStatus: string) => ({ errorCode, errorStatus });
  if ((mode === 'updateifmatchetag' || mode === 'deleteifmatchetag') && existing && etag !== existing.etag) {
    return fail('PreconditionFailed', `Device ${id}: the ETag is not the current one`);
  }
  if (mode === 'delete' || mode === 'deleteifmatchetag') {
    if (!existing) return fail('DeviceNotFound', `Device ${id} not found on this hub`);
    store.deleteDevice(hub, id);
    stats.applied(target(hub, id), 'delete');
    return undefined;
  }
  if (mode === 'create' && existing)
    return fail('DeviceAlreadyExists', `Device ${id} already exists on this hub`);
  try {
    const device = parseDevice(item, id, existing, store, hub);
    store.putDevice(hub, device);
    stats.applied(target(hub, id), writeAction(existing, device));
    return undefined;
  } catch (err) {
    if (!(err instanceof ServiceError)) throw err;
    return fail('ArgumentInvalid', err.message);
  }
}

/** An import mode's name as the service reads it (case-insensitive), or undefined when it is none. */
export function importModeOf(raw: unknown): Mode | undefined {
  const mode = String(raw ?? '').toLowerCase() as Mode;
  return MODES.includes(mode) ? mode : undefined;
}

function moduleTwin(
  deviceId: string,
  m: NonNullable<StoredDevice['modules']>[string],
): Record<string, unknown> {
  return {
    deviceId,
    moduleId: m.moduleId,
    etag: m.etag,
    status: 'enabled',
    connectionState: 'Disconnected',
    lastActivityTime: m.lastActivityTime,
    authenticationType: m.authType,
    version: 1,
    properties: { desired: { $version: 1 }, reported: { $version: 1 } },
  };
}

/** Module twins across the hub's devices, filtered; counted or listed whole (no paging). */
function moduleQuery(hub: HubState, q: ReturnType<typeof parseDeviceQuery>, ids: string[]): Reply {
  const rows: Record<string, unknown>[] = [];
  for (const id of ids) {
    const d = hub.devices.get(id);
    for (const m of Object.values(d?.modules ?? {})) {
      const twin = moduleTwin(id, m);
      if (q.where.every((w) => w(twin))) rows.push(twin);
    }
  }
  if (q.count)
    return { status: 200, body: [{ [q.count]: rows.length }], headers: { 'x-ms-item-type': 'Raw' } };
  return { status: 200, body: rows, headers: { 'x-ms-item-type': 'Twin' } };
}

function query(ctx: RequestContext): Reply {
  const hub = hubOf(ctx);
  const q = parseDeviceQuery((ctx.body as { query?: unknown } | undefined)?.query);
  const { store } = ctx.emulator;
  const ids = store.deviceIds(hub);
  if (q.from === 'devices.modules') return moduleQuery(hub, q, ids);
  const twinOf = (id: string) => {
    const d = hub.devices.get(id);
    return d ? renderTwin(d) : undefined;
  };
  const matches = (id: string) => {
    if (!q.where.length) return true;
    const twin = twinOf(id);
    return !!twin && q.where.every((w) => w(twin));
  };
  if (q.count) {
    let n = 0;
    for (const id of ids) if (matches(id)) n += 1;
    return { status: 200, body: [{ [q.count]: n }], headers: { 'x-ms-item-type': 'Raw' } };
  }
  if (!q.where.length) return page(ctx, ids, twinOf, 'Twin');
  const { size, continuation } = pageRequest(ctx);
  const result = pageAfter(ids, continuation, size, matches);
  const headers: Record<string, string> = { 'x-ms-item-type': 'Twin' };
  if (result.next) headers['x-ms-continuation'] = result.next;
  return { status: 200, body: result.keys.map(twinOf), headers };
}

const moduleNotFound = (deviceId: string, moduleId: string) =>
  new ServiceError('notFound', `Module ${moduleId} not found on device ${deviceId}`, {
    hubCode: 'ModuleNotFound',
  });

function deviceOf(ctx: RequestContext): { hub: HubState; device: StoredDevice } {
  const hub = hubOf(ctx);
  const device = hub.devices.get(ctx.params[0]);
  if (!device) throw deviceNotFound(ctx.params[0]);
  return { hub, device };
}

function putModule(ctx: RequestContext): Reply {
  const { hub, device } = deviceOf(ctx);
  const { store, stats } = ctx.emulator;
  const moduleId = ctx.params[1];
  const body = (ctx.body ?? {}) as Record<string, unknown>;
  if (body.moduleId !== undefined && body.moduleId !== moduleId) {
    throw new ServiceError(
      'badRequest',
      `the body's moduleId "${body.moduleId}" does not match the URL's "${moduleId}"`,
    );
  }
  const existing = device.modules?.[moduleId];
  const match = ifMatch(ctx);
  if (match === undefined) {
    if (existing) {
      throw new ServiceError('conflict', `Module ${moduleId} already exists on device ${device.deviceId}`, {
        hubCode: 'ModuleAlreadyExistsOnDevice',
      });
    }
  } else {
    if (!existing) throw moduleNotFound(device.deviceId, moduleId);
    if (match !== '*' && match !== existing.etag) {
      throw new ServiceError(
        'preconditionFailed',
        `Module ${moduleId}: the ETag in If-Match is not the current one`,
      );
    }
  }
  const module = parseModule(body, moduleId, existing, store);
  // The device's own identity (and ETag) does not change when a module does.
  store.putDevice(hub, { ...device, modules: { ...(device.modules ?? {}), [moduleId]: module } });
  stats.applied(`${target(hub, device.deviceId)}/modules/${moduleId}`, existing ? 'update' : 'create');
  return { status: 200, body: renderModule(device.deviceId, module), headers: { etag: `"${module.etag}"` } };
}

function deleteModule(ctx: RequestContext): Reply {
  const { hub, device } = deviceOf(ctx);
  const { store, stats } = ctx.emulator;
  const moduleId = ctx.params[1];
  const existing = device.modules?.[moduleId];
  if (!existing) throw moduleNotFound(device.deviceId, moduleId);
  const match = ifMatch(ctx);
  if (match !== undefined && match !== '*' && match !== existing.etag) {
    throw new ServiceError(
      'preconditionFailed',
      `Module ${moduleId}: the ETag in If-Match is not the current one`,
    );
  }
  const { [moduleId]: _gone, ...rest } = device.modules ?? {};
  store.putDevice(hub, { ...device, modules: rest });
  stats.applied(`${target(hub, device.deviceId)}/modules/${moduleId}`, 'delete');
  return { status: 204 };
}

export function hubRoutes(): Route[] {
  const identity = (cost: number) => ({ bucket: 'hubIdentity' as const, cost });
  const r = (method: string, path: string, operation: Route['operation'], rest: Partial<Route>): Route => ({
    service: 'hub',
    method,
    pattern: pathPattern(path),
    operation,
    handle: rest.handle as Route['handle'],
    ...rest,
  });
  return [
    r('POST', '/devices/query', 'hub:query', {
      throttle: () => ({ bucket: 'hubQuery', cost: 1 }),
      handle: query,
    }),
    r('POST', '/devices', bulkOperationName, {
      validate: (ctx) => {
        bulkItems(ctx);
      },
      throttle: (ctx) => identity(Array.isArray(ctx.body) ? Math.max(1, ctx.body.length) : 1),
      handle: bulk,
    }),
    r('GET', '/devices', 'hub:listDevices', {
      throttle: () => identity(1),
      handle: (ctx) => {
        const hub = hubOf(ctx);
        const top = Math.min(1000, Math.max(1, Number(ctx.query.get('top') ?? 1000) || 1000));
        const ids = ctx.emulator.store.deviceIds(hub).slice(0, top);
        return {
          status: 200,
          body: ids.map((id) => renderDevice(hub.devices.get(id) as StoredDevice, ctx.emulator.store, hub)),
        };
      },
    }),
    r('GET', '/devices/{id}', 'hub:getDevice', {
      throttle: () => identity(1),
      handle: (ctx) => {
        const hub = hubOf(ctx);
        const d = hub.devices.get(ctx.params[0]);
        if (!d) throw deviceNotFound(ctx.params[0]);
        return {
          status: 200,
          body: renderDevice(d, ctx.emulator.store, hub),
          headers: { etag: `"${d.etag}"` },
        };
      },
    }),
    r('PUT', '/devices/{id}', 'hub:putDevice', { throttle: () => identity(1), handle: putDevice }),
    r('DELETE', '/devices/{id}', 'hub:deleteDevice', { throttle: () => identity(1), handle: deleteDevice }),
    r('GET', '/devices/{id}/modules', 'hub:listModules', {
      throttle: () => identity(1),
      handle: (ctx) => {
        const { device } = deviceOf(ctx);
        const modules = Object.values(device.modules ?? {}).sort((a, b) =>
          a.moduleId < b.moduleId ? -1 : 1,
        );
        return { status: 200, body: modules.map((m) => renderModule(device.deviceId, m)) };
      },
    }),
    r('GET', '/devices/{id}/modules/{moduleId}', 'hub:getModule', {
      throttle: () => identity(1),
      handle: (ctx) => {
        const { device } = deviceOf(ctx);
        const m = device.modules?.[ctx.params[1]];
        if (!m) throw moduleNotFound(device.deviceId, ctx.params[1]);
        return { status: 200, body: renderModule(device.deviceId, m), headers: { etag: `"${m.etag}"` } };
      },
    }),
    r('PUT', '/devices/{id}/modules/{moduleId}', 'hub:putModule', {
      throttle: () => identity(1),
      handle: putModule,
    }),
    r('DELETE', '/devices/{id}/modules/{moduleId}', 'hub:deleteModule', {
      throttle: () => identity(1),
      handle: deleteModule,
    }),
    r('GET', '/twins/{id}', 'hub:getTwin', {
      throttle: () => identity(1),
      handle: (ctx) => {
        const d = hubOf(ctx).devices.get(ctx.params[0]);
        if (!d) throw deviceNotFound(ctx.params[0]);
        return { status: 200, body: renderTwin(d) };
      },
    }),
    r('GET', '/statistics/devices', 'hub:statistics', {
      handle: (ctx) => {
        let enabled = 0;
        const hub = hubOf(ctx);
        for (const d of hub.devices.values()) if (d.status === 'enabled') enabled += 1;
        return {
          status: 200,
          body: {
            totalDeviceCount: hub.devices.size,
            enabledDeviceCount: enabled,
            disabledDeviceCount: hub.devices.size - enabled,
          },
        };
      },
    }),
  ];
}
