/**
 * `seed: 'demo'`: a small, realistic fleet for the sandbox. One DPS and three hubs; TPM, X.509 and
 * symmetric-key individual enrollments; X.509 groups on a root CA (by CA reference) and on an
 * intermediate (by signing certificate) with real generated chains; symmetric-key groups, one disabled;
 * about fifty registration records spread over the hubs with matching hub identities, a few disabled.
 * Device private keys and chains are kept in demoSecrets so the sandbox can register demo devices.
 *
 * One IoT Edge gateway (edge-gateway-hamburg-0001, modules $edgeAgent and $edgeHub) has three child
 * devices (plc-hamburg-0001..0003, group plc-hamburg) on its hub.
 *
 * Worth knowing when reading the data: sensor-berlin-0042 has an individual enrollment AND a leaf issued
 * by the intermediate of the enabled group factory-line-berlin, so deleting (not disabling) its
 * enrollment lets it provision again through the group.
 */
import { randomBytes } from 'node:crypto';
import {
  type Authority,
  createDeviceCertificate,
  createIntermediateAuthority,
  createRootAuthority,
  createSelfSignedDeviceCertificate,
} from './certs.js';
import { hubThumbprint, parsedPem } from './device/credentials.js';
import { deriveDeviceKey, enrollmentCommon, provision } from './seed-shared.js';
import { type EmulatorStore, type HubState, newKey } from './store.js';

