/**
 * Undo the temporary part of a recorded run: re-enable exactly what that run disabled, and nothing that
 * was already disabled before it. Deletions cannot be undone and blockers are never touched: both are
 * reported as warnings saying what a person can do by hand.
 *
 * Order: the hub identities first (phase "deregister"), then the DPS enrollments and groups (phase
 * "cleanup", the next one the executor runs). Enabling DPS first would let a device register again and
 * be sent to a hub where its identity is still disabled: its connection is refused, and device SDKs back
 * off for minutes after such a failure. With the hub first, the identity is usable before DPS lets the
 * device in, and a device that kept its hub assignment reconnects at once.
 */
import type { RegistrationRecord } from './model.js';
import { PlanBuilder, plural, sampleIds } from './plan-builder.js';
import { HUB_BULK_MAX, type Plan, type PlanResult, type PlanStep, type StepResult } from './plan-types.js';

interface HubRestore {
  hub: string;
  deviceIds: string[];
  registrationIds: string[];
}

/** Devices of a hub step that this run itself changed (per-device outcome, or the whole step). */
function devicesThatChanged(
  step: PlanStep,
  result: StepResult,
  outcome: 'succeeded' | 'alreadyDone',
): number[] {
  if (step.op.kind !== 'disableHubDevices' && step.op.kind !== 'deleteHubDevices') return [];
  const ids = step.op.deviceIds;
  if (result.devices && result.devices.length > 0) {
    const byId = new Map(result.devices.map((d) => [d.id, d.outcome]));
    return ids.flatMap((id, i) => (byId.get(id) === outcome ? [i] : []));
  }
  return result.outcome === outcome ? ids.map((_, i) => i) : [];
}

const registrationIdAt = (step: PlanStep, i: number, deviceId: string): string =>
  step.registrationIds[i] ?? deviceId;

