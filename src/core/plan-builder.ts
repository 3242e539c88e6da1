/**
 * Shared plan-building machinery: numbered steps per phase, the hub batches (by assigned hub, at most
 * HUB_BULK_MAX devices a call) and the verify chunks, plus the warnings that come with them.
 */
import { advise } from './advice.js';
import type { RegistrationRecord } from './model.js';
import {
  HUB_BULK_MAX,
  PHASES,
  type Phase,
  type Plan,
  type PlanRefusal,
  type PlanStep,
  type PlanWarning,
  type StepOperation,
} from './plan-types.js';
import type { Actions } from './selection.js';

export const VERIFY_CHUNK = 1000;

export class Refusal extends Error {
  constructor(readonly refusal: PlanRefusal) {
    super(refusal.message);
  }
}

export const refuse = (code: PlanRefusal['code'], message: string, advice?: PlanRefusal['advice']): never => {
  throw new Refusal({ code, message, ...(advice ? { advice } : {}) });
};

const plural = (n: number, one: string, many = `${one}s`): string =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
export { plural };

/** A few IDs for a message; the full list is in the warning's registrationIds. */
export function sampleIds(ids: string[], max = 3): string {
  const shown = ids.slice(0, max).join(', ');
  return ids.length > max ? `${shown} and ${ids.length - max} more` : shown;
}

export class PlanBuilder {
  readonly steps: PlanStep[] = [];
  readonly warnings: PlanWarning[] = [];
  readonly devicesPerHub: Record<string, number> = {};
  private readonly numbers = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;

  add(phase: Phase, op: StepOperation, call: string, registrationIds: string[]): PlanStep {
    this.numbers[phase] += 1;
    const destructive = op.kind !== 'snapshotRegistrations' && op.kind !== 'verify';
    const step: PlanStep = {
      id: `${phase}:${this.numbers[phase]}`,
      phase,
      op,
      call,
      destructive,
      registrationIds,
    };
    this.steps.push(step);
    return step;
  }

  warn(warning: PlanWarning): void {
    this.warnings.push(warning);
  }

