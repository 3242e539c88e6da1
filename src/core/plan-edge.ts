/**
 * IoT Edge gateways in a plan. A gateway's child devices connect to the hub through it: once the gateway
 * is disabled or deleted they are left without a parent (they cannot connect through it, and a delete
 * leaves their parentScopes naming a device that is gone). The plan says so in plain words and, when the
 * person asks for it (`includeChildren`), deregisters the children with the same action; a delete also
 * removes the gateway's module identities, which the plan counts.
 */
import { advise } from './advice.js';
import { HUB_BULK_MAX } from './plan-types.js';
import { type PlanBuilder, sampleIds } from './plan-builder.js';
import { plural } from './text.js';
import type { KnownState } from './model.js';
import type { Actions } from './selection.js';

export function addEdgeSteps(builder: PlanBuilder, state: KnownState, actions: Actions): void {
  if (actions.deregister === 'none' || !state.edgeGateways?.length) return;
  const planned = new Set<string>();
  for (const step of builder.steps) {
    if (step.op.kind === 'disableHubDevices' || step.op.kind === 'deleteHubDevices') {
      for (const id of step.op.deviceIds) planned.add(`${step.op.hub.toLowerCase()}/${id}`);
    }
  }
  const verb = actions.deregister;
  let modulesDeleted = 0;
  for (const gw of state.edgeGateways) {
    const key = (id: string) => `${gw.hub.toLowerCase()}/${id}`;
    if (!planned.has(key(gw.deviceId))) continue;
    if (verb === 'delete' && gw.modules.length > 0) {
      modulesDeleted += gw.modules.length;
      builder.warn({
        code: 'edge-modules',
        severity: 'info',
        message:
          `Deleting the IoT Edge gateway ${gw.deviceId} on ${gw.hub} also deletes its ` +
          `${plural(gw.modules.length, 'module identity', 'module identities')} (${sampleIds(gw.modules)}): ` +
          'the modules cannot connect again, and a restore cannot bring them back.',
        registrationIds: [gw.deviceId],
      });
    }
    const children = gw.children.filter((c) => !planned.has(key(c)));
    if (children.length === 0) continue;
    if (actions.includeChildren) {
      for (let i = 0; i < children.length; i += HUB_BULK_MAX) {
        const batch = children.slice(i, i + HUB_BULK_MAX);
        const count = plural(batch.length, 'child device');
        builder.add(
          'deregister',
          verb === 'disable'
            ? { kind: 'disableHubDevices', hub: gw.hub, deviceIds: batch, edgeChildrenOf: gw.deviceId }
            : { kind: 'deleteHubDevices', hub: gw.hub, deviceIds: batch, edgeChildrenOf: gw.deviceId },
          `POST devices (bulk ${verb === 'disable' ? 'update status=disabled' : 'delete'}, ${count} of ${gw.deviceId}) on ${gw.hub}`,
          batch,
        );
        for (const c of batch) planned.add(key(c));
      }
      builder.devicesPerHub[gw.hub] = (builder.devicesPerHub[gw.hub] ?? 0) + children.length;
      builder.warn({
        code: 'edge-children',
        severity: 'info',
        message:
          `${gw.deviceId} is an IoT Edge gateway: its ${plural(children.length, 'child device')} ` +
          `(${sampleIds(children)}) on ${gw.hub} will be ${verb === 'disable' ? 'disabled' : 'deleted'} with it, ` +
          'as asked (include children).',
        registrationIds: children,
      });
      continue;
    }
    builder.warn({
      code: 'edge-children',
      severity: 'caution',
      message:
        `${gw.deviceId} is an IoT Edge gateway with ${plural(children.length, 'child device')} ` +
        `(${sampleIds(children)}) on ${gw.hub} that connect through it. Once it is ` +
        `${verb === 'disable' ? 'disabled' : 'deleted'} they lose their parent: they cannot reach the hub ` +
        'through it, but their own identities stay enabled, so they can still connect directly. ' +
        'The plan leaves them as they are.',
      ...advise({
        cli: `To ${verb} them too (the same action), plan again with --include-children.`,
        tui: `To ${verb} them too (the same action), choose "IoT Edge children: include".`,
      }),
      registrationIds: children,
    });
  }
  if (modulesDeleted > 0) builder.modulesDeleted = modulesDeleted;
}
