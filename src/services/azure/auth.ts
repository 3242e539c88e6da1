/**
 * What a --dps / --hub value means: a service connection string (HostName=...;SharedAccessKeyName=...;
 * SharedAccessKey=...) or a bare host name, which means Entra ID. Messages about a malformed value never
 * repeat it: it may hold a key.
 */
import type { TokenCredential } from '@azure/core-auth';
import type { ServiceAuth } from './clients.js';
import { registerSecret } from '../secrets.js';
import { UserError } from '../../core/errors.js';

export type ServiceKind = 'dps' | 'hub';

const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DPS_SUFFIX = /\.azure-devices-provisioning\.(net|cn|us|de)$/i;
const HUB_SUFFIX = /\.azure-devices\.(net|cn|us|de)$/i;

const POLICY_EXAMPLE: Record<ServiceKind, string> = { dps: 'provisioningserviceowner', hub: 'iothubowner' };
const HOST_EXAMPLE: Record<ServiceKind, string> = {
  dps: 'my-dps.azure-devices-provisioning.net',
  hub: 'my-hub.azure-devices.net',
};

export const looksLikeConnectionString = (value: string): boolean => /[=;]/.test(value);

function checkServiceKind(host: string, service: ServiceKind, source: string): void {
  if (service === 'hub' && DPS_SUFFIX.test(host)) {
    throw new UserError(`${source}: ${host} is a Device Provisioning Service host; pass it with --dps`);
  }
  if (service === 'dps' && HUB_SUFFIX.test(host)) {
    throw new UserError(`${source}: ${host} is an IoT hub host; pass it with --hub`);
  }
}

export interface ParsedConnectionString {
  host: string;
  keyName: string;
  /** Rebuilt in canonical form (part names as the SDKs expect them, host in lower case). */
  connectionString: string;
}

/** Validates a service connection string; `source` names where it came from ("--hub", an env var...). */
export function parseConnectionString(
  value: string,
  service: ServiceKind,
  source: string,
): ParsedConnectionString {
  const parts = new Map<string, string>();
  for (const part of value.trim().split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UserError(`${source}: the connection string has a part without "name=value"`);
    parts.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const policy = POLICY_EXAMPLE[service];
  if (parts.has('deviceid')) {
    throw new UserError(
      `${source}: this is a device connection string (it has DeviceId); ` +
        `use the service's connection string ` +
        `of a shared access policy such as ${policy}`,
    );
  }
  const host = parts.get('hostname')?.toLowerCase();
  if (!host) throw new UserError(`${source}: the connection string has no HostName part`);
  if (!HOST_NAME.test(host))
    throw new UserError(`${source}: the connection string's HostName is not a host name`);
  checkServiceKind(host, service, source);
  const keyName = parts.get('sharedaccesskeyname');
  if (!keyName) {
    throw new UserError(
      `${source}: the connection string has no SharedAccessKeyName part (a policy name such as ${policy})`,
    );
  }
  if (parts.has('sharedaccesssignature') && !parts.has('sharedaccesskey')) {
    throw new UserError(
      `${source}: the connection string carries a SharedAccessSignature; give one with a SharedAccessKey`,
    );
  }
  const key = parts.get('sharedaccesskey');
  registerSecret(key);
  if (!key) throw new UserError(`${source}: the connection string has no SharedAccessKey part`);
  if (!BASE64.test(key)) {
    throw new UserError(
      `${source}: the connection string's SharedAccessKey is not base64 (was it copied whole?)`,
    );
  }
  return {
    host,
    keyName,
    connectionString: `HostName=${host};SharedAccessKeyName=${keyName};SharedAccessKey=${key}`,
  };
}

/** A bare host name, lower case; the value is echoed only once it is known to be a host name. */
export function parseHostName(value: string, service: ServiceKind, source: string): string {
  const host = value.trim().toLowerCase();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host)) {
    throw new UserError(`${source}: expected a host name such as ${HOST_EXAMPLE[service]}, not a URL`);
  }
  if (!HOST_NAME.test(host)) {
    throw new UserError(
      `${source}: expected a connection string (HostName=...;SharedAccessKeyName=...;SharedAccessKey=...) ` +
        `or a host name such as ${HOST_EXAMPLE[service]}`,
    );
  }
  checkServiceKind(host, service, source);
  return host;
}

export interface AuthDescription {
  /** 'connection string' or 'Entra ID (...)': never the secret. */
  auth: string;
  keyName?: string;
}

/**
 * Parses one --dps / --hub value. A value containing "=" or ";" is treated as a connection string
 * (and must be a valid one), anything else as a host name for Entra ID.
 */
export function parseServiceValue(
  value: string,
  service: ServiceKind,
  source: string,
  credential: () => TokenCredential,
): { auth: ServiceAuth; description: AuthDescription } {
  if (value.trim() === '') throw new UserError(`${source}: the value is empty`);
  if (looksLikeConnectionString(value)) {
    const parsed = parseConnectionString(value, service, source);
    return {
      auth: { kind: 'connectionString', host: parsed.host, connectionString: parsed.connectionString },
      description: { auth: 'connection string', keyName: parsed.keyName },
    };
  }
  const host = parseHostName(value, service, source);
  return {
    auth: { kind: 'tokenCredential', host, credential: credential() },
    description: { auth: ENTRA_DEFAULT },
  };
}

export const ENTRA_DEFAULT = 'Entra ID (DefaultAzureCredential)';

/**
 * DefaultAzureCredential (az login, managed identity, environment), created on first use: loading
 * @azure/identity costs start-up time that connection-string users should not pay.
 */
export function lazyDefaultCredential(): TokenCredential {
  let real: Promise<TokenCredential> | undefined;
  return {
    async getToken(scopes, options) {
      real ??= import('@azure/identity').then((m) => new m.DefaultAzureCredential());
      return (await real).getToken(scopes, options);
    },
  };
}
