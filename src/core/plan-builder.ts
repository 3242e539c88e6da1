/**
 * Shared plan-building machinery: numbered steps per phase, the hub batches (by assigned hub, at most
 * HUB_BULK_MAX devices a call) and the verify chunks, plus the warnings that come with them.
 */
import { describeLookupCost } from './hub-lookup.js';
import type { HubLookup } from './model.js';
import type { DeviceHubTarget } from './plan-context.js';
import { advise } from './advice.js';
import { plural } from './text.js';
import {
  HUB_BULK_MAX,
  type HubIdentityCount,
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

/** A few IDs for a message; the full list is in the warning's registrationIds. */
export function sampleIds(ids: string[], max = 3): string {
  const shown = ids.slice(0, max).join(', ');
  return ids.length > max ? `${shown} and ${ids.length - max} more` : shown;
}

export class PlanBuilder {
  readonly steps: PlanStep[] = [];
  readonly warnings: PlanWarning[] = [];
  readonly devicesPerHub: Record<string, number> = {};
  readonly hubIdentities: HubIdentityCount[] = [];
  /** Module identities the hub deletes remove with their devices (plan-edge.ts). */
  modulesDeleted = 0;
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
   * Hub steps for these devices, on every hub holding one of their identities: the hub each record names
   * (whatever the record's status) and the hubs the lookup found them on. Devices of one group span hubs,
   * and one device can have identities on several. Hubs we hold no credentials for get a warning instead
   * of steps (their step could only fail).
   */
  addHubSteps(
    devices: DeviceHubTarget[],
    deregister: Actions['deregister'],
    hubsWithCredentials: string[] | undefined,
    lookup?: HubLookup,
  ): void {
    if (devices.length === 0) return;
    if (deregister === 'none') {
      this.warn({
        code: 'hub-identity-kept',
        severity: 'caution',
        message:
          `The hub identities of ${plural(devices.length, 'device')} are kept: ` +
          'a device that is connected now stays connected and keeps sending data. ' +
          'Disabling at DPS only stops it provisioning again.',
        ...advise(
          'Choose ',
          { choose: { deregister: 'disable' } },
          ' (reversible) to cut the device off its hub.',
        ),
        registrationIds: devices.map((d) => d.registrationId),
      });
      return;
    }
    const credentialed = hubsWithCredentials
      ? new Set(hubsWithCredentials.map((h) => h.toLowerCase()))
      : undefined;
    const notAssigned: string[] = [];
    // Keyed by the lower-case hub name; a hub keeps the name it was first written with.
    const byHub = new Map<
      string,
      {
        hub: string;
        deviceIds: string[];
        registrationIds: string[];
        seen: Set<string>;
        byRecord: number;
        foundByLookup: string[];
      }
    >();
    const hubEntry = (hub: string) => {
      const key = hub.toLowerCase();
      let entry = byHub.get(key);
      if (!entry) {
        entry = { hub, deviceIds: [], registrationIds: [], seen: new Set(), byRecord: 0, foundByLookup: [] };
        byHub.set(key, entry);
      }
      return entry;
    };
    for (const hub of lookup?.searched ?? []) hubEntry(hub);
    const withoutCredentials = new Map<string, { hub: string; registrationIds: string[] }>();
    for (const device of devices) {
      if (device.hubs.length === 0) notAssigned.push(device.registrationId);
      for (const { hub, deviceId, via } of device.hubs) {
        const key = hub.toLowerCase();
        if (credentialed && !credentialed.has(key)) {
          const missing = withoutCredentials.get(key) ?? { hub, registrationIds: [] };
          missing.registrationIds.push(device.registrationId);
          withoutCredentials.set(key, missing);
          continue;
        }
        const entry = hubEntry(hub);
        if (entry.seen.has(deviceId)) continue;
        entry.seen.add(deviceId);
        entry.deviceIds.push(deviceId);
        entry.registrationIds.push(device.registrationId);
        if (via === 'record') entry.byRecord += 1;
        else entry.foundByLookup.push(device.registrationId);
      }
    }
    const skipped = new Map((lookup?.skipped ?? []).map((s) => [s.hub.toLowerCase(), s]));
    const searched = new Set((lookup?.searched ?? []).map((h) => h.toLowerCase()));
    for (const [key, { hub, deviceIds, registrationIds, byRecord, foundByLookup }] of byHub) {
      const cost = lookup?.cost[key];
      this.hubIdentities.push({
        hub,
        byRecord,
        byLookup: foundByLookup.length,
        foundByLookup,
        lookup: searched.has(key)
          ? 'searched'
          : skipped.has(key)
            ? skipped.get(key)?.why === 'asked'
              ? 'skipped'
              : 'failed'
            : 'none',
        ...(cost ? { cost } : {}),
      });
      if (deviceIds.length === 0) continue;
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
    for (const s of skipped.values()) {
      if (byHub.has(s.hub.toLowerCase())) continue;
      const cost = lookup?.cost[s.hub.toLowerCase()];
      this.hubIdentities.push({
        hub: s.hub,
        byRecord: 0,
        byLookup: 0,
        foundByLookup: [],
        lookup: s.why === 'asked' ? 'skipped' : 'failed',
        ...(cost ? { cost } : {}),
      });
    }
    const byLookup = [...byHub.values()].filter((e) => e.foundByLookup.length > 0);
    for (const { hub, foundByLookup } of byLookup) {
      const n = foundByLookup.length;
      this.warn({
        code: 'hub-identity-by-lookup',
        severity: 'info',
        message:
          `${plural(n, 'device')} (${sampleIds(foundByLookup)}) ${n === 1 ? 'has an identity' : 'have identities'} ` +
          `on ${hub} that no registration record names (found by looking the device IDs up there: ` +
          'a device DPS moved to another hub, or whose record was deleted, keeps its old identity). ' +
          `The plan will ${deregister} ${n === 1 ? 'it' : 'them'} too.`,
        registrationIds: foundByLookup,
      });
    }
    this.warnLookupGaps(lookup, devices);
    if (notAssigned.length > 0) {
      const looked = lookup?.searched.length ?? 0;
      this.warn({
        code: 'not-assigned',
        severity: 'info',
        message:
          `${plural(notAssigned.length, 'device')} (${sampleIds(notAssigned)}) ` +
          `${notAssigned.length === 1 ? 'has' : 'have'} no registration record naming a hub` +
          (looked > 0
            ? ` and no identity on the ${plural(looked, 'hub')} looked up: there is no hub identity to deregister.`
            : ': there is no hub identity to deregister for them.'),
        recommendation:
          'If such a device was assigned by hand to a hub the tool has no credentials for, deregister it on that hub yourself.',
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

  /** Hubs not looked up (skipped, failed), and a lookup costly enough to be worth skipping. */
  private warnLookupGaps(lookup: HubLookup | undefined, devices: DeviceHubTarget[]): void {
    if (!lookup) return;
    const all = devices.map((d) => d.registrationId);
    const asked = lookup.skipped.filter((s) => s.why === 'asked').map((s) => s.hub);
    if (asked.length > 0) {
      this.warn({
        code: 'hub-lookup-skipped',
        severity: 'caution',
        message:
          `The device IDs were not looked up on ${asked.join(', ')} (--skip-hub-lookup): an identity there ` +
          'that no registration record names is left as it is, and that device can keep connecting to it.',
        recommendation: 'Plan without --skip-hub-lookup to find and deregister every identity.',
        registrationIds: all,
      });
    }
    for (const failed of lookup.skipped.filter((s) => s.why === 'failed')) {
      this.warn({
        code: 'hub-lookup-skipped',
        severity: 'danger',
        message:
          `Looking the device IDs up on ${failed.hub} failed${failed.message ? ` (${failed.message})` : ''}: ` +
          'an identity there that no registration record names is left as it is, and that device can keep ' +
          'connecting to it.',
        recommendation: 'Plan again; if the hub keeps failing, deregister those devices on it yourself.',
        registrationIds: all,
      });
    }
    const costly = Object.entries(lookup.cost).filter(([, c]) => c.minutes >= 1);
    if (costly.length > 0) {
      const named = costly.map(([hub, c]) => `${hub}: ${describeLookupCost(c)}`).join('; ');
      this.warn({
        code: 'hub-lookup-cost',
        severity: 'info',
        message:
          `Looking ${plural(lookup.deviceIds, 'device ID')} up on every hub costs queries against each hub's ` +
          `query budget (${named}), shared with everything else that queries the hub.`,
        recommendation:
          'To skip a hub, plan with --skip-hub-lookup HUB: identities there that no record names are then left.',
        registrationIds: [],
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

  build(base: Pick<Plan, 'selection' | 'actions' | 'snapshot' | 'prior'>, devices: number): Plan {
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
      counts: {
        steps,
        devicesPerHub: this.devicesPerHub,
        devices,
        ...(this.modulesDeleted > 0 ? { modulesDeleted: this.modulesDeleted } : {}),
      },
      ...(this.hubIdentities.length > 0 ? { hubIdentities: this.hubIdentities } : {}),
    };
  }
}
