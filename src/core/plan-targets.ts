/**
 * Plans for the two whole targets: one individual enrollment, and a whole enrollment group.
 * (One device of a group, with its blocker, is plan-group-devices.ts.)
 */
import { advise } from './advice.js';
import { PlanBuilder, plural, refuse } from './plan-builder.js';
import type { Draft, PlanContext } from './plan-context.js';
import type { Actions, Selection } from './selection.js';

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
        advise('Keep it (', { choose: { disenroll: 'disable' } }, ' leaves it as it is) and deregister the device on its hub.')
          .advice,
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
        ...(!enrollment.blocker && record?.enrollmentGroupId === undefined ? { enrolledIndividually: true } : {}),
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
  const group =
    ctx.groups.get(id) ??
    refuse(
      'unknown-target',
      `No enrollment group "${id}" exists on this DPS (${path}). ` +
        'Check the group ID or choose one from the list.',
    );
  const records = ctx.recordsByGroup.get(id) ?? [];
  const ids = records.map((r) => r.registrationId);
  // "Delete" for a group means: disable now (devices are blocked at once), delete once the hubs are done.
  const deleteGroup = actions.deleteGroup || actions.disenroll === 'delete';
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
  if (actions.deleteRegistrations && records.length > 0) {
    for (const r of records) {
      builder.add(
        'cleanup',
        { kind: 'deleteRegistration', registrationId: r.registrationId },
        `DELETE registrations/${r.registrationId}`,
        [r.registrationId],
      );
    }
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
        ...advise({ cli: 'Add ', tui: 'Choose ' }, { choose: { deleteRegistrations: true } }, ' to delete them first.'),
        registrationIds: [],
        path,
      });
    }
  }
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
