/**
 * The hub's device-facing HTTP endpoint, as `azure-iot-device` with `azure-iot-device-http` calls it
 * (api-version 2021-04-12): device-to-cloud telemetry `POST /devices/{id}/messages/events` (204) and
 * cloud-to-device polling `GET /devices/{id}/messages/deviceBound` (204: nothing queued; the emulator
 * queues no cloud-to-device messages), with the lock-token calls answering that no message is locked.
 *
 * Authentication as IoT Hub does it: a SAS token whose resource is `{hub}/devices/{id}` signed with
 * one of the identity's keys (or a policy token with `skn`), or a TLS client certificate whose
 * thumbprint is the identity's (selfSigned) or whose chain leads to a CA verified on this hub
 * (certificateAuthority, CN = device ID). A device that is missing, disabled, or proves nothing is
 * refused with 401 IotHubUnauthorizedAccess: a disabled device learns it at its next request.
 */
import { ServiceError } from './errors.js';
import {
  commonNameOf,
  type DeviceSas,
  hubThumbprint,
  parsedPem,
  parseDeviceSas,
  presentedChain,
  sameCertificate,
  sasSignedWith,
} from './device/credentials.js';
import { chainIsLinked, completedChain } from './device/decide.js';
import { type Reply, type RequestContext, type Route, pathPattern } from './router.js';
import type { HubState } from './store.js';
import type { StoredDevice } from './types.js';

/** IoT Hub's limit for one device-to-cloud message. */
export const MAX_TELEMETRY_BYTES = 256 * 1024;

const unauthorized = (reason: string) => new ServiceError('unauthorized', `Unauthorized: ${reason}`);

