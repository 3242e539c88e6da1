/**
 * A local DPS (service API) + IoT Hub (identity registry) that the real Node SDK clients cannot tell
 * from Azure for the calls this tool makes. Start it in-process, point the clients at `url` through
 * src/services/azure/clients.ts, and use the connection strings it hands back.
 */
import { controlRoutes } from './control-routes.js';
import { createServerCertificate } from './certs.js';
import { deviceRoutes, GLOBAL_DEVICE_HOST } from './device/index.js';
import { dpsRoutes } from './dps-routes.js';
import { FaultInjector } from './faults.js';
import { hubDeviceRoutes } from './hub-device-routes.js';
import { HubJobs, hubJobRoutes } from './hub-jobs.js';
import { hubRoutes } from './hub-routes.js';
import { acquireLock, loadState, StateSaver, stateFileError } from './persistence.js';
import { type EmulatorContext, RouteTable } from './router.js';
import { seedDemo } from './seed-demo.js';
import { seedLarge } from './seed-large.js';
import { type ResolvedService, type RunningServer, startServer } from './server.js';
import { StatsRecorder } from './stats.js';
import { EmulatorStore, readOnlyPolicy } from './store.js';
import { Throttle } from './throttle.js';
import type { EmulatorOptions, EmulatorStats, FaultSpec } from './types.js';

export type { EmulatorOptions, EmulatorStats, FaultSpec, HubTier } from './types.js';
export type {
  DemoSecrets,
  StoredDevice,
  StoredEnrollment,
  StoredGroup,
  StoredRegistration,
} from './types.js';
export { EmulatorStore } from './store.js';
export { RouteTable, type Route, type RequestContext, type Reply } from './router.js';

export interface EmulatorHandle {
  /** http(s)://127.0.0.1:PORT */
  url: string;
  port: number;
  /** The HTTPS listener's CA certificate (PEM), when https. */
  ca?: string;
  /** `readOnlyConnectionString`: the service's read-only policy (reads everything, changes nothing). */
  dps: { host: string; idScope: string; connectionString: string; readOnlyConnectionString: string };
  hubs: { name: string; host: string; connectionString: string; readOnlyConnectionString: string }[];
  /** Same as GET /_emulator/stats. */
  stats(): EmulatorStats;
  resetStats(): void;
  setFaults(spec: FaultSpec | undefined): void;
  /** The device registration API: the host devices call (the global device endpoint) and the ID scope. */
  device: { host: string; idScope: string };
  /**
   * Where devices connect: this listener when it speaks HTTPS, else a second, HTTPS listener started on
   * first use (X.509 devices need TLS to present their certificates).
   */
  deviceEndpoint(): Promise<{ url: string; ca?: string }>;
  /** Import/export jobs created per hub and type (what a test counts: one import job per hub and step). */
  jobsCreated(): Record<string, { export: number; import: number }>;
  /** Direct access for tests: state without HTTP (call store.touch() after editing its maps directly). */
  store: EmulatorStore;
  /** Closes every socket (hanging ones too) and flushes the state file. */
  stop(): Promise<void>;
}

function validate(opts: EmulatorOptions): void {
  const positive = (name: string, v: number | undefined) => {
    if (v !== undefined && !(typeof v === 'number' && v > 0 && Number.isFinite(v))) {
      throw new Error(`emulator: ${name} must be a positive number`);
    }
  };
  positive('timeScale', opts.timeScale);
  positive('units', opts.units);
  positive('jobRate', opts.jobRate);
  if (opts.units !== undefined && !Number.isInteger(opts.units))
    throw new Error('emulator: units must be an integer');
  if (opts.port !== undefined && !(Number.isInteger(opts.port) && opts.port >= 0 && opts.port <= 65535)) {
    throw new Error('emulator: port must be an integer from 0 to 65535');
  }
  if (opts.seed !== undefined && opts.seed !== 'demo' && !(Number.isInteger(opts.seed) && opts.seed >= 0)) {
    throw new Error('emulator: seed must be "demo" or a number of devices (0 or more)');
  }
}

export function connectionString(host: string, policy: { name: string; primaryKey: string }): string {
  return `HostName=${host};SharedAccessKeyName=${policy.name};SharedAccessKey=${policy.primaryKey}`;
}

/** The store: from the state file, or new (seeded as asked). `seeded`: it is new. */
async function openStore(opts: EmulatorOptions): Promise<{ store: EmulatorStore; seeded: boolean }> {
  const snapshot = opts.statePath ? loadState(opts.statePath) : undefined;
  let store: EmulatorStore;
  try {
    store = snapshot ? EmulatorStore.fromSnapshot(snapshot) : EmulatorStore.create();
  } catch (e) {
    // Valid JSON of another shape: plain words, whatever the parser tripped on.
    throw stateFileError(
      opts.statePath as string,
      e instanceof TypeError ? new Error('is not an emulator state') : e,
      'read',
    );
  }
  if (!snapshot && opts.seed === 'demo') await seedDemo(store);
  else if (!snapshot && typeof opts.seed === 'number' && opts.seed > 0) await seedLarge(store, opts.seed);
  return { store, seeded: !snapshot };
}

