/**
 * Hub device identities and twins in and out. A PUT replaces the whole identity: fields left out take
 * their defaults (authentication: SAS with generated keys), so clients should send what they read.
 */
import { ServiceError } from './errors.js';
import { type EmulatorStore, type HubState, newKey } from './store.js';
import type { HubAuthType, StoredDevice, StoredModule } from './types.js';

// biome-ignore lint/suspicious/noExplicitAny: the emulator stores JSON the SDKs sent, read field by field (typed wrappers: issue 10 §5)
type Json = Record<string, any>;
const NEVER = '0001-01-01T00:00:00Z';
const bad = (message: string) => new ServiceError('badRequest', message);
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export const DEVICE_ID_PATTERN = /^[A-Za-z0-9\-:.+%_#*?!(),=@;$']{1,128}$/;

/** `kept`: the keys of the identity being replaced, kept when the body leaves them empty. */
function parseAuthentication(raw: unknown, kept?: { primaryKey: string; secondaryKey: string }) {
  const auth = isObject(raw) ? raw : {};
  const type: HubAuthType = auth.type ?? (auth.x509Thumbprint?.primaryThumbprint ? 'selfSigned' : 'sas');
  if (!['sas', 'selfSigned', 'certificateAuthority', 'none'].includes(type)) {
    throw bad(`authentication.type must be sas, selfSigned, certificateAuthority or none, not ${type}`);
  }
  if (type === 'sas') {
    const sk = isObject(auth.symmetricKey) ? auth.symmetricKey : {};
    return {
      authType: type,
      primaryKey: sk.primaryKey || kept?.primaryKey || newKey(),
      secondaryKey: sk.secondaryKey || kept?.secondaryKey || newKey(),
    };
  }
  if (type === 'selfSigned') {
    const t = isObject(auth.x509Thumbprint) ? auth.x509Thumbprint : {};
    if (!t.primaryThumbprint)
      throw bad('authentication.x509Thumbprint.primaryThumbprint is required for selfSigned');
    return {
      authType: type,
      primaryThumbprint: String(t.primaryThumbprint),
      ...(t.secondaryThumbprint ? { secondaryThumbprint: String(t.secondaryThumbprint) } : {}),
    };
  }
  return { authType: type };
}

/** Builds the stored identity from a PUT or bulk body; `existing` keeps generationId and history. */
export function parseDevice(
  body: Json,
  id: string,
  existing: StoredDevice | undefined,
  store: EmulatorStore,
  hub: HubState,
): StoredDevice {
  if (!DEVICE_ID_PATTERN.test(id))
    throw bad(`device ID "${id}" is not valid (1-128 letters, digits, -:.+%_#*?!(),=@;$')`);
  const status = body.status ?? 'enabled';
  if (status !== 'enabled' && status !== 'disabled') throw bad('status must be enabled or disabled');
  const now = new Date().toISOString();
  const statusChanged = !existing || existing.status !== status;
  const generationId = existing?.generationId ?? newGenerationId();
  const iotEdge = !!(isObject(body.capabilities) && body.capabilities.iotEdge);
  return {
    deviceId: id,
    etag: store.newHubEtag(),
    generationId,
    status,
    ...(typeof body.statusReason === 'string' ? { statusReason: body.statusReason } : {}),
    statusUpdatedTime: statusChanged ? now : existing.statusUpdatedTime,
    connectionState: existing?.connectionState ?? 'Disconnected',
    connectionStateUpdatedTime: existing?.connectionStateUpdatedTime ?? NEVER,
    lastActivityTime: existing?.lastActivityTime ?? NEVER,
    ...parseAuthentication(
      body.authentication,
      existing?.authType === 'sas' ? store.deviceKeys(hub, existing) : undefined,
    ),
    iotEdge,
    ...scopes(body, id, generationId, iotEdge, existing),
    ...(existing?.modules ? { modules: existing.modules } : {}),
    // The twin outlives a PUT of the identity.
    ...(existing?.tags ? { tags: existing.tags } : {}),
    ...(existing?.desired ? { desired: existing.desired } : {}),
    cloudToDeviceMessageCount: existing?.cloudToDeviceMessageCount ?? 0,
    twinVersion: existing?.twinVersion ?? 1,
  };
}

/**
 * IoT Hub's scopes: an Edge device has a scope of its own, kept for its lifetime; a leaf device given
 * its parent's scope as `deviceScope` sits under that parent (`parentScopes` = [that scope]); an Edge
 * device sits under the parents its `parentScopes` name.
 */
function scopes(
  body: Json,
  id: string,
  generationId: string,
  iotEdge: boolean,
  existing: StoredDevice | undefined,
): { deviceScope?: string; parentScopes?: string[] } {
  const given = typeof body.deviceScope === 'string' && body.deviceScope ? body.deviceScope : undefined;
  const parents = Array.isArray(body.parentScopes)
    ? body.parentScopes.filter((p: unknown): p is string => typeof p === 'string' && p !== '')
    : undefined;
  if (parents && parents.length > 1) throw bad('parentScopes holds at most one scope');
  if (iotEdge) {
    const own =
      existing?.iotEdge && existing.deviceScope
        ? existing.deviceScope
        : `ms-azure-iot-edge://${id}-${generationId}`;
    return { deviceScope: own, parentScopes: parents ?? [] };
  }
  if (given) return { deviceScope: given, parentScopes: [given] };
  if (parents?.length) return { deviceScope: parents[0], parentScopes: parents };
  return {};
}

export function newGenerationId(): string {
  // Not a secret: Math.random is much cheaper than crypto for 100,000 seeded devices.
  return `638${Math.floor(Math.random() * 1e15)
    .toString()
    .padStart(15, '0')}`;
}

export function renderDevice(d: StoredDevice, store: EmulatorStore, hub: HubState): Json {
  const keys = d.authType === 'sas' ? store.deviceKeys(hub, d) : undefined;
  return {
    deviceId: d.deviceId,
    generationId: d.generationId,
    etag: d.etag,
    connectionState: d.connectionState,
    status: d.status,
    statusReason: d.statusReason ?? null,
    connectionStateUpdatedTime: d.connectionStateUpdatedTime,
    statusUpdatedTime: d.statusUpdatedTime,
    lastActivityTime: d.lastActivityTime,
    cloudToDeviceMessageCount: d.cloudToDeviceMessageCount,
    authentication: {
      symmetricKey: { primaryKey: keys?.primaryKey ?? null, secondaryKey: keys?.secondaryKey ?? null },
      x509Thumbprint: {
        primaryThumbprint: d.primaryThumbprint ?? null,
        secondaryThumbprint: d.secondaryThumbprint ?? null,
      },
      type: d.authType,
    },
    capabilities: { iotEdge: d.iotEdge },
    ...(d.deviceScope ? { deviceScope: d.deviceScope } : {}),
    parentScopes: d.parentScopes ?? [],
  };
}

/** Builds a module identity from a PUT body; `existing` keeps its generation and keys. */
export function parseModule(
  body: Json,
  moduleId: string,
  existing: StoredModule | undefined,
  store: EmulatorStore,
): StoredModule {
  if (!DEVICE_ID_PATTERN.test(moduleId)) throw bad(`module ID "${moduleId}" is not valid`);
  const kept =
    existing?.authType === 'sas' && existing.primaryKey && existing.secondaryKey
      ? { primaryKey: existing.primaryKey, secondaryKey: existing.secondaryKey }
      : undefined;
  return {
    moduleId,
    etag: store.newHubEtag(),
    generationId: existing?.generationId ?? newGenerationId(),
    ...parseAuthentication(body.authentication, kept),
    ...(typeof body.managedBy === 'string' ? { managedBy: body.managedBy } : {}),
    connectionStateUpdatedTime: existing?.connectionStateUpdatedTime ?? NEVER,
    lastActivityTime: existing?.lastActivityTime ?? NEVER,
  };
}

export function renderModule(deviceId: string, m: StoredModule): Json {
  return {
    moduleId: m.moduleId,
    deviceId,
    managedBy: m.managedBy ?? null,
    generationId: m.generationId,
    etag: m.etag,
    connectionState: 'Disconnected',
    connectionStateUpdatedTime: m.connectionStateUpdatedTime,
    lastActivityTime: m.lastActivityTime,
    cloudToDeviceMessageCount: 0,
    authentication: {
      symmetricKey: { primaryKey: m.primaryKey ?? null, secondaryKey: m.secondaryKey ?? null },
      x509Thumbprint: {
        primaryThumbprint: m.primaryThumbprint ?? null,
        secondaryThumbprint: m.secondaryThumbprint ?? null,
      },
      type: m.authType,
    },
  };
}

/** Twin ETags are base64 of an 8-byte version: never the identity's ETag. */
export function twinEtag(version: number): string {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(version));
  return b.toString('base64');
}

export function renderTwin(d: StoredDevice): Json {
  const meta = { $lastUpdated: d.statusUpdatedTime };
  return {
    deviceId: d.deviceId,
    etag: twinEtag(d.twinVersion),
    deviceEtag: d.etag,
    status: d.status,
    ...(d.statusReason ? { statusReason: d.statusReason } : {}),
    statusUpdateTime: d.statusUpdatedTime,
    connectionState: d.connectionState,
    lastActivityTime: d.lastActivityTime,
    cloudToDeviceMessageCount: d.cloudToDeviceMessageCount,
    authenticationType: d.authType,
    x509Thumbprint: {
      primaryThumbprint: d.primaryThumbprint ?? null,
      secondaryThumbprint: d.secondaryThumbprint ?? null,
    },
    modelId: '',
    version: d.twinVersion,
    ...(d.tags ? { tags: d.tags } : {}),
    properties: {
      desired: { ...(d.desired ?? {}), $metadata: meta, $version: 1 },
      reported: { $metadata: meta, $version: 1 },
    },
    capabilities: { iotEdge: d.iotEdge },
    ...(d.deviceScope ? { deviceScope: d.deviceScope } : {}),
    parentScopes: d.parentScopes ?? [],
  };
}
