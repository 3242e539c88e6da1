/**
 * What a recorded run changed, read from its plan and its steps' last results: what it disabled (to
 * enable again), the blockers it wrote (to delete), what it found disabled already, what it deleted.
 */
import { plural } from './text.js';
import type { Plan, PlanStep, StepResult } from './plan-types.js';

interface Change {
  stepId: string;
  etag?: string;
}
interface HubChange extends Change {
  hub: string;
  deviceId: string;
  registrationId: string;
  /** A child of an IoT Edge gateway the run deregistered with it (--include-children). */
  edgeChild?: boolean;
}
interface BlockerChange extends Change {
  registrationId: string;
  groupId: string;
  /** alreadyDone: an earlier attempt of this run may have written it (its tag tells). */
  certain: boolean;
}

export interface Changes {
  enrollments: (Change & { registrationId: string })[];
  groups: (Change & { groupId: string })[];
  hubs: HubChange[];
  blockers: BlockerChange[];
  wasDisabled: { what: string; registrationIds: string[] }[];
  deleted: { what: string; registrationIds: string[] }[];
}

/** Devices of a hub step that this run itself changed (per-device outcome, or the whole step). */
function devicesThatChanged(
  step: PlanStep,
  result: StepResult,
  outcome: 'succeeded' | 'alreadyDone',
): number[] {
  const op = step.op;
  const hubStep =
    op.kind === 'disableHubDevices' ||
    op.kind === 'deleteHubDevices' ||
    (op.kind === 'hubJobDevices' && op.action !== 'enable');
  if (!hubStep) return [];
  const ids = op.deviceIds;
  if (result.devices && result.devices.length > 0) {
    const byId = new Map(result.devices.map((d) => [d.id, d.outcome]));
    return ids.flatMap((id, i) => (byId.get(id) === outcome ? [i] : []));
  }
  return result.outcome === outcome ? ids.map((_, i) => i) : [];
}

/**
 * A hub step through import/export jobs changes the same identities as its call-path twin: restore reads
 * it as that (and restores through jobs where the run went through jobs).
 */
export const asCallStep = (op: PlanStep['op']): PlanStep['op'] => {
  if (op.kind !== 'hubJobDevices') return op;
  const { hub, deviceIds } = op;
  if (op.action === 'disable') return { kind: 'disableHubDevices', hub, deviceIds };
  if (op.action === 'delete') return { kind: 'deleteHubDevices', hub, deviceIds };
  return { kind: 'enableHubDevices', hub, deviceIds };
};

/** Hubs (lower case) whose step in this plan went through import/export jobs. */
export const hubsThroughJobs = (plan: Plan): Set<string> =>
  new Set(plan.steps.flatMap((s) => (s.op.kind === 'hubJobDevices' ? [s.op.hub.toLowerCase()] : [])));

const registrationIdAt = (step: PlanStep, i: number, deviceId: string): string =>
  step.registrationIds[i] ?? deviceId;

/** A retried step is recorded more than once: its last result is the one that counts. */
const lastResults = (results: StepResult[]): Map<string, StepResult> => {
  const resultOf = new Map<string, StepResult>();
  for (const r of results) resultOf.set(r.stepId, r);
  return resultOf;
};

/** What the run changed, from its plan and the last result of each step. */
export function changesOf(plan: Plan, results: StepResult[]): Changes {
  const resultOf = lastResults(results);
  const c: Changes = { enrollments: [], groups: [], hubs: [], blockers: [], wasDisabled: [], deleted: [] };
  const deletedGroups = new Set<string>();
  for (const step of plan.steps) {
    const result = resultOf.get(step.id);
    if (
      step.op.kind === 'deleteGroup' &&
      (result?.outcome === 'succeeded' || result?.outcome === 'alreadyDone')
    ) {
      deletedGroups.add(step.op.groupId);
    }
  }
  for (const step of plan.steps) {
    const result = resultOf.get(step.id);
    if (!result) continue;
    if (!recordDisabled(c, step, result, deletedGroups)) recordDeletedOrWritten(c, step, result);
  }
  return c;
}

/** A disable the run did (or found done before it): true when the step was one. */
function recordDisabled(c: Changes, step: PlanStep, result: StepResult, deletedGroups: Set<string>): boolean {
  const op = asCallStep(step.op);
  const succeeded = result.outcome === 'succeeded';
  const etag = result.etag ? { etag: result.etag } : {};
  switch (op.kind) {
    case 'disableEnrollment':
      if (succeeded) c.enrollments.push({ registrationId: op.registrationId, stepId: step.id, ...etag });
      else if (result.outcome === 'alreadyDone')
        c.wasDisabled.push({
          what: `enrollments/${op.registrationId}`,
          registrationIds: [op.registrationId],
        });
      return true;
    case 'disableGroup':
      if (succeeded && !deletedGroups.has(op.groupId))
        c.groups.push({ groupId: op.groupId, stepId: step.id, ...etag });
      else if (result.outcome === 'alreadyDone')
        c.wasDisabled.push({ what: `enrollmentGroups/${op.groupId}`, registrationIds: [] });
      return true;
    case 'disableHubDevices': {
      for (const i of devicesThatChanged(step, result, 'succeeded')) {
        const deviceId = op.deviceIds[i];
        c.hubs.push({
          hub: op.hub,
          deviceId,
          registrationId: registrationIdAt(step, i, deviceId),
          stepId: step.id,
          ...(op.edgeChildrenOf ? { edgeChild: true } : {}),
        });
      }
      const before = devicesThatChanged(step, result, 'alreadyDone');
      if (before.length > 0) {
        c.wasDisabled.push({
          what: `${plural(before.length, 'hub device')} on ${op.hub}`,
          registrationIds: before.map((i) => registrationIdAt(step, i, op.deviceIds[i])),
        });
      }
      return true;
    }
    default:
      return false;
  }
}

/** A deletion the run did (it cannot be restored), or a blocker it wrote (restore deletes it). */
function recordDeletedOrWritten(c: Changes, step: PlanStep, result: StepResult): void {
  const op = asCallStep(step.op);
  const succeeded = result.outcome === 'succeeded';
  switch (op.kind) {
    case 'deleteHubDevices': {
      const gone = devicesThatChanged(step, result, 'succeeded');
      if (gone.length > 0) {
        c.deleted.push({
          what: `${plural(gone.length, 'hub device identity', 'hub device identities')} on ${op.hub}`,
          registrationIds: gone.map((i) => registrationIdAt(step, i, op.deviceIds[i])),
        });
      }
      break;
    }
    case 'deleteEnrollment':
      if (succeeded)
        c.deleted.push({ what: `enrollments/${op.registrationId}`, registrationIds: [op.registrationId] });
      break;
    case 'deleteGroup':
      if (succeeded) c.deleted.push({ what: `enrollmentGroups/${op.groupId}`, registrationIds: [] });
      break;
    case 'deleteRegistration':
      if (succeeded)
        c.deleted.push({
          what: `registrations/${op.registrationId}`,
          registrationIds: [op.registrationId],
        });
      break;
    case 'createBlocker':
      if (succeeded || result.outcome === 'alreadyDone') {
        c.blockers.push({
          registrationId: op.registrationId,
          groupId: op.groupId,
          stepId: step.id,
          certain: succeeded,
          ...(result.etag ? { etag: result.etag } : {}),
        });
      }
      break;
    default:
      break;
  }
}
