/**
 * Devices named by their IDs (a lost shipment, a compromised batch), wherever they are enrolled: ONE plan
 * composed of the existing parts, built into one builder so that step IDs stay unique. An individual
 * enrollment is disabled or deleted (planEnrollment), each group's devices get a blocker each
 * (planGroupDevices), a device DPS does not have is deregistered on every hub the lookup found it on,
 * and a device found nowhere is said so.
 */
import { PlanBuilder, refuse, sampleIds } from './plan-builder.js';
import type { Draft, PlanContext } from './plan-context.js';
import { planGroupDevices } from './plan-group-devices.js';
import { planEnrollment } from './plan-targets.js';
import type { Actions, Selection } from './selection.js';

export function planDevices(
  selection: Extract<Selection, { kind: 'devices' }>,
  actions: Actions,
  ctx: PlanContext,
): Draft {
  const parts =
    selection.parts ??
    refuse(
      'invalid-selection',
      'The devices were not looked up in DPS before planning: nothing can be planned.',
    );
  if (selection.ids.length === 0) refuse('no-devices', 'No device ID was given: name at least one device.');
  const builder = new PlanBuilder();
  const draft: Draft = { builder, snapshot: [], evidence: [] };
  const take = (d: Draft) => {
    draft.snapshot.push(...d.snapshot);
    draft.evidence.push(...d.evidence);
  };
  for (const registrationId of parts.enrollments) {
    take(planEnrollment({ kind: 'enrollment', registrationId }, actions, ctx, builder));
  }
  for (const g of parts.groups) {
    take(
      planGroupDevices(
        { kind: 'groupDevices', groupId: g.groupId, devices: g.devices },
        actions,
        ctx,
        builder,
      ),
    );
  }
  const hubOnly = parts.unenrolled.map((id) => ctx.hubTargetOf(id)).filter((t) => t.hubs.length > 0);
  const nowhere = parts.unenrolled.filter((id) => !hubOnly.some((t) => t.registrationId === id));
  if (hubOnly.length === 0 && parts.enrollments.length === 0 && parts.groups.length === 0) {
    refuse(
      'unknown-target',
      `${sampleIds(nowhere, 10)}: found nowhere (no individual enrollment, no registration record in any ` +
        'enrollment group, no identity on a searched hub). Check the device IDs (they are case-sensitive).',
    );
  }
  if (hubOnly.length > 0) {
    const ids = hubOnly.map((t) => t.registrationId);
    builder.warn({
      code: 'device-hub-only',
      severity: 'caution',
      message:
        `${sampleIds(ids)}: DPS has no enrollment or registration record for ${ids.length === 1 ? 'it' : 'them'}; ` +
        'only the hub identities found are deregistered (nothing in DPS stops a re-registration through a group it may later join).',
      registrationIds: ids,
    });
    builder.addHubSteps(hubOnly, actions.deregister, ctx.state.hubsWithCredentials, ctx.state.hubLookup);
  }
  if (nowhere.length > 0) {
    builder.warn({
      code: 'device-not-found',
      severity: 'caution',
      message:
        `${sampleIds(nowhere, 10)}: found nowhere (no individual enrollment, no registration record in any ` +
        'enrollment group, no identity on a searched hub): nothing is done for ' +
        `${nowhere.length === 1 ? 'it' : 'them'}.`,
      registrationIds: nowhere,
    });
  }
  return draft;
}
