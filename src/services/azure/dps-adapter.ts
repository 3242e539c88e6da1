/**
 * DpsPort on azure-iot-provisioning-service. Every call has a deadline and maps failures to
 * ServiceError; the only retry here is the read-modify-write on a stale ETag (412).
 */
import { isServiceError, ServiceError } from '../../core/errors.js';
import type {
  EnrollmentGroup,
  IndividualEnrollment,
  ProvisioningStatus,
  RegistrationRecord,
} from '../../core/model.js';
import { DPS_BULK_MAX } from '../../core/plan-types.js';
import type { BulkItemResult, DpsPort } from '../../core/ports.js';
import type { ProvisioningServiceClient } from './clients.js';
import { type CallContext, DEFAULT_TIMEOUT_MS, fromCallback, sdkCall } from './deadline.js';
import {
  blockerBody,
  toEnrollmentGroup,
  toIndividualEnrollment,
  toRegistrationRecord,
  bulkItemResults,
} from './dps-mapping.js';
import { pages } from './paging.js';
import { type Json, asJson, at, bulkResultOf, sdkBody } from './json.js';

export interface DpsAdapterOptions {
  /** Deadline per SDK call (default 30 s). */
  timeoutMs?: number;
  /** How the client signs in (a refusal then names the role or the policy permissions to grant). */
  access?: 'sas' | 'entra';
  /** Items per query page (default 100, the service's default). */
  pageSize?: number;
  /** Attempts of a read-modify-write when the ETag went stale between read and write (default 3). */
  etagAttempts?: number;
}

type Kind = 'enrollment' | 'group';

const SELECT_ALL = { query: 'SELECT *' };

type EnrollmentBody = Parameters<ProvisioningServiceClient['createOrUpdateIndividualEnrollment']>[0];
type GroupBody = Parameters<ProvisioningServiceClient['createOrUpdateEnrollmentGroup']>[0];
type BulkBody = Parameters<ProvisioningServiceClient['runBulkEnrollmentOperation']>[0];

export class AzureDpsAdapter implements DpsPort {
  private readonly timeoutMs: number;
  private readonly access: 'sas' | 'entra' | undefined;
  private readonly pageSize: number;
  private readonly etagAttempts: number;

  constructor(
    private readonly client: ProvisioningServiceClient,
    readonly host: string,
    options: DpsAdapterOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.access = options.access;
    this.pageSize = options.pageSize ?? 100;
    this.etagAttempts = Math.max(1, options.etagAttempts ?? 3);
  }

  private ctx(action: string): CallContext {
    return {
      action,
      target: this.host,
      timeoutMs: this.timeoutMs,
      ...(this.access ? { access: { service: 'dps', auth: this.access } } : {}),
    };
  }

  private call<T>(action: string, start: () => Promise<T>): Promise<T> {
    return sdkCall(this.ctx(action), start);
  }

  /** A GET that answers undefined for 404. */
  private async read(
    action: string,
    start: () => Promise<{ responseBody: unknown }>,
  ): Promise<Json | undefined> {
    try {
      return (await sdkCall(this.ctx(action), start)).responseBody as Json;
    } catch (err) {
      if (isServiceError(err) && err.kind === 'notFound') return undefined;
      throw err;
    }
  }

  private readEnrollmentBody(registrationId: string) {
    return this.read(`get enrollment '${registrationId}'`, () =>
      this.client.getIndividualEnrollment(registrationId),
    );
  }

  private readGroupBody(groupId: string) {
    return this.read(`get enrollment group '${groupId}'`, () => this.client.getEnrollmentGroup(groupId));
  }

  async getEnrollment(registrationId: string): Promise<IndividualEnrollment | undefined> {
    const body = await this.readEnrollmentBody(registrationId);
    return body ? toIndividualEnrollment(body) : undefined;
  }

  async getGroup(groupId: string): Promise<EnrollmentGroup | undefined> {
    const body = await this.readGroupBody(groupId);
    return body ? toEnrollmentGroup(body) : undefined;
  }

