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
import type { IndividualEnrollment, RegistrationRecord } from './model.js';
import { PlanBuilder, sampleIds } from './plan-builder.js';
import { applyHubPaths } from './plan-hub-path.js';
import { plural } from './text.js';
import { HUB_BULK_MAX, type Plan, type PlanResult, type StepResult } from './plan-types.js';
import { type Changes, changesOf, hubsThroughJobs } from './restore-changes.js';
import {
  changedSince,
  enrollmentKey,
  groupKey,
  hubDeviceKey,
  lookup,
  type RestoreContext,
} from './restore-compare.js';

export { hubsThroughJobs };
export {
  CLOCK_TOLERANCE_MS,
  enrollmentKey,
  groupKey,
  hubDeviceKey,
  type RestoreContext,
  type RestoreReads,
  restoreReads,
  targetsActedOn,
} from './restore-compare.js';

/** What a restore is planning with: the run, what is there now, the plan so far, what it leaves. */
interface RestoreWork {
  runId: string;
  ctx: RestoreContext;
  builder: PlanBuilder;
  /** Targets left as they are, with the reason. */
  left: { what: string; reason: string; registrationIds: string[] }[];
  /** Per device: false once some change of the run to it is left as it is (it is then not verified). */
  whole: Map<string, boolean>;
}

const mark = (w: RestoreWork, id: string, restored: boolean) =>
  w.whole.set(id, (w.whole.get(id) ?? true) && restored);

