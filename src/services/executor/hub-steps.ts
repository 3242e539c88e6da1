/**
 * The hub steps: disable, enable and delete devices of one hub by calls (sliced under the hub's budget
 * for one call, re-read on resume), the status change by calls that a jobs step falls back to for the
 * devices its jobs left, and the jobs step's entry (hub-job-step.ts runs the jobs).
 */
import { isServiceError } from '../../core/errors.js';
import { lookupBatches } from '../../core/hub-lookup.js';
import type { HubDevice } from '../../core/model.js';
import type { BulkItemResult, HubPort, PreparedStatusWrite } from '../../core/ports.js';
import { HUB_BULK_MAX, type StepOperation } from '../../core/plan-types.js';
import { scrubSecrets } from '../journal/redact.js';
import { type HubJobOp, hubJobStep } from './hub-job-step.js';
import { queryServiceOf } from './step-services.js';
import type { DeviceResult, Execution, StepEnv } from './step-types.js';

/** The hub steps by calls. */
export type HubCallOperation = Extract<
  StepOperation,
  { kind: 'disableHubDevices' | 'enableHubDevices' | 'deleteHubDevices' }
>;

/** What a hub step by calls wants each of its devices to be. */
type HubWant = 'deleted' | 'disabled' | 'enabled';

/** One device's answer from the hub, as the step's result for that device. */
const deviceResultOf = (r: BulkItemResult, want: 'deleted' | 'disabled' | 'enabled'): DeviceResult => {
  if (r.ok && r.unchanged) return { id: r.id, outcome: 'alreadyDone', message: `already ${want}` };
  if (r.ok) return { id: r.id, outcome: 'succeeded' };
  if (r.code === 'DeviceNotFound' && want !== 'enabled') {
    return { id: r.id, outcome: 'alreadyDone', message: 'not on the hub' };
  }
  const text = scrubSecrets(r.message ?? r.code ?? 'refused by the hub');
  return {
    id: r.id,
    outcome: 'failed',
    message: r.code && !text.includes(r.code) ? `${r.code}: ${text}` : text,
  };
};

/** Rounds of "read again, write again" for identities whose ETag went stale between read and write. */
const STALE_ROUNDS = 3;

/**
 * A status change of some devices of one hub: read the identities (the write sends each back whole,
 * keys unchanged), then one bulk write under their ETags. Each is its own call under the limits, so a
 * throttled or failed write is sent again without reading again, and a retried read reads only the
 * identities not read yet. Only identities whose ETag went stale are read again.
 */
const changeHubStatus = async (
  env: StepEnv,
  hub: HubPort,
  service: string,
  ids: string[],
  status: 'disabled' | 'enabled',
  results: Map<string, DeviceResult>,
): Promise<void> => {
  let toRead = ids;
  for (let round = 1; toRead.length > 0; round++) {
    const pending = new Set(toRead);
    const writes: PreparedStatusWrite[] = [];
    await env.call(
      service,
      () => pending.size,
      false,
      async () => {
        const got = await hub.prepareStatusChange(
          [...pending].map((deviceId) => ({ deviceId })),
          status,
        );
        for (const w of got.writes) {
          writes.push(w);
          pending.delete(w.deviceId);
        }
        for (const r of got.settled) {
          results.set(r.id, deviceResultOf(r, status));
          pending.delete(r.id);
        }
        const again = got.failed.find((f) => isServiceError(f.error) && f.error.retryable);
        for (const f of got.failed) {
          if (f === again || (isServiceError(f.error) && f.error.retryable)) continue;
          if (!isServiceError(f.error)) throw f.error;
          results.set(f.deviceId, {
            id: f.deviceId,
            outcome: 'failed',
            message: scrubSecrets(f.error.message),
          });
          pending.delete(f.deviceId);
        }
        if (again) throw again.error;
      },
    );
    toRead = [];
    if (writes.length === 0) break;
    const answer = await env.call(service, writes.length, true, () => hub.writeStatus(writes, status));
    for (const r of answer) {
      if (!r.ok && r.code === 'PreconditionFailed' && round < STALE_ROUNDS) toRead.push(r.id);
      else results.set(r.id, deviceResultOf(r, status));
    }
  }
};

/** A hub step for a hub without credentials: it fails, and so does each of its devices. */
const noCredentials = (op: { hub: string; deviceIds: string[] }): Execution => {
  const message = `no credentials for hub ${op.hub}: give --hub for it and retry`;
  return {
    outcome: 'failed',
    message,
    devices: op.deviceIds.map((id) => ({ id, outcome: 'failed', message })),
  };
};

/**
 * Resume: reads what an interrupted call may have done. The devices already as wanted are settled
 * `alreadyDone` (and journaled); the IDs still to send are returned.
 */
