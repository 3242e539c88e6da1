/**
 * Builds the real SDK clients, for Azure or (with an endpoint) for the local emulator.
 * The same code path serves both: only the request builder differs.
 */
import type { TokenCredential } from '@azure/core-auth';
import provisioningService from 'azure-iot-provisioning-service';
import iothub from 'azure-iothub';
import { RestApiClient as HubRestApiClient } from 'azure-iothub/dist/common-http/rest_api_client.js';
import { RestApiClient as DpsRestApiClient } from 'azure-iot-http-base';
import { ConnectionString, SharedAccessSignature } from 'azure-iot-common';
import { type EmulatorEndpoint, EmulatorDpsHttp, EmulatorHubHttp } from './endpoint.js';

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

export function createProvisioningClient(auth: ServiceAuth, endpoint?: EmulatorEndpoint): ProvisioningServiceClient {
  const config = restConfig(auth, DPS_TOKEN_SCOPE);
  const rest = endpoint ? new DpsRestApiClient(config, USER_AGENT, new EmulatorDpsHttp(endpoint)) : undefined;
  return new provisioningService.ProvisioningServiceClient(config, rest as any);
}

export function createRegistry(auth: ServiceAuth, endpoint?: EmulatorEndpoint): Registry {
  const config = restConfig(auth, HUB_TOKEN_SCOPE);
  const rest = endpoint ? new HubRestApiClient(config, USER_AGENT, new EmulatorHubHttp(endpoint)) : undefined;
  return new iothub.Registry(config, rest as any);
}
