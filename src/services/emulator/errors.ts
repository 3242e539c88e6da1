/**
 * Errors the way each service writes them. The SDKs read these bodies: the hub's
 * `{"Message":"ErrorCode:<Code>;<text>"}` becomes the error's message and code (DeviceNotFound ->
 * DeviceNotFoundError), DPS's `{errorCode, trackingId, message, timestampUtc}` comes through as text.
 */
import { randomUUID } from 'node:crypto';

export type ErrorKind =
  | 'badRequest'
  | 'unauthorized'
  | 'notFound'
  | 'conflict'
  | 'preconditionFailed'
  | 'tooLarge'
  | 'throttled'
  | 'internal'
  | 'unavailable';

interface Shape {
  status: number;
  hubCode: string;
  hubNumber: number;
  dpsNumber: number;
}

const SHAPES: Record<ErrorKind, Shape> = {
  badRequest: { status: 400, hubCode: 'ArgumentInvalid', hubNumber: 400004, dpsNumber: 400004 },
  unauthorized: { status: 401, hubCode: 'IotHubUnauthorizedAccess', hubNumber: 401002, dpsNumber: 401002 },
  notFound: { status: 404, hubCode: 'DeviceNotFound', hubNumber: 404001, dpsNumber: 404201 },
  conflict: { status: 409, hubCode: 'DeviceAlreadyExists', hubNumber: 409001, dpsNumber: 409201 },
  preconditionFailed: { status: 412, hubCode: 'PreconditionFailed', hubNumber: 412002, dpsNumber: 412002 },
  tooLarge: { status: 413, hubCode: 'MessageTooLarge', hubNumber: 413001, dpsNumber: 413001 },
  throttled: { status: 429, hubCode: 'ThrottlingException', hubNumber: 429001, dpsNumber: 429001 },
  internal: { status: 500, hubCode: 'ServerError', hubNumber: 500001, dpsNumber: 500000 },
  unavailable: { status: 503, hubCode: 'ServiceUnavailable', hubNumber: 503001, dpsNumber: 503000 },
};

/** A failure a handler raises; the server renders it in the shape of the service that was called. */
export class ServiceError extends Error {
  readonly kind: ErrorKind;
  /** Overrides the hub's error code name (e.g. IotHubNotFound, DeviceDefinedMultipleTimes). */
  readonly hubCode?: string;
  readonly headers: Record<string, string>;
  constructor(
    kind: ErrorKind,
    message: string,
    opts: { hubCode?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.kind = kind;
    this.hubCode = opts.hubCode;
    this.headers = opts.headers ?? {};
  }
  get status(): number {
    return SHAPES[this.kind].status;
  }
}

export function statusOf(kind: ErrorKind): number {
  return SHAPES[kind].status;
}

export function dpsErrorCode(kind: ErrorKind): number {
  return SHAPES[kind].dpsNumber;
}

export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export function renderError(service: 'dps' | 'hub', err: ServiceError): RenderedError {
  const shape = SHAPES[err.kind];
  const trackingId = randomUUID().replace(/-/g, '');
  const timestampUtc = new Date().toISOString();
  if (service === 'dps') {
    return {
      status: shape.status,
      headers: { 'x-ms-error-code': String(shape.dpsNumber), ...err.headers },
      body: { errorCode: shape.dpsNumber, trackingId, message: err.message, timestampUtc },
    };
  }
  const code = err.hubCode ?? shape.hubCode;
  // The hub's text may not contain ';': the SDK splits the Message on it.
  const text = err.message.replace(/;/g, ',');
  return {
    status: shape.status,
    headers: { 'iothub-errorcode': code, ...err.headers },
    body: {
      Message: `ErrorCode:${code};${text}`,
      ExceptionMessage: `Tracking ID:${trackingId}-G:0-TimeStamp:${timestampUtc}`,
    },
  };
}
