/**
 * Where the tool works and how it signs in: flags win over the environment, the environment over the
 * config file. Hubs are merged by host across those sources (the higher source wins for a host).
 */
import type { TokenCredential } from '@azure/core-auth';
import type { HubDirectory } from '../../core/ports.js';
import type { TargetInfo } from '../backend.js';
import { type AuthDescription, ENTRA_DEFAULT, lazyDefaultCredential, parseServiceValue } from './auth.js';
import { createProvisioningClient, createRegistry, type ServiceAuth } from './clients.js';
import { defaultConfigPath, type FileConfig, loadConfigFile } from './config.js';
import { observeRequest } from './deadline.js';
import { AzureDpsAdapter } from './dps-adapter.js';
import { type EmulatorEndpoint, parseEndpoint } from './endpoint.js';
import { AzureHubAdapter } from './hub-adapter.js';
import { UserError } from '../../core/errors.js';

export const ENV = {
  dps: 'IOT_DPS_CONNECTION_STRING',
  hub: 'IOTHUB_CONNECTION_STRING',
  endpoint: 'IOT_DEPROVISION_ENDPOINT',
} as const;

export interface TargetInputs {
  /** --dps */
  dps?: string;
  /** --hub, repeatable */
  hubs?: string[];
  /** --endpoint */
  endpoint?: string;
  /** CA certificate (PEM) of an HTTPS emulator endpoint. */
  endpointCa?: string;
  /** Defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Config file to read; default $XDG_CONFIG_HOME/iot-deprovision/config.json; false: none. */
  configPath?: string | false;
  /** Used for host names instead of DefaultAzureCredential (tests, embedding). */
  credential?: TokenCredential;
  /** 'sandbox' when the endpoint is the embedded emulator. */
  kind?: 'sandbox' | 'azure';
  /**
   * The target a run's journal records (resume, restore): its DPS host when no DPS is configured, and
   * its hubs, after every configured source, signed in with Entra ID. Host names only, never secrets.
   */
  recorded?: { dpsHost: string; hubHosts: string[] };
}

export interface TargetDescription extends TargetInfo {
  dpsSource: string;
  hubs: { host: string; auth: string; hasCredentials: boolean; source: string }[];
}

export interface ResolvedTarget {
  kind: 'sandbox' | 'azure';
  dps: ServiceAuth;
  /** By host name, lower case. */
  hubs: Map<string, ServiceAuth>;
  endpoint?: EmulatorEndpoint;
  /** For display and journals: hosts, auth kinds and where each came from, never a secret. */
  describe(): TargetDescription;
}

interface Resolved {
  auth: ServiceAuth;
  description: AuthDescription;
  source: string;
}

export const NO_DPS_MESSAGE = `no DPS configured: pass --dps or set ${ENV.dps} (or run with --sandbox)`;

export function resolveTarget(inputs: TargetInputs = {}): ResolvedTarget {
  const env = inputs.env ?? process.env;
  const configPath = inputs.configPath === false ? undefined : (inputs.configPath ?? defaultConfigPath(env));
  const file: FileConfig | undefined = configPath ? loadConfigFile(configPath) : undefined;
  const fileLabel = `config file ${configPath}`;

  const endpoint = endpointOf(inputs, env, file, fileLabel);

  let shared: TokenCredential | undefined;
  const credential = (source: string) => () => {
    // A sign-in token for Azure must not travel to whatever --endpoint points at.
    if (endpoint && !inputs.credential) {
      throw new UserError(
        `${source}: a host name means Entra ID sign-in, whose tokens are not sent to --endpoint; ` +
          'use a connection string',
      );
    }
    shared ??= inputs.credential ?? lazyDefaultCredential();
    return shared;
  };
  const parse = (value: string, service: 'dps' | 'hub', source: string): Resolved => ({
    ...parseServiceValue(value, service, source, credential(source)),
    source,
  });

  const dpsPick = [
    [inputs.dps, '--dps'],
    [env[ENV.dps], ENV.dps],
    [file?.dps, `${fileLabel}: dps`],
    [inputs.recorded?.dpsHost, "the run's journal"],
  ].find(([value]) => value !== undefined && value.trim() !== '');
  if (!dpsPick) throw new UserError(NO_DPS_MESSAGE, { code: 'noTarget' });
  const dps = parse(dpsPick[0] as string, 'dps', dpsPick[1] as string);
  const hubs = hubsOf(inputs, env, file, fileLabel, endpoint, (value, source) => parse(value, 'hub', source));

  const kind = inputs.kind ?? 'azure';
  return {
    kind,
    dps: dps.auth,
    hubs: new Map([...hubs].map(([host, r]) => [host, r.auth])),
    endpoint,
    describe: () => ({
      kind,
      dpsHost: dps.auth.host,
      dpsAuth: authLabel(dps, inputs.credential),
      dpsSource: dps.source,
      hubs: [...hubs].map(([host, r]) => ({
        host,
        auth: authLabel(r, inputs.credential),
        hasCredentials: true,
        source: r.source,
      })),
      endpoint: endpoint?.url.origin,
    }),
  };
}

/** The --endpoint (or its variable, or the config file's), with where it came from. */
function endpointOf(
  inputs: TargetInputs,
  env: NodeJS.ProcessEnv,
  file: FileConfig | undefined,
  fileLabel: string,
): ReturnType<typeof toEndpoint> | undefined {
  const endpointSource = inputs.endpoint
    ? '--endpoint'
    : env[ENV.endpoint]
      ? ENV.endpoint
      : file?.endpoint
        ? `${fileLabel}: endpoint`
        : undefined;
  const endpointValue = inputs.endpoint || env[ENV.endpoint] || file?.endpoint;
  return endpointValue ? toEndpoint(endpointValue, inputs.endpointCa, endpointSource as string) : undefined;
}

