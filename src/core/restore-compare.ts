/**
 * What a restore compares before it undoes anything: the targets a run acted on, what must be read of
 * them now, and whether each is still as the run left it (or a later run, or someone, changed it since).
 * Pure.
 */
import type { EnrollmentGroup, HubDevice, IndividualEnrollment } from './model.js';
import type { HubPathOptions } from './plan-hub-path.js';
import type { Plan, StepResult } from './plan-types.js';
import { asCallStep, changesOf } from './restore-changes.js';

/** A status change on a hub this long after the run's outcome was journaled counts as a change since. */
export const CLOCK_TOLERANCE_MS = 10_000;

export const hubDeviceKey = (hub: string, deviceId: string): string => `hub:${hub.toLowerCase()}/${deviceId}`;
export const enrollmentKey = (registrationId: string): string => `enrollment:${registrationId}`;
export const groupKey = (groupId: string): string => `group:${groupId}`;

/**
 * What the targets of the run look like now, and what else acted on them. A target missing from a map
 * was not read (no credentials for its hub): it is not compared. `null`: read, and it does not exist.
 */
export interface RestoreContext {
  enrollments?: ReadonlyMap<string, IndividualEnrollment | null>;
  groups?: ReadonlyMap<string, EnrollmentGroup | null>;
  /** By `hubDeviceKey(hub, deviceId)`. */
  hubDevices?: ReadonlyMap<string, HubDevice | null>;
  /** Runs of this tool after this one that acted on a target, oldest first, by target key. */
  laterRuns?: ReadonlyMap<string, string[]>;
  /** When each step's outcome was journaled (ISO), by step ID. */
  outcomeAt?: ReadonlyMap<string, string>;
  /**
   * The hub path (--hub-path): `auto` follows the run (jobs where its hub step went through jobs, else
   * calls); calls or jobs are taken as given. Absent: the call path, no choice shown.
   */
  hubPath?: HubPathOptions;
}

/** What a restore must read now, to compare with what the run left. */
export interface RestoreReads {
  enrollments: string[];
  groups: string[];
  hubDevices: { hub: string; deviceId: string }[];
}

/** The targets a restore of this run reads before it plans: what the run changed. */
export function restoreReads(plan: Plan, results: StepResult[]): RestoreReads {
  const c = changesOf(plan, results);
  return {
    enrollments: [
      ...new Set([...c.enrollments.map((e) => e.registrationId), ...c.blockers.map((b) => b.registrationId)]),
    ],
    groups: c.groups.map((g) => g.groupId),
    hubDevices: c.hubs.map(({ hub, deviceId }) => ({ hub, deviceId })),
  };
}

/**
 * The targets a run acted on (with an outcome, or an intent whose outcome is unknown), as target keys:
 * a later run's journal tells the restore of an earlier run what it must leave alone.
 */
export function targetsActedOn(
  plan: Plan,
  results: ReadonlyMap<string, StepResult>,
  unknownSteps: readonly string[],
): Set<string> {
  const unknown = new Set(unknownSteps);
  const keys = new Set<string>();
  for (const step of plan.steps) {
    const result = results.get(step.id);
    if (!unknown.has(step.id) && (!result || result.outcome === 'skipped')) continue;
    const op = asCallStep(step.op);
    switch (op.kind) {
      case 'disableEnrollment':
      case 'enableEnrollment':
      case 'deleteEnrollment':
      case 'createBlocker':
      case 'deleteBlocker':
        keys.add(enrollmentKey(op.registrationId));
        break;
      case 'disableGroup':
      case 'enableGroup':
      case 'deleteGroup':
        keys.add(groupKey(op.groupId));
        break;
      case 'disableHubDevices':
      case 'enableHubDevices':
      case 'deleteHubDevices': {
        const outcomes = new Map(result?.devices?.map((d) => [d.id, d.outcome]));
        for (const id of op.deviceIds) {
          if (result?.devices && outcomes.get(id) === 'skipped') continue;
          keys.add(hubDeviceKey(op.hub, id));
        }
        break;
      }
      default:
        break;
    }
  }
  return keys;
}

const runsWords = (runs: string[]): string =>
  runs.length === 1
    ? `run ${runs[0]}`
    : `runs ${runs.slice(0, 2).join(', ')}${runs.length > 2 ? ', ...' : ''}`;

/** Why a target is left as it is, or undefined when it is still as the run left it. */
export function changedSince(
  runId: string,
  key: string,
  ctx: RestoreContext,
  now: { present: boolean; read: boolean; status?: string; etag?: string; statusUpdatedTime?: string },
  left: { status: string; etag?: string; at?: string },
): string | undefined {
  const later = ctx.laterRuns?.get(key);
  if (later?.length) return `${runsWords(later)} acted on it after run ${runId}`;
  if (!now.read) return undefined;
  if (!now.present) return `it was deleted since run ${runId}`;
  if (now.status !== left.status) return `it is ${now.status} now: it changed since run ${runId}`;
  if (left.etag && now.etag && left.etag !== now.etag) {
    return `its ETag is not the one run ${runId} left: it changed since`;
  }
  if (left.at && now.statusUpdatedTime) {
    const changed = Date.parse(now.statusUpdatedTime);
    if (!Number.isNaN(changed) && changed > Date.parse(left.at) + CLOCK_TOLERANCE_MS) {
      return `its status changed at ${now.statusUpdatedTime}, after run ${runId}`;
    }
  }
  return undefined;
}

export const lookup = <T>(map: ReadonlyMap<string, T | null> | undefined, key: string) =>
  map?.has(key) ? { read: true, value: map.get(key) ?? undefined } : { read: false, value: undefined };
