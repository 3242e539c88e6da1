/**
 * A device registering itself with DPS, through the official device SDK (HTTP transport, symmetric-key
 * or X.509 security client): what the sandbox's "try to register this device now" and
 * `verify --attempt` call. With an emulator endpoint, the SDK's own requests go to the emulator.
 * The answer is a value (only options that name no credential throw): assigned (with the hub),
 * refused (what DPS said), or no answer (what went wrong on the way). Keys never appear in it.
 */
import type { ClientRequest } from 'node:http';
import httpBase from 'azure-iot-http-base';
// CommonJS packages: Node's ESM loader only promises their default export (module.exports).
import provisioningDevice from 'azure-iot-provisioning-device';
import provisioningHttp from 'azure-iot-provisioning-device-http';
import symmetricKeySecurity from 'azure-iot-security-symmetric-key';
import x509Security from 'azure-iot-security-x509';
import { observed } from '../azure/clients.js';
import { type EmulatorEndpoint, EmulatorDpsHttp } from '../azure/endpoint.js';
import { asJson } from '../azure/json.js';

const { ProvisioningDeviceClient } = provisioningDevice;
const { Http: ProvisioningTransport } = provisioningHttp;
const { SymmetricKeySecurityClient } = symmetricKeySecurity;
const { X509Security } = x509Security;
const { Http: PlainHttp } = httpBase;

export const GLOBAL_PROVISIONING_HOST = 'global.azure-devices-provisioning.net';
const DEFAULT_TIMEOUT_MS = 20_000;

export interface RegisterDeviceOptions {
  /** The emulator to send the device's requests to; undefined: Azure. */
  endpoint?: EmulatorEndpoint;
  /** Default: the global device endpoint. */
  provisioningHost?: string;
  idScope: string;
  registrationId: string;
  /** Symmetric-key attestation: the device's own key (for a group device, the key derived for it). */
  symmetricKey?: string;
  /** X.509 attestation: the device certificate, leaf first, with the intermediates it sends. */
  certPem?: string;
  keyPem?: string;
  /** The whole registration gives up after this long (default 20 s): it never hangs. */
  timeoutMs?: number;
  /** Wait between status polls when DPS does not say (SDK default 2 s). */
  pollingIntervalMs?: number;
}

export type RegistrationOutcome =
  | { outcome: 'assigned'; assignedHub: string; deviceId: string }
  /** DPS refused: `status` is the HTTP status (401), `registrationStatus` the operation's (disabled). */
  | { outcome: 'refused'; status?: number; registrationStatus?: string; reason: string }
  /** No answer from DPS (timeout, network, throttled, server error): nothing is known. */
  | { outcome: 'error'; status?: number; reason: string };

interface SdkError {
  name?: string;
  message?: string;
  result?: { status?: string; registrationState?: { errorMessage?: string } };
  response?: { statusCode?: number };
  transportObject?: { statusCode?: number };
  responseBody?: string;
}

/** DPS's own words from an error body, when it sent JSON with a message. */
function serviceMessage(body: string | undefined): string | undefined {
  if (!body) return undefined;
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    return undefined;
  }
}

