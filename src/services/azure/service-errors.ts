/**
 * SDK failures -> ServiceError. The SDKs load several copies of azure-iot-common, so `instanceof` on their
 * error classes is unreliable: we decide by HTTP status, then by error name and socket error code.
 */
import { ServiceError, type ServiceErrorKind, isServiceError } from '../../core/errors.js';
import { printable, sanitize } from '../../core/text.js';
import { asJson } from './json.js';
import { scrubSecrets } from '../secrets.js';

export { scrubSecrets };

const MAX_DETAIL = 300;

/** Text from a service or an SDK, made safe to print: no secrets, no control characters, bounded. */
export function safeDetail(text: string): string {
  return printable(scrubSecrets(text).trim(), MAX_DETAIL + 3);
}

interface ErrorBody {
  code?: string;
  message?: string;
}

/** Hub bodies: {"Message":"ErrorCode:<Code>;<text>"}; DPS bodies: {errorCode, trackingId, message}. */
export function parseErrorBody(body: unknown): ErrorBody {
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.trim() ? { message: body } : {};
    }
  }
  const json = asJson(parsed);
  if (!json) return {};
  const hubMessage = json.Message ?? json.message;
  if (typeof hubMessage === 'string') {
    const match = /^ErrorCode:([^;]+);(.*)$/s.exec(hubMessage);
    if (match) return { code: match[1], message: match[2] };
  }
  const code = json.errorCode ?? json.ErrorCode ?? json.code;
  return {
    code: code === undefined || code === null ? undefined : String(code),
    message: typeof hubMessage === 'string' ? hubMessage : undefined,
  };
}

/** Retry-After in seconds or as an HTTP date; Azure also sends x-ms-retry-after-ms / retry-after-ms. */
export function retryAfterMs(
  headers: Record<string, unknown> | undefined,
  now = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers['retry-after-ms'] ?? headers['x-ms-retry-after-ms']);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const raw = headers['retry-after'];
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const KIND_BY_STATUS: Record<number, ServiceErrorKind> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'notFound',
  408: 'transient',
  409: 'conflict',
  412: 'preconditionFailed',
  429: 'throttled',
};

const KIND_BY_NAME: Record<string, ServiceErrorKind> = {
  ArgumentError: 'badRequest',
  UnauthorizedError: 'unauthorized',
  DeviceNotFoundError: 'notFound',
  DeviceAlreadyExistsError: 'conflict',
  InvalidEtagError: 'preconditionFailed',
  ThrottlingError: 'throttled',
  InternalServerError: 'transient',
  ServiceUnavailableError: 'transient',
  GatewayTimeoutError: 'transient',
  // @azure/identity: no sign-in available, or the sign-in was refused.
  CredentialUnavailableError: 'unauthorized',
  AuthenticationError: 'unauthorized',
  AggregateAuthenticationError: 'unauthorized',
};

const TRANSIENT_SOCKET_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
]);

function kindOf(
  status: number | undefined,
  name: string,
  code: string | undefined,
  message: string,
): ServiceErrorKind {
  if (status !== undefined) {
    if (KIND_BY_STATUS[status]) return KIND_BY_STATUS[status];
    if (status >= 500) return 'transient';
    return 'unknown';
  }
  if (code && TRANSIENT_SOCKET_CODES.has(code)) return 'transient';
  if (/socket hang up/i.test(message)) return 'transient';
  return KIND_BY_NAME[name] ?? 'unknown';
}

const HINTS: Partial<Record<ServiceErrorKind, string>> = {
  unauthorized: "check the connection string's key, or sign in again with az login",
  forbidden: 'the credential lacks permission: check its role assignment or access policy',
  throttled: 'the service is throttling requests',
};

/**
 * TLS failures in plain words (OpenSSL's own text, "ssl3_get_record:wrong version number", helps nobody).
 */