const range = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix}-${String(from + i).padStart(4, '0')}`);

const DISABLED_ON_HUB = new Set([
  'sensor-berlin-0003',
  'meter-eu-0011',
  'legacy-sensor-0002',
  'legacy-sensor-0004',
]);

type Attestation = Parameters<typeof enrollmentCommon>[1];
type Keys = { primaryKey: string; secondaryKey: string };

/** What every part of the demo fleet is seeded with. */
interface Demo {
  store: EmulatorStore;
  /** When the fleet was enrolled and registered (90 days ago). */
  at: string;
  /** The next hub, round robin: the order devices are seeded in decides where each one lands. */
  nextHub: () => HubState;
  secrets: EmulatorStore['demoSecrets'];
  root: Authority;
}

export async function seedDemo(store: EmulatorStore): Promise<void> {
  const hubs = [...store.hubs.values()];
  let n = 0;
  const base = {
    store,
    at: new Date(Date.now() - 90 * 86_400_000).toISOString(),
    nextHub: () => hubs[n++ % hubs.length] as HubState,
    secrets: store.demoSecrets,
  };
  const { root, factory, field } = await authorities(base);
  const demo: Demo = { ...base, root };

  group(demo, 'contoso-root-ca', { type: 'x509', x509: { caReferences: { primary: 'contoso-root-ca' } } });
  group(demo, 'factory-line-berlin', {
    type: 'x509',
    x509: { signingCertificates: { primary: factory.certPem } },
  });
  const meterKeys = { primaryKey: newKey(), secondaryKey: newKey() };
  group(demo, 'smart-meters-eu', { type: 'symmetricKey', symmetricKey: meterKeys });
  const legacyKeys = { primaryKey: newKey(), secondaryKey: newKey() };
  group(demo, 'legacy-sensors', { type: 'symmetricKey', symmetricKey: legacyKeys }, 'disabled');

  await x509Devices(demo, range('sensor-berlin', 1, 12), 'factory-line-berlin', factory);
  await x509Devices(demo, range('camera-lisbon', 1, 8), 'contoso-root-ca', field);
  symmetricDevices(demo, range('meter-eu', 1, 15), 'smart-meters-eu', meterKeys);
  symmetricDevices(demo, range('legacy-sensor', 1, 6), 'legacy-sensors', legacyKeys);
  await individualEnrollments(demo, factory);
  edgeGatewayWithChildren(demo);
  store.touch();
}

/** The Contoso root CA and its two intermediates (kept for the sandbox; DPS and the hubs trust the root). */
async function authorities({ store, secrets }: Omit<Demo, 'root'>) {
  const keep = (name: string, a: Authority) => {
    secrets.authorities[name] = { certPem: a.certPem, keyPem: a.keyPem };
  };
  const root = await createRootAuthority('CN=Contoso Root CA, O=Contoso, C=DE');
  const factory = await createIntermediateAuthority('CN=Contoso Factory Berlin CA, O=Contoso, C=DE', root);
  const field = await createIntermediateAuthority('CN=Contoso Field Services CA, O=Contoso, C=PT', root);
  keep('contoso-root-ca', root);
  keep('contoso-factory-berlin-ca', factory);
  keep('contoso-field-services-ca', field);
  store.dps.caCertificates.set('contoso-root-ca', root.certPem);
  // The hubs trust the same root: CA-authenticated devices connect with the chain they provisioned with.
  for (const hub of store.hubs.values()) hub.caCertificates.set('contoso-root-ca', root.certPem);
  return { root, factory, field };
}

const group = ({ store, at }: Demo, id: string, attestation: Attestation, status?: 'disabled') =>
  store.dps.groups.set(id, { enrollmentGroupId: id, ...enrollmentCommon(store, attestation, at, status) });

/** Devices of an X.509 group, each with a leaf issued by `issuer` and its chain up to the root. */
async function x509Devices(demo: Demo, ids: string[], groupId: string, issuer: Authority): Promise<void> {
  for (const id of ids) {
    const leaf = await createDeviceCertificate(id, issuer);
    demo.secrets.devices[id] = {
      certPem: leaf.certPem,
      keyPem: leaf.keyPem,
      chainPem: `${leaf.certPem}\n${issuer.certPem}\n${demo.root.certPem}\n`,
    };
    provision(demo.store, {
      registrationId: id,
      enrollment: { kind: 'group', id: groupId },
      hub: demo.nextHub(),
      authType: 'certificateAuthority',
      ...disabled(id),
      at: demo.at,
    });
  }
}

/** Devices of a symmetric-key group, each with its key derived from the group's. */
function symmetricDevices(demo: Demo, ids: string[], groupId: string, keys: Keys): void {
  for (const id of ids) {
    const primaryKey = deriveDeviceKey(keys.primaryKey, id);
    demo.secrets.devices[id] = { symmetricKey: primaryKey };
    provision(demo.store, {
      registrationId: id,
      enrollment: { kind: 'group', id: groupId },
      hub: demo.nextHub(),
      authType: 'sas',
      primaryKey,
      secondaryKey: deriveDeviceKey(keys.secondaryKey, id),
      ...disabled(id),
      at: demo.at,
    });
  }
}

/** One individual enrollment; `registered`: its device provisioned (a record and a hub identity). */
function individual(demo: Demo, id: string, attestation: Attestation, registered: boolean): void {
  const { store, at } = demo;
  store.dps.enrollments.set(id, {
    registrationId: id,
    deviceId: id,
    ...enrollmentCommon(store, attestation, at),
  });
  if (!registered) return;
  const sk = attestation.symmetricKey;
  // As DPS creates them: an individual X.509 enrollment's device is known by its certificate's thumbprint.
  const clientCert = attestation.x509?.clientCertificates?.primary;
  provision(store, {
    registrationId: id,
    enrollment: { kind: 'individual', id },
    hub: demo.nextHub(),
    authType: clientCert ? 'selfSigned' : attestation.type === 'x509' ? 'certificateAuthority' : 'sas',
    primaryKey: sk?.primaryKey,
    secondaryKey: sk?.secondaryKey,
    ...(clientCert ? { primaryThumbprint: hubThumbprint(parsedPem(clientCert)) } : {}),
    at,
  });
}

/** Individual enrollments: TPM gateways, X.509 devices, symmetric-key pumps and valves. */
async function individualEnrollments(demo: Demo, factory: Authority): Promise<void> {
  const { secrets } = demo;
  for (const id of ['gateway-munich-0001', 'gateway-munich-0002', 'gateway-oslo-0003']) {
    individual(demo, id, { type: 'tpm', tpm: { endorsementKey: randomBytes(280).toString('base64') } }, true);
  }
  const berlin42 = await createDeviceCertificate('sensor-berlin-0042', factory);
  secrets.devices['sensor-berlin-0042'] = {
    certPem: berlin42.certPem,
    keyPem: berlin42.keyPem,
    chainPem: `${berlin42.certPem}\n${factory.certPem}\n${demo.root.certPem}\n`,
  };
  individual(
    demo,
    'sensor-berlin-0042',
    { type: 'x509', x509: { clientCertificates: { primary: berlin42.certPem } } },
    true,
  );
  for (const [id, registered] of [
    ['kiosk-madrid-0005', true],
    ['drone-hamburg-0009', false],
  ] as const) {
    const cert = await createSelfSignedDeviceCertificate(id);
    secrets.devices[id] = { certPem: cert.certPem, keyPem: cert.keyPem, chainPem: `${cert.certPem}\n` };
    individual(
      demo,
      id,
      { type: 'x509', x509: { clientCertificates: { primary: cert.certPem } } },
      registered,
    );
  }
  for (const [id, registered] of [
    ['pump-0007', true],
    ['pump-0008', true],
    ['valve-0019', false],
  ] as const) {
    const symmetricKey = { primaryKey: newKey(), secondaryKey: newKey() };
    secrets.devices[id] = { symmetricKey: symmetricKey.primaryKey };
    individual(demo, id, { type: 'symmetricKey', symmetricKey }, registered);
  }
}

/**
 * An IoT Edge gateway (its own individual enrollment, Edge capability) with its two system modules,
 * and three PLCs of a symmetric-key group that connect through it (their parentScopes name it).
 */
function edgeGatewayWithChildren(demo: Demo): void {
  const { store, at, secrets } = demo;
  const edgeId = 'edge-gateway-hamburg-0001';
  const edgeKeys = { primaryKey: newKey(), secondaryKey: newKey() };
  secrets.devices[edgeId] = { symmetricKey: edgeKeys.primaryKey };
  store.dps.enrollments.set(edgeId, {
    registrationId: edgeId,
    deviceId: edgeId,
    ...enrollmentCommon(store, { type: 'symmetricKey', symmetricKey: edgeKeys }, at),
    capabilities: { iotEdge: true },
  });
  const edgeHub = demo.nextHub();
  provision(store, {
    registrationId: edgeId,
    enrollment: { kind: 'individual', id: edgeId },
    hub: edgeHub,
    authType: 'sas',
    ...edgeKeys,
    at,
  });
  const gateway = edgeHub.devices.get(edgeId);
  if (gateway) {
    gateway.iotEdge = true;
    gateway.deviceScope = `ms-azure-iot-edge://${edgeId}-${gateway.generationId}`;
    gateway.parentScopes = [];
    const systemModule = (moduleId: string) => ({
      moduleId,
      etag: store.newHubEtag(),
      generationId: gateway.generationId,
      authType: 'sas' as const,
      primaryKey: newKey(),
      secondaryKey: newKey(),
      connectionStateUpdatedTime: at,
      lastActivityTime: at,
    });
    gateway.modules = { $edgeAgent: systemModule('$edgeAgent'), $edgeHub: systemModule('$edgeHub') };
  }
  plcChildren(demo, edgeHub, gateway?.deviceScope);
}