  listEnrollments(): AsyncIterable<IndividualEnrollment[]> {
    return pages(
      this.ctx('list enrollments'),
      () => this.client.createIndividualEnrollmentQuery(SELECT_ALL, this.pageSize),
      toIndividualEnrollment,
    );
  }

  listGroups(): AsyncIterable<EnrollmentGroup[]> {
    return pages(
      this.ctx('list enrollment groups'),
      () => this.client.createEnrollmentGroupQuery(SELECT_ALL, this.pageSize),
      toEnrollmentGroup,
    );
  }

  listGroupRegistrations(groupId: string): AsyncIterable<RegistrationRecord[]> {
    return pages(
      this.ctx(`list registration records of group '${groupId}'`),
      () => this.client.createEnrollmentGroupDeviceRegistrationStateQuery(SELECT_ALL, groupId, this.pageSize),
      (item) => toRegistrationRecord(item, groupId),
    );
  }

  async getRegistration(registrationId: string): Promise<RegistrationRecord | undefined> {
    const body = await this.read(`get registration record '${registrationId}'`, () =>
      this.client.getDeviceRegistrationState(registrationId),
    );
    return body ? toRegistrationRecord(body) : undefined;
  }

  setEnrollmentStatus(registrationId: string, status: ProvisioningStatus): Promise<IndividualEnrollment> {
    return this.rewriteStatus('enrollment', registrationId, status).then(toIndividualEnrollment);
  }

  setGroupStatus(groupId: string, status: ProvisioningStatus): Promise<EnrollmentGroup> {
    return this.rewriteStatus('group', groupId, status).then(toEnrollmentGroup);
  }

  /**
   * GET, change provisioningStatus, PUT with If-Match. A PUT replaces the whole enrollment, and a
   * symmetric-key attestation sent without its keys makes the service generate NEW keys (the device
   * could never come back after a restore): so those keys are read from the attestation mechanism and
   * sent back unchanged. They live only in this function's locals.
   */
  private async rewriteStatus(kind: Kind, id: string, status: ProvisioningStatus): Promise<Json> {
    const noun = kind === 'enrollment' ? 'enrollment' : 'enrollment group';
    let lastConflict: ServiceError | undefined;
    for (let attempt = 0; attempt < this.etagAttempts; attempt++) {
      const current =
        kind === 'enrollment' ? await this.readEnrollmentBody(id) : await this.readGroupBody(id);
      if (!current) {
        const verb = status === 'disabled' ? 'disable' : 'enable';
        throw new ServiceError(
          'notFound',
          `${verb} ${noun} '${id}' on ${this.host} failed: it does not exist`,
          {
            status: 404,
            target: this.host,
          },
        );
      }
      if (current.provisioningStatus === status) return current;
      const next: Json = { ...current, provisioningStatus: status };
      delete next.registrationState;
      if (asJson(current.attestation)?.type === 'symmetricKey') {
        next.attestation = await this.attestationWithKeys(kind, id);
      }
      try {
        const written = await this.call<{ responseBody: unknown }>(`set ${noun} '${id}' ${status}`, () =>
          kind === 'enrollment'
            ? this.client.createOrUpdateIndividualEnrollment(sdkBody<EnrollmentBody>(next))
            : this.client.createOrUpdateEnrollmentGroup(sdkBody<GroupBody>(next)),
        );
        return written.responseBody as Json;
      } catch (err) {
        if (!isServiceError(err) || err.kind !== 'preconditionFailed') throw err;
        lastConflict = err;
      }
    }
    throw lastConflict as ServiceError;
  }