function header(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function requireApiVersion(ctx: RequestContext): void {
  if (!ctx.query.get('api-version')) {
    throw new ServiceError('badRequest', 'the api-version query parameter is required (e.g. 2021-04-12)');
  }
}

/** The token's resource must name this device on this hub (or the hub itself, for a policy token). */
function checkToken(token: DeviceSas, hub: HubState, deviceId: string, nowSeconds: number): void {
  const resource = safeDecode(token.sr).replace(/^https?:\/\//i, '');
  const deviceResource = `${hub.host}/devices/${deviceId}`;
  const namesDevice = resource.toLowerCase() === deviceResource.toLowerCase();
  const namesHub = resource.toLowerCase() === hub.host.toLowerCase();
  if (!namesDevice && !(token.skn && namesHub)) {
    throw unauthorized(`the token's resource (sr) is not ${deviceResource}`);
  }
  const expiry = Number(token.se);
  if (!Number.isFinite(expiry) || expiry <= nowSeconds) throw unauthorized('the SAS token has expired');
}

function verifySas(ctx: RequestContext, hub: HubState, device: StoredDevice, token: DeviceSas): void {
  if (token.skn) {
    // A policy with DeviceConnect (the owner policy here) may speak for any device.
    if (token.skn.toLowerCase() !== hub.policy.name.toLowerCase())
      throw unauthorized('unknown shared access policy (skn)');
    if (!sasSignedWith(token, hub.policy.primaryKey) && !sasSignedWith(token, hub.policy.secondaryKey))
      throw unauthorized('the SAS signature does not match the policy key');
    return;
  }
  if (device.authType !== 'sas') {
    throw unauthorized(`device ${device.deviceId} authenticates with an X.509 certificate, not a key`);
  }
  const keys = ctx.emulator.store.deviceKeys(hub, device);
  if (!sasSignedWith(token, keys.primaryKey) && !sasSignedWith(token, keys.secondaryKey)) {
    throw unauthorized(`the SAS signature does not match the keys of device ${device.deviceId}`);
  }
}

function verifyCertificate(ctx: RequestContext, hub: HubState, device: StoredDevice): void {
  const chain = presentedChain(ctx.socket);
  if (chain.length === 0) {
    throw unauthorized(
      'no credential: send a SAS token signed with the device key, or a client certificate over HTTPS',
    );
  }
  const leaf = chain[0];
  const now = new Date();
  if (new Date(leaf.validFrom) > now || new Date(leaf.validTo) < now) {
    throw unauthorized('the client certificate is not valid at this time');
  }
  if (device.authType === 'selfSigned') {
    const sha1 = hubThumbprint(leaf);
    const sha256 = leaf.fingerprint256.replace(/:/g, '').toUpperCase();
    const known = [device.primaryThumbprint, device.secondaryThumbprint]
      .filter((t): t is string => !!t)
      .map((t) => t.toUpperCase());
    if (!known.includes(sha1) && !known.includes(sha256)) {
      throw unauthorized(`the client certificate's thumbprint is not one of device ${device.deviceId}`);
    }
    return;
  }
  if (device.authType === 'certificateAuthority') {
    const cn = commonNameOf(leaf);
    if (cn !== device.deviceId) {
      throw unauthorized(
        `the client certificate's CN (${cn ?? 'none'}) is not the device ID ${device.deviceId}`,
      );
    }
    const authorities = [...hub.caCertificates.values()].map(parsedPem);
    const full = completedChain(chain, authorities);
    if (!chainIsLinked(chain) || !full.slice(1).some((c) => authorities.some((a) => sameCertificate(a, c)))) {
      throw unauthorized('the certificate chain does not lead to a CA certificate verified on this hub');
    }
    return;
  }
  throw unauthorized(`device ${device.deviceId} authenticates with a key: send a SAS token`);
}

/** Authenticates the device the URL names; returns its identity. Every refusal is a 401. */
export function authenticateDevice(ctx: RequestContext): { hub: HubState; device: StoredDevice } {
  const hub = ctx.hub;
  if (!hub) throw new ServiceError('notFound', 'no such hub', { hubCode: 'IotHubNotFound' });
  const deviceId = ctx.params[0];
  const authorization = header(ctx, 'authorization');
  const token = authorization ? parseDeviceSas(authorization) : undefined;
  if (authorization && !token) throw unauthorized('malformed SharedAccessSignature (needs sr, sig, se)');
  if (token) checkToken(token, hub, deviceId, Math.floor(Date.now() / 1000));
  const device = hub.devices.get(deviceId);
  if (!device) throw unauthorized(`device ${deviceId} is not registered on this hub`);
  if (token) verifySas(ctx, hub, device, token);
  else verifyCertificate(ctx, hub, device);
  if (device.status !== 'enabled') throw unauthorized(`device ${deviceId} is disabled on this hub`);
  return { hub, device };
}

export function hubDeviceRoutes(): Route[] {
  const r = (method: string, path: string, operation: string, handle: Route['handle']): Route => ({
    service: 'hub',
    method,
    pattern: pathPattern(path),
    operation,
    auth: 'none',
    rawBody: true,
    handle,
  });
  const settle = (ctx: RequestContext): Reply => {
    requireApiVersion(ctx);
    authenticateDevice(ctx);
    throw new ServiceError('preconditionFailed', `no message is locked with token ${ctx.params[1]}`, {
      hubCode: 'DeviceMessageLockLost',
    });
  };
  return [
    r('POST', '/devices/{id}/messages/events', 'hub:deviceTelemetry', (ctx) => {
      requireApiVersion(ctx);
      authenticateDevice(ctx);
      if (ctx.rawBody.length > MAX_TELEMETRY_BYTES) {
        throw new ServiceError(
          'tooLarge',
          `a device-to-cloud message is at most ${MAX_TELEMETRY_BYTES} bytes`,
        );
      }
      return { status: 204 };
    }),
    r('GET', '/devices/{id}/messages/deviceBound', 'hub:deviceReceive', (ctx) => {
      requireApiVersion(ctx);
      authenticateDevice(ctx);
      return { status: 204 };
    }),
    r('DELETE', '/devices/{id}/messages/deviceBound/{lockToken}', 'hub:deviceSettle', settle),
    r('POST', '/devices/{id}/messages/deviceBound/{lockToken}/abandon', 'hub:deviceSettle', settle),
  ];
}