/** The PLCs of group plc-hamburg, on the gateway's hub, children of the gateway (its device scope). */
function plcChildren(demo: Demo, edgeHub: HubState, gatewayScope: string | undefined): void {
  const plcKeys = { primaryKey: newKey(), secondaryKey: newKey() };
  group(demo, 'plc-hamburg', { type: 'symmetricKey', symmetricKey: plcKeys });
  for (const id of range('plc-hamburg', 1, 3)) {
    const primaryKey = deriveDeviceKey(plcKeys.primaryKey, id);
    demo.secrets.devices[id] = { symmetricKey: primaryKey };
    provision(demo.store, {
      registrationId: id,
      enrollment: { kind: 'group', id: 'plc-hamburg' },
      hub: edgeHub,
      authType: 'sas',
      primaryKey,
      secondaryKey: deriveDeviceKey(plcKeys.secondaryKey, id),
      at: demo.at,
    });
    const child = edgeHub.devices.get(id);
    if (child && gatewayScope) {
      child.deviceScope = gatewayScope;
      child.parentScopes = [gatewayScope];
    }
  }
}

function disabled(id: string): { status?: 'disabled'; statusReason?: string } {
  return DISABLED_ON_HUB.has(id) ? { status: 'disabled', statusReason: 'taken out of service' } : {};
}
