/** A small demo fleet for the screen tests, and device rows to build bigger ones. */
import type { DeviceRow } from '../../src/services/backend.js';
import type { FakeData } from '../support/fake-backend.js';

export function deviceRow(
  registrationId: string,
  hub = 'hub-eu.azure-devices.net',
  hubStatus: 'enabled' | 'disabled' = 'enabled',
): DeviceRow {
  return {
    record: {
      registrationId,
      deviceId: registrationId,
      assignedHub: hub,
      status: 'assigned',
      lastUpdatedDateTimeUtc: '2024-05-01T12:03:00Z',
    },
    hubDevice: { hub, deviceId: registrationId, status: hubStatus },
  };
}

/** A small fleet: three individual enrollments, two groups (one spanning two hubs), a hub without keys. */
export function demoData(): FakeData {
  return {
    target: {
      hubs: [
        { host: 'hub-eu.azure-devices.net', auth: 'connection string', hasCredentials: true },
        { host: 'hub-us.azure-devices.net', auth: 'none', hasCredentials: false },
      ],
    },
    enrollments: [
      { registrationId: 'dev-tpm-1', attestation: { type: 'tpm' }, provisioningStatus: 'enabled' },
      {
        registrationId: 'dev-x509-2',
        attestation: { type: 'x509', clientCertificates: [] },
        provisioningStatus: 'enabled',
      },
      { registrationId: 'dev-sym-3', attestation: { type: 'symmetricKey' }, provisioningStatus: 'disabled' },
    ],
    groups: [
      {
        enrollmentGroupId: 'g1',
        attestation: { type: 'x509', signingCertificates: [], caReferences: ['root-ca'] },
        provisioningStatus: 'enabled',
        deviceCount: 3,
      },
      {
        enrollmentGroupId: 'g2',
        attestation: { type: 'symmetricKey' },
        provisioningStatus: 'enabled',
        deviceCount: 0,
      },
    ],
    devices: {
      'dev-tpm-1': [deviceRow('dev-tpm-1')],
      'dev-x509-2': [deviceRow('dev-x509-2')],
      'dev-sym-3': [deviceRow('dev-sym-3')],
      g1: [deviceRow('g1-dev-a'), deviceRow('g1-dev-b'), deviceRow('g1-dev-c', 'hub-us.azure-devices.net')],
      g2: [],
    },
    verify: [
      { registrationId: 'g1-dev-a', verdict: 'blocked', reason: 'group g1 is disabled' },
      { registrationId: 'g1-dev-b', verdict: 'possible', reason: 'a CA group we cannot read' },
    ],
  };
}