/** Turns what the SDK rejected with into an outcome (matched by name and status: several SDK copies). */
export function outcomeOfError(err: unknown): RegistrationOutcome {
  const e = (err ?? {}) as SdkError;
  const status = e.response?.statusCode ?? e.transportObject?.statusCode;
  const said = serviceMessage(e.responseBody);
  const statusWord = /^status is (\w+)/.exec(e.message ?? '')?.[1] ?? e.result?.status;
  if (e.name === 'SyntaxError' && statusWord) {
    return {
      outcome: 'refused',
      registrationStatus: statusWord,
      reason:
        `DPS ended the registration with status "${statusWord}"` +
        (statusWord === 'disabled' ? ': the enrollment that matches the device is disabled' : ''),
    };
  }
  if (e.name === 'DeviceRegistrationFailedError' || e.name === 'ProvisioningRegistrationFailedError') {
    const detail = e.result?.registrationState?.errorMessage;
    return {
      outcome: 'refused',
      registrationStatus: 'failed',
      reason: `DPS could not assign the device${detail ? `: ${detail}` : ''}`,
    };
  }
  if (status === 401 || e.name === 'UnauthorizedError') {
    return {
      outcome: 'refused',
      status: 401,
      reason: `DPS refused the device's credential (401)${said ? `: ${said}` : ''}`,
    };
  }
  if (status === 403 || status === 404) {
    return { outcome: 'refused', status, reason: `DPS answered ${status}${said ? `: ${said}` : ''}` };
  }
  if (!status && /routines::/.test(e.message ?? '')) {
    // OpenSSL refused the certificate or key before anything was sent.
    return { outcome: 'error', reason: `the device's certificate or key cannot be used: ${e.message}` };
  }
  const what = status ? `DPS answered ${status}` : (e.message ?? String(err));
  return {
    outcome: 'error',
    ...(status ? { status } : {}),
    reason: `no answer from DPS: ${what}${said ? `: ${said}` : ''}`,
  };
}

/** The request builder for one registration; it keeps the requests in flight so a deadline can end them. */
function requestBuilder(
  endpoint: EmulatorEndpoint | undefined,
  inFlight: Set<ClientRequest>,
): InstanceType<typeof PlainHttp> {
  return observed(endpoint ? new EmulatorDpsHttp(endpoint) : new PlainHttp(), (request) => {
    inFlight.add(request);
    request.once('close', () => inFlight.delete(request));
  });
}

type SecurityClient = InstanceType<typeof SymmetricKeySecurityClient> | InstanceType<typeof X509Security>;

function securityClient(options: RegisterDeviceOptions): SecurityClient {
  if (options.symmetricKey)
    return new SymmetricKeySecurityClient(options.registrationId, options.symmetricKey);
  if (options.certPem && options.keyPem) {
    return new X509Security(options.registrationId, { cert: options.certPem, key: options.keyPem });
  }
  throw new Error('registerDevice: give symmetricKey, or certPem and keyPem');
}

/** Registers one device as the device would, with a fresh transport (it caches host and certificate). */
export async function registerDevice(options: RegisterDeviceOptions): Promise<RegistrationOutcome> {
  const security = securityClient(options);
  const inFlight = new Set<ClientRequest>();
  const transport = new ProvisioningTransport(
    // The device SDK bundles its own copy of azure-iot-http-base: the same class, declared twice.
    requestBuilder(options.endpoint, inFlight) as unknown as ConstructorParameters<
      typeof ProvisioningTransport
    >[0],
  );
  if (options.pollingIntervalMs !== undefined)
    transport.setTransportOptions({ pollingInterval: options.pollingIntervalMs });
  const client = ProvisioningDeviceClient.create(
    options.provisioningHost ?? GLOBAL_PROVISIONING_HOST,
    options.idScope,
    transport,
    security,
  );
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<RegistrationOutcome>((resolve) => {
    timer = setTimeout(() => {
      // Nothing may keep running after we answered: stop polling and end the requests in flight.
      client.cancel(() => {});
      for (const request of inFlight) request.destroy();
      resolve({ outcome: 'error', reason: `no answer from DPS within ${timeoutMs / 1000} s` });
    }, timeoutMs);
  });
  const registration = (client.register() as Promise<unknown>).then(
    (result: unknown): RegistrationOutcome => {
      const state = asJson(asJson(result)?.registrationState) ?? asJson(result);
      return {
        outcome: 'assigned',
        assignedHub: String(state?.assignedHub ?? ''),
        deviceId: String(state?.deviceId ?? ''),
      };
    },
    (err: unknown) => outcomeOfError(err),
  );
  try {
    return await Promise.race([registration, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
