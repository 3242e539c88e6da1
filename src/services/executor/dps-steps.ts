/**
 * The DPS steps: enable, disable and delete enrollments and enrollment groups, delete registration
 * records, write and remove blockers. Each is safe to repeat: a delete of something already gone and a
 * status already as wanted are `alreadyDone`; with `recheck`, the service is read before acting.
 */
import { isServiceError } from '../../core/errors.js';
import type { StepOperation } from '../../core/plan-types.js';
import type { Execution, StepEnv } from './step-types.js';

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

/** The DPS operations (enrollments, groups, registration records, blockers). */
export type DpsOperation = Extract<
  StepOperation,
  {
    kind:
      | 'disableEnrollment'
      | 'enableEnrollment'
      | 'disableGroup'
      | 'enableGroup'
      | 'deleteEnrollment'
      | 'deleteGroup'
      | 'deleteRegistration'
      | 'createBlocker'
      | 'deleteBlocker';
  }
>;

/** One DPS step against the DPS port. */
export const dpsStep = async (env: StepEnv, op: DpsOperation): Promise<Execution> => {
  const { dps } = env;
  switch (op.kind) {
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
  }
};
