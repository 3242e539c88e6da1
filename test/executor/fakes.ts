/**
 * Scripted fakes of OUR ports (DpsPort, HubPort), not of the SDKs: in-memory state plus a script of
 * errors per call, and a log of every call so tests can count calls per target.
 */
import { ServiceError } from '../../src/core/errors.js';
import type {
  EnrollmentGroup,
  HubDevice,
  HubDeviceStatus,
  IndividualEnrollment,
  ProvisioningStatus,
  RegistrationRecord,
} from '../../src/core/model.js';
import type {
  BulkItemResult,
  DpsPort,
  HubDirectory,
  HubPort,
  PreparedStatusWrite,
  StatusChangePreparation,
} from '../../src/core/ports.js';

export type Scripted = ServiceError | ((...args: unknown[]) => Promise<void>);

export class Script {
  readonly calls: string[] = [];
  private readonly faults = new Map<string, Scripted[]>();
  private readonly gates = new Map<string, Promise<void>>();

  /** The next calls of `key` (e.g. "deleteRegistration:dev-1") throw these errors, in order. */
  fail(key: string, ...errors: ServiceError[]): void {
    this.faults.set(key, [...(this.faults.get(key) ?? []), ...errors]);
  }

  /** Calls of `key` wait until the returned function is called. */
  gate(key: string): () => void {
    let open!: () => void;
    this.gates.set(key, new Promise<void>((r) => (open = r)));
    return () => {
      this.gates.delete(key);
      open();
    };
  }

  count(key: string): number {
    return this.calls.filter((c) => c === key).length;
  }

  async enter(key: string): Promise<void> {
    this.calls.push(key);
    const gate = this.gates.get(key);
    if (gate) await gate;
    const next = this.faults.get(key)?.shift();
    if (next instanceof ServiceError) throw next;
  }
}

export const throttled = (retryAfterMs?: number) =>
  new ServiceError('throttled', 'Too many requests', { status: 429, retryAfterMs });
export const transient = () => new ServiceError('transient', 'Service unavailable', { status: 503 });
export const notFound = () => new ServiceError('notFound', 'not found', { status: 404 });
export const badRequest = (m = 'bad request') => new ServiceError('badRequest', m, { status: 400 });

export class FakeDps implements DpsPort {
  readonly host = 'dps-test.azure-devices-provisioning.net';
  readonly script = new Script();
  readonly enrollments = new Map<string, IndividualEnrollment>();
  readonly groups = new Map<string, EnrollmentGroup>();
  readonly registrations = new Map<string, RegistrationRecord>();
  /** Blockers for these registration IDs come back enabled (the SDK bug the re-read guards against). */
  readonly blockersComeBackEnabled = new Set<string>();

  addGroup(groupId: string, status: ProvisioningStatus = 'enabled'): void {
    this.groups.set(groupId, {
      enrollmentGroupId: groupId,
      attestation: { type: 'symmetricKey' },
      provisioningStatus: status,
    });
  }

  addRegistration(registrationId: string, assignedHub: string, groupId = 'g1'): void {
    this.registrations.set(registrationId, {
      registrationId,
      deviceId: registrationId,
      assignedHub,
      status: 'assigned',
      enrollmentGroupId: groupId,
    });
  }

  addEnrollment(registrationId: string, status: ProvisioningStatus = 'enabled'): void {
    this.enrollments.set(registrationId, {
      registrationId,
      attestation: { type: 'tpm' },
      provisioningStatus: status,
    });
  }

