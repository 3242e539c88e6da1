/**
 * A device talking to its IoT hub with the credentials it already holds, through the official device
 * client (`azure-iot-device` with the HTTP transport `azure-iot-device-http`): it sends one telemetry
 * message, or polls for cloud-to-device messages. This is the second half of the proof that a
 * deprovisioned device is out: DPS refuses it, and its hub refuses it too.
 * The answer is a value: sent (the hub took it), refused (what the hub said), or no answer.
 * Keys never appear in it.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import common from 'azure-iot-common';
import httpBase from 'azure-iot-http-base';
// CommonJS packages: Node's ESM loader only promises their default export (module.exports).
import deviceSdk from 'azure-iot-device';
import deviceHttp from 'azure-iot-device-http';
import { type EmulatorEndpoint, EmulatorDpsHttp } from '../azure/endpoint.js';

const {
  Client,
  Message,
  SharedAccessKeyAuthenticationProvider,
  SharedAccessSignatureAuthenticationProvider,
  X509AuthenticationProvider,
} = deviceSdk;
// Its typings say `Http` is a namespace; at run time it is the transport class itself.
// biome-ignore lint/suspicious/noExplicitAny: the device transport's constructor is untyped in its package.
type UntypedTransport = new (provider: unknown, http?: unknown) => any;
const DeviceHttpTransport = (deviceHttp as unknown as { Http: UntypedTransport }).Http;
const { Http: PlainHttp } = httpBase;
const { NoRetry } = common;

const DEFAULT_TIMEOUT_MS = 20_000;

export interface HubDeviceOptions {
  /** The emulator to send the device's requests to; undefined: Azure. */
  endpoint?: EmulatorEndpoint;
  /** The hub host name DPS assigned, e.g. hub-eu.azure-devices.net. */
  hubHost: string;
  deviceId: string;
  /** A ready-made device SAS token (`SharedAccessSignature sr=...`), instead of a key. */
  sharedAccessSignature?: string;
  /** Symmetric key (the same key the device registered with). */
  symmetricKey?: string;
  /** X.509: the device certificate (leaf first, with the intermediates it sends) and its key. */
  certPem?: string;
  keyPem?: string;
  /** Gives up after this long (default 20 s): it never hangs. */
  timeoutMs?: number;
}

export type SendOutcome =
  | { outcome: 'sent'; hub: string }
  /** The hub refused the device: `status` 401 for a disabled, deleted or unknown device or a wrong credential. */
  | { outcome: 'refused'; hub: string; status?: number; reason: string; errorName?: string }
  | { outcome: 'error'; hub: string; status?: number; reason: string };

interface SdkError {
  name?: string;
  message?: string;
  response?: { statusCode?: number };
  responseBody?: string;
}

/** The hub's own words: `{"Message":"ErrorCode:<Code>;<text>"}`. */
function hubMessage(body: string | undefined): string | undefined {
  if (!body) return undefined;
  try {
    const parsed = JSON.parse(body) as { Message?: unknown };
    return typeof parsed.Message === 'string' ? parsed.Message.replace(/^ErrorCode:[^;]*;/, '') : undefined;
  } catch {
    return undefined;
  }
}

export function sendOutcomeOfError(hub: string, err: unknown, said?: string): SendOutcome {
  const e = (err ?? {}) as SdkError;
  const status = e.response?.statusCode;
  const words = said ?? hubMessage(e.responseBody);
  if (status === 401 || status === 403 || status === 404 || e.name === 'UnauthorizedError') {
    const code = status ?? 401;
    return {
      outcome: 'refused',
      hub,
      status: code,
      reason: `the hub refused the device (${code})${words ? `: ${words}` : ''}`,
      ...(e.name ? { errorName: e.name } : {}),
    };
  }
  if (!status && /routines::/.test(e.message ?? '')) {
    return { hub, outcome: 'error', reason: `the device's certificate or key cannot be used: ${e.message}` };
  }
  const what = status ? `the hub answered ${status}` : (e.message ?? String(err));
  return { outcome: 'error', hub, ...(status ? { status } : {}), reason: `no answer from the hub: ${what}` };
}

type Builder = { buildRequest: (...args: unknown[]) => ClientRequest };

interface Exchange {
  builder: Builder;
  inFlight: Set<ClientRequest>;
  /** The last response: status and body (the device client keeps the body from the caller on a 204). */
  last?: { status: number; body: string };
  /** Told each response's status once its body has been read. */
  onResponse?: (status: number) => void;
}

