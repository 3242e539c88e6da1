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

const MAX_BODY_BYTES = 8 * 1024 * 1024;

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

function send(res: http.ServerResponse, reply: Reply): void {
  if (res.destroyed || res.writableEnded) return;
  const headers: Record<string, string | number> = { ...(reply.headers ?? {}) };
  if (reply.body === undefined || reply.status === 204) {
    res.writeHead(reply.status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(reply.body);
  headers['content-type'] = 'application/json; charset=utf-8';
  headers['content-length'] = Buffer.byteLength(text);
  res.writeHead(reply.status, headers);
  res.end(text);
}

function errorReply(service: ServiceName, err: ServiceError): Reply {
  if (service === 'control') return { status: err.status, body: { error: err.message } };
  return renderError(errorShape(service), err);
}

function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJson(raw: Buffer): { ok: true; value: unknown } | { ok: false } {
  if (raw.length === 0) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(raw.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const { routes, context } = opts;
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((err) => {
      send(res, { status: 500, body: { error: `emulator bug: ${(err as Error)?.message ?? err}` } });
    });
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
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
    if (counted) context.stats.request();
    const raw = await readBody(req);
    const method = (req.method ?? 'GET').toUpperCase();
    const { service } = resolved;
    if (raw === undefined) {
      send(res, errorReply(service, new ServiceError('tooLarge', 'the request body is too large')));
      return;
    }
    const parsed = parseJson(raw);
    const ctx: RequestContext = {
      service,
      method,
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
      emulator: context,
    };
    const match = routes.match(service, method, path);
    const operation = match.route ? operationName(match.route, ctx) : `${service}:unknown`;
    const answer = (reply: Reply) => {
      if (counted) context.stats.answered(operation, reply.status);
      send(res, reply);
    };

    if (service === 'dps' || service === 'hub') {
      const fault = context.faults.decide(service as 'dps' | 'hub');
      if (fault.latencyMs > 0) await sleep(fault.latencyMs);
      if (fault.kind === 'hang') {
        context.stats.answered(operation, 'hang');
        return; // never answered; stop() destroys the socket
      }
      if (fault.kind === 'reset') {
        context.stats.answered(operation, 'reset');
        req.socket.destroy();
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
        const reply = await run(ctx, match);
        if (fault.kind === 'resetAfter') {
          context.stats.answered(operation, 'resetAfter');
          req.socket.destroy();
          return;
        }
        answer(reply);
      } catch (err) {
        answer(toErrorReply(service, err));
      }
      return;
    }
    try {
      answer(await run(ctx, match));
    } catch (err) {
      answer(toErrorReply(service, err));
    }
  }

  async function run(ctx: RequestContext, match: ReturnType<RouteTable['match']>): Promise<Reply> {
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
    const route = match.route;
    ctx.params = match.params;
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
        throw new ServiceError(
          'throttled',
          'Throttled: the request rate is over the limit of this instance',
          {
            headers: { 'retry-after': String(admission.retryAfterSeconds) },
          },
        );
      }
    }
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