  async getEnrollment(id: string) {
    await this.script.enter(`getEnrollment:${id}`);
    const e = this.enrollments.get(id);
    return e ? { ...e } : undefined;
  }
  async getGroup(id: string) {
    await this.script.enter(`getGroup:${id}`);
    const g = this.groups.get(id);
    return g ? { ...g } : undefined;
  }
  async *listEnrollments() {
    yield [...this.enrollments.values()];
  }
  async *listGroups() {
    yield [...this.groups.values()];
  }
  async *listGroupRegistrations(groupId: string) {
    yield [...this.registrations.values()].filter((r) => r.enrollmentGroupId === groupId);
  }
  async getRegistration(id: string) {
    await this.script.enter(`getRegistration:${id}`);
    return this.registrations.get(id);
  }
  async setEnrollmentStatus(id: string, status: ProvisioningStatus) {
    await this.script.enter(`setEnrollmentStatus:${id}`);
    const e = this.enrollments.get(id);
    if (!e) throw notFound();
    e.provisioningStatus = status;
    return { ...e };
  }
  async setGroupStatus(id: string, status: ProvisioningStatus) {
    await this.script.enter(`setGroupStatus:${id}`);
    const g = this.groups.get(id);
    if (!g) throw notFound();
    g.provisioningStatus = status;
    return { ...g };
  }
  async deleteEnrollment(id: string) {
    await this.script.enter(`deleteEnrollment:${id}`);
    if (!this.enrollments.delete(id)) throw notFound();
  }
  async deleteGroup(id: string) {
    await this.script.enter(`deleteGroup:${id}`);
    if (!this.groups.delete(id)) throw notFound();
  }
  async deleteRegistration(id: string) {
    await this.script.enter(`deleteRegistration:${id}`);
    if (!this.registrations.delete(id)) throw notFound();
  }
  async createBlocker(input: {
    registrationId: string;
    groupId: string;
    certificatePem?: string;
    runId?: string;
  }) {
    await this.script.enter(`createBlocker:${input.registrationId}`);
    if (this.enrollments.has(input.registrationId))
      throw new ServiceError('conflict', 'exists', { status: 409 });
    const e: IndividualEnrollment = {
      registrationId: input.registrationId,
      attestation: { type: 'symmetricKey' },
      provisioningStatus: this.blockersComeBackEnabled.has(input.registrationId) ? 'enabled' : 'disabled',
      blocker: { groupId: input.groupId, runId: input.runId },
    };
    this.enrollments.set(input.registrationId, e);
    return { ...e, provisioningStatus: 'disabled' as const };
  }
}

export class FakeHub implements HubPort {
  readonly script = new Script();
  readonly devices = new Map<string, HubDevice>();
  /** Per-device error codes the next bulk call answers for these devices. */
  readonly deviceErrors = new Map<string, string>();
  /** Device lists of each bulk call, in order. */
  readonly bulkCalls: { kind: string; ids: string[] }[] = [];

  constructor(readonly host: string) {}

  addDevice(deviceId: string, status: HubDeviceStatus = 'enabled'): void {
    this.devices.set(deviceId, { hub: this.host, deviceId, status });
  }

  async getDevice(id: string) {
    await this.script.enter(`getDevice:${id}`);
    const d = this.devices.get(id);
    return d ? { ...d } : undefined;
  }
  async *listDevices() {
    yield [...this.devices.values()];
  }
  async findDevices(ids: string[]) {
    await this.script.enter('findDevices');
    return ids.flatMap((id) => {
      const d = this.devices.get(id);
      return d ? [{ ...d }] : [];
    });
  }
  private async bulk(kind: string, ids: string[], apply: (d: HubDevice) => void): Promise<BulkItemResult[]> {
    this.bulkCalls.push({ kind, ids });
    for (const id of ids) this.script.calls.push(`${kind}:${id}`);
    await this.script.enter(kind);
    return ids.map((id) => {
      const code = this.deviceErrors.get(id);
      if (code) {
        this.deviceErrors.delete(id);
        return { id, ok: false, code, message: `${code} for ${id}` };
      }
      const d = this.devices.get(id);
      if (!d) return { id, ok: false, code: 'DeviceNotFound', message: 'not found' };
      apply(d);
      return { id, ok: true };
    });
  }
  /** Reads are scripted as `readIdentity:ID`; every device read is handed to the write (which answers for it). */
  async prepareStatusChange(devices: { deviceId: string }[]): Promise<StatusChangePreparation> {
    const out: StatusChangePreparation = { writes: [], settled: [], failed: [] };
    for (const { deviceId } of devices) {
      try {
        await this.script.enter(`readIdentity:${deviceId}`);
        out.writes.push({ deviceId });
      } catch (error) {
        out.failed.push({ deviceId, error });
      }
    }
    return out;
  }
  writeStatus(writes: PreparedStatusWrite[], status: HubDeviceStatus) {
    return this.setDevicesStatus(writes, status);
  }
  setDevicesStatus(devices: { deviceId: string }[], status: HubDeviceStatus) {
    return this.bulk(
      status === 'disabled' ? 'disableDevices' : 'enableDevices',
      devices.map((d) => d.deviceId),
      (d) => {
        d.status = status;
      },
    );
  }
  deleteDevices(devices: { deviceId: string }[]) {
    return this.bulk(
      'deleteDevices',
      devices.map((d) => d.deviceId),
      (d) => {
        this.devices.delete(d.deviceId);
      },
    );
  }
}

export const directoryOf = (...hubs: FakeHub[]): HubDirectory => {
  const byHost = new Map(hubs.map((h) => [h.host.toLowerCase(), h]));
  return { get: (h) => byHost.get(h.toLowerCase()), hosts: () => [...byHost.keys()] };
};

/** Polls until `cond` holds (a guard against hangs, not a timing assertion). */
export const until = async (cond: () => boolean, what = 'condition'): Promise<void> => {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
};
