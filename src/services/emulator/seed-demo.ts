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

export async function seedDemo(store: EmulatorStore): Promise<void> {
  const at = new Date(Date.now() - 90 * 86_400_000).toISOString();
  const hubs = [...store.hubs.values()];
  const hubFor = (i: number): HubState => hubs[i % hubs.length];
  const secrets = store.demoSecrets;
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
  for (const hub of hubs) hub.caCertificates.set('contoso-root-ca', root.certPem);

  const group = (id: string, attestation: Parameters<typeof enrollmentCommon>[1], status?: 'disabled') =>
    store.dps.groups.set(id, { enrollmentGroupId: id, ...enrollmentCommon(store, attestation, at, status) });
  group('contoso-root-ca', { type: 'x509', x509: { caReferences: { primary: 'contoso-root-ca' } } });
  group('factory-line-berlin', { type: 'x509', x509: { signingCertificates: { primary: factory.certPem } } });
  const meterKeys = { primaryKey: newKey(), secondaryKey: newKey() };
  group('smart-meters-eu', { type: 'symmetricKey', symmetricKey: meterKeys });
  const legacyKeys = { primaryKey: newKey(), secondaryKey: newKey() };
  group('legacy-sensors', { type: 'symmetricKey', symmetricKey: legacyKeys }, 'disabled');

  let n = 0;
  const x509Devices = async (ids: string[], groupId: string, issuer: Authority) => {
    for (const id of ids) {
      const leaf = await createDeviceCertificate(id, issuer);
      secrets.devices[id] = {
        certPem: leaf.certPem,
        keyPem: leaf.keyPem,
        chainPem: `${leaf.certPem}\n${issuer.certPem}\n${root.certPem}\n`,
      };
      provision(store, {
        registrationId: id,
        enrollment: { kind: 'group', id: groupId },
        hub: hubFor(n++),
        authType: 'certificateAuthority',
        ...disabled(id),
        at,
      });
    }
  };
  await x509Devices(range('sensor-berlin', 1, 12), 'factory-line-berlin', factory);
  await x509Devices(range('camera-lisbon', 1, 8), 'contoso-root-ca', field);

  const symmetricDevices = (ids: string[], groupId: string, keys: typeof meterKeys) => {
    for (const id of ids) {
      const primaryKey = deriveDeviceKey(keys.primaryKey, id);
      secrets.devices[id] = { symmetricKey: primaryKey };
      provision(store, {
        registrationId: id,
        enrollment: { kind: 'group', id: groupId },
        hub: hubFor(n++),
        authType: 'sas',
        primaryKey,
        secondaryKey: deriveDeviceKey(keys.secondaryKey, id),
        ...disabled(id),
        at,
      });
    }
  };
  symmetricDevices(range('meter-eu', 1, 15), 'smart-meters-eu', meterKeys);
  symmetricDevices(range('legacy-sensor', 1, 6), 'legacy-sensors', legacyKeys);

  // Individual enrollments: TPM gateways, X.509 devices, symmetric-key pumps and valves.
  const individual = (
    id: string,
    attestation: Parameters<typeof enrollmentCommon>[1],
    registered: boolean,
  ) => {
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
      hub: hubFor(n++),
      authType: clientCert ? 'selfSigned' : attestation.type === 'x509' ? 'certificateAuthority' : 'sas',
      primaryKey: sk?.primaryKey,
      secondaryKey: sk?.secondaryKey,
      ...(clientCert ? { primaryThumbprint: hubThumbprint(parsedPem(clientCert)) } : {}),
      at,
    });
  };
  for (const id of ['gateway-munich-0001', 'gateway-munich-0002', 'gateway-oslo-0003']) {
    individual(id, { type: 'tpm', tpm: { endorsementKey: randomBytes(280).toString('base64') } }, true);
  }
  const berlin42 = await createDeviceCertificate('sensor-berlin-0042', factory);
  secrets.devices['sensor-berlin-0042'] = {
    certPem: berlin42.certPem,
    keyPem: berlin42.keyPem,
    chainPem: `${berlin42.certPem}\n${factory.certPem}\n${root.certPem}\n`,
  };
  individual(
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
    individual(id, { type: 'x509', x509: { clientCertificates: { primary: cert.certPem } } }, registered);
  }
  for (const [id, registered] of [
    ['pump-0007', true],
    ['pump-0008', true],
    ['valve-0019', false],
  ] as const) {
    const symmetricKey = { primaryKey: newKey(), secondaryKey: newKey() };
    secrets.devices[id] = { symmetricKey: symmetricKey.primaryKey };
    individual(id, { type: 'symmetricKey', symmetricKey }, registered);
  }
  // An IoT Edge gateway (its own individual enrollment, Edge capability) with its two system modules,
  // and three PLCs of a symmetric-key group that connect through it (their parentScopes name it).
  const edgeId = 'edge-gateway-hamburg-0001';
  const edgeKeys = { primaryKey: newKey(), secondaryKey: newKey() };
  secrets.devices[edgeId] = { symmetricKey: edgeKeys.primaryKey };
  store.dps.enrollments.set(edgeId, {
    registrationId: edgeId,
    deviceId: edgeId,
    ...enrollmentCommon(store, { type: 'symmetricKey', symmetricKey: edgeKeys }, at),
    capabilities: { iotEdge: true },
  });
  const edgeHub = hubFor(n++);
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
  const plcKeys = { primaryKey: newKey(), secondaryKey: newKey() };
  group('plc-hamburg', { type: 'symmetricKey', symmetricKey: plcKeys });
  for (const id of range('plc-hamburg', 1, 3)) {
    const primaryKey = deriveDeviceKey(plcKeys.primaryKey, id);
    secrets.devices[id] = { symmetricKey: primaryKey };
    provision(store, {
      registrationId: id,
      enrollment: { kind: 'group', id: 'plc-hamburg' },
      hub: edgeHub,
      authType: 'sas',
      primaryKey,
      secondaryKey: deriveDeviceKey(plcKeys.secondaryKey, id),
      at,
    });
    const child = edgeHub.devices.get(id);
    if (child && gateway?.deviceScope) {
      child.deviceScope = gateway.deviceScope;
      child.parentScopes = [gateway.deviceScope];
    }
  }
  store.touch();
}

function disabled(id: string): { status?: 'disabled'; statusReason?: string } {
  return DISABLED_ON_HUB.has(id) ? { status: 'disabled', statusReason: 'taken out of service' } : {};
}
