/**
 * The HTTP(S) front: tells the services apart by the Host header, then runs every request through
 * the same pipeline as the real services would: faults (transport), authorization, rate limits,
 * the route's handler, and the answer in the service's own JSON and error shapes.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { authorize, checkRight, requiredRight } from './auth.js';
import { renderError, ServiceError } from './errors.js';
import {
  type EmulatorContext,
  operationName,
  type Reply,
  type RequestContext,
  type RouteTable,
  type ServiceName,
} from './router.js';
import { type HubState, policiesOf } from './store.js';
import { parseJson, readBody, send } from './wire.js';

export interface ResolvedService {
  service: ServiceName;
  hub?: HubState;
}

export interface ServerOptions {
  port: number;
  tls?: { key: string; cert: string; ca?: string };
  routes: RouteTable;
  context: EmulatorContext;
  /** Which service a Host header names; undefined = no such service. */
  resolve: (host: string) => ResolvedService | undefined;
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function errorShape(service: ServiceName): 'dps' | 'hub' {
  return service === 'hub' || service === 'unknown' ? 'hub' : 'dps';
}

function errorReply(service: ServiceName, err: ServiceError): Reply {
  if (service === 'control') return { status: err.status, body: { error: err.message } };
  return renderError(errorShape(service), err);
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(opts, req, res).catch((err) => {
      send(res, { status: 500, body: { error: `emulator bug: ${(err as Error)?.message ?? err}` } });
    });
  };

  const server = opts.tls
    ? https.createServer(
        // X.509 devices present client certificates; groups added at run time are checked in code, and a
        // certificate nobody trusts gets a 401 from the device API instead of a failed handshake.
        { key: opts.tls.key, cert: opts.tls.cert, requestCert: true, rejectUnauthorized: false },
        handler,
      )
    : http.createServer(handler);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hanging requests and idle keep-alive sockets would keep close() waiting forever.
        server.closeAllConnections();
      }),
  };
}

type Match = ReturnType<RouteTable['match']>;
type Found = Exclude<Match, { route: undefined }>;

/** One request: read, counted, faults applied (DPS and hubs only), routed and answered. */
async function handle(
  opts: ServerOptions,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const { routes, context } = opts;
  const { service, counted, ctx } = await readRequest(opts, req);
  if (!ctx) {
    send(res, errorReply(service, new ServiceError('tooLarge', 'the request body is too large')));
    return;
  }
  const match = routes.match(service, ctx.method, ctx.path);
  const operation = match.route ? operationName(match.route, ctx) : `${service}:unknown`;
  const answer = (reply: Reply) => {
    if (counted) context.stats.answered(operation, reply.status);
    send(res, reply);
  };
  if (service === 'dps' || service === 'hub') return answerWithFaults(context, ctx, match, operation, answer);
  try {
    answer(await run(context, ctx, match));
  } catch (err) {
    answer(toErrorReply(service, err));
  }
}

/** The request's service (by its Host header), counted in the stats, and its context (none: too large). */
async function readRequest(
  opts: ServerOptions,
  req: http.IncomingMessage,
): Promise<{ service: ServiceName; counted: boolean; ctx?: RequestContext }> {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const host = String(req.headers.host ?? '')
    .replace(/:\d+$/, '')
    .toLowerCase();
  const resolved: ResolvedService = path.startsWith('/_emulator/')
    ? { service: 'control' }
    : (opts.resolve(host) ?? { service: 'unknown' });
  // The emulator's own endpoints stay out of the stats they report.
  const counted = resolved.service !== 'control';
  if (counted) opts.context.stats.request();
  const raw = await readBody(req);
  const { service } = resolved;
  if (raw === undefined) return { service, counted };
  const parsed = parseJson(raw);
  const ctx: RequestContext = {
    service,
    method: (req.method ?? 'GET').toUpperCase(),
    path,
    query: url.searchParams,
    headers: req.headers,
    host,
    hub: resolved.hub,
    body: parsed.ok ? parsed.value : undefined,
    rawBody: raw,
    params: [],
    req,
    socket: req.socket,
    emulator: opts.context,
  };
  return { service, counted, ctx };
}

