/**
 * The seam that sends the real SDKs' own requests to a local emulator.
 *
 * Both ProvisioningServiceClient and Registry accept a RestApiClient whose request builder (`Http`)
 * can be replaced. Our builder keeps every SDK behaviour (paths, auth, JSON, error mapping) and only
 * changes where the socket connects: the real host name stays in the Host header (with the emulator's
 * port), DNS is answered with the emulator's address, and the Registry's keep-alive https agent is
 * dropped when the emulator speaks plain HTTP.
 */
import http, { type ClientRequest } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { urlToHttpOptions } from 'node:url';
// CommonJS packages: Node's ESM loader only promises their default export (module.exports).
import httpBase from 'azure-iot-http-base';
import { printable } from '../../core/text.js';
import hubHttp from 'azure-iothub/dist/common-http/http.js';

const DpsHttp = httpBase.Http;
const HubHttp = hubHttp.Http;

/** The SDK request builder's own parameter types (both SDKs vendor the same `Http`). */
type BuildRequest = InstanceType<typeof DpsHttp>['buildRequest'];
type BuildOptions = Parameters<BuildRequest>[4];
type HttpCallback = Exclude<Parameters<BuildRequest>[5], undefined>;
type X509Options = { cert?: string | Buffer; key?: string | Buffer; passphrase?: string };

/** `buildRequest(..., options, done)` also takes the callback in place of the options. */
function splitOptions(
  options: BuildOptions,
  done: HttpCallback | undefined,
): { options: Exclude<BuildOptions, HttpCallback> | undefined; done: HttpCallback | undefined } {
  if (typeof options === 'function') return { options: undefined, done: done ?? options };
  return { options, done };
}

const x509Of = (options: BuildOptions | undefined): X509Options | undefined =>
  options && typeof options === 'object' && ('cert' in options || 'key' in options)
    ? (options as X509Options)
    : undefined;

export interface EmulatorEndpoint {
  /** http://127.0.0.1:PORT or https://127.0.0.1:PORT */
  url: URL;
  /** CA certificate (PEM) to trust when the emulator speaks HTTPS with a self-signed certificate. */
  ca?: string;
}

export function parseEndpoint(value: string, ca?: string): EmulatorEndpoint {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(
      `--endpoint: "${printable(value)}" is not a URL; expected for example http://127.0.0.1:8443`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`--endpoint: "${printable(value)}" must start with http:// or https://`);
  }
  if (!url.port) throw new Error(`--endpoint: "${printable(value)}" needs an explicit port`);
  return { url, ca };
}

type RequestFn = (
  options: https.RequestOptions,
  cb: (res: http.IncomingMessage) => void,
) => http.ClientRequest;

/** The SDK declares its `request` option as taking options or a URL string; it only ever passes options. */
type SdkRequest = NonNullable<Extract<BuildOptions, { request?: unknown }>['request']>;
const asSdkRequest =
  (fn: RequestFn): SdkRequest =>
  (options, cb) =>
    fn(typeof options === 'string' ? urlToHttpOptions(new URL(options)) : options, cb ?? (() => {}));

/** A request function that connects to the emulator while keeping the service host name. */
export function emulatorRequest(endpoint: EmulatorEndpoint): RequestFn {
  const secure = endpoint.url.protocol === 'https:';
  const address = endpoint.url.hostname.replace(/^\[|\]$/g, '');
  const family = address.includes(':') ? 6 : 4;
  const port = Number(endpoint.url.port);
  const lookup: LookupFunction = (_host, opts, callback) => {
    if (opts?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
  return (options, cb) => {
    const host = String(options.host ?? options.hostname ?? '');
    const merged: https.RequestOptions = {
      ...options,
      host,
      port,
      lookup,
      headers: { ...(options.headers ?? {}), Host: `${host}:${port}` },
    };
    if (secure) {
      if (endpoint.ca) merged.ca = endpoint.ca;
      merged.servername = host;
      return https.request(merged, cb);
    }
    merged.agent = undefined;
    return http.request(merged, cb);
  };
}

/** Request builder for azure-iot-provisioning-service's RestApiClient. */
export class EmulatorDpsHttp extends DpsHttp {
  constructor(private readonly endpoint: EmulatorEndpoint) {
    super();
  }
  override buildRequest(
    method: Parameters<BuildRequest>[0],
    path: string,
    headers: Parameters<BuildRequest>[2],
    host: Parameters<BuildRequest>[3],
    rawOptions: BuildOptions,
    rawDone?: HttpCallback,
  ): ClientRequest {
    const { options, done } = splitOptions(rawOptions, rawDone);
    const request = emulatorRequest(this.endpoint);
    // x509 options (device side) travel in the request options; the service side never passes them.
    const x509 = x509Of(options);
    const wrapped: RequestFn = x509
      ? (o, cb) => request({ ...o, cert: x509.cert, key: x509.key, passphrase: x509.passphrase }, cb)
      : request;
    return super.buildRequest(method, path, headers, host, { request: asSdkRequest(wrapped) }, done);
  }
}

/** Request builder for azure-iothub's vendored RestApiClient. */
export class EmulatorHubHttp extends HubHttp {
  constructor(private readonly endpoint: EmulatorEndpoint) {
    super();
  }
  override buildRequest(
    method: Parameters<BuildRequest>[0],
    path: string,
    headers: Parameters<BuildRequest>[2],
    host: Parameters<BuildRequest>[3],
    rawOptions: BuildOptions,
    rawDone?: HttpCallback,
  ): ClientRequest {
    const { done } = splitOptions(rawOptions, rawDone);
    return super.buildRequest(
      method,
      path,
      headers,
      host,
      { request: asSdkRequest(emulatorRequest(this.endpoint)) },
      done,
    );
  }
}
