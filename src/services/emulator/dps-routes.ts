/**
 * DPS service API (api-version 2021-10-01): individual enrollments, enrollment groups, registration
 * records, queries with continuation, bulk enrollment operations, attestation mechanisms.
 * ETags are raw (no quotes); a stale If-Match is 412, a PUT without one creates or replaces.
 */
import { dpsErrorCode, type ErrorKind, ServiceError, statusOf } from './errors.js';
import {
  parseEnrollment,
  parseGroup,
  renderAttestation,
  renderEnrollment,
  renderGroup,
  renderRegistration,
} from './dps-model.js';
import { parseEnrollmentQuery } from './hub-query.js';
import { type Reply, type RequestContext, type Route, pathPattern, type ThrottleCost } from './router.js';
import { type EmulatorStore, pageAfter } from './store.js';
import type { StoredEnrollment, StoredGroup } from './types.js';

const MAX_BULK = 10;
const DEFAULT_PAGE = 100;
const MAX_PAGE = 10_000;

const oneOperation = (): ThrottleCost => ({ bucket: 'dps', cost: 1 });

function ifMatch(ctx: RequestContext): string | undefined {
  const v = ctx.headers['if-match'];
  const s = Array.isArray(v) ? v[0] : v;
  return s ? s.trim().replace(/^"(.*)"$/, '$1') : undefined;
}

function checkEtag(ctx: RequestContext, current: string | undefined, what: string): void {
  const expected = ifMatch(ctx);
  if (!expected || expected === '*') return;
  if (current !== expected) {
    throw new ServiceError(
      'preconditionFailed',
      `${what}: the ETag in If-Match is not the current one (it changed)`,
    );
  }
}

function writeAction(existed: boolean, before: string | undefined, after: string): string {
  if (!existed) return 'create';
  if (before !== after) return after === 'disabled' ? 'disable' : 'enable';
  return 'update';
}

export function pageRequest(ctx: RequestContext, defaultSize = DEFAULT_PAGE, maxSize = MAX_PAGE) {
  const rawSize = ctx.headers['x-ms-max-item-count'];
  const size = rawSize === undefined ? defaultSize : Number(Array.isArray(rawSize) ? rawSize[0] : rawSize);
  if (!Number.isInteger(size) || size < 1) {
    throw new ServiceError('badRequest', 'x-ms-max-item-count must be a positive integer');
  }
  const token = ctx.headers['x-ms-continuation'];
  return {
    size: Math.min(size, maxSize),
    continuation: Array.isArray(token) ? token[0] : token || undefined,
  };
}

export function page<T>(
  ctx: RequestContext,
  sorted: string[],
  lookup: (key: string) => T | undefined,
  itemType: string,
  defaultSize?: number,
  /** Only the items it accepts (a query's WHERE); pages are still `size` items at most. */
  where?: (item: Record<string, unknown>) => boolean,
): Reply {
  const { size, continuation } = pageRequest(ctx, defaultSize);
  const accept = where
    ? (key: string) => {
        const item = lookup(key);
        return item !== undefined && where(item as Record<string, unknown>);
      }
    : undefined;
  const result = pageAfter(sorted, continuation, size, accept);
  const items = result.keys.map(lookup).filter((x): x is T => x !== undefined);
  const headers: Record<string, string> = { 'x-ms-item-type': itemType };
  // The SDKs' query objects treat any x-ms-continuation header, even empty, as "more results".
  if (result.next) headers['x-ms-continuation'] = result.next;
  return { status: 200, body: items, headers };
}

function requireQuerySpec(ctx: RequestContext): void {
  const body = ctx.body as { query?: unknown } | undefined;
  if (!body || typeof body.query !== 'string') {
    throw new ServiceError(
      'badRequest',
      'the body must be a query specification: {"query": "SELECT * FROM enrollments"}',
    );
  }
}

const notFound = (what: string) => new ServiceError('notFound', `${what} was not found`);

