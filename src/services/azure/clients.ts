/**
 * Builds the real SDK clients, for Azure or (with an endpoint) for the local emulator.
 * The same code path serves both: only the request builder differs.
 */
import type { ClientRequest } from 'node:http';
import type { TokenCredential } from '@azure/core-auth';
import provisioningService from 'azure-iot-provisioning-service';
import iothub from 'azure-iothub';
// CommonJS packages: Node's ESM loader only promises their default export (module.exports).
import hubRest from 'azure-iothub/dist/common-http/rest_api_client.js';
import httpBase from 'azure-iot-http-base';
import hubHttp from 'azure-iothub/dist/common-http/http.js';
import iotCommon from 'azure-iot-common';
import hubSas from 'azure-iothub/dist/common-core/shared_access_signature.js';
import { type EmulatorEndpoint, EmulatorDpsHttp, EmulatorHubHttp } from './endpoint.js';

const { RestApiClient: HubRestApiClient } = hubRest;
const { Http: DpsHttp, RestApiClient: DpsRestApiClient } = httpBase;
const { Http: HubHttp } = hubHttp;
const { ConnectionString, SharedAccessSignature: DpsSas } = iotCommon;
const { SharedAccessSignature: HubSas } = hubSas;

export type ProvisioningServiceClient = InstanceType<typeof provisioningService.ProvisioningServiceClient>;
export type Registry = InstanceType<typeof iothub.Registry>;

export const DPS_TOKEN_SCOPE = 'https://azure-devices-provisioning.net/.default';
export const HUB_TOKEN_SCOPE = 'https://iothubs.azure.net/.default';

/** How to reach one service: a connection string (SAS) or a host with an Entra ID credential. */
export type ServiceAuth =
  | { kind: 'connectionString'; host: string; connectionString: string }
  | { kind: 'tokenCredential'; host: string; credential: TokenCredential };

/** A SAS builder: each SDK takes the `SharedAccessSignature` class it ships (they differ in private fields). */
type SasFactory<S> = (host: string, keyName: string, key: string, expiry: number) => S;

/** What an SDK's REST client takes: a host with a SAS, or a host with an Entra ID credential. */
interface TransportConfig<S> {
  host: string;
  sharedAccessSignature?: S;
  tokenCredential?: TokenCredential;
  tokenScope?: string;
}

function restConfig<S>(auth: ServiceAuth, tokenScope: string, sas: SasFactory<S>): TransportConfig<S> {
  if (auth.kind === 'connectionString') {
    const cn = ConnectionString.parse(auth.connectionString, [
      'HostName',
      'SharedAccessKeyName',
      'SharedAccessKey',
    ]);
    const field = (name: 'HostName' | 'SharedAccessKeyName' | 'SharedAccessKey'): string =>
      String(cn[name] ?? '');
    return {
      host: field('HostName'),
      sharedAccessSignature: sas(
        field('HostName'),
        field('SharedAccessKeyName'),
        field('SharedAccessKey'),
        Date.now(),
      ),
    };
  }
  return { host: auth.host, tokenCredential: auth.credential, tokenScope };
}

const USER_AGENT = 'iot-deprovision/0.1.0';

/**
 * Options for building a client. `onRequest` sees every HTTP request the SDK builds, so a caller can
 * abort a request the SDK would otherwise wait on forever (the SDKs have no timeouts).
 */
export interface ClientOptions {
  onRequest?: (request: ClientRequest) => void;
}

/** The request builder both SDKs use (each vendors the same `Http` class). */
type RequestBuilder = InstanceType<typeof DpsHttp> | InstanceType<typeof HubHttp>;

/** The builder, with `onRequest` called on every request it builds. */
export function observed<T extends RequestBuilder>(
  builder: T,
  onRequest?: (request: ClientRequest) => void,
): T {
  if (!onRequest) return builder;
  // The two SDKs' `Http` classes declare the same method with their own X509 types: forward the arguments
  // untouched whatever they are.
  const build = builder.buildRequest.bind(builder) as (...args: unknown[]) => ClientRequest;
  builder.buildRequest = ((...args: unknown[]) => {
    const request = build(...args);
    onRequest(request);
    return request;
  }) as T['buildRequest'];
  return builder;
}

export function createProvisioningClient(
  auth: ServiceAuth,
  endpoint?: EmulatorEndpoint,
  options: ClientOptions = {},
): ProvisioningServiceClient {
  const config = restConfig(auth, DPS_TOKEN_SCOPE, DpsSas.create);
  const builder = endpoint ? new EmulatorDpsHttp(endpoint) : options.onRequest ? new DpsHttp() : undefined;
  const http = builder && observed(builder, options.onRequest);
  const rest = http ? new DpsRestApiClient(config, USER_AGENT, http) : undefined;
  return new provisioningService.ProvisioningServiceClient(config, rest);
}

export function createRegistry(
  auth: ServiceAuth,
  endpoint?: EmulatorEndpoint,
  options: ClientOptions = {},
): Registry {
  const config = restConfig(auth, HUB_TOKEN_SCOPE, HubSas.create);
  const builder = endpoint ? new EmulatorHubHttp(endpoint) : options.onRequest ? new HubHttp() : undefined;
  const http = builder && observed(builder, options.onRequest);
  const rest = http ? new HubRestApiClient(config, USER_AGENT, http) : undefined;
  return new iothub.Registry(config, rest);
}
