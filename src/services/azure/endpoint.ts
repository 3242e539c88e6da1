/**
 * The seam that sends the real SDKs' own requests to a local emulator.
 *
 * Both ProvisioningServiceClient and Registry accept a RestApiClient whose request builder (`Http`)
 * can be replaced. Our builder keeps every SDK behaviour (paths, auth, JSON, error mapping) and only
 * changes where the socket connects: the real host name stays in the Host header (with the emulator's
 * port), DNS is answered with the emulator's address, and the Registry's keep-alive https agent is
 * dropped when the emulator speaks plain HTTP.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
// CommonJS packages: Node's ESM loader only promises their default export (module.exports).
import httpBase from 'azure-iot-http-base';
import { printable } from '../../core/text.js';
import hubHttp from 'azure-iothub/dist/common-http/http.js';

const DpsHttp = httpBase.Http;
const HubHttp = hubHttp.Http;

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
    throw new Error(`--endpoint: "${printable(value)}" is not a URL; expected for example http://127.0.0.1:8443`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`--endpoint: "${printable(value)}" must start with http:// or https://`);
  }
  if (!url.port) throw new Error(`--endpoint: "${printable(value)}" needs an explicit port`);
  return { url, ca };
}

type RequestFn = (options: http.RequestOptions, cb: (res: http.IncomingMessage) => void) => http.ClientRequest;

/** A request function that connects to the emulator while keeping the service host name. */
export function emulatorRequest(endpoint: EmulatorEndpoint): RequestFn {
  const secure = endpoint.url.protocol === 'https:';
  const address = endpoint.url.hostname.replace(/^\[|\]$/g, '');
  const family = address.includes(':') ? 6 : 4;
  const port = Number(endpoint.url.port);
  const lookup = ((_host: string, opts: any, cb: any) => {
    const callback = typeof opts === 'function' ? opts : cb;
    if (opts && typeof opts === 'object' && opts.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as LookupFunction;
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
    delete (merged as any).agent;
    return http.request(merged, cb);
  };
}

/** Request builder for azure-iot-provisioning-service's RestApiClient. */
export class EmulatorDpsHttp extends DpsHttp {
  constructor(private readonly endpoint: EmulatorEndpoint) {
    super();
  }
  override buildRequest(method: any, path: any, headers: any, host: any, options: any, done?: any): any {
    if (!done && typeof options === 'function') {
      done = options;
      options = undefined;
    }
    const request = emulatorRequest(this.endpoint);
    // x509 options (device side) travel in the request options; the service side never passes them.
    const wrapped: RequestFn =
      options && typeof options === 'object' && (options.cert || options.key)
        ? (o, cb) => request({ ...o, cert: options.cert, key: options.key, passphrase: options.passphrase } as any, cb)
        : request;
    return super.buildRequest(method, path, headers, host, { request: wrapped } as any, done);
  }
}

/** Request builder for azure-iothub's vendored RestApiClient. */
export class EmulatorHubHttp extends HubHttp {
  constructor(private readonly endpoint: EmulatorEndpoint) {
    super();
  }
  override buildRequest(method: any, path: any, headers: any, host: any, options: any, done?: any): any {
    if (!done && typeof options === 'function') {
      done = options;
      options = undefined;
    }
    return super.buildRequest(method, path, headers, host, { request: emulatorRequest(this.endpoint) } as any, done);
  }
}