function putEnrollment(ctx: RequestContext): Reply {
  const { store, stats } = ctx.emulator;
  const id = ctx.params[0];
  const existing = store.dps.enrollments.get(id);
  if (!existing && ifMatch(ctx) && ifMatch(ctx) !== '*') {
    throw new ServiceError(
      'preconditionFailed',
      `enrollment ${id}: If-Match was given but the enrollment does not exist`,
    );
  }
  checkEtag(ctx, existing?.etag, `enrollment ${id}`);
  const record = parseEnrollment(ctx.body, id, existing, store);
  store.putEnrollment(record);
  stats.applied(
    `dps/enrollments/${id}`,
    writeAction(!!existing, existing?.provisioningStatus, record.provisioningStatus),
  );
  return { status: 200, body: renderEnrollment(record, store) };
}

function deleteEnrollment(ctx: RequestContext): Reply {
  const { store, stats } = ctx.emulator;
  const id = ctx.params[0];
  const existing = store.dps.enrollments.get(id);
  if (!existing) throw notFound(`enrollment ${id}`);
  checkEtag(ctx, existing.etag, `enrollment ${id}`);
  store.deleteEnrollment(id);
  // An individual enrollment's registration record goes with it (group records do not).
  const reg = store.dps.registrations.get(id);
  if (reg?.enrollment.kind === 'individual' && reg.enrollment.id === id) store.deleteRegistration(id);
  stats.applied(`dps/enrollments/${id}`, 'delete');
  return { status: 204 };
}

function putGroup(ctx: RequestContext): Reply {
  const { store, stats } = ctx.emulator;
  const id = ctx.params[0];
  const existing = store.dps.groups.get(id);
  if (!existing && ifMatch(ctx) && ifMatch(ctx) !== '*') {
    throw new ServiceError(
      'preconditionFailed',
      `enrollment group ${id}: If-Match was given but the group does not exist`,
    );
  }
  checkEtag(ctx, existing?.etag, `enrollment group ${id}`);
  const record = parseGroup(ctx.body, id, existing, store);
  store.putGroup(record);
  stats.applied(
    `dps/enrollmentGroups/${id}`,
    writeAction(!!existing, existing?.provisioningStatus, record.provisioningStatus),
  );
  return { status: 200, body: renderGroup(record) };
}

function deleteGroup(ctx: RequestContext): Reply {
  const { store, stats } = ctx.emulator;
  const id = ctx.params[0];
  const existing = store.dps.groups.get(id);
  if (!existing) throw notFound(`enrollment group ${id}`);
  checkEtag(ctx, existing.etag, `enrollment group ${id}`);
  store.deleteGroup(id);
  stats.applied(`dps/enrollmentGroups/${id}`, 'delete');
  return { status: 204 };
}

function deleteRegistration(ctx: RequestContext): Reply {
  const { store, stats } = ctx.emulator;
  const id = ctx.params[0];
  const existing = store.dps.registrations.get(id);
  if (!existing) throw notFound(`registration record ${id}`);
  checkEtag(ctx, existing.etag, `registration record ${id}`);
  store.deleteRegistration(id);
  stats.applied(`dps/registrations/${id}`, 'delete');
  return { status: 204 };
}

type BulkError = {
  registrationId?: string;
  enrollmentGroupId?: string;
  errorCode: number;
  errorStatus: string;
};

function bulkItemError(kind: ErrorKind, message: string) {
  return { errorCode: dpsErrorCode(kind), errorStatus: message, status: statusOf(kind) };
}

