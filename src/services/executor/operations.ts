/**
 * One plan step against the ports, with the outcomes that make a run safe to repeat: a delete of
 * something already gone and a disable of something already disabled are `alreadyDone`; a blocker
 * is re-read and must come back disabled. On resume (`recheck`), the service is READ first, so a
 * call that may already have happened is not made again when its effect is there.
 */
import type { HubJobState } from '../../core/hub-job-state.js';
import type { ReenrollmentVerdict } from '../../core/model.js';
import type {
  BulkItemResult,
  DpsPort,
  HubDirectory,
  HubPort,
  PreparedStatusWrite,
} from '../../core/ports.js';
import { HUB_BULK_MAX } from '../../core/plan-types.js';
import type { PlanStep, StepOutcome, StepOperation } from '../../core/plan-types.js';
import { isServiceError } from '../../core/errors.js';
import { lookupBatches } from '../../core/hub-lookup.js';
import type { HubDevice } from '../../core/model.js';
import { scrubSecrets } from '../journal/redact.js';
import type { JobStoragePool } from '../storage/job-storage-pool.js';
import { hubJobStep, jobServiceOf } from './hub-job-step.js';

export type VerifyFn = (registrationIds: string[]) => Promise<ReenrollmentVerdict[]>;

/** A hub import/export job a step created (journaled). */
export interface PriorJob {
  type: 'export' | 'import';
  jobId: string;
  /** The job storage container it was given (display, no SAS); absent in journals before pools. */
  container?: string;
}

export interface DeviceResult {
  id: string;
  outcome: StepOutcome;
  message?: string;
}

export interface Execution {
  outcome: StepOutcome;
  message?: string;
  /** The target's ETag once the step settled (for a later restore to see a change since). */
  etag?: string;
  devices?: DeviceResult[];
  verdicts?: ReenrollmentVerdict[];
}

/**
 * Makes one service call under the rate limits with retries; `destructive` journals an intent first.
 * `cost` (operations the call spends) may be a function: asked again before each attempt.
 */
export type CallFn = <T>(
  service: string,
  cost: number | (() => number),
  destructive: boolean,
  fn: () => Promise<T>,
) => Promise<T>;

export interface StepEnv {
  dps: DpsPort;
  hubs: HubDirectory;
  runId: string;
  /** A restore run re-enables: verify then expects devices to be allowed back. */
  restore: boolean;
  call: CallFn;
  /** The step's intent was journaled without an outcome: read the service before acting. */
  recheck: boolean;
  /** Devices of a bulk step that an earlier try already settled well: not called again. */
  priorDone?: ReadonlyMap<string, DeviceResult>;
  verify?: VerifyFn;
  /**
   * Most identity operations one hub call may spend: a bulk call costing more than the hub's bucket
   * holds is refused (429) however long the client waits, so hub steps are sent in slices under it.
   */
  hubCallBudget?: (hub: string) => number;
  /**
   * A part of a bulk step settled (a slice answered, or the re-check read the rest): journals these
   * devices, and that no call of the step is outstanding now. A stop between parts loses nothing.
   */
  settled?(devices: DeviceResult[]): Promise<void>;
  /** Journals the snapshot when the journal lacks it (normally written when the journal opened). */
  ensureSnapshot(): Promise<number>;
  /** Where the hubs' import/export jobs read and write (absent: a jobs step fails with what to do). */
  jobStorage?: JobStoragePool;
  /**
   * Milliseconds between tries while another job is active (default 2000), and the least the reads of a
   * job's state may space out to (they start at 250 ms and double up to the ceiling: core/job-poll.ts).
   */
  jobPollMs?: number;
  /**
   * How long each job of the step is expected to run (the job model, in ms of the run's time: scaled):
   * the reads of its state space out to a twentieth of it. Absent: every jobPollMs.
   */
  jobExpectedMs?: number;
  /** The longest wait between reads of a job's state (default 30 s: service time, scaled by the run). */
  jobPollMaxMs?: number;
  /** Stops waiting on a job (abort). */
  signal?: AbortSignal;
  /** Journals a job the step created: its ID and blob names (never the container's SAS). */
  jobStarted?(job: {
    hub: string;
    jobId: string;
    type: 'export' | 'import';
    blobs: string[];
    /** The container the job was given (display, no SAS): the job step adds it. */
    container?: string;
  }): Promise<void>;
  /** Jobs this step created before (an earlier process, journaled): re-attached to, not started again. */
  priorJobs?: readonly PriorJob[];
  /** A jobs step's latest state: its job's (queued, running N%, ended) or what it waits on before one. */
  jobWaiting?(state: HubJobState): void;
}

const notFound = (e: unknown): boolean => isServiceError(e) && e.kind === 'notFound';
const conflict = (e: unknown): boolean => isServiceError(e) && e.kind === 'conflict';