/**
 * The hubs by host, from every source in order (flags, the variable, the config file, the run's
 * journal): the first source to name a hub gives its credentials; one source naming it twice is refused.
 */
function hubsOf(
  inputs: TargetInputs,
  env: NodeJS.ProcessEnv,
  file: FileConfig | undefined,
  fileLabel: string,
  endpoint: ReturnType<typeof toEndpoint> | undefined,
  parse: (value: string, source: string) => Resolved,
): Map<string, Resolved> {
  const hubs = new Map<string, Resolved>();
  const hubSources: [string[], string][] = [
    [(inputs.hubs ?? []).filter((h) => h.trim() !== ''), '--hub'],
    [env[ENV.hub]?.trim() ? [env[ENV.hub] as string] : [], ENV.hub],
    [file?.hubs ?? [], `${fileLabel}: hubs`],
    // Entra ID tokens never go to an --endpoint: there, a recorded hub needs its connection string.
    [endpoint && !inputs.credential ? [] : (inputs.recorded?.hubHosts ?? []), "the run's journal"],
  ];
  for (const [values, source] of hubSources) {
    const seen = new Set<string>();
    for (const value of values) {
      const hub = parse(value, source);
      const host = hub.auth.host; // lower case since parsing: host names are normalized once, there
      if (seen.has(host)) throw new UserError(`${source}: hub ${host} is given twice`);
      seen.add(host);
      if (!hubs.has(host)) hubs.set(host, hub);
    }
  }
  return hubs;
}

function authLabel(r: Resolved, injected: TokenCredential | undefined): string {
  if (r.auth.kind === 'connectionString') return 'connection string';
  return injected ? 'Entra ID (provided credential)' : ENTRA_DEFAULT;
}

function toEndpoint(value: string, ca: string | undefined, source: string): EmulatorEndpoint {
  try {
    return parseEndpoint(value, ca);
  } catch (err) {
    throw new UserError((err as Error).message.replace(/^--endpoint/, source));
  }
}

export interface PortOptions {
  /** Deadline per SDK call in ms (default 30 s). */
  timeoutMs?: number;
  /** DPS query page size (default 100). */
  pageSize?: number;
  /** Hub query page size (default 1000). */
  hubPageSize?: number;
  /** Identity reads in flight while preparing a hub status change (default 8). */
  hubReadConcurrency?: number;
}

export interface Ports {
  dps: AzureDpsAdapter;
  hubs: HubDirectory;
}

/** The adapters for a resolved target, every SDK call under a deadline. */
export function buildPorts(
  target: Pick<ResolvedTarget, 'dps' | 'hubs' | 'endpoint'>,
  options: PortOptions = {},
): Ports {
  const clientOptions = { onRequest: observeRequest };
  const dps = new AzureDpsAdapter(
    createProvisioningClient(target.dps, target.endpoint, clientOptions),
    target.dps.host,
    {
      timeoutMs: options.timeoutMs,
      pageSize: options.pageSize,
      access: target.dps.kind === 'tokenCredential' ? 'entra' : 'sas',
    },
  );
  const makeHub = (host: string, auth: ServiceAuth) =>
    new AzureHubAdapter(createRegistry(auth, target.endpoint, clientOptions), host, {
      timeoutMs: options.timeoutMs,
      pageSize: options.hubPageSize,
      readConcurrency: options.hubReadConcurrency,
      access: auth.kind === 'tokenCredential' ? 'entra' : 'sas',
    });
  const hubs = new Map<string, AzureHubAdapter>();
  for (const [host, auth] of target.hubs) hubs.set(host, makeHub(host, auth));
  // A DPS signed in with Entra ID: the hubs its records name are signed in with the same credential
  // when first asked for (a --hub for a host still wins: it is in the map already).
  const dpsAuth = target.dps;
  const signIn = (host: string): AzureHubAdapter | undefined => {
    if (dpsAuth.kind !== 'tokenCredential' || !HUB_HOST.test(host)) return undefined;
    const adapter = makeHub(host, { kind: 'tokenCredential', host, credential: dpsAuth.credential });
    hubs.set(host, adapter);
    return adapter;
  };
  return {
    dps,
    hubs: {
      get: (hubHost) => hubs.get(hubHost.toLowerCase()) ?? signIn(hubHost.toLowerCase()),
      hosts: () => [...hubs.keys()],
    },
  };
}

const HUB_HOST =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** Assigned hubs (from registration records) the tool holds no credentials for, lower case, sorted. */
export function hubsWithoutCredentials(
  assignedHubs: Iterable<string | undefined>,
  target: Pick<ResolvedTarget, 'hubs'> | HubDirectory,
): string[] {
  const known = new Set(
    ('hosts' in target ? target.hosts() : [...target.hubs.keys()]).map((h) => h.toLowerCase()),
  );
  const missing = new Set<string>();
  for (const hub of assignedHubs) {
    if (hub && !known.has(hub.toLowerCase())) missing.add(hub.toLowerCase());
  }
  return [...missing].sort();
}

/** The target for an emulator handle: its own connection strings and endpoint, nothing from the environment. */
export function emulatorTarget(
  emulator: {
    url: string;
    ca?: string;
    dps: { connectionString: string };
    hubs: { connectionString: string }[];
  },
  kind: 'sandbox' | 'azure' = 'sandbox',
): ResolvedTarget {
  return resolveTarget({
    dps: emulator.dps.connectionString,
    hubs: emulator.hubs.map((h) => h.connectionString),
    endpoint: emulator.url,
    endpointCa: emulator.ca,
    env: {},
    configPath: false,
    kind,
  });
}
