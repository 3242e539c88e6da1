/**
 * Plans for the two whole targets: one individual enrollment, and a whole enrollment group.
 * (One device of a group, with its blocker, is plan-group-devices.ts.)
 */
import { advise } from './advice.js';
import { PlanBuilder, refuse } from './plan-builder.js';
import { plural } from './text.js';
import type { Draft, PlanContext } from './plan-context.js';
import type { RegistrationRecord } from './model.js';
import { type Actions, DPS_REGISTRATION_QUOTA, type Selection } from './selection.js';

export function planEnrollment(
  selection: Extract<Selection, { kind: 'enrollment' }>,
  actions: Actions,
  ctx: PlanContext,
  /** A plan of several parts (a `devices` selection) builds them all into one builder. */
  builder = new PlanBuilder(),
): Draft {
  const id = selection.registrationId;
  const path = `enrollments/${id}`;
  const enrollment =
    ctx.individuals.get(id) ??
    refuse(
      'unknown-target',
      `No individual enrollment "${id}" exists on this DPS (${path}). ` +
        'Check the registration ID (it is case-sensitive) or choose one from the list.',
    );
  if (actions.disenroll === 'delete') {
    const blocked = ctx.blockedGroup(enrollment);
    if (blocked) {
      const group =
        blocked.groupId !== undefined ? `enrollment group ${blocked.groupId}` : 'its enrollment group';
      refuse(
        'delete-blocker',
        `${path} is a blocker: a disabled individual enrollment that keeps device ${id} out of ${group}. ` +
          `Deleting it lets the device re-enroll through ${group}, so this tool never deletes a blocker.`,
        advise(
          'Keep it (',
          { choose: { disenroll: 'disable' } },
          ' leaves it as it is) and deregister the device on its hub.',
        ).advice,
      );
    }
  }
  const record = ctx.records.get(id);
  builder.add(
    'snapshot',
    { kind: 'snapshotRegistrations', count: record ? 1 : 0 },
    `journal the registration record of ${id} (${record ? '1 record' : 'none found'}; no service call)`,
    [],
  );
  if (actions.disenroll === 'disable') {
    builder.add(
      'disenroll',
      { kind: 'disableEnrollment', registrationId: id },
      `PUT ${path} provisioningStatus=disabled`,
      [id],
    );
  } else {
    builder.add('disenroll', { kind: 'deleteEnrollment', registrationId: id }, `DELETE ${path}`, [id]);
  }
  builder.addHubSteps(
    [ctx.hubTargetOf(id, record)],
    actions.deregister,
    ctx.state.hubsWithCredentials,
    ctx.state.hubLookup,
  );
  builder.addVerifySteps([id], path);
  const attestation = enrollment.attestation;
  return {
    builder,
    snapshot: record ? [record] : [],
    evidence: [
      {
        registrationId: id,
        attestation: attestation.type,
        chain: ctx.chainOf(id),
        leafCertificate: attestation.type === 'x509' ? attestation.clientCertificates[0] : undefined,
        groupId: record?.enrollmentGroupId ?? enrollment.blocker?.groupId,
        // Once deleted, what it was enrolled with is known (as verify knows it from the journal).
        ...(!enrollment.blocker && record?.enrollmentGroupId === undefined
          ? { enrolledIndividually: true }
          : {}),
      },
    ],
  };
}

export function planGroup(
  selection: Extract<Selection, { kind: 'group' }>,
  actions: Actions,
  ctx: PlanContext,
): Draft {
  const id = selection.groupId;
  const path = `enrollmentGroups/${id}`;
  if (!ctx.groups.has(id) && (ctx.recordsByGroup.get(id)?.length ?? 0) > 0) {
    return planOrphanedRecords(id, actions, ctx.recordsByGroup.get(id) ?? []);
  }
  if (actions.orphanedRecords && ctx.groups.has(id)) {
    refuse(
      'invalid-selection',
      `Enrollment group "${id}" still exists, so its registration records are not orphaned. ` +
        `To delete them, deprovision the group with --delete-registrations (and --delete-group to delete it too).`,
    );
  }
  const group =
    ctx.groups.get(id) ??
    refuse(
      'unknown-target',
      `No enrollment group "${id}" exists on this DPS (${path}). ` +
        'Check the group ID or choose one from the list.',
    );
  const records = ctx.recordsByGroup.get(id) ?? [];
  const ids = records.map((r) => r.registrationId);
  const builder = new PlanBuilder();
  builder.add(
    'snapshot',
    { kind: 'snapshotRegistrations', groupId: id, count: records.length },
    `journal ${plural(records.length, 'registration record')} of ${path} ` +
      '(read before any change; no service call)',
    [],
  );
  builder.add(
    'disenroll',
    { kind: 'disableGroup', groupId: id },
    `PUT ${path} provisioningStatus=disabled`,
    [],
  );
  if (records.length === 0) {
    builder.warn({
      code: 'no-registrations',
      severity: 'info',
      message:
        `Enrollment group ${id} has no registration records: no device has registered through it, ` +
        'so there is nothing to deregister. The plan still disables the group.',
      registrationIds: [],
      path,
    });
  }
  builder.addHubSteps(
    records.map((r) => ctx.hubTargetOf(r.registrationId, r)),
    actions.deregister,
    ctx.state.hubsWithCredentials,
    ctx.state.hubLookup,
  );
  addGroupCleanup(builder, id, records, actions);
  builder.addVerifySteps(ids, path);
  const groupCertificates = ctx.groupCertificates(group);
  return {
    builder,
    snapshot: records,
    evidence: records.map((r) => ({
      registrationId: r.registrationId,
      attestation: group.attestation.type,
      groupId: id,
      groupCertificates,
      chain: ctx.chainOf(r.registrationId),
    })),
  };
}

