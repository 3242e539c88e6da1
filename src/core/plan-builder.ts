/**
 * Shared plan-building machinery: numbered steps per phase, the hub batches (by assigned hub, at most
 * HUB_BULK_MAX devices a call) and the verify chunks, plus the warnings that come with them.
 */
import type { HubLookup } from './model.js';
import type { DeviceHubTarget } from './plan-context.js';
import { addHubSteps } from './plan-hub-steps.js';
import { plural } from './text.js';
import {
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
   * Hub steps for these devices, on every hub holding one of their identities, with their warnings
   * (plan-hub-steps.ts).
   */
  addHubSteps(
    devices: DeviceHubTarget[],
    deregister: Actions['deregister'],
    hubsWithCredentials: string[] | undefined,
    lookup?: HubLookup,
  ): void {
    addHubSteps(this, devices, deregister, hubsWithCredentials, lookup);
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