/** One bulk call for individual enrollments or for enrollment groups: at most 10, each on its own. */
function bulk(ctx: RequestContext, groups: boolean): Reply {
  const { store, stats } = ctx.emulator;
  const body = ctx.body as { mode?: unknown; enrollments?: unknown; enrollmentGroups?: unknown } | undefined;
  const items = groups ? (body?.enrollmentGroups ?? body?.enrollments) : body?.enrollments;
  const mode = String(body?.mode ?? '').toLowerCase();
  if (!['create', 'update', 'updateifmatchetag', 'delete'].includes(mode)) {
    throw new ServiceError('badRequest', 'mode must be create, update, updateIfMatchETag or delete');
  }
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_BULK) {
    throw new ServiceError('badRequest', `a bulk operation takes 1 to ${MAX_BULK} enrollments`);
  }
  const errors: BulkError[] = [];
  const idKey = groups ? 'enrollmentGroupId' : 'registrationId';
  const target = groups ? 'dps/enrollmentGroups/' : 'dps/enrollments/';
  for (const item of items) {
    const id = typeof item?.[idKey] === 'string' ? item[idKey] : undefined;
    const fail = (kind: ErrorKind, message: string) => {
      const e = bulkItemError(kind, message);
      errors.push({ [idKey]: id ?? '', errorCode: e.errorCode, errorStatus: e.errorStatus } as BulkError);
    };
    if (!id) {
      fail('badRequest', `${idKey} is required`);
      continue;
    }
    const existing: StoredEnrollment | StoredGroup | undefined = groups
      ? store.dps.groups.get(id)
      : store.dps.enrollments.get(id);
    if (mode === 'delete') {
      if (!existing) fail('notFound', `${id} was not found`);
      else {
        if (groups) store.deleteGroup(id);
        else store.deleteEnrollment(id);
        stats.applied(`${target}${id}`, 'delete');
      }
      continue;
    }
    if (mode === 'create' && existing) {
      fail('conflict', `${id} already exists`);
      continue;
    }
    if (mode === 'updateifmatchetag' && existing && item.etag !== existing.etag) {
      fail('preconditionFailed', `${id}: the ETag is not the current one`);
      continue;
    }
    try {
      const record = groups
        ? parseGroup(item, undefined, existing as StoredGroup | undefined, store)
        : parseEnrollment(item, undefined, existing as StoredEnrollment | undefined, store);
      if (groups) store.putGroup(record as StoredGroup);
      else store.putEnrollment(record as StoredEnrollment);
      stats.applied(
        `${target}${id}`,
        writeAction(!!existing, existing?.provisioningStatus, record.provisioningStatus),
      );
    } catch (err) {
      if (!(err instanceof ServiceError)) throw err;
      fail(err.kind, err.message);
    }
  }
  return { status: 200, body: { isSuccessful: errors.length === 0, errors } };
}

function bulkOperationName(ctx: RequestContext, groups: boolean): string {
  const mode = String((ctx.body as { mode?: unknown } | undefined)?.mode ?? '');
  const suffix = mode ? mode[0].toUpperCase() + mode.slice(1) : '';
  return `dps:bulk${groups ? 'Group' : ''}${suffix}`;
}

function attestation(store: EmulatorStore, kind: 'enrollment' | 'group', id: string): Reply {
  const record = kind === 'enrollment' ? store.dps.enrollments.get(id) : store.dps.groups.get(id);
  if (!record) throw notFound(`${kind === 'enrollment' ? 'enrollment' : 'enrollment group'} ${id}`);
  return { status: 200, body: renderAttestation(record.attestation, true) };
}