/** With a state file: its saver (a new store is written at once). */
async function openSaver(
  opts: EmulatorOptions,
  store: EmulatorStore,
  isNew: boolean,
): Promise<StateSaver | undefined> {
  if (!opts.statePath) return undefined;
  const saver = new StateSaver(opts.statePath, store);
  if (isNew) {
    saver.markDirty();
    await saver.flush().catch((e) => {
      throw stateFileError(opts.statePath as string, e, 'written');
    });
  }
  return saver;
}

function emulatorContext(opts: EmulatorOptions, store: EmulatorStore): EmulatorContext {
  return {
    store,
    stats: new StatsRecorder(),
    faults: new FaultInjector(opts.faults),
    throttle: new Throttle({
      enabled: opts.throttle ?? true,
      tier: opts.tier ?? 'S1',
      units: opts.units ?? 1,
      timeScale: opts.timeScale ?? 1,
    }),
    bearerTokens: new Set(opts.bearerTokens ?? []),
    jobs: new HubJobs({ jobRate: opts.jobRate, timeScale: opts.timeScale ?? 1, storageCa: opts.storageCa }),
  };
}

const allRoutes = () =>
  new RouteTable().add(
    ...controlRoutes(),
    ...dpsRoutes(),
    ...hubRoutes(),
    ...hubJobRoutes(),
    ...hubDeviceRoutes(),
    ...deviceRoutes(),
  );

/** Which service a Host header names: the DPS, the global device endpoint, or a hub. */
const resolverFor =
  (store: EmulatorStore) =>
  (host: string): ResolvedService | undefined => {
    if (host === store.dps.host) return { service: 'dps' };
    if (host === GLOBAL_DEVICE_HOST) return { service: 'device' };
    const hub = store.hubByHost(host);
    return hub ? { service: 'hub', hub } : undefined;
  };

/** The instances a client is given: hosts, ID scope and connection strings. */
function instancesOf(store: EmulatorStore): Pick<EmulatorHandle, 'dps' | 'hubs' | 'device'> {
  return {
    dps: {
      host: store.dps.host,
      idScope: store.dps.idScope,
      connectionString: connectionString(store.dps.host, store.dps.policy),
      readOnlyConnectionString: connectionString(store.dps.host, readOnlyPolicy(store.dps)),
    },
    hubs: [...store.hubs.values()].map((h) => ({
      name: h.name,
      host: h.host,
      connectionString: connectionString(h.host, h.policy),
      readOnlyConnectionString: connectionString(h.host, readOnlyPolicy(h)),
    })),
    device: { host: GLOBAL_DEVICE_HOST, idScope: store.dps.idScope },
  };
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<EmulatorHandle> {
  validate(opts);
  const release = opts.statePath ? acquireLock(opts.statePath) : () => {};
  let saver: StateSaver | undefined;
  try {
    const { store, seeded } = await openStore(opts);
    saver = await openSaver(opts, store, seeded);
    const context = emulatorContext(opts, store);
    const { stats, faults } = context;
    const routes = allRoutes();
    const tls = opts.https ? await createServerCertificate() : undefined;
    const resolve = resolverFor(store);
    const server = await startServer({ port: opts.port ?? 0, tls, routes, context, resolve });
    const url = `${tls ? 'https' : 'http'}://127.0.0.1:${server.port}`;
    let stopping: Promise<void> | undefined;
    let deviceServer: Promise<{ server: RunningServer; ca: string }> | undefined;
    const deviceEndpoint = async () => {
      if (tls) return { url, ca: tls.ca };
      if (stopping) throw new Error('emulator: stopped');
      deviceServer ??= createServerCertificate().then(async (deviceTls) => ({
        server: await startServer({ port: 0, tls: deviceTls, routes, context, resolve }),
        ca: deviceTls.ca,
      }));
      const { server: listener, ca } = await deviceServer;
      return { url: `https://127.0.0.1:${listener.port}`, ca };
    };
    return {
      url,
      port: server.port,
      ...(tls ? { ca: tls.ca } : {}),
      ...instancesOf(store),
      deviceEndpoint,
      stats: () => stats.snapshot(),
      resetStats: () => stats.reset(),
      jobsCreated: () => Object.fromEntries(context.jobs?.created ?? []),
      setFaults: (spec) => faults.set(spec),
      store,
      stop: () => {
        stopping ??= (async () => {
          context.jobs?.stop();
          await server.close();
          await deviceServer?.then((d) => d.server.close()).catch(() => {});
          try {
            await saver?.close();
          } finally {
            release();
          }
        })();
        return stopping;
      },
    };
  } catch (err) {
    await saver?.close().catch(() => {});
    release();
    throw err;
  }
}