  /**
   * Hub steps for these devices, on each one's assigned hub. Devices of one group span hubs; hubs we
   * hold no credentials for get a warning instead of steps (their step could only fail).
   */
  addHubSteps(
    /** Each device's registration record, or just its registration ID when it has none. */
    devices: (RegistrationRecord | string)[],
    deregister: Actions['deregister'],
    hubsWithCredentials: string[] | undefined,
  ): void {
    if (devices.length === 0) return;
    const idOf = (d: RegistrationRecord | string): string => (typeof d === 'string' ? d : d.registrationId);
    if (deregister === 'none') {
      this.warn({
        code: 'hub-identity-kept',
        severity: 'caution',
        message:
          `The hub identities of ${plural(devices.length, 'device')} are kept: ` +
          'a device that is connected now stays connected and keeps sending data. ' +
          'Disabling at DPS only stops it provisioning again.',
        ...advise('Choose ', { choose: { deregister: 'disable' } }, ' (reversible) to cut the device off its hub.'),
        registrationIds: devices.map(idOf),
      });
      return;
    }
    const credentialed = hubsWithCredentials
      ? new Set(hubsWithCredentials.map((h) => h.toLowerCase()))
      : undefined;
    const notAssigned: string[] = [];
    // Keyed by the hub name as written; hubs differing only in case are merged below.
    const byHub = new Map<
      string,
      { hub: string; deviceIds: string[]; registrationIds: string[]; seen: Set<string> }
    >();
    const withoutCredentials = new Map<string, { hub: string; registrationIds: string[] }>();
    for (const device of devices) {
      const hub = typeof device !== 'string' && device.status === 'assigned' ? device.assignedHub : undefined;
      if (typeof device === 'string' || !hub) {
        notAssigned.push(idOf(device));
        continue;
      }
      const registrationId = device.registrationId;
      let entry = byHub.get(hub);
      if (!entry) {
        const key = hub.toLowerCase();
        if (credentialed && !credentialed.has(key)) {
          const missing = withoutCredentials.get(key) ?? { hub, registrationIds: [] };
          missing.registrationIds.push(registrationId);
          withoutCredentials.set(key, missing);
          continue;
        }
        const sameHub = [...byHub.values()].find((e) => e.hub.toLowerCase() === key);
        entry = sameHub ?? { hub, deviceIds: [], registrationIds: [], seen: new Set<string>() };
        byHub.set(hub, entry);
      }
      const deviceId = device.deviceId ?? registrationId;
      if (entry.seen.has(deviceId)) continue;
      entry.seen.add(deviceId);
      entry.deviceIds.push(deviceId);
      entry.registrationIds.push(registrationId);
    }
    for (const { hub, deviceIds, registrationIds } of new Set(byHub.values())) {
      this.devicesPerHub[hub] = (this.devicesPerHub[hub] ?? 0) + deviceIds.length;
      for (let i = 0; i < deviceIds.length; i += HUB_BULK_MAX) {
        // registrationIds[i] belongs to deviceIds[i]: restore and the executor rely on the pairing.
        const batch = deviceIds.slice(i, i + HUB_BULK_MAX);
        const ids = registrationIds.slice(i, i + HUB_BULK_MAX);
        const count = plural(batch.length, 'device');
        if (deregister === 'disable') {
          this.add(
            'deregister',
            { kind: 'disableHubDevices', hub, deviceIds: batch },
            `POST devices (bulk update status=disabled, ${count}) on ${hub}`,
            ids,
          );
        } else {
          this.add(
            'deregister',
            { kind: 'deleteHubDevices', hub, deviceIds: batch },
            `POST devices (bulk delete, ${count}) on ${hub}`,
            ids,
          );
        }
      }
    }
    if (notAssigned.length > 0) {
      this.warn({
        code: 'not-assigned',
        severity: 'info',
        message:
          `${plural(notAssigned.length, 'device')} (${sampleIds(notAssigned)}) ` +
          `${notAssigned.length === 1 ? 'has' : 'have'} no registration record assigned to a hub: ` +
          'there is no hub identity to deregister for them.',
        recommendation: 'If such a device was assigned by hand, deregister it on that hub yourself.',
        registrationIds: notAssigned,
      });
    }
    if (withoutCredentials.size > 0) {
      const list = [...withoutCredentials.values()];
      const named = list.map((h) => `${h.hub} (${plural(h.registrationIds.length, 'device')})`).join(', ');
      this.warn({
        code: 'hub-without-credentials',
        severity: 'danger',
        message:
          `No credentials for ${named}: the plan cannot ${deregister} those hub identities, ` +
          'so those devices can keep connecting to their hub.',
        ...advise({
          cli:
            'Add --hub with a connection string (or host for Entra ID) for each of these hubs, ' +
            'then plan again.',
          tui:
            'Quit, give the tool credentials for these hubs (a connection string, or a host for ' +
            'Entra ID, in its configuration), and start it again.',
        }),
        registrationIds: list.flatMap((h) => h.registrationIds),
      });
    }
  }

  addVerifySteps(registrationIds: string[], whole: string): void {
    if (registrationIds.length === 0) {
      this.add('verify', { kind: 'verify', registrationIds: [] }, `GET ${whole} (read back)`, []);
      return;
    }
    for (let i = 0; i < registrationIds.length; i += VERIFY_CHUNK) {
      const ids = registrationIds.slice(i, i + VERIFY_CHUNK);
      this.add(
        'verify',
        { kind: 'verify', registrationIds: ids },
        `GET enrollments, registrations and hub devices of ${plural(ids.length, 'device')} ` +
          '(read back, re-run the re-enrollment analysis)',
        ids,
      );
    }
  }

  build(base: Pick<Plan, 'selection' | 'actions' | 'snapshot'>, devices: number): Plan {
    const steps = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
    for (const s of this.steps) steps[s.phase] += 1;
    // Steps are numbered per phase, so a stable sort by phase keeps each phase's own order.
    const rank = (s: PlanStep): number => PHASES.indexOf(s.phase);
    const inOrder = this.steps.every((s, i) => i === 0 || rank(this.steps[i - 1]) <= rank(s));
    const ordered = inOrder ? this.steps : [...this.steps].sort((a, b) => rank(a) - rank(b));
    return {
      ...base,
      steps: ordered,
      warnings: this.warnings,
      counts: { steps, devicesPerHub: this.devicesPerHub, devices },
    };
  }
}