/** A DPS or hub request under the injected faults: delayed, never answered, reset, or failed. */
async function answerWithFaults(
  context: EmulatorContext,
  ctx: RequestContext,
  match: Match,
  operation: string,
  answer: (reply: Reply) => void,
): Promise<void> {
  const service = ctx.service as 'dps' | 'hub';
  const fault = context.faults.decide(service);
  if (fault.latencyMs > 0) await sleep(fault.latencyMs);
  if (fault.kind === 'hang') {
    context.stats.answered(operation, 'hang');
    return; // never answered; stop() destroys the socket
  }
  if (fault.kind === 'reset') {
    context.stats.answered(operation, 'reset');
    ctx.req.socket.destroy();
    return;
  }
  if (fault.kind === 'error') {
    const kind = fault.status === 500 ? 'internal' : 'unavailable';
    answer(errorReply(service, new ServiceError(kind, 'injected fault: the service could not answer')));
    return;
  }
  if (fault.kind === 'throttled') {
    const headers = { 'retry-after': String(fault.retryAfterSeconds) };
    answer(
      errorReply(
        service,
        new ServiceError('throttled', 'Throttled: the request rate is over the limit of this instance', {
          headers,
        }),
      ),
    );
    return;
  }
  try {
    const reply = await run(context, ctx, match);
    if (fault.kind === 'resetAfter') {
      context.stats.answered(operation, 'resetAfter');
      ctx.req.socket.destroy();
      return;
    }
    answer(reply);
  } catch (err) {
    answer(toErrorReply(service, err));
  }
}

/** The route's answer, once the request is authorized, valid and within the instance's budget. */
async function run(context: EmulatorContext, ctx: RequestContext, match: Match): Promise<Reply> {
  const { route, params } = routeOf(ctx, match);
  ctx.params = params;
  const cost = admit(context, ctx, route);
  try {
    return await route.handle(ctx);
  } catch (err) {
    // Bad input is refused before the service does any work: it spends none of the allowance.
    if (cost && err instanceof ServiceError && err.kind === 'badRequest') {
      context.throttle.refund(cost.bucket, ctx.host, cost.cost);
    }
    throw err;
  }
}

/** The matched route, or why there is none (no such instance, resource or method). */
function routeOf(ctx: RequestContext, match: Match): Found {
  if (ctx.service === 'unknown') {
    throw new ServiceError(
      'notFound',
      `no IoT hub or DPS instance is named ${ctx.host || '(no Host header)'}`,
      {
        hubCode: 'IotHubNotFound',
      },
    );
  }
  if (!match.route) {
    if (match.methodMismatch)
      throw new ServiceError('badRequest', `${ctx.method} is not supported on ${ctx.path}`);
    throw new ServiceError('notFound', `no such resource: ${ctx.path}`, { hubCode: 'NotFound' });
  }
  return match;
}

/** Authorizes, checks the body, validates and takes the request's cost from the throttle (its cost). */
function admit(context: EmulatorContext, ctx: RequestContext, route: Found['route']) {
  if ((route.auth ?? 'service') === 'service') {
    const policies = ctx.hub ? policiesOf(ctx.hub) : policiesOf(context.store.dps);
    const signer = authorize(
      headerString(ctx.headers.authorization),
      { host: ctx.host, policies },
      context.bearerTokens,
      Math.floor(Date.now() / 1000),
    );
    if (ctx.service === 'dps' || ctx.service === 'hub')
      checkRight(signer, requiredRight(ctx.service as 'dps' | 'hub', ctx.method, ctx.path));
  }
  if (!route.rawBody && ctx.rawBody.length > 0 && ctx.body === undefined && isJsonRequest(ctx)) {
    throw new ServiceError('badRequest', 'the request body is not valid JSON');
  }
  route.validate?.(ctx);
  const cost = route.throttle?.(ctx);
  if (cost) {
    const admission = context.throttle.admit(cost.bucket, ctx.host, cost.cost);
    if (!admission.ok) {
      throw new ServiceError('throttled', 'Throttled: the request rate is over the limit of this instance', {
        headers: { 'retry-after': String(admission.retryAfterSeconds) },
      });
    }
  }
  return cost;
}

function headerString(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function isJsonRequest(ctx: RequestContext): boolean {
  const type = headerString(ctx.headers['content-type']) ?? '';
  return type === '' || type.includes('json');
}

function toErrorReply(service: ServiceName, err: unknown): Reply {
  if (err instanceof ServiceError) return errorReply(service, err);
  const message = err instanceof Error ? err.message : String(err);
  return errorReply(service, new ServiceError('internal', `emulator error: ${message}`));
}
