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
import { type EmulatorEndpoint, EmulatorDpsHttp, EmulatorHubHttp } from './endpoint.js';

const { RestApiClient: HubRestApiClient } = hubRest;
const { Http: DpsHttp, RestApiClient: DpsRestApiClient } = httpBase;
const { Http: HubHttp } = hubHttp;
const { ConnectionString, SharedAccessSignature } = iotCommon;

export type ProvisioningServiceClient = InstanceType<typeof provisioningService.ProvisioningServiceClient>;
export type Registry = InstanceType<typeof iothub.Registry>;

export const DPS_TOKEN_SCOPE = 'https://azure-devices-provisioning.net/.default';
export const HUB_TOKEN_SCOPE = 'https://iothubs.azure.net/.default';

/** How to reach one service: a connection string (SAS) or a host with an Entra ID credential. */
export type ServiceAuth =
  | { kind: 'connectionString'; host: string; connectionString: string }
  | { kind: 'tokenCredential'; host: string; credential: TokenCredential };

function restConfig(auth: ServiceAuth, tokenScope: string): any {
  if (auth.kind === 'connectionString') {
    const cn = ConnectionString.parse(auth.connectionString, ['HostName', 'SharedAccessKeyName', 'SharedAccessKey']);
    return {
      host: cn.HostName,
      sharedAccessSignature: SharedAccessSignature.create(
        cn.HostName as string,
        cn.SharedAccessKeyName as string,
        cn.SharedAccessKey as string,
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

type RequestBuilder = { buildRequest: (...args: any[]) => ClientRequest };

function observed<T extends RequestBuilder>(builder: T, onRequest?: (request: ClientRequest) => void): T {
  if (!onRequest) return builder;
  const build = builder.buildRequest.bind(builder);
  builder.buildRequest = (...args: any[]) => {
    const request = build(...args);
    onRequest(request);
    return request;
  };
  return builder;
}

export function createProvisioningClient(
  auth: ServiceAuth,
  endpoint?: EmulatorEndpoint,
  options: ClientOptions = {},
): ProvisioningServiceClient {
  const config = restConfig(auth, DPS_TOKEN_SCOPE);
  const builder = endpoint ? new EmulatorDpsHttp(endpoint) : options.onRequest ? new DpsHttp() : undefined;
  const http = builder && observed(builder as unknown as RequestBuilder, options.onRequest);
  const rest = http ? new DpsRestApiClient(config, USER_AGENT, http as any) : undefined;
  return new provisioningService.ProvisioningServiceClient(config, rest as any);
}

export function createRegistry(
  auth: ServiceAuth,
  endpoint?: EmulatorEndpoint,
  options: ClientOptions = {},
): Registry {
  const config = restConfig(auth, HUB_TOKEN_SCOPE);
  const builder = endpoint ? new EmulatorHubHttp(endpoint) : options.onRequest ? new HubHttp() : undefined;
  const http = builder && observed(builder as unknown as RequestBuilder, options.onRequest);
  const rest = http ? new HubRestApiClient(config, USER_AGENT, http as any) : undefined;
  return new iothub.Registry(config, rest as any);
}
