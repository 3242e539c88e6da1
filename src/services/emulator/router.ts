/**
 * The route table. Each route names the service it belongs to (told apart by the Host header), its
 * method and path pattern, the operation name counted in the stats, how much of which rate limit it
 * spends, and its handler. New APIs (the DPS device registration API) are added as more routes.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FaultInjector } from './faults.js';
import type { HubJobs } from './hub-jobs.js';
import type { StatsRecorder } from './stats.js';
import type { EmulatorStore, HubState } from './store.js';
import type { BucketName, Throttle } from './throttle.js';

/** 'dps' and 'hub' are the service APIs; other helpers may add more (e.g. the device API). */
export type ServiceName = 'dps' | 'hub' | 'control' | (string & {});

export interface EmulatorContext {
  store: EmulatorStore;
  stats: StatsRecorder;
  throttle: Throttle;
  faults: FaultInjector;
  bearerTokens: ReadonlySet<string>;
  /** The hubs' import/export jobs (absent: the job API answers 500). */
  jobs?: HubJobs;
}

export interface RequestContext {
  service: ServiceName;
  method: string;
  /** Path without query string and trailing slashes, still percent-encoded. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Host header without port, lower case. */
  host: string;
  hub?: HubState;
  /** Parsed JSON body (undefined when empty or not JSON). */
  body: unknown;
  rawBody: Buffer;
  /** Route parameters, percent-decoded. */
  params: string[];
  req: IncomingMessage;
  socket: Socket;
  emulator: EmulatorContext;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ThrottleCost {
  bucket: BucketName;
  cost: number;
}

export interface Route {
  service: ServiceName;
  method: string;
  pattern: RegExp;
  operation: string | ((ctx: RequestContext) => string);
  /** Default 'service': the service's SAS policies or a bearer token. */
  auth?: 'service' | 'none';
  /** The body is the caller's bytes (device telemetry), not JSON to parse. */
  rawBody?: boolean;
  /** Checks of the input made before any rate limit is spent (a 400 wins over a 429, as on Azure). */
  validate?: (ctx: RequestContext) => void;
  throttle?: (ctx: RequestContext) => ThrottleCost | undefined;
  handle: (ctx: RequestContext) => Reply | Promise<Reply>;
}

/** Turns '/enrollments/{id}/attestationmechanism' into an anchored, case-insensitive pattern. */
export function pathPattern(template: string): RegExp {
  const source = template
    .split('/')
    .map((seg) =>
      seg === '{}' || /^\{\w+\}$/.test(seg) ? '([^/]+)' : seg.replace(/[.*+?^$()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${source}$`, 'i');
}

export type RouteMatch = { route: Route; params: string[] } | { route: undefined; methodMismatch: boolean };

export class RouteTable {
  private readonly routes: Route[] = [];

  add(...routes: Route[]): this {
    this.routes.push(...routes);
    return this;
  }

  match(service: ServiceName, method: string, path: string): RouteMatch {
    let methodMismatch = false;
    for (const route of this.routes) {
      if (route.service !== service) continue;
      const m = route.pattern.exec(path);
      if (!m) continue;
      if (route.method !== method) {
        methodMismatch = true;
        continue;
      }
      return { route, params: m.slice(1).map(decodeParam) };
    }
    return { route: undefined, methodMismatch };
  }
}

function decodeParam(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

export function operationName(route: Route, ctx: RequestContext): string {
  return typeof route.operation === 'string' ? route.operation : route.operation(ctx);
}