/** Deletes, treating "already gone" as done. With `recheck`, reads first. */
const deleteIdempotent = async (
  env: StepEnv,
  exists: () => Promise<unknown>,
  remove: () => Promise<void>,
  what: string,
): Promise<Execution> => {
  const dps = env.dps.host;
  if (env.recheck && (await env.call(dps, 1, false, exists)) === undefined) {
    return { outcome: 'alreadyDone', message: `${what} was already deleted` };
  }
  try {
    await env.call(dps, 1, true, remove);
    return { outcome: 'succeeded' };
  } catch (e) {
    if (notFound(e)) return { outcome: 'alreadyDone', message: `${what} was already deleted` };
    throw e;
  }
};

/** Read, then write only when the status differs; the written status must be the one asked for. */
const setStatusIdempotent = async (
  env: StepEnv,
  read: () => Promise<{ provisioningStatus: string; etag?: string } | undefined>,
  write: () => Promise<{ provisioningStatus: string; etag?: string }>,
  target: 'enabled' | 'disabled',
  what: string,
): Promise<Execution> => {
  const dps = env.dps.host;
  const before = await env.call(dps, 1, false, read);
  if (!before) {
    return {
      outcome: 'failed',
      message: `${what} does not exist: nothing to ${target === 'enabled' ? 'enable' : 'disable'}`,
    };
  }
  if (before.provisioningStatus === target)
    return { outcome: 'alreadyDone', message: `${what} was already ${target}`, ...etagOf(before) };
  // The adapter's read-modify-write costs a read and a write.
  const after = await env.call(dps, 2, true, write);
  if (after.provisioningStatus !== target) {
    return {
      outcome: 'failed',
      message: `${what} came back ${after.provisioningStatus} after setting it ${target}`,
    };
  }
  return { outcome: 'succeeded', ...etagOf(after) };
};

const etagOf = (x: { etag?: string }): { etag?: string } => (x.etag ? { etag: x.etag } : {});

/**
 * Restore: deletes the blocker a run wrote, only while its ETag is the one that run left (If-Match).
 * A blocker changed since (412) is left as it is and said so.
 */
const deleteBlocker = async (
  env: StepEnv,
  op: Extract<StepOperation, { kind: 'deleteBlocker' }>,
): Promise<Execution> => {
  const what = `blocker ${op.registrationId}`;
  const result = await deleteIdempotent(
    env,
    () => env.dps.getEnrollment(op.registrationId),
    () => env.dps.deleteEnrollment(op.registrationId, op.etag),
    what,
  ).catch((e: unknown) => {
    if (isServiceError(e) && e.kind === 'preconditionFailed') {
      return {
        outcome: 'failed' as const,
        message: `${what} changed since run ${op.runId} wrote it (its ETag differs): left as it is`,
      };
    }
    throw e;
  });
  return result;
};

const createBlocker = async (env: StepEnv, op: Extract<StepOperation, { kind: 'createBlocker' }>) => {
  const dps = env.dps.host;
  const read = () => env.dps.getEnrollment(op.registrationId);
  let existed = false;
  if (env.recheck) existed = (await env.call(dps, 1, false, read)) !== undefined;
  if (!existed) {
    try {
      await env.call(dps, 1, true, () =>
        env.dps.createBlocker({
          registrationId: op.registrationId,
          groupId: op.groupId,
          certificatePem: op.certificatePem,
          runId: op.runId ?? env.runId,
        }),
      );
    } catch (e) {
      if (!conflict(e)) throw e;
      existed = true;
    }
  }
  // Re-read every blocker: one SDK once wrote a "disabled" enrollment that came out enabled.
  const written = await env.call(dps, 1, false, read);
  if (!written) {
    return {
      outcome: 'failed' as const,
      message: `blocker for ${op.registrationId} is missing after writing it: the device could re-enroll`,
    };
  }
  if (written.provisioningStatus !== 'disabled') {
    const how = existed
      ? 'an ENABLED individual enrollment already exists for'
      : 'blocker came back enabled for';
    return { outcome: 'failed' as const, message: `${how} ${op.registrationId}: the device could re-enroll` };
  }
  return existed
    ? {
        outcome: 'alreadyDone' as const,
        message: `a disabled individual enrollment already blocks ${op.registrationId}`,
        ...etagOf(written),
      }
    : { outcome: 'succeeded' as const, ...etagOf(written) };
};

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

