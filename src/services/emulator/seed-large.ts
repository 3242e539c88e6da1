/**
 * `seed: N`: N group devices, fast. A few large enrollment groups (symmetric key, and X.509 on one
 * generated root and intermediate) share the devices; records are spread over the hubs and about one
 * in a hundred hub identities is disabled. No per-device certificate or key is computed up front: SAS
 * devices get keys derived on first read (not the DPS group-derived keys; the demo seed has those).
 */
import { createIntermediateAuthority, createRootAuthority } from './certs.js';
import { enrollmentCommon, provision } from './seed-shared.js';
import { type EmulatorStore, newKey } from './store.js';

const SYMMETRIC_GROUPS = ['fleet-meters', 'fleet-pumps', 'fleet-sensors', 'fleet-valves'];
const X509_ROOT_GROUP = 'fleet-x509-root';
const X509_INTERMEDIATE_GROUP = 'fleet-x509-intermediate';

export async function seedLarge(store: EmulatorStore, count: number): Promise<void> {
  const at = new Date().toISOString();
  const root = await createRootAuthority('CN=Fleet Root CA, O=Contoso');
  const intermediate = await createIntermediateAuthority('CN=Fleet Intermediate CA, O=Contoso', root);
  store.dps.caCertificates.set('fleet-root-ca', root.certPem);
  store.demoSecrets.authorities['fleet-root-ca'] = { certPem: root.certPem, keyPem: root.keyPem };
  store.demoSecrets.authorities['fleet-intermediate-ca'] = {
    certPem: intermediate.certPem,
    keyPem: intermediate.keyPem,
  };

  const groupKeys = new Map<string, { primary: string; secondary: string }>();
  for (const id of SYMMETRIC_GROUPS) {
    const keys = { primary: newKey(), secondary: newKey() };
    groupKeys.set(id, keys);
    store.dps.groups.set(id, {
      enrollmentGroupId: id,
      ...enrollmentCommon(
        store,
        { type: 'symmetricKey', symmetricKey: { primaryKey: keys.primary, secondaryKey: keys.secondary } },
        at,
      ),
    });
  }
  store.dps.groups.set(X509_ROOT_GROUP, {
    enrollmentGroupId: X509_ROOT_GROUP,
    ...enrollmentCommon(store, { type: 'x509', x509: { caReferences: { primary: 'fleet-root-ca' } } }, at),
  });
  store.dps.groups.set(X509_INTERMEDIATE_GROUP, {
    enrollmentGroupId: X509_INTERMEDIATE_GROUP,
    ...enrollmentCommon(
      store,
      { type: 'x509', x509: { signingCertificates: { primary: intermediate.certPem } } },
      at,
    ),
  });

  const groups = [...SYMMETRIC_GROUPS, X509_ROOT_GROUP, X509_INTERMEDIATE_GROUP];
  const hubs = [...store.hubs.values()];
  const width = Math.max(6, String(count - 1).length);
  for (let i = 0; i < count; i++) {
    const registrationId = `device-${String(i).padStart(width, '0')}`;
    const groupId = groups[i % groups.length];
    const keys = groupKeys.get(groupId);
    provision(store, {
      registrationId,
      enrollment: { kind: 'group', id: groupId },
      hub: hubs[Math.floor(i / groups.length) % hubs.length],
      authType: keys ? 'sas' : 'certificateAuthority',
      status: i % 100 === 99 ? 'disabled' : 'enabled',
      statusReason: i % 100 === 99 ? 'retired' : undefined,
      at,
    });
  }
  store.touch();
}
