/** Plans shaped as the planner makes them, built by hand for executor tests. */
import type { Actions, Selection } from '../../src/core/selection.js';
import {
  PHASES,
  type Phase,
  type Plan,
  type PlanStep,
  type StepOperation,
} from '../../src/core/plan-types.js';
import type { RegistrationRecord } from '../../src/core/model.js';

export interface Device {
  reg: string;
  hub: string;
}

const DESTRUCTIVE = (op: StepOperation) => op.kind !== 'snapshotRegistrations' && op.kind !== 'verify';

export const planOf = (
  selection: Selection,
  actions: Actions,
  ops: { phase: Phase; op: StepOperation; registrationIds: string[] }[],
  snapshot: RegistrationRecord[],
): Plan => {
  const perPhase = new Map<Phase, number>();
  const steps: PlanStep[] = ops.map(({ phase, op, registrationIds }) => {
    const n = perPhase.get(phase) ?? 0;
    perPhase.set(phase, n + 1);
    return {
      id: `${phase}:${n}`,
      phase,
      op,
      call: `${op.kind}`,
      destructive: DESTRUCTIVE(op),
      registrationIds,
    };
  });
  const counts = Object.fromEntries(PHASES.map((p) => [p, perPhase.get(p) ?? 0])) as Record<Phase, number>;
  return {
    selection,
    actions,
    steps,
    warnings: [],
    snapshot,
    counts: { steps: counts, devicesPerHub: {}, devices: snapshot.length },
  };
};

const byHub = (devices: Device[]): Map<string, string[]> => {
  const m = new Map<string, string[]>();
  for (const d of devices) {
    const list = m.get(d.hub);
    if (list) list.push(d.reg);
    else m.set(d.hub, [d.reg]);
  }
  return m;
};

const snapshotOf = (devices: Device[], groupId: string): RegistrationRecord[] =>
  devices.map((d) => ({
    registrationId: d.reg,
    deviceId: d.reg,
    assignedHub: d.hub,
    status: 'assigned',
    enrollmentGroupId: groupId,
  }));

/** One or several devices of a group: blocker per device, hub batches, record deletes, verify. */
export const groupDevicesPlan = (
  devices: Device[],
  opts: {
    hubAction?: 'deleteHubDevices' | 'disableHubDevices';
    batch?: number;
    deleteRegistrations?: boolean;
  } = {},
): Plan => {
  const groupId = 'g1';
  const ops: { phase: Phase; op: StepOperation; registrationIds: string[] }[] = [
    {
      phase: 'snapshot',
      op: { kind: 'snapshotRegistrations', groupId, count: devices.length },
      registrationIds: [],
    },
  ];
  for (const d of devices) {
    ops.push({
      phase: 'disenroll',
      op: { kind: 'createBlocker', registrationId: d.reg, groupId, attestation: 'symmetricKey' },
      registrationIds: [d.reg],
    });
  }
  const hubAction = opts.hubAction ?? 'deleteHubDevices';
  for (const [hub, regs] of byHub(devices)) {
    const size = opts.batch ?? 100;
    for (let k = 0; k < regs.length; k += size) {
      const ids = regs.slice(k, k + size);
      ops.push({ phase: 'deregister', op: { kind: hubAction, hub, deviceIds: ids }, registrationIds: ids });
    }
  }
  if (opts.deleteRegistrations !== false) {
    for (const d of devices) {
      ops.push({
        phase: 'cleanup',
        op: { kind: 'deleteRegistration', registrationId: d.reg },
        registrationIds: [d.reg],
      });
    }
  }
  const all = devices.map((d) => d.reg);
  ops.push({ phase: 'verify', op: { kind: 'verify', registrationIds: all }, registrationIds: all });
  return planOf(
    { kind: 'groupDevices', groupId, devices: devices.map((d) => ({ registrationId: d.reg })) },
    {
      disenroll: 'disable',
      deregister: hubAction === 'deleteHubDevices' ? 'delete' : 'disable',
      deleteRegistrations: true,
      deleteGroup: false,
    },
    ops,
    snapshotOf(devices, groupId),
  );
};

/** A whole group: disable the group (a fence), hub step, record deletes, delete the group (a fence). */
export const wholeGroupPlan = (devices: Device[], opts: { deleteGroup?: boolean } = {}): Plan => {
  const groupId = 'g1';
  const ops: { phase: Phase; op: StepOperation; registrationIds: string[] }[] = [
    {
      phase: 'snapshot',
      op: { kind: 'snapshotRegistrations', groupId, count: devices.length },
      registrationIds: [],
    },
    { phase: 'disenroll', op: { kind: 'disableGroup', groupId }, registrationIds: [] },
  ];
  for (const [hub, regs] of byHub(devices)) {
    ops.push({
      phase: 'deregister',
      op: { kind: 'disableHubDevices', hub, deviceIds: regs },
      registrationIds: regs,
    });
  }
  for (const d of devices) {
    ops.push({
      phase: 'cleanup',
      op: { kind: 'deleteRegistration', registrationId: d.reg },
      registrationIds: [d.reg],
    });
  }
  if (opts.deleteGroup)
    ops.push({ phase: 'cleanup', op: { kind: 'deleteGroup', groupId }, registrationIds: [] });
  return planOf(
    { kind: 'group', groupId },
    {
      disenroll: 'disable',
      deregister: 'disable',
      deleteRegistrations: true,
      deleteGroup: opts.deleteGroup ?? false,
    },
    ops,
    snapshotOf(devices, groupId),
  );
};