const hubStep = async (
  env: StepEnv,
  op: Extract<StepOperation, { kind: 'disableHubDevices' | 'enableHubDevices' | 'deleteHubDevices' }>,
): Promise<Execution> => {
  const hub = env.hubs.get(op.hub.toLowerCase());
  if (!hub) {
    const message = `no credentials for hub ${op.hub}: give --hub for it and retry`;
    return {
      outcome: 'failed',
      message,
      devices: op.deviceIds.map((id) => ({ id, outcome: 'failed', message })),
    };
  }
  const service = hub.host.toLowerCase();
  const want =
    op.kind === 'deleteHubDevices' ? 'deleted' : op.kind === 'disableHubDevices' ? 'disabled' : 'enabled';
  const results = new Map<string, DeviceResult>();
  for (const [id, r] of env.priorDone ?? []) if (op.deviceIds.includes(id)) results.set(id, r);
  let todo = op.deviceIds.filter((id) => !results.has(id));
  if (env.recheck) {
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
    todo = remaining;
    await env.settled?.(checked);
  }
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

const verify = async (env: StepEnv, registrationIds: string[]): Promise<Execution> => {
  if (!env.verify) return { outcome: 'skipped', message: 'no verification was available for this run' };
  const verdicts = await env.verify(registrationIds);
  const allowed = verdicts.filter((v) => v.verdict === 'allowed');
  const possible = verdicts.filter((v) => v.verdict === 'possible');
  if (!env.restore && allowed.length > 0) {
    const first = allowed[0];
    const more = allowed.length > 1 ? ` (and ${allowed.length - 1} more)` : '';
    return {
      outcome: 'failed',
      verdicts,
      message: `${first.registrationId} could provision again: ${first.reason}${more}`,
    };
  }
  const notBack = env.restore ? verdicts.filter((v) => v.notBack) : [];
  if (notBack.length > 0) {
    const first = notBack[0];
    const more = notBack.length > 1 ? ` (and ${notBack.length - 1} more)` : '';
    return {
      outcome: 'failed',
      verdicts,
      message: `${first.registrationId} is not back as it was: ${first.notBack}${more}`,
    };
  }
  const message =
    possible.length > 0 ? `${possible.length} device(s) might re-enroll: ${possible[0].reason}` : undefined;
  return { outcome: 'succeeded', verdicts, message };
};

export const performStep = async (step: PlanStep, env: StepEnv): Promise<Execution> => {
  const { dps } = env;
  const op = step.op;
  switch (op.kind) {
    case 'snapshotRegistrations': {
      const count = await env.ensureSnapshot();
      return { outcome: 'succeeded', message: `${count} registration records in the journal` };
    }
    case 'disableEnrollment':
    case 'enableEnrollment': {
      const target = op.kind === 'disableEnrollment' ? 'disabled' : 'enabled';
      const id = op.registrationId;
      return setStatusIdempotent(
        env,
        () => dps.getEnrollment(id),
        () => dps.setEnrollmentStatus(id, target),
        target,
        `enrollment ${id}`,
      );
    }
    case 'disableGroup':
    case 'enableGroup': {
      const target = op.kind === 'disableGroup' ? 'disabled' : 'enabled';
      const id = op.groupId;
      return setStatusIdempotent(
        env,
        () => dps.getGroup(id),
        () => dps.setGroupStatus(id, target),
        target,
        `enrollment group ${id}`,
      );
    }
    case 'deleteEnrollment':
      return deleteIdempotent(
        env,
        () => dps.getEnrollment(op.registrationId),
        () => dps.deleteEnrollment(op.registrationId),
        `enrollment ${op.registrationId}`,
      );
    case 'deleteGroup':
      return deleteIdempotent(
        env,
        () => dps.getGroup(op.groupId),
        () => dps.deleteGroup(op.groupId),
        `enrollment group ${op.groupId}`,
      );
    case 'deleteRegistration':
      return deleteIdempotent(
        env,
        () => dps.getRegistration(op.registrationId),
        () => dps.deleteRegistration(op.registrationId),
        `registration record ${op.registrationId}`,
      );
    case 'createBlocker':
      return createBlocker(env, op);
    case 'deleteBlocker':
      return deleteBlocker(env, op);
    case 'disableHubDevices':
    case 'enableHubDevices':
    case 'deleteHubDevices':
      return hubStep(env, op);
    case 'hubJobDevices': {
      const hub = env.hubs.get(op.hub.toLowerCase());
      if (!hub) {
        const message = `no credentials for hub ${op.hub}: give --hub for it and retry`;
        return {
          outcome: 'failed',
          message,
          devices: op.deviceIds.map((id) => ({ id, outcome: 'failed', message })),
        };
      }
      return hubJobStep(env, op, hub, (ids, status, results) =>
        changeHubStatus(env, hub, hub.host.toLowerCase(), ids, status, results),
      );
    }
    case 'verify':
      return verify(env, op.registrationIds);
  }
};

/** The limiter's name for a hub's query budget (separate from its identity operations). */
export { jobServiceOf };

export const queryServiceOf = (hubService: string): string => `${hubService}#query`;

/** Which service a step's calls count against (for rate limits and in-flight caps). */
export const serviceOf = (step: PlanStep, dpsHost: string): string => {
  const op = step.op;
  switch (op.kind) {
    case 'disableHubDevices':
    case 'enableHubDevices':
    case 'deleteHubDevices':
    case 'hubJobDevices':
      return op.hub.toLowerCase();
    case 'snapshotRegistrations':
    case 'verify':
      return 'local';
    default:
      return dpsHost;
  }
};
