/**
 * Hub service shapes -> the core model: identities and twins as HubDevice, the identity written back with
 * only its status changed, and device IDs as query literals. Keys stay in the identity, never in a HubDevice.
 */
import type { HubDevice, HubDeviceStatus } from '../../core/model.js';
import { type Json, asJson } from './json.js';

/** The hub's "never" for lastActivityTime. */
const NEVER = /^0001-01-01/;

export const unquote = (etag: unknown): string | undefined =>
  typeof etag === 'string' && etag !== '' ? etag.replace(/^"(.*)"$/, '$1') : undefined;

/**
 * An identity (GET /devices/{id}) or a twin (query) as a HubDevice. A twin's `etag` is the twin's, not
 * the identity's: from a twin only `deviceEtag` (the identity's ETag, when the hub sends it) is used.
 */
export function toHubDevice(hub: string, body: Json, source: 'identity' | 'twin'): HubDevice {
  const device: HubDevice = {
    hub,
    deviceId: String(body.deviceId ?? ''),
    status: body.status === 'disabled' ? 'disabled' : 'enabled',
  };
  if (typeof body.statusReason === 'string' && body.statusReason) device.statusReason = body.statusReason;
  const etag = unquote(source === 'identity' ? body.etag : body.deviceEtag);
  if (etag && etag !== 'null') device.etag = etag;
  if (typeof body.lastActivityTime === 'string' && !NEVER.test(body.lastActivityTime)) {
    device.lastActivityTime = body.lastActivityTime;
  }
  // An identity says statusUpdatedTime, a twin statusUpdateTime.
  const statusTime = source === 'identity' ? body.statusUpdatedTime : body.statusUpdateTime;
  if (typeof statusTime === 'string' && !NEVER.test(statusTime)) device.statusUpdatedTime = statusTime;
  if (asJson(body.capabilities)?.iotEdge === true) device.iotEdge = true;
  if (typeof body.deviceScope === 'string' && body.deviceScope) device.deviceScope = body.deviceScope;
  return device;
}

/** Only the authentication the identity really has (the SDK's Device object pads it with nulls). */
function authenticationOf(identity: Json): Json {
  const auth = asJson(identity.authentication) ?? {};
  const type = auth.type ?? 'sas';
  if (type === 'sas') return { type, symmetricKey: auth.symmetricKey };
  if (type === 'selfSigned') return { type, x509Thumbprint: auth.x509Thumbprint };
  return { type };
}

/** What a bulk update must carry so that only the status changes. */
export function identityWithStatus(identity: Json, status: HubDeviceStatus): Json {
  const device: Json = {
    deviceId: identity.deviceId,
    eTag: unquote(identity.etag),
    status,
    authentication: authenticationOf(identity),
  };
  if (identity.statusReason) device.statusReason = identity.statusReason;
  if (identity.capabilities) device.capabilities = identity.capabilities;
  if (identity.deviceScope) device.deviceScope = identity.deviceScope;
  if (Array.isArray(identity.parentScopes) && identity.parentScopes.length > 0)
    device.parentScopes = identity.parentScopes;
  return device;
}

/**
 * A device ID as a query string literal, or undefined when it cannot be quoted without escapes (the hub's
 * escape rules are not ours to guess): single quotes, or double quotes for an ID holding a single quote.
 * Device IDs are printable ASCII; a backslash or a control character is never put in a query.
 */
export function queryLiteral(id: string): string | undefined {
  if (id === '' || !/^[\x20-\x7e]+$/.test(id) || id.includes('\\')) return undefined;
  if (!id.includes("'")) return `'${id}'`;
  if (!id.includes('"')) return `"${id}"`;
  return undefined;
}
