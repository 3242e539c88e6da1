/** What every part of the planner looks things up in: the known state, indexed once (no O(n^2) at 100k). */
import type { DeviceEvidence } from './reenrollment.js';
import { deviceIdsOf } from './hub-lookup.js';
import {
  type CertificateInfo,
  type EnrollmentGroup,
  hubDeviceKey,
  type IndividualEnrollment,
  type KnownState,
  type ParsedCertificate,
  type RegistrationRecord,
} from './model.js';
import type { PlanBuilder } from './plan-builder.js';
import type { HubPathOptions } from './plan-hub-path.js';

export interface PlanOptions {
  /** Recorded in the tag of the blockers this plan writes. */
  runId?: string;
  /** Device certificate chains (leaf first) we hold, by registration ID: they make the analysis exact. */
  certificates?: Record<string, ParsedCertificate[]>;
  /** The time certificates are checked against (the planner reads no clock); no date check without it. */
  now?: Date;
  /** How each hub's step goes (calls or import/export jobs); absent: the call path, no choice shown. */
  hubPath?: HubPathOptions;
}

/** A plan before its re-enrollment warnings: the steps, and the devices whose fate they decide. */
export interface Draft {
  builder: PlanBuilder;
  snapshot: RegistrationRecord[];
  /** One entry per device of the selection, as evidence for the post-plan analysis. */
  evidence: DeviceEvidence[];
  /** Devices the plan concerns when there is no evidence for them (orphaned records: no group left). */
  devices?: number;
}

/** One device's hub identities: those its record names and those found by lookup. */
export interface DeviceHubTarget {
  registrationId: string;
  hubs: { hub: string; deviceId: string; via: 'record' | 'lookup' }[];
}

export class PlanContext {
  readonly individuals = new Map<string, IndividualEnrollment>();
  readonly groups = new Map<string, EnrollmentGroup>();
  readonly records = new Map<string, RegistrationRecord>();
  readonly recordsByGroup = new Map<string, RegistrationRecord[]>();
  /** hubDeviceKey of every hub identity read. */
  private readonly hubIdentities = new Set<string>();

  constructor(
    readonly state: KnownState,
    readonly options: PlanOptions,
  ) {
    for (const e of state.individualEnrollments) this.individuals.set(e.registrationId, e);
    for (const g of state.enrollmentGroups) this.groups.set(g.enrollmentGroupId, g);
    for (const r of state.registrations) {
      this.records.set(r.registrationId, r);
      if (r.enrollmentGroupId === undefined) continue;
      const list = this.recordsByGroup.get(r.enrollmentGroupId);
      if (list) list.push(r);
      else this.recordsByGroup.set(r.enrollmentGroupId, [r]);
    }
    for (const d of state.hubDevices) this.hubIdentities.add(hubDeviceKey(d.hub, d.deviceId));
  }

  /**
   * Where the device has hub identities: the hub its record names, whatever the record's status (a record
   * of a device refused while disenrolled still names the hub it was assigned to), and every hub the
   * lookup found one of its device IDs on.
   */
  hubTargetOf(registrationId: string, record?: RegistrationRecord): DeviceHubTarget {
    const hubs: DeviceHubTarget['hubs'] = [];
    const seen = new Set<string>();
    const ids = deviceIdsOf(registrationId, record, this.individuals.get(registrationId));
    if (record?.assignedHub) {
      const deviceId = ids[0];
      seen.add(hubDeviceKey(record.assignedHub, deviceId));
      hubs.push({ hub: record.assignedHub, deviceId, via: 'record' });
    }
    for (const hub of this.state.hubLookup?.searched ?? []) {
      for (const deviceId of ids) {
        const key = hubDeviceKey(hub, deviceId);
        if (seen.has(key) || !this.hubIdentities.has(key)) continue;
        seen.add(key);
        hubs.push({ hub, deviceId, via: 'lookup' });
      }
    }
    return { registrationId, hubs };
  }

  chainOf(registrationId: string): ParsedCertificate[] | undefined {
    const chain = this.options.certificates?.[registrationId];
    return chain && chain.length > 0 ? chain : undefined;
  }

  /** The group's certificates (uploaded and resolved CA references), kept for when the plan deletes it. */
  groupCertificates(group: EnrollmentGroup): CertificateInfo[] {
    if (group.attestation.type !== 'x509') return [];
    const resolved = group.attestation.caReferences
      .map((name) => this.state.caCertificates?.[name])
      .filter((c): c is CertificateInfo => c !== undefined);
    return [...group.attestation.signingCertificates, ...resolved];
  }

  /**
   * A blocker keeps one device of a group out: tagged by this tool, or any DISABLED individual enrollment
   * for a device that registered through a group (someone followed the procedure by hand).
   */
  blockedGroup(e: IndividualEnrollment): { groupId?: string } | undefined {
    if (e.blocker)
      return { groupId: e.blocker.groupId ?? this.records.get(e.registrationId)?.enrollmentGroupId };
    const groupId = this.records.get(e.registrationId)?.enrollmentGroupId;
    if (e.provisioningStatus === 'disabled' && groupId !== undefined) return { groupId };
    return undefined;
  }
}