export function planRestore(
  runId: string,
  plan: Plan,
  results: StepResult[],
  ctx: RestoreContext = {},
): PlanResult {
  const c = changesOf(plan, results);
  const w: RestoreWork = { runId, ctx, builder: new PlanBuilder(), left: [], whole: new Map() };
  enableHubDevices(w, c.hubs);
  enableEnrollments(w, c.enrollments);
  enableGroups(w, c.groups, plan.snapshot);
  const deletedBlockers = deleteBlockers(w, c.blockers);

  const { builder } = w;
  const restored = [...w.whole].filter(([, ok]) => ok).map(([id]) => id);
  if (builder.steps.length > 0) builder.addVerifySteps(restored, `run ${runId}`);
  warnRestore(w, c, deletedBlockers);
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

/** Hub identities the run disabled, re-enabled in bulk batches per hub (first: see the header). */
function enableHubDevices(w: RestoreWork, changed: Changes['hubs']): void {
  const { runId, ctx, builder } = w;
  const hubs = new Map<string, { hub: string; deviceIds: string[]; registrationIds: string[] }>();
  for (const h of changed) {
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
    if (!h.edgeChild) mark(w, h.registrationId, reason === undefined);
    if (reason) {
      w.left.push({
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
}

/**
 * Why an enrollment or group the run disabled is not enabled again (a later run acted on it, or it
 * changed since), or undefined when it is as the run left it: disabled, under the ETag recorded.
 */
function disabledChangedSince(
  w: RestoreWork,
  key: string,
  now: { read: boolean; value?: { provisioningStatus?: string; etag?: string } },
  etag: string | undefined,
): string | undefined {
  const current = {
    read: now.read,
    present: now.value !== undefined,
    status: now.value?.provisioningStatus,
    etag: now.value?.etag,
  };
  return changedSince(w.runId, key, w.ctx, current, { status: 'disabled', etag });
}

/** Individual enrollments the run disabled, enabled again. */
function enableEnrollments(w: RestoreWork, changed: Changes['enrollments']): void {
  const { ctx } = w;
  for (const e of changed) {
    const key = enrollmentKey(e.registrationId);
    const reason = disabledChangedSince(w, key, lookup(ctx.enrollments, e.registrationId), e.etag);
    mark(w, e.registrationId, reason === undefined);
    if (reason) {
      w.left.push({ what: `enrollments/${e.registrationId}`, reason, registrationIds: [e.registrationId] });
      continue;
    }
    w.builder.add(
      'cleanup',
      { kind: 'enableEnrollment', registrationId: e.registrationId },
      `PUT enrollments/${e.registrationId} provisioningStatus=enabled`,
      [e.registrationId],
    );
  }
}

/** Groups the run disabled, enabled again: every device of the group comes back through it. */
function enableGroups(w: RestoreWork, changed: Changes['groups'], snapshot: RegistrationRecord[]): void {
  const { ctx } = w;
  for (const g of changed) {
    const key = groupKey(g.groupId);
    const reason = disabledChangedSince(w, key, lookup(ctx.groups, g.groupId), g.etag);
    const devices = snapshot.filter((s) => s.enrollmentGroupId === g.groupId).map((r) => r.registrationId);
    for (const id of devices) mark(w, id, reason === undefined);
    if (reason) {
      w.left.push({ what: `enrollmentGroups/${g.groupId}`, reason, registrationIds: devices });
      continue;
    }
    // No registration IDs: the group lets every device in at once, so it waits for every hub step.
    w.builder.add(
      'cleanup',
      { kind: 'enableGroup', groupId: g.groupId },
      `PUT enrollmentGroups/${g.groupId} provisioningStatus=enabled`,
      [],
    );
  }
}

/** Why a blocker the run wrote is not this run's to delete now, if it is not. */
function blockerLeftReason(
  w: RestoreWork,
  b: Changes['blockers'][number],
  now: { read: boolean; value: IndividualEnrollment | undefined },
): string | undefined {
  const { runId, ctx } = w;
  const current = now.value;
  const reason = changedSince(
    runId,
    enrollmentKey(b.registrationId),
    ctx,
    {
      read: now.read,
      present: current !== undefined,
      status: current?.provisioningStatus,
      etag: current?.etag,
    },
    { status: 'disabled', etag: b.etag },
  );
  if (reason) return reason;
  if (current && !current.blocker) return `it is no longer a blocker: it changed since run ${runId}`;
  if (current?.blocker?.runId && current.blocker.runId !== runId) {
    return `it is the blocker of run ${current.blocker.runId}, not of run ${runId}`;
  }
  return undefined;
}

/**
 * Blockers this run wrote, deleted (If-Match on the ETag it left): deleting one lets its device
 * provision again through its group. Returns the deleted blockers per group.
 */
function deleteBlockers(w: RestoreWork, changed: Changes['blockers']): Map<string, string[]> {
  const { runId, ctx } = w;
  const deleted = new Map<string, string[]>();
  for (const b of changed) {
    const key = enrollmentKey(b.registrationId);
    const now = lookup(ctx.enrollments, b.registrationId);
    const current = now.value;
    // A blocker found already there (resume) is this run's only when its tag names this run.
    if (!b.certain && (!now.read || current?.blocker?.runId !== runId)) continue;
    const reason = blockerLeftReason(w, b, now);
    if (reason && now.read && current === undefined && !ctx.laterRuns?.get(key)?.length) {
      // Gone already: nothing to undo, and the device is as it was before the run.
      w.left.push({
        what: `blocker ${b.registrationId}`,
        reason: `it is already deleted`,
        registrationIds: [b.registrationId],
      });
      continue;
    }
    mark(w, b.registrationId, reason === undefined);
    if (reason) {
      w.left.push({ what: `blocker ${b.registrationId}`, reason, registrationIds: [b.registrationId] });
      continue;
    }
    const etag = b.etag ?? current?.etag;
    w.builder.add(
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
    deleted.set(b.groupId, [...(deleted.get(b.groupId) ?? []), b.registrationId]);
  }
  return deleted;
}

/** The restore's warnings: blockers deleted, targets left (one warning per reason), what cannot come back. */
function warnRestore(w: RestoreWork, c: Changes, deletedBlockers: Map<string, string[]>): void {
  const { runId, builder } = w;
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
  warnLeft(builder, w.left);
  warnNotRestored(w, c);
}

/** Targets left as they are, one warning per reason. */
function warnLeft(builder: PlanBuilder, left: RestoreWork['left']): void {
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
}

/** What the restore cannot bring back: deletions, targets disabled before the run, or nothing at all. */
function warnNotRestored({ runId, builder }: RestoreWork, c: Changes): void {
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
}
