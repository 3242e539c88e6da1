/**
 * What the services would hold after a plan ran in full, every step succeeding. The planner re-runs
 * the re-enrollment analysis on this, and property tests check plans against it.
 */
import { isUserError } from './errors.js';
import { certificateInfo, parseCertificateChain } from './certs.js';
import {
  hubDeviceKey,
  type CertificateInfo,
  type EnrollmentGroup,
  type HubDevice,
  type HubDeviceStatus,
  type IndividualEnrollment,
  type KnownState,
  type ProvisioningStatus,
  type RegistrationRecord,
} from './model.js';
import type { Plan, StepOperation } from './plan-types.js';

function blockerCertificates(pem: string | undefined): CertificateInfo[] {
  if (pem === undefined) return [];
  try {
    return [certificateInfo(parseCertificateChain(pem)[0])];
  } catch (e) {
    // The planner refuses bad certificates before a plan exists; a hand-made plan just gets no certificate.
    if (isUserError(e, 'certificate')) return [];
    throw e;
  }
}

class Simulation {
  readonly individuals: Map<string, IndividualEnrollment>;
  readonly groups: Map<string, EnrollmentGroup>;
  readonly registrations: Map<string, RegistrationRecord>;
  readonly hubDevices: Map<string, HubDevice>;

  constructor(state: KnownState) {
    this.individuals = new Map(state.individualEnrollments.map((e) => [e.registrationId, e]));
    this.groups = new Map(state.enrollmentGroups.map((g) => [g.enrollmentGroupId, g]));
    this.registrations = new Map(state.registrations.map((r) => [r.registrationId, r]));
    this.hubDevices = new Map(state.hubDevices.map((d) => [hubDeviceKey(d.hub, d.deviceId), d]));
  }

  private setEnrollment(id: string, provisioningStatus: ProvisioningStatus): void {
    const e = this.individuals.get(id);
    if (e) this.individuals.set(id, { ...e, provisioningStatus });
  }

  private setGroup(id: string, provisioningStatus: ProvisioningStatus): void {
    const g = this.groups.get(id);
    if (g) this.groups.set(id, { ...g, provisioningStatus });
  }

  private setHubDevices(hub: string, deviceIds: string[], status: HubDeviceStatus): void {
    for (const id of deviceIds) {
      const key = hubDeviceKey(hub, id);
      const d = this.hubDevices.get(key);
      // A device we never read stays unknown: absence in the state is not knowledge.
      if (d) this.hubDevices.set(key, { ...d, status });
    }
  }

  apply(op: StepOperation): void {
    switch (op.kind) {
      case 'snapshotRegistrations':
      case 'verify':
        return;
      case 'disableEnrollment':
        this.setEnrollment(op.registrationId, 'disabled');
        return;
      case 'enableEnrollment':
        this.setEnrollment(op.registrationId, 'enabled');
        return;
      case 'deleteEnrollment':
        this.individuals.delete(op.registrationId);
        return;
      case 'disableGroup':
        this.setGroup(op.groupId, 'disabled');
        return;
      case 'enableGroup':
        this.setGroup(op.groupId, 'enabled');
        return;
      case 'deleteGroup':
        this.groups.delete(op.groupId);
        return;
      case 'createBlocker': {
        // DPS answers a create over an existing enrollment with a conflict: the existing one stays.
        if (this.individuals.has(op.registrationId)) return;
        const blocker: IndividualEnrollment = {
          registrationId: op.registrationId,
          attestation:
            op.attestation === 'x509'
              ? { type: 'x509', clientCertificates: blockerCertificates(op.certificatePem) }
              : { type: 'symmetricKey' },
          provisioningStatus: 'disabled',
          blocker: { groupId: op.groupId, ...(op.runId !== undefined ? { runId: op.runId } : {}) },
        };
        this.individuals.set(op.registrationId, blocker);
        return;
      }
      case 'deleteBlocker':
        if (this.individuals.get(op.registrationId)?.blocker) this.individuals.delete(op.registrationId);
        return;
      case 'disableHubDevices':
        this.setHubDevices(op.hub, op.deviceIds, 'disabled');
        return;
      case 'enableHubDevices':
        this.setHubDevices(op.hub, op.deviceIds, 'enabled');
        return;
      case 'deleteHubDevices':
        for (const id of op.deviceIds) this.hubDevices.delete(hubDeviceKey(op.hub, id));
        return;
      case 'hubJobDevices':
        if (op.action === 'delete')
          for (const id of op.deviceIds) this.hubDevices.delete(hubDeviceKey(op.hub, id));
        else this.setHubDevices(op.hub, op.deviceIds, op.action === 'disable' ? 'disabled' : 'enabled');
        return;
      case 'deleteRegistration':
        this.registrations.delete(op.registrationId);
        return;
    }
  }

  result(base: KnownState): KnownState {
    return {
      ...base,
      individualEnrollments: [...this.individuals.values()],
      enrollmentGroups: [...this.groups.values()],
      registrations: [...this.registrations.values()],
      hubDevices: [...this.hubDevices.values()],
    };
  }
}

/** The state after every step of `plan` succeeded. `state` is not changed. */
export function applyPlan(state: KnownState, plan: Plan): KnownState {
  const simulation = new Simulation(state);
  for (const step of plan.steps) simulation.apply(step.op);
  return simulation.result(state);
}