function tlsProblem(code: string | undefined, message: string): string | undefined {
  if (
    code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' ||
    /wrong version number|packet length too long/i.test(message)
  ) {
    return 'the endpoint does not speak HTTPS (it looks like plain HTTP): use an http:// URL for it';
  }
  if (
    code === 'DEPTH_ZERO_SELF_SIGNED_CERT' ||
    code === 'SELF_SIGNED_CERT_IN_CHAIN' ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'
  ) {
    return "the endpoint's certificate is not trusted: give its CA certificate with --endpoint-ca";
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return "the endpoint's certificate is for another host name";
  if (code?.startsWith('ERR_SSL_') || /SSL routines/i.test(message))
    return 'the TLS handshake with the endpoint failed';
  return undefined;
}

/** How a call signed in, and to which service: what a refusal asks the person to grant. */
export interface Access {
  service: 'dps' | 'hub';
  auth: 'sas' | 'entra';
}

/** Whether an action (as the adapters name it: "get device ...", "delete enrollment ...") changes something. */
const isWrite = (action: string): boolean =>
  !/^(get|list|query|read|find|count|look up)\b/i.test(action.trim());

/**
 * What to grant, in plain words, when a service refused the credential (401) or the permission (403):
 * the data-plane role for Entra ID sign-in, the shared access policy's permissions for a key.
 */
export function accessHint(kind: 'unauthorized' | 'forbidden', access: Access, action: string): string {
  const write = isWrite(action);
  if (access.auth === 'entra') {
    const role =
      access.service === 'dps'
        ? write
          ? 'the "Device Provisioning Service Data Contributor" role'
          : 'the "Device Provisioning Service Data Reader" (or Data Contributor) role'
        : write
          ? 'the "IoT Hub Registry Contributor" (or "IoT Hub Data Contributor") role'
          : 'the "IoT Hub Data Reader" (or "IoT Hub Registry Contributor") role';
    const what = access.service === 'dps' ? 'this Device Provisioning Service' : 'this IoT hub';
    return kind === 'unauthorized'
      ? `the sign-in was refused: sign in again with az login, and make sure your account has ${role} on ${what}`
      : `signed in, but your account lacks ${role} on ${what}: ask an owner of it to assign that role`;
  }
  const permissions =
    access.service === 'dps'
      ? write
        ? 'enrollmentRead, enrollmentWrite, registrationStatusRead and registrationStatusWrite (e.g. provisioningserviceowner)'
        : 'enrollmentRead and registrationStatusRead'
      : write
        ? 'registryRead and registryWrite (e.g. iothubowner or registryReadWrite)'
        : 'registryRead';
  return kind === 'unauthorized'
    ? `the key was refused: check the connection string (copied whole, key not rotated); its shared access policy needs ${permissions}`
    : `the connection string's shared access policy lacks a permission: use a policy with ${permissions}`;
}

/**
 * Maps anything an SDK call threw or rejected with to a ServiceError whose message says what failed and
 * for which target, and never carries a secret.
 */
export function toServiceError(err: unknown, action: string, target: string, access?: Access): ServiceError {
  if (isServiceError(err)) return err;
  const e = asJson(err) ?? {};
  const response = asJson(e.response);
  const status: number | undefined =
    typeof response?.statusCode === 'number' ? response.statusCode : undefined;
  const headers = asJson(response?.headers);
  const body = parseErrorBody(e.responseBody);
  const socketCode = typeof e.code === 'string' ? e.code : undefined;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const rawMessage = typeof e.message === 'string' ? e.message : String(err);
  const kind = kindOf(status, name, socketCode, rawMessage);
  const headerCode =
    typeof headers?.['x-ms-error-code'] === 'string' ? (headers['x-ms-error-code'] as string) : undefined;
  const tls = status === undefined ? tlsProblem(socketCode, rawMessage) : undefined;
  const code = tls ? undefined : (body.code ?? headerCode ?? socketCode);
  const detail = tls ?? safeDetail(body.message ?? rawMessage);
  const what =
    status !== undefined ? `${status}${code ? ` ${code}` : ''}` : code && code !== detail ? code : '';
  const parts = [what, detail].filter((p) => p !== '');
  const hint =
    access && (kind === 'unauthorized' || kind === 'forbidden')
      ? accessHint(kind, access, action)
      : HINTS[kind];
  // The action names IDs the service gave us: the whole message goes through the sanitizer.
  const message = sanitize(
    `${action} on ${target} failed: ${parts.join(': ') || kind}${hint ? ` (${hint})` : ''}`,
  );
  return new ServiceError(kind, message, {
    status,
    code,
    target,
    retryAfterMs: kind === 'throttled' ? retryAfterMs(headers) : undefined,
  });
}