  private async attestationWithKeys(kind: Kind, id: string): Promise<Json> {
    const answer = await this.call<{ responseBody: unknown }>(
      `read attestation of ${kind === 'enrollment' ? 'enrollment' : 'enrollment group'} '${id}'`,
      () =>
        kind === 'enrollment'
          ? this.client.getIndividualEnrollmentAttestationMechanism(id)
          : this.client.getEnrollmentGroupAttestationMechanism(id),
    );
    const mechanism = answer.responseBody as Json;
    if (mechanism?.type !== 'symmetricKey' || !at(mechanism, 'symmetricKey')?.primaryKey) {
      // Writing without the keys would rotate them: refuse rather than lock the device out for good.
      throw new ServiceError(
        'unknown',
        `the attestation of '${id}' on ${this.host} came back without its keys; not writing`,
        {
          target: this.host,
        },
      );
    }
    return mechanism;
  }

  async deleteEnrollment(registrationId: string, etag?: string): Promise<void> {
    await this.call(`delete enrollment '${registrationId}'`, () =>
      etag
        ? this.client.deleteIndividualEnrollment(registrationId, etag)
        : this.client.deleteIndividualEnrollment(registrationId),
    );
  }

  async deleteGroup(groupId: string, etag?: string): Promise<void> {
    await this.call(`delete enrollment group '${groupId}'`, () =>
      etag ? this.client.deleteEnrollmentGroup(groupId, etag) : this.client.deleteEnrollmentGroup(groupId),
    );
  }

  async deleteRegistration(registrationId: string, etag?: string): Promise<void> {
    await this.call(`delete registration record '${registrationId}'`, () =>
      etag
        ? this.client.deleteDeviceRegistrationState(registrationId, etag)
        : this.client.deleteDeviceRegistrationState(registrationId),
    );
  }

  /**
   * Creates the blocker through a bulk 'create' operation: unlike a PUT, which would silently replace an
   * enrollment that already exists, 'create' fails for that one item, atomically. Then re-reads it.
   */
  async createBlocker(input: {
    registrationId: string;
    groupId: string;
    certificatePem?: string;
    runId?: string;
  }): Promise<IndividualEnrollment> {
    const action = `create blocker enrollment '${input.registrationId}'`;
    const [result] = await this.bulkEnrollmentOperation('create', [blockerBody(input)], action);
    if (!result.ok) {
      const status = Number(result.code) >= 100_000 ? Math.floor(Number(result.code) / 1000) : undefined;
      const kind = status === 409 ? 'conflict' : status === 400 ? 'badRequest' : 'unknown';
      const reason =
        kind === 'conflict' ? 'an enrollment with this registration ID exists already' : result.message;
      throw new ServiceError(
        kind,
        `${action} on ${this.host} failed: ${reason ?? result.code ?? 'refused'}`,
        {
          status,
          code: result.code,
          target: this.host,
        },
      );
    }
    const written = await this.getEnrollment(input.registrationId);
    if (!written) {
      throw new ServiceError(
        'unknown',
        `${action} on ${this.host}: the service accepted it but it cannot be read back`,
        {
          target: this.host,
        },
      );
    }
    return written;
  }

  /**
   * POST /enrollments {mode, enrollments}. Only the callback form of the SDK method settles (its promise
   * form sends the request and never resolves).
   */
  private async bulkEnrollmentOperation(
    mode: 'create' | 'update' | 'updateIfMatchETag' | 'delete',
    enrollments: Json[],
    action: string,
  ): Promise<BulkItemResult[]> {
    if (enrollments.length < 1 || enrollments.length > DPS_BULK_MAX) {
      throw new ServiceError(
        'badRequest',
        `${action}: a bulk operation takes 1 to ${DPS_BULK_MAX} enrollments`,
      );
    }
    const body = await this.call(action, () =>
      fromCallback<Json>((done) =>
        this.client.runBulkEnrollmentOperation(sdkBody<BulkBody>({ mode, enrollments }), (err, result) =>
          done(err, asJson(result)),
        ),
      ).catch((err) => {
        // A refused batch may still carry per-item answers; keep them when it does.
        const refused = bulkResultOf(err?.responseBody);
        if (refused) return refused;
        throw err;
      }),
    );
    // No result at all: nothing says which enrollment changed, so none counts as done.
    return bulkItemResults(enrollments, body ?? { isSuccessful: false });
  }
}