export function dpsRoutes(): Route[] {
  const r = (
    method: string,
    path: string,
    operation: Route['operation'],
    handle: Route['handle'],
  ): Route => ({
    service: 'dps',
    method,
    pattern: pathPattern(path),
    operation,
    throttle: oneOperation,
    handle,
  });
  return [
    r('POST', '/enrollments/query', 'dps:queryEnrollments', (ctx) => {
      requireQuerySpec(ctx);
      const { store } = ctx.emulator;
      const where = parseEnrollmentQuery((ctx.body as { query: string }).query, 'enrollments');
      return page(ctx, store.enrollmentIds(), (k) => renderOne(store, k), 'Enrollment', undefined, where);
    }),
    r(
      'POST',
      '/enrollments',
      (ctx) => bulkOperationName(ctx, false),
      (ctx) => bulk(ctx, false),
    ),
    r('GET', '/enrollments/{id}/attestationmechanism', 'dps:getEnrollmentAttestation', (ctx) =>
      attestation(ctx.emulator.store, 'enrollment', ctx.params[0]),
    ),
    r('POST', '/enrollments/{id}/attestationmechanism', 'dps:getEnrollmentAttestation', (ctx) =>
      attestation(ctx.emulator.store, 'enrollment', ctx.params[0]),
    ),
    r('GET', '/enrollments/{id}', 'dps:getEnrollment', (ctx) => {
      const e = ctx.emulator.store.dps.enrollments.get(ctx.params[0]);
      if (!e) throw notFound(`enrollment ${ctx.params[0]}`);
      return { status: 200, body: renderEnrollment(e, ctx.emulator.store) };
    }),
    r('PUT', '/enrollments/{id}', 'dps:putEnrollment', putEnrollment),
    r('DELETE', '/enrollments/{id}', 'dps:deleteEnrollment', deleteEnrollment),
    r('POST', '/enrollmentGroups/query', 'dps:queryGroups', (ctx) => {
      requireQuerySpec(ctx);
      const { store } = ctx.emulator;
      const where = parseEnrollmentQuery((ctx.body as { query: string }).query, 'enrollmentGroups');
      return page(ctx, store.groupIds(), (k) => mapGroup(store, k), 'EnrollmentGroup', undefined, where);
    }),
    r(
      'POST',
      '/enrollmentGroups',
      (ctx) => bulkOperationName(ctx, true),
      (ctx) => bulk(ctx, true),
    ),
    r('GET', '/enrollmentGroups/{id}/attestationmechanism', 'dps:getGroupAttestation', (ctx) =>
      attestation(ctx.emulator.store, 'group', ctx.params[0]),
    ),
    r('POST', '/enrollmentGroups/{id}/attestationmechanism', 'dps:getGroupAttestation', (ctx) =>
      attestation(ctx.emulator.store, 'group', ctx.params[0]),
    ),
    r('GET', '/enrollmentGroups/{id}', 'dps:getGroup', (ctx) => {
      const g = ctx.emulator.store.dps.groups.get(ctx.params[0]);
      if (!g) throw notFound(`enrollment group ${ctx.params[0]}`);
      return { status: 200, body: renderGroup(g) };
    }),
    r('PUT', '/enrollmentGroups/{id}', 'dps:putGroup', putGroup),
    r('DELETE', '/enrollmentGroups/{id}', 'dps:deleteGroup', deleteGroup),
    r('POST', '/registrations/{groupId}/query', 'dps:queryRegistrations', (ctx) => {
      const { store } = ctx.emulator;
      // Records of a deleted group are still listed: they stay until deleted one by one.
      const ids = store.groupRegistrationIds(ctx.params[0]);
      return page(ctx, ids, (k) => mapRegistration(store, k), 'DeviceRegistration');
    }),
    r('GET', '/registrations/{id}', 'dps:getRegistration', (ctx) => {
      const reg = ctx.emulator.store.dps.registrations.get(ctx.params[0]);
      if (!reg) throw notFound(`registration record ${ctx.params[0]}`);
      return { status: 200, body: renderRegistration(reg) };
    }),
    r('DELETE', '/registrations/{id}', 'dps:deleteRegistration', deleteRegistration),
  ];
}

function renderOne(store: EmulatorStore, id: string) {
  const e = store.dps.enrollments.get(id);
  return e ? renderEnrollment(e, store) : undefined;
}

function mapGroup(store: EmulatorStore, id: string) {
  const g = store.dps.groups.get(id);
  return g ? renderGroup(g) : undefined;
}

function mapRegistration(store: EmulatorStore, id: string) {
  const reg = store.dps.registrations.get(id);
  return reg ? renderRegistration(reg) : undefined;
}