/**
 * After the hubs: the group's registration records deleted (when asked), then the group itself. "Delete"
 * for a group means: disable now (devices are blocked at once), delete once the hubs are done.
 */
function addGroupCleanup(
  builder: PlanBuilder,
  id: string,
  records: readonly RegistrationRecord[],
  actions: Actions,
): void {
  const path = `enrollmentGroups/${id}`;
  const deleteGroup = actions.deleteGroup || actions.disenroll === 'delete';
  if (actions.deleteRegistrations && records.length > 0) {
    addRegistrationDeletes(builder, records);
    builder.warn({
      code: 'registrations-deleted',
      severity: 'caution',
      message:
        `Deleting ${plural(records.length, 'registration record')} is permanent: ` +
        "afterwards the run journal's snapshot is the only record of which hub each device was " +
        'assigned to.',
      registrationIds: [],
      path,
    });
  }
  if (deleteGroup) {
    builder.add('cleanup', { kind: 'deleteGroup', groupId: id }, `DELETE ${path}`, []);
    if (!actions.deleteRegistrations && records.length > 0) {
      builder.warn({
        code: 'orphaned-registrations',
        severity: 'info',
        message:
          `Deleting the group keeps its ${plural(records.length, 'registration record')}: ` +
          'orphaned records still count against the DPS registration quota.',
        ...advise(
          { cli: 'Add ', tui: 'Choose ' },
          { choose: { deleteRegistrations: true } },
          ' to delete them first.',
        ),
        registrationIds: [],
        path,
      });
    }
  }
}

const quotaShare = (n: number): string => {
  const percent = (n / DPS_REGISTRATION_QUOTA) * 100;
  const shown = percent >= 0.01 ? percent.toFixed(2) : '<0.01';
  return `${n.toLocaleString('en-US')} of the instance's ${DPS_REGISTRATION_QUOTA.toLocaleString('en-US')} registrations (the DPS default quota; ${shown}%)`;
};

/**
 * The registration records of an enrollment group that no longer exists (orphaned: deleting the group
 * kept them). They still count against the DPS registration quota; the only thing to do is delete them,
 * one DELETE each, after journaling them. Nothing else is touched: no group, no hub.
 */
export function planOrphanedRecords(id: string, actions: Actions, records: RegistrationRecord[]): Draft {
  const path = `enrollmentGroups/${id}`;
  const count = plural(records.length, 'registration record');
  if (!actions.deleteRegistrations || actions.deleteGroup || actions.deregister !== 'none') {
    refuse(
      'unknown-target',
      `Enrollment group "${id}" no longer exists, but ${count} of it remain (orphaned): ` +
        `they count against the DPS registration quota. Only deleting them is possible: ` +
        `plan --orphaned-records ${id} (TUI: o on the Enrollments screen's groups tab).`,
    );
  }
  const builder = new PlanBuilder();
  builder.add(
    'snapshot',
    { kind: 'snapshotRegistrations', groupId: id, count: records.length },
    `journal ${count} of deleted ${path} (read before any change; no service call)`,
    [],
  );
  addRegistrationDeletes(builder, records);
  builder.warn({
    code: 'orphaned-registrations',
    severity: 'info',
    message:
      `Enrollment group ${id} no longer exists; its ${count} still count against the registration quota: ` +
      `${quotaShare(records.length)}. Deleting them frees that share; no device can provision through a deleted group.`,
    registrationIds: [],
    path,
  });
  builder.warn({
    code: 'registrations-deleted',
    severity: 'caution',
    message:
      `Deleting ${count} is permanent: ` +
      "afterwards the run journal's snapshot is the only record of which hub each device was assigned to.",
    registrationIds: [],
    path,
  });
  return { builder, snapshot: records, evidence: [], devices: records.length };
}

/** A cleanup step per registration record: DELETE registrations/{id}. */
function addRegistrationDeletes(builder: PlanBuilder, records: readonly RegistrationRecord[]): void {
  for (const r of records) {
    builder.add(
      'cleanup',
      { kind: 'deleteRegistration', registrationId: r.registrationId },
      `DELETE registrations/${r.registrationId}`,
      [r.registrationId],
    );
  }
}