export function planRestore(runId: string, plan: Plan, results: StepResult[]): PlanResult {
  // A retried step is recorded more than once: its last result is the one that counts.
  const resultOf = new Map<string, StepResult>();
  for (const r of results) resultOf.set(r.stepId, r);

  const enrollments: string[] = [];
  const groups: string[] = [];
  const hubs = new Map<string, HubRestore>();
  const wasDisabled: { what: string; registrationIds: string[] }[] = [];
  const deleted: { what: string; registrationIds: string[] }[] = [];
  const blockers: { registrationId: string; groupId: string }[] = [];
  const deletedGroups = new Set<string>();

  for (const step of plan.steps) {
    const result = resultOf.get(step.id);
    if (!result) continue;
    const op = step.op;
    if (op.kind === 'deleteGroup' && (result.outcome === 'succeeded' || result.outcome === 'alreadyDone')) {
      deletedGroups.add(op.groupId);
    }
  }

  for (const step of plan.steps) {
    const result = resultOf.get(step.id);
    if (!result) continue;
    const op = step.op;
    const succeeded = result.outcome === 'succeeded';
    switch (op.kind) {
      case 'disableEnrollment':
        if (succeeded) enrollments.push(op.registrationId);
        else if (result.outcome === 'alreadyDone')
          wasDisabled.push({
            what: `enrollments/${op.registrationId}`,
            registrationIds: [op.registrationId],
          });
        break;
      case 'disableGroup':
        if (succeeded && !deletedGroups.has(op.groupId)) groups.push(op.groupId);
        else if (result.outcome === 'alreadyDone')
          wasDisabled.push({ what: `enrollmentGroups/${op.groupId}`, registrationIds: [] });
        break;
      case 'disableHubDevices': {
        const entry = hubs.get(op.hub.toLowerCase()) ?? { hub: op.hub, deviceIds: [], registrationIds: [] };
        for (const i of devicesThatChanged(step, result, 'succeeded')) {
          entry.deviceIds.push(op.deviceIds[i]);
          entry.registrationIds.push(registrationIdAt(step, i, op.deviceIds[i]));
        }
        if (entry.deviceIds.length > 0) hubs.set(op.hub.toLowerCase(), entry);
        const before = devicesThatChanged(step, result, 'alreadyDone');
        if (before.length > 0) {
          wasDisabled.push({
            what: `${plural(before.length, 'hub device')} on ${op.hub}`,
            registrationIds: before.map((i) => registrationIdAt(step, i, op.deviceIds[i])),
          });
        }
        break;
      }
      case 'deleteHubDevices': {
        const gone = devicesThatChanged(step, result, 'succeeded');
        if (gone.length > 0) {
          deleted.push({
            what: `${plural(gone.length, 'hub device identity', 'hub device identities')} on ${op.hub}`,
            registrationIds: gone.map((i) => registrationIdAt(step, i, op.deviceIds[i])),
          });
        }
        break;
      }
      case 'deleteEnrollment':
        if (succeeded)
          deleted.push({ what: `enrollments/${op.registrationId}`, registrationIds: [op.registrationId] });
        break;
      case 'deleteGroup':
        if (succeeded) deleted.push({ what: `enrollmentGroups/${op.groupId}`, registrationIds: [] });
        break;
      case 'deleteRegistration':
        if (succeeded)
          deleted.push({ what: `registrations/${op.registrationId}`, registrationIds: [op.registrationId] });
        break;
      case 'createBlocker':
        if (succeeded || result.outcome === 'alreadyDone') blockers.push(op);
        break;
      default:
        break;
    }
  }

  const builder = new PlanBuilder();
  const restored = new Set<string>();
  for (const { hub, deviceIds, registrationIds } of hubs.values()) {
    builder.devicesPerHub[hub] = (builder.devicesPerHub[hub] ?? 0) + deviceIds.length;
    for (let i = 0; i < deviceIds.length; i += HUB_BULK_MAX) {
      const batch = deviceIds.slice(i, i + HUB_BULK_MAX);
      const ids = registrationIds.slice(i, i + HUB_BULK_MAX);
      for (const id of ids) restored.add(id);
      builder.add(
        'deregister',
        { kind: 'enableHubDevices', hub, deviceIds: batch },
        `POST devices (bulk update status=enabled, ${plural(batch.length, 'device')}) on ${hub}`,
        ids,
      );
    }
  }
  for (const id of enrollments) {
    restored.add(id);
    builder.add(
      'cleanup',
      { kind: 'enableEnrollment', registrationId: id },
      `PUT enrollments/${id} provisioningStatus=enabled`,
      [id],
    );
  }
  for (const id of groups) {
    for (const r of plan.snapshot.filter((s: RegistrationRecord) => s.enrollmentGroupId === id)) {
      restored.add(r.registrationId);
    }
    // No registration IDs: the group lets every device in at once, so it waits for every hub step.
    builder.add(
      'cleanup',
      { kind: 'enableGroup', groupId: id },
      `PUT enrollmentGroups/${id} provisioningStatus=enabled`,
      [],
    );
  }
  if (builder.steps.length > 0) builder.addVerifySteps([...restored], `run ${runId}`);

  if (deleted.length > 0) {
    builder.warn({
      code: 'not-restorable',
      severity: 'caution',
      message:
        `Run ${runId} deleted ${sampleIds(
          deleted.map((d) => d.what),
          4,
        )}: deletions cannot be restored. ` +
        'Enrollments and hub identities would have to be created again by hand.',
      registrationIds: [...new Set(deleted.flatMap((d) => d.registrationIds))],
    });
  }
  if (blockers.length > 0) {
    const ids = blockers.map((b) => b.registrationId);
    const one = blockers[0];
    builder.warn({
      code: 'blocker-kept',
      severity: 'info',
      message:
        `The blocker${ids.length === 1 ? '' : 's'} for ${sampleIds(ids)} ` +
        `${ids.length === 1 ? 'is' : 'are'} kept: ` +
        'restore never removes a blocker, because that lets the device back into its enrollment group.',
      recommendation:
        'To let a device back in on purpose, delete its blocker by hand, ' +
        `e.g. DELETE enrollments/${one.registrationId} ` +
        `(az iot dps enrollment delete --enrollment-id ${one.registrationId} ...); ` +
        'it then registers through ' +
        `enrollment group ${one.groupId} again.`,
      registrationIds: ids,
    });
  }
  if (wasDisabled.length > 0) {
    const one = wasDisabled.length === 1;
    builder.warn({
      code: 'was-already-disabled',
      severity: 'info',
      message:
        `${sampleIds(
          wasDisabled.map((w) => w.what),
          4,
        )} ${one ? 'was' : 'were'} already disabled before run ${runId}: ` +
        `restore leaves ${one ? 'it' : 'them'} disabled.`,
      registrationIds: [...new Set(wasDisabled.flatMap((w) => w.registrationIds))],
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
    restored.size,
  );
  restoredPlan.restoreOf = runId;
  return { ok: true, plan: restoredPlan };
}