const recheckHubDevices = async (
  env: StepEnv,
  hub: HubPort,
  service: string,
  todo: string[],
  want: HubWant,
  results: Map<string, DeviceResult>,
): Promise<string[]> => {
  // Read what an interrupted call may have done, a query per batch of IDs (the hub's query budget).
  const found = new Map<string, HubDevice>();
  for (const batch of lookupBatches(todo)) {
    const got = await env.call(queryServiceOf(service), 1, false, () => hub.findDevices(batch));
    for (const d of got) found.set(d.deviceId, d);
  }
  const remaining: string[] = [];
  const checked: DeviceResult[] = [];
  for (const id of todo) {
    const device = found.get(id);
    if (want === 'deleted' ? device === undefined : device?.status === want) {
      const r: DeviceResult = { id, outcome: 'alreadyDone', message: `already ${want}` };
      results.set(id, r);
      checked.push(r);
    } else remaining.push(id);
  }
  await env.settled?.(checked);
  return remaining;
};

/** Sends the devices still to do, a slice at a time, journaling each slice once it settled. */
const sendHubSlices = async (
  env: StepEnv,
  hub: HubPort,
  service: string,
  todo: string[],
  want: HubWant,
  results: Map<string, DeviceResult>,
): Promise<void> => {
  // Each call (a delete; the reads, then the write, of a status change) spends one identity operation
  // per device and must fit the hub's budget for one call.
  const budget = env.hubCallBudget?.(service) ?? Number.POSITIVE_INFINITY;
  const slice = Math.max(1, Math.min(HUB_BULK_MAX, Math.floor(budget)));
  for (let at = 0; at < todo.length; at += slice) {
    const ids = todo.slice(at, at + slice);
    try {
      if (want === 'deleted') {
        const answer = await env.call(service, ids.length, true, () =>
          hub.deleteDevices(ids.map((deviceId) => ({ deviceId }))),
        );
        for (const r of answer) results.set(r.id, deviceResultOf(r, want));
      } else {
        await changeHubStatus(env, hub, service, ids, want, results);
      }
    } catch (e) {
      // Stopping (abort) leaves the step without an outcome: a resume reads before acting.
      if (!isServiceError(e)) throw e;
      const message = scrubSecrets(e.message);
      const text =
        e.details.code && !message.includes(e.details.code) ? `${e.details.code}: ${message}` : message;
      for (const id of ids) if (!results.has(id)) results.set(id, { id, outcome: 'failed', message: text });
    }
    // A stop (StoppedError) passes through before this: the slice's devices stay unsettled, and the
    // slices after it are never sent.
    await env.settled?.(
      ids.map(
        (id) =>
          results.get(id) ?? { id, outcome: 'failed', message: 'the hub answered nothing for this device' },
      ),
    );
  }
};

/** The step's outcome from its devices' results: failed when any failed, alreadyDone when all were. */
const hubOutcome = (op: HubCallOperation, want: HubWant, results: Map<string, DeviceResult>): Execution => {
  const devices = op.deviceIds.map(
    (id): DeviceResult =>
      results.get(id) ?? { id, outcome: 'failed', message: 'the hub answered nothing for this device' },
  );
  const failed = devices.filter((d) => d.outcome === 'failed').length;
  if (failed > 0) {
    return {
      outcome: 'failed',
      message: `${failed} of ${devices.length} devices not ${want} on ${op.hub}`,
      devices,
    };
  }
  const outcome = devices.every((d) => d.outcome === 'alreadyDone') ? 'alreadyDone' : 'succeeded';
  return { outcome, devices };
};

/** A hub step by calls: disable, enable or delete some devices of one hub. */
export const hubStep = async (env: StepEnv, op: HubCallOperation): Promise<Execution> => {
  const hub = env.hubs.get(op.hub.toLowerCase());
  if (!hub) return noCredentials(op);
  const service = hub.host.toLowerCase();
  const want =
    op.kind === 'deleteHubDevices' ? 'deleted' : op.kind === 'disableHubDevices' ? 'disabled' : 'enabled';
  const results = new Map<string, DeviceResult>();
  for (const [id, r] of env.priorDone ?? []) if (op.deviceIds.includes(id)) results.set(id, r);
  let todo = op.deviceIds.filter((id) => !results.has(id));
  if (env.recheck) todo = await recheckHubDevices(env, hub, service, todo, want, results);
  await sendHubSlices(env, hub, service, todo, want, results);
  return hubOutcome(op, want, results);
};

/** A hub step through import/export jobs; the devices its jobs leave are finished by calls. */
export const hubJobDevicesStep = async (env: StepEnv, op: HubJobOp): Promise<Execution> => {
  const hub = env.hubs.get(op.hub.toLowerCase());
  if (!hub) return noCredentials(op);
  return hubJobStep(env, op, hub, (ids, status, results) =>
    changeHubStatus(env, hub, hub.host.toLowerCase(), ids, status, results),
  );
};
