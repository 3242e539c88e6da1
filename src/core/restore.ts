/**
 * Undo exactly one recorded run: re-enable what that run disabled (nothing that was already disabled
 * before it), and delete the blockers it wrote. Deletions cannot be undone: they are reported.
 *
 * Before undoing anything, each target is compared with what the run left: a target a later run of this
 * tool acted on, or that changed since (another status, another ETag, a status change after the run,
 * gone), is left as it is and listed with the reason (naming the later run when one is known).
 *
 * Order: the hub identities first (phase "deregister"), then the DPS enrollments, groups and blockers
 * (phase "cleanup", the next one the executor runs). Letting DPS in first would send a device to a hub
 * where its identity is still disabled: its connection is refused, and device SDKs back off for minutes
 * after such a failure. With the hub first, the identity is usable before DPS lets the device in.
 */
import type { EnrollmentGroup, HubDevice, IndividualEnrollment, RegistrationRecord } from './model.js';
import { PlanBuilder, sampleIds } from './plan-builder.js';
import { applyHubPaths, type HubPathOptions } from './plan-hub-path.js';
import { plural } from './text.js';
import { HUB_BULK_MAX, type Plan, type PlanResult, type PlanStep, type StepResult } from './plan-types.js';

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

interface Changes {
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

const registrationIdAt = (step: PlanStep, i: number, deviceId: string): string =>
  step.registrationIds[i] ?? deviceId;

/**
 * A hub step through import/export jobs changes the same identities as its call-path twin: restore reads
 * it as that (and restores through jobs where the run went through jobs).
 */
const asCallStep = (op: PlanStep['op']): PlanStep['op'] => {
  if (op.kind !== 'hubJobDevices') return op;
  const { hub, deviceIds } = op;
  if (op.action === 'disable') return { kind: 'disableHubDevices', hub, deviceIds };
  if (op.action === 'delete') return { kind: 'deleteHubDevices', hub, deviceIds };
  return { kind: 'enableHubDevices', hub, deviceIds };
};

/** Hubs (lower case) whose step in this plan went through import/export jobs. */
export const hubsThroughJobs = (plan: Plan): Set<string> =>
  new Set(plan.steps.flatMap((s) => (s.op.kind === 'hubJobDevices' ? [s.op.hub.toLowerCase()] : [])));

/** A retried step is recorded more than once: its last result is the one that counts. */
const lastResults = (results: StepResult[]): Map<string, StepResult> => {
  const resultOf = new Map<string, StepResult>();
  for (const r of results) resultOf.set(r.stepId, r);
  return resultOf;
};

function changesOf(plan: Plan, results: StepResult[]): Changes {
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
        break;
      case 'disableGroup':
        if (succeeded && !deletedGroups.has(op.groupId))
          c.groups.push({ groupId: op.groupId, stepId: step.id, ...etag });
        else if (result.outcome === 'alreadyDone')
          c.wasDisabled.push({ what: `enrollmentGroups/${op.groupId}`, registrationIds: [] });
        break;
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
        break;
      }
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
            ...etag,
          });
        }
        break;
      default:
        break;
    }
  }
  return c;
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
function changedSince(
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

const lookup = <T>(map: ReadonlyMap<string, T | null> | undefined, key: string) =>
  map?.has(key) ? { read: true, value: map.get(key) ?? undefined } : { read: false, value: undefined };

export function planRestore(
  runId: string,
  plan: Plan,
  results: StepResult[],
  ctx: RestoreContext = {},
): PlanResult {
  const c = changesOf(plan, results);
  const left: { what: string; reason: string; registrationIds: string[] }[] = [];
  /** Per device: false once some change of the run to it is left as it is (it is then not verified). */
  const whole = new Map<string, boolean>();
  const mark = (id: string, restored: boolean) => whole.set(id, (whole.get(id) ?? true) && restored);

  const builder = new PlanBuilder();

  // Hub identities.
  const hubs = new Map<string, { hub: string; deviceIds: string[]; registrationIds: string[] }>();
  for (const h of c.hubs) {
    const key = hubDeviceKey(h.hub, h.deviceId);
    const now = lookup(ctx.hubDevices, key);
    const reason = changedSince(
      runId,
      key,
      ctx,
      {
        read: now.read,
        present: now.value !== undefined,
        status: now.value?.status,
        statusUpdatedTime: now.value?.statusUpdatedTime,
      },
      { status: 'disabled', at: ctx.outcomeAt?.get(h.stepId) },
    );
    // An Edge gateway's child has no DPS selection of its own here: re-enabled, not verified at DPS.
    if (!h.edgeChild) mark(h.registrationId, reason === undefined);
    if (reason) {
      left.push({
        what: `hub device ${h.deviceId} on ${h.hub}`,
        reason,
        registrationIds: [h.registrationId],
      });
      continue;
    }
    const entry = hubs.get(h.hub.toLowerCase()) ?? { hub: h.hub, deviceIds: [], registrationIds: [] };
    entry.deviceIds.push(h.deviceId);
    entry.registrationIds.push(h.registrationId);
    hubs.set(h.hub.toLowerCase(), entry);
  }
  for (const { hub, deviceIds, registrationIds } of hubs.values()) {
    builder.devicesPerHub[hub] = (builder.devicesPerHub[hub] ?? 0) + deviceIds.length;
    for (let i = 0; i < deviceIds.length; i += HUB_BULK_MAX) {
      const batch = deviceIds.slice(i, i + HUB_BULK_MAX);
      builder.add(
        'deregister',
        { kind: 'enableHubDevices', hub, deviceIds: batch },
        `POST devices (bulk update status=enabled, ${plural(batch.length, 'device')}) on ${hub}`,
        registrationIds.slice(i, i + HUB_BULK_MAX),
      );
    }
  }

  // Individual enrollments.
  for (const e of c.enrollments) {
    const key = enrollmentKey(e.registrationId);
    const now = lookup(ctx.enrollments, e.registrationId);
    const reason = changedSince(
      runId,
      key,
      ctx,
      {
        read: now.read,
        present: now.value !== undefined,
        status: now.value?.provisioningStatus,
        etag: now.value?.etag,
      },
      { status: 'disabled', etag: e.etag },
    );
    mark(e.registrationId, reason === undefined);
    if (reason) {
      left.push({ what: `enrollments/${e.registrationId}`, reason, registrationIds: [e.registrationId] });
      continue;
    }
    builder.add(
      'cleanup',
      { kind: 'enableEnrollment', registrationId: e.registrationId },
      `PUT enrollments/${e.registrationId} provisioningStatus=enabled`,
      [e.registrationId],
    );
  }

  // Groups: every device of the group comes back through it.
  for (const g of c.groups) {
    const key = groupKey(g.groupId);
    const now = lookup(ctx.groups, g.groupId);
    const reason = changedSince(
      runId,
      key,
      ctx,
      {
        read: now.read,
        present: now.value !== undefined,
        status: now.value?.provisioningStatus,
        etag: now.value?.etag,
      },
      { status: 'disabled', etag: g.etag },
    );
    const devices = plan.snapshot
      .filter((s: RegistrationRecord) => s.enrollmentGroupId === g.groupId)
      .map((r) => r.registrationId);
    for (const id of devices) mark(id, reason === undefined);
    if (reason) {
      left.push({ what: `enrollmentGroups/${g.groupId}`, reason, registrationIds: devices });
      continue;
    }
    // No registration IDs: the group lets every device in at once, so it waits for every hub step.
    builder.add(
      'cleanup',
      { kind: 'enableGroup', groupId: g.groupId },
      `PUT enrollmentGroups/${g.groupId} provisioningStatus=enabled`,
      [],
    );
  }

  // Blockers this run wrote: deleting one lets its device provision again through its group.
  const deletedBlockers = new Map<string, string[]>();
  for (const b of c.blockers) {
    const key = enrollmentKey(b.registrationId);
    const now = lookup(ctx.enrollments, b.registrationId);
    const current = now.value;
    // A blocker found already there (resume) is this run's only when its tag names this run.
    if (!b.certain && (!now.read || current?.blocker?.runId !== runId)) continue;
    let reason = changedSince(
      runId,
      key,
      ctx,
      {
        read: now.read,
        present: current !== undefined,
        status: current?.provisioningStatus,
        etag: current?.etag,
      },
      { status: 'disabled', etag: b.etag },
    );
    if (!reason && current && !current.blocker)
      reason = `it is no longer a blocker: it changed since run ${runId}`;
    if (!reason && current?.blocker?.runId && current.blocker.runId !== runId) {
      reason = `it is the blocker of run ${current.blocker.runId}, not of run ${runId}`;
    }
    if (reason && now.read && current === undefined && !ctx.laterRuns?.get(key)?.length) {
      // Gone already: nothing to undo, and the device is as it was before the run.
      left.push({
        what: `blocker ${b.registrationId}`,
        reason: `it is already deleted`,
        registrationIds: [b.registrationId],
      });
      continue;
    }
    mark(b.registrationId, reason === undefined);
    if (reason) {
      left.push({ what: `blocker ${b.registrationId}`, reason, registrationIds: [b.registrationId] });
      continue;
    }
    const etag = b.etag ?? current?.etag;
    builder.add(
      'cleanup',
      {
        kind: 'deleteBlocker',
        registrationId: b.registrationId,
        groupId: b.groupId,
        runId,
        ...(etag ? { etag } : {}),
      },
      `DELETE enrollments/${b.registrationId}${etag ? ` (If-Match: ${etag})` : ''}: the blocker run ${runId} wrote`,
      [b.registrationId],
    );
    deletedBlockers.set(b.groupId, [...(deletedBlockers.get(b.groupId) ?? []), b.registrationId]);
  }

  const restored = [...whole].filter(([, ok]) => ok).map(([id]) => id);
  if (builder.steps.length > 0) builder.addVerifySteps(restored, `run ${runId}`);

  for (const [groupId, ids] of deletedBlockers) {
    const one = ids.length === 1;
    builder.warn({
      code: 'blocker-deleted',
      severity: 'caution',
      message:
        `Deleting blocker${one ? '' : 's'} ${sampleIds(ids)} lets ${one ? 'the device' : 'those devices'} ` +
        `provision again through group ${groupId}: restore deletes exactly the blocker${one ? '' : 's'} run ${runId} wrote.`,
      registrationIds: ids,
      path: `enrollmentGroups/${groupId}`,
    });
  }
  // Targets left as they are, one warning per reason.
  const byReason = new Map<string, typeof left>();
  for (const l of left) byReason.set(l.reason, [...(byReason.get(l.reason) ?? []), l]);
  for (const [reason, items] of byReason) {
    const one = items.length === 1;
    builder.warn({
      code: 'changed-since',
      severity: 'caution',
      message: `Left as ${one ? 'it is' : 'they are'}: ${sampleIds(
        items.map((i) => i.what),
        4,
      )}, because ${reason}.`,
      registrationIds: [...new Set(items.flatMap((i) => i.registrationIds))],
    });
  }
  if (c.deleted.length > 0) {
    builder.warn({
      code: 'not-restorable',
      severity: 'caution',
      message:
        `Run ${runId} deleted ${sampleIds(
          c.deleted.map((d) => d.what),
          4,
        )}: deletions cannot be restored. ` +
        'Enrollments and hub identities would have to be created again by hand.',
      registrationIds: [...new Set(c.deleted.flatMap((d) => d.registrationIds))],
    });
  }
  if (c.wasDisabled.length > 0) {
    const one = c.wasDisabled.length === 1;
    builder.warn({
      code: 'was-already-disabled',
      severity: 'info',
      message:
        `${sampleIds(
          c.wasDisabled.map((w) => w.what),
          4,
        )} ${one ? 'was' : 'were'} already disabled before run ${runId}: ` +
        `restore leaves ${one ? 'it' : 'them'} disabled.`,
      registrationIds: [...new Set(c.wasDisabled.flatMap((w) => w.registrationIds))],
    });
  }
  if (builder.steps.length === 0 && builder.warnings.length === 0) {
    builder.warn({
      code: 'not-restorable',
      severity: 'info',
      message: `Run ${runId} disabled nothing that is still to re-enable: there is nothing to restore.`,
      registrationIds: [],
    });
  }
  const restoredPlan = builder.build(
    { selection: plan.selection, actions: plan.actions, snapshot: plan.snapshot },
    restored.length,
  );
  restoredPlan.restoreOf = runId;
  if (ctx.hubPath) {
    const given = ctx.hubPath.choice;
    const viaJobs = hubsThroughJobs(plan);
    const choiceOf = (hub: string) => (typeof given === 'function' ? given(hub) : given);
    const follows = (hub: string) => choiceOf(hub) === 'auto';
    applyHubPaths(restoredPlan, {
      ...ctx.hubPath,
      choice: (hub) => (follows(hub) ? (viaJobs.has(hub.toLowerCase()) ? 'jobs' : 'calls') : choiceOf(hub)),
    });
    for (const info of restoredPlan.hubPaths ?? []) {
      if (follows(info.hub)) info.reason = `run ${runId} went through ${info.path} on this hub`;
    }
  }
  return { ok: true, plan: restoredPlan };
}
