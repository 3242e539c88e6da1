/** Real SDK clients pointed at an emulator, and small promise helpers for their callback-only calls. */
import { createProvisioningClient, createRegistry } from '../../src/services/azure/clients.js';
import { parseEndpoint } from '../../src/services/azure/endpoint.js';
import type { EmulatorHandle } from '../../src/services/emulator/index.js';

export function dpsClient(em: EmulatorHandle, connectionString = em.dps.connectionString) {
  return createProvisioningClient(
    { kind: 'connectionString', host: em.dps.host, connectionString },
    parseEndpoint(em.url, em.ca),
  );
}

export function hubClient(em: EmulatorHandle, index = 0, connectionString = em.hubs[index].connectionString) {
  return createRegistry(
    { kind: 'connectionString', host: em.hubs[index].host, connectionString },
    parseEndpoint(em.url, em.ca),
  );
}

/** The SDK's promise form of runBulkEnrollmentOperation never settles: use the callback form. */
export function runBulk(client: ReturnType<typeof dpsClient>, op: unknown): Promise<any> {
  return new Promise((resolve, reject) =>
    client.runBulkEnrollmentOperation(op as never, (err: unknown, result: unknown) =>
      err ? reject(err) : resolve(result),
    ),
  );
}

/** Rejection of a promise, or a failure if it resolved. */
export async function failure(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

export function withWrongKey(cs: string): string {
  return cs.replace(/SharedAccessKey=[^;]+/, `SharedAccessKey=${Buffer.alloc(32, 7).toString('base64')}`);
}

export async function controlRequest(em: EmulatorHandle, method: string, path: string, body?: unknown) {
  const res = await fetch(`${em.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