function exchange(endpoint: EmulatorEndpoint | undefined): Exchange {
  const builder = (endpoint ? new EmulatorDpsHttp(endpoint) : new PlainHttp()) as unknown as Builder;
  const ex: Exchange = { builder, inFlight: new Set() };
  const build = builder.buildRequest.bind(builder);
  builder.buildRequest = (...args: unknown[]) => {
    const request = build(...args);
    ex.inFlight.add(request);
    request.once('close', () => ex.inFlight.delete(request));
    request.once('response', (res: IncomingMessage) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString('utf8');
      });
      res.on('end', () => {
        ex.last = { status: res.statusCode ?? 0, body };
        ex.onResponse?.(ex.last.status);
      });
    });
    return request;
  };
  return ex;
}

function authenticationProvider(options: HubDeviceOptions): unknown {
  if (options.sharedAccessSignature) {
    return SharedAccessSignatureAuthenticationProvider.fromSharedAccessSignature(
      options.sharedAccessSignature,
    );
  }
  if (options.symmetricKey) {
    return SharedAccessKeyAuthenticationProvider.fromConnectionString(
      `HostName=${options.hubHost};DeviceId=${options.deviceId};SharedAccessKey=${options.symmetricKey}`,
    );
  }
  if (options.certPem && options.keyPem) {
    return X509AuthenticationProvider.fromX509Options(options.deviceId, options.hubHost, {
      cert: options.certPem,
      key: options.keyPem,
    });
  }
  throw new Error('hub device: give symmetricKey, or certPem and keyPem');
}

function withDeadline<T>(work: Promise<T>, timeoutMs: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), timeoutMs);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** A device client that stays open across sends: the same client, the same credentials, as a device keeps them. */
export interface HubDevice {
  /** Sends one telemetry message; the hub's answer as a value. */
  send(payload?: string): Promise<SendOutcome>;
  /**
   * Polls once for cloud-to-device messages (GET .../messages/deviceBound): "sent" means the hub
   * answered the poll (204: nothing queued, or a message).
   */
  poll(): Promise<SendOutcome>;
  close(): Promise<void>;
}

export function openHubDevice(options: HubDeviceOptions): HubDevice {
  const ex = exchange(options.endpoint);
  const transport = new DeviceHttpTransport(authenticationProvider(options), ex.builder);
  const client = new Client(transport);
  // One answer, not minutes of retries: a 401 is not retried anyway, a 503 would be.
  client.setRetryPolicy(new NoRetry());
  const hub = options.hubHost;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timedOut = (): SendOutcome => {
    for (const request of ex.inFlight) request.destroy();
    return { outcome: 'error', hub, reason: `no answer from the hub within ${timeoutMs / 1000} s` };
  };
  return {
    send(payload = '{"probe":true}') {
      const sent = (client.sendEvent(new Message(payload)) as Promise<unknown>).then(
        (): SendOutcome => ({ outcome: 'sent', hub }),
        (err: unknown) => sendOutcomeOfError(hub, err, hubMessage(ex.last?.body)),
      );
      return withDeadline(sent, timeoutMs, timedOut);
    },
    poll() {
      const polled = new Promise<SendOutcome>((resolve) => {
        const done = (outcome: SendOutcome) => {
          transport.removeListener('error', onError);
          transport.removeListener('message', onMessage);
          ex.onResponse = undefined;
          resolve(outcome);
        };
        const onError = (err: unknown) => done(sendOutcomeOfError(hub, err, hubMessage(ex.last?.body)));
        const onMessage = () => done({ outcome: 'sent', hub });
        transport.on('error', onError);
        transport.on('message', onMessage);
        // The transport says nothing on a 204: the response itself does.
        ex.onResponse = (status) => {
          if (status === 204) done({ outcome: 'sent', hub });
        };
        transport.receive();
      });
      return withDeadline(polled, timeoutMs, timedOut);
    },
    async close() {
      await (client.close() as Promise<unknown>).catch(() => {});
    },
  };
}

/** Sends one telemetry message with a fresh client; the hub's answer as a value. */
export async function sendTelemetry(options: HubDeviceOptions, payload?: string): Promise<SendOutcome> {
  const device = openHubDevice(options);
  try {
    return await device.send(payload);
  } finally {
    await device.close();
  }
}
