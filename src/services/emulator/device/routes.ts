/**
 * The DPS device registration API (api-version 2019-03-31), as the device SDKs call it:
 * PUT /{idScope}/registrations/{registrationId}/register answers 202 {operationId, status: assigning};
 * GET /{idScope}/registrations/{registrationId}/operations/{operationId} then answers the outcome:
 * 200 {status: assigned | disabled | failed, registrationState}. A device that proves nothing gets 401.
 * Served on the global device endpoint and on the DPS instance's own host, as DPS does.
 *
 * A disabled enrollment is not a 401: DPS authenticates the device, then ends the operation with
 * status "disabled" and keeps a registration record saying so (the Azure CLI's live tests read
 * that record back; its device SDK reports "invalid registration status 'disabled' with a status
 * code of 200"). The Node device SDK turns that into SyntaxError('status is disabled').
 */
import { randomUUID } from 'node:crypto';
import { ServiceError } from '../errors.js';
import { pathPattern, type Reply, type RequestContext, type Route } from '../router.js';
import { type RegistrationResult, applyDecision } from './allocate.js';
import {
  type DeviceCredential,
  parseDeviceSas,
  presentedChain,
  sameCertificate,
  sasProblem,
  sasSignedWith,
} from './credentials.js';
import { decide, type HubCredentials } from './decide.js';

/** The global device endpoint (the "Global device endpoint" of the portal). */
export const GLOBAL_DEVICE_HOST = 'global.azure-devices-provisioning.net';

export const TPM_NOT_SUPPORTED =
  'TPM attestation is not supported by the emulator: register TPM devices against Azure, ' +
  'or use X.509 or symmetric-key attestation here';

const MAX_OPERATIONS = 10_000;

interface Operation {
  idScope: string;
  registrationId: string;
  /** The credential that started it: polls must present the same one. */
  proves: (credential: DeviceCredential) => boolean;
  result: RegistrationResult;
}

const unauthorized = (reason: string) => new ServiceError('unauthorized', `Unauthorized: ${reason}`);

function header(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function requireApiVersion(ctx: RequestContext): void {
  if (!ctx.query.get('api-version')) {
    throw new ServiceError('badRequest', 'the api-version query parameter is required (e.g. 2019-03-31)');
  }
}

/** The device's credential: a SAS token in Authorization, else the TLS client certificate. */
function readCredential(ctx: RequestContext, idScope: string, registrationId: string): DeviceCredential {
  const authorization = header(ctx, 'authorization');
  if (authorization) {
    const token = parseDeviceSas(authorization);
    if (!token) throw unauthorized('malformed SharedAccessSignature (needs sr, sig, se)');
    const problem = sasProblem(token, idScope, registrationId, Math.floor(Date.now() / 1000));
    if (problem) throw unauthorized(problem);
    return { kind: 'sas', token };
  }
  const chain = presentedChain(ctx.socket);
  if (chain.length > 0) return { kind: 'x509', chain };
  throw unauthorized(
    'no credential: send a SAS token signed with the device key, or a client certificate over HTTPS',
  );
}

/** Polls must come from the same device: the same leaf certificate, or a token signed with the same key. */
function sameDevice(first: DeviceCredential, credentials: HubCredentials) {
  if (first.kind === 'x509') {
    const leaf = first.chain[0];
    return (c: DeviceCredential) => c.kind === 'x509' && sameCertificate(c.chain[0], leaf);
  }
  return (c: DeviceCredential) =>
    c.kind === 'sas' &&
    credentials.authType === 'sas' &&
    (sasSignedWith(c.token, credentials.primaryKey) || sasSignedWith(c.token, credentials.secondaryKey));
}

export function deviceRoutes(): Route[] {
  const operations = new Map<string, Operation>();

  const register = (ctx: RequestContext): Reply => {
    requireApiVersion(ctx);
    const [idScope, registrationId] = ctx.params;
    const body = (ctx.body ?? {}) as { registrationId?: unknown; tpm?: unknown };
    if (body.tpm !== undefined) throw new ServiceError('badRequest', TPM_NOT_SUPPORTED);
    if (body.registrationId !== undefined && body.registrationId !== registrationId) {
      throw new ServiceError(
        'badRequest',
        `the body's registrationId does not match the URL's "${registrationId}"`,
      );
    }
    const { store, stats, throttle } = ctx.emulator;
    // An ID scope names a DPS instance: a device of another one proves nothing here.
    if (idScope.toLowerCase() !== store.dps.idScope.toLowerCase()) {
      throw unauthorized(`no DPS instance here has the ID scope ${idScope}`);
    }
    // The device registration limit (1,000 a minute) is its own bucket, apart from service operations.
    const admission = throttle.admit('dps', `${store.dps.host}#device-registrations`, 1);
    if (!admission.ok) {
      throw new ServiceError('throttled', 'Throttled: too many device registrations for this instance', {
        headers: { 'retry-after': String(admission.retryAfterSeconds) },
      });
    }
    const credential = readCredential(ctx, idScope, registrationId);
    const decision = decide(store, registrationId, credential, new Date());
    if (decision.kind === 'unauthorized') throw unauthorized(decision.reason);
    const result = applyDecision(store, stats, registrationId, decision);
    const operationId = `4.${randomUUID().replace(/-/g, '').slice(0, 16)}.${randomUUID()}`;
    if (operations.size >= MAX_OPERATIONS) operations.delete(operations.keys().next().value as string);
    operations.set(operationId, {
      idScope: idScope.toLowerCase(),
      registrationId,
      proves: sameDevice(credential, decision.hubCredentials),
      result,
    });
    return { status: 202, body: { operationId, status: 'assigning' } };
  };

  const operationStatus = (ctx: RequestContext): Reply => {
    requireApiVersion(ctx);
    const [idScope, registrationId, operationId] = ctx.params;
    const op = operations.get(operationId);
    if (!op || op.registrationId !== registrationId || op.idScope !== idScope.toLowerCase()) {
      throw new ServiceError(
        'notFound',
        `operation ${operationId} of registration ${registrationId} was not found`,
      );
    }
    if (!op.proves(readCredential(ctx, idScope, registrationId))) {
      throw unauthorized('the credential is not the one that started this registration');
    }
    return {
      status: 200,
      body: { operationId, status: op.result.status, registrationState: op.result.registrationState },
    };
  };

  const routes = (service: string): Route[] => [
    {
      service,
      method: 'PUT',
      pattern: pathPattern('/{idScope}/registrations/{registrationId}/register'),
      operation: 'device:register',
      auth: 'none',
      handle: register,
    },
    {
      service,
      method: 'GET',
      pattern: pathPattern('/{idScope}/registrations/{registrationId}/operations/{operationId}'),
      operation: 'device:operationStatus',
      auth: 'none',
      handle: operationStatus,
    },
  ];
  return [...routes('device'), ...routes('dps')];
}
